"""The registry of detectors, by id (the ids of API.md's ``pii_detect`` patterns).

``DETECTORS`` maps every id to its :class:`~sidecar.compliance.detector_base.Detector`;
``compiled(id)`` returns the compiled form (built once, shared: detectors are stateless).
``detect(text, ids)`` is a convenience for tests and tools; the engine uses the prefilter.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from sidecar.compliance import (
    detectors_contact,
    detectors_finance,
    detectors_health,
    detectors_identity,
    detectors_names,
    detectors_secrets,
    detectors_special,
)
from sidecar.compliance.detector_base import CompiledDetector, Detector
from sidecar.compliance.textscan import Prepared, Span

#: The detector ids in API.md order. More may be added; these names don't change.
DETECTOR_IDS = (
    "person_name", "street_address", "email", "phone", "date_of_birth", "ip_address", "ssn",
    "us_itin", "us_ein", "us_passport", "medical_record_number", "health_plan_id", "npi",
    "dea_number", "icd10", "credit_card", "card_cvv", "iban", "aba_routing", "swift_bic", "uk_nino",
    "uk_nhs", "es_dni", "es_nie", "it_fiscal_code", "fr_nir", "de_tax_id", "special_category",
    "aws_access_key", "github_token", "openai_key", "private_key", "jwt", "password",
    "stripe_key", "slack_token", "google_api_key", "anthropic_key", "health_condition",
)


def _build() -> Mapping[str, Detector]:
    registry: dict[str, Detector] = {}
    every = (
        *detectors_contact.DETECTORS,
        *detectors_finance.DETECTORS,
        *detectors_health.DETECTORS,
        *detectors_identity.DETECTORS,
        *detectors_secrets.DETECTORS,
        detectors_names.DETECTOR,
        detectors_special.DETECTOR,
        detectors_special.HEALTH_DETECTOR,
    )
    for detector in every:
        if detector.id in registry:
            raise ValueError(f"duplicate detector id {detector.id!r}")
        registry[detector.id] = detector
    missing = set(DETECTOR_IDS) - set(registry)
    if missing:
        raise ValueError(f"detectors not defined: {sorted(missing)}")
    return MappingProxyType({key: registry[key] for key in DETECTOR_IDS})


DETECTORS: Mapping[str, Detector] = _build()


@functools.cache
def compiled(detector_id: str) -> CompiledDetector:
    """The compiled detector for ``detector_id``. Raises KeyError for an unknown id."""
    return CompiledDetector(DETECTORS[detector_id])


def detect(text: str, ids: Iterable[str] | None = None) -> list[tuple[str, int, int]]:
    """Run detectors over ``text`` without a prefilter: ``[(detector_id, start, end)]``
    sorted by position. ``ids`` defaults to every detector."""
    safe = Prepared(text)
    found: list[tuple[str, int, int]] = []
    for detector_id in ids if ids is not None else DETECTOR_IDS:
        spans: list[Span] = compiled(detector_id).find(safe)
        found.extend((detector_id, start, end) for start, end in spans)
    found.sort(key=lambda item: (item[1], item[2], item[0]))
    return found
