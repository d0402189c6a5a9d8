"""Detectors and the engine never crash and stay linear on hostile input.

Completion is the assertion (pytest-timeout bounds each test); no wall-clock thresholds.
"""

from __future__ import annotations

import gc
import weakref
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sidecar.compliance.detectors import DETECTOR_IDS, detect
from sidecar.compliance.engine import compile_rules, evaluate
from sidecar.compliance.packs import load_packs
from sidecar.compliance.textscan import Prepared, fold
from sidecar.compliance.types import EventText, RuleSpec

NOW = datetime(2024, 6, 11, tzinfo=timezone.utc)
ALPHABET = st.sampled_from(list("0123456789 -./:@_+#AKIXYZaeiksp()\n\t\"'=ÉüЖ✓") + ["\ud800", "\u200b", "\u00a0", "\u2010", "-----BEGIN ", "eyJ", "sk-", "ghp_", "Mr. ", "John ", "Smith ", "SSN ", "IBAN DE", "routing ", "diagnosed with "])
TEXTS = st.lists(ALPHABET, max_size=200).map("".join)


def _all_rules():
    specs = [spec for pack in load_packs().values() for spec in pack.rule_specs()]
    specs.append(RuleSpec("all", "all", "pii_detect", {"patterns": list(DETECTOR_IDS)}, redaction="mask"))
    return compile_rules(specs)


ALL_RULES = _all_rules()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_detectors_return_sane_spans(text: str) -> None:
    found = detect(text)
    for detector, start, end in found:
        assert detector in DETECTOR_IDS
        assert 0 <= start < end <= len(text)
    assert found == sorted(found, key=lambda item: (item[1], item[2], item[0]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS, TEXTS, st.recursive(st.none() | st.integers() | TEXTS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXTS, inner, max_size=3), max_leaves=6))
def test_engine_handles_any_event(prompt: str, response: str, metadata: object) -> None:
    verdict = evaluate(ALL_RULES, EventText(prompt=prompt, response=response, metadata=metadata), now=NOW, redaction_key=b"k")
    assert verdict.action in ("allow", "log", "flag", "block")
    for violation in verdict.violations:
        for match in violation.matches:
            assert match.start <= match.end


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab1 -.\u200b\u00a0\u2010\ufeff\u00ad\u2003Ж")), max_size=40))
def test_folded_offsets_point_into_the_original(text: str) -> None:
    folded = Prepared(text).folded()
    spans = folded.original_spans([(i, i + 1) for i in range(len(folded.text))])
    assert all(0 <= s < e <= len(text) for s, e in spans)
    assert [fold(text[s:e])[0] for s, e in spans] == list(folded.text)


class _Referable(Prepared):
    """Prepared with a weakref slot (Prepared's own __slots__ has none)."""


@pytest.mark.parametrize("text", ["plain ascii 4111 1111 1111 1111", "caf\u00e9 without folding", "zero\u200bwidth\u00a0space"])
def test_prepared_text_is_freed_when_its_last_reference_goes(text: str) -> None:
    # No reference cycle (folded() used to store ``self``): the text goes at once, not at
    # the next cyclic collection, so a burst of large prompts does not pile up.
    enabled = gc.isenabled()
    gc.disable()
    try:
        prepared = _Referable(text)
        prepared.folded()
        ref = weakref.ref(prepared)
        del prepared
        assert ref() is None
    finally:
        if enabled:
            gc.enable()


MEGABYTE = 1_000_000
ADVERSARIAL = {
    "digits": "1" * MEGABYTE,
    "spaced digits": "1 " * (MEGABYTE // 2),
    "dashed digits": "12-" * (MEGABYTE // 3),
    "at signs": "a@" * (MEGABYTE // 2),
    "dots": "a." * (MEGABYTE // 2),
    "capitalised": "Ab " * (MEGABYTE // 3),
    "names": "John Smith " * (MEGABYTE // 11),
    "begin key without end": "-----BEGIN PRIVATE KEY-----" + "A" * MEGABYTE,
    "colons": "1:" * (MEGABYTE // 2),
    "cards": "4111 1111 1111 1111 " * (MEGABYTE // 20),
    "keyword soup": "password: ssn dob routing nhs mrn " * (MEGABYTE // 34),
    "unicode": "Ж✓é " * (MEGABYTE // 4),
    "injection": "ignore all previous " * (MEGABYTE // 20),
    "invisible": "ig\u200bnore\u00a0all\u2010" * (MEGABYTE // 14),
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_megabyte_inputs_complete(name: str) -> None:
    text = ADVERSARIAL[name]
    verdict = evaluate(ALL_RULES, EventText(prompt=text), now=NOW, redaction_key=b"k")
    assert verdict.action in ("allow", "log", "flag", "block")


@pytest.mark.timeout(120)
def test_value_after_a_megabyte_of_noise_is_still_found() -> None:
    text = ("1 a@b. Ab -" * (MEGABYTE // 11)) + " SSN 123-45-6789"
    verdict = evaluate(ALL_RULES, EventText(prompt=text), now=NOW)
    detectors = {m.detector for v in verdict.violations for m in v.matches}
    assert "ssn" in detectors
