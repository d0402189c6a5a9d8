"""Health-care identifier detectors: MRN, health plan ids, NPI, DEA numbers, ICD-10 codes.

None of these formats is distinctive on its own (an MRN is just a number), so every pattern
here needs a label such as ``MRN`` or ``Member ID`` shortly before the value.
"""

from __future__ import annotations

from sidecar.compliance import validators as v
from sidecar.compliance.detector_base import Detector, PatternSpec

#: ICD-10-CM categories whose third character is a letter.
_ICD_LETTER_CATEGORIES = frozenset({"C4A", "C7A", "C7B", "D3A", "M1A", "O9A", "Z3A"})
_MBI_LETTER = "[AC-HJKMNP-RT-Y]"
_MBI_ALNUM = "[AC-HJKMNP-RT-Y0-9]"


def _icd10_ok(value: str) -> bool:
    category = value[:3]
    if not category[2].isdigit() and category not in _ICD_LETTER_CATEGORIES:
        return False
    return category[1:3] != "00" or category[0] in "BKRZ"


def _id_number_ok(value: str) -> bool:
    digits = v.digits_only(value)
    return len(digits) >= 5 and len(set(digits)) > 1


DETECTORS = (
    Detector(
        id="medical_record_number",
        description="Medical record numbers after an MRN / medical record / patient id label.",
        patterns=(
            PatternSpec(
                regex=r"\b[A-Z]{0,3}-?\d{5,10}\b",
                validate=_id_number_ok,
                context=("mrn", "mrn#", "mr#", "medical record", "medical record number",
                         "medical record no", "med rec", "med rec no", "medical rec",
                         "patient id", "patient no", "patient number", "chart number", "chart no",
                         "chart #", "hospital number", "hospital no", "record number"),
                before=30,
            ),
        ),
    ),
    Detector(
        id="health_plan_id",
        description="Health plan beneficiary / member ids (incl. Medicare MBI) after a plan label.",
        patterns=(
            PatternSpec(
                regex=rf"\b[1-9]{_MBI_LETTER}{_MBI_ALNUM}\d-?{_MBI_LETTER}{_MBI_ALNUM}\d-?"
                rf"{_MBI_LETTER}{{2}}\d{{2}}\b",
                context=("medicare", "mbi", "medicare beneficiary identifier",
                         "medicare number", "medicare id", "member id", "health plan"),
                before=50,
            ),
            PatternSpec(
                regex=r"\b[A-Z]{0,4}-?\d{6,12}(?:-\d{2})?\b",
                validate=_id_number_ok,
                context=("member id", "member no", "member number", "member #", "subscriber id",
                         "subscriber no", "subscriber number", "policy number", "policy no",
                         "policy #", "group number", "group no", "plan id", "health plan",
                         "insurance id", "insurance no", "insurance number",
                         "beneficiary id", "medicaid", "medicaid id", "medicare", "hicn",
                         "health insurance"),
                before=35,
            ),
        ),
    ),
    Detector(
        id="npi",
        description="US National Provider Identifiers (Luhn with the 80840 prefix) near an NPI label.",
        patterns=(
            PatternSpec(
                regex=r"\b[12]\d{9}\b",
                validate=v.npi_valid,
                context=("npi", "npi#", "national provider", "provider id", "provider number",
                         "provider no", "prescriber", "rendering provider", "billing provider",
                         "referring provider", "attending"),
                before=50,
            ),
        ),
    ),
    Detector(
        id="dea_number",
        description="DEA registration numbers (registrant letter and check digit) near a DEA label.",
        patterns=(
            PatternSpec(
                regex=r"\b[A-Z][A-Z9]\d{7}\b",
                validate=v.dea_valid,
                context=("dea", "dea#", "dea no", "dea number", "dea registration",
                         "registration number", "controlled substance"),
                before=50,
            ),
        ),
    ),
    Detector(
        id="icd10",
        description="ICD-10 diagnosis codes near a diagnosis / ICD label.",
        patterns=(
            PatternSpec(
                regex=r"\b[A-TV-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?\b",
                validate=_icd10_ok,
                context=("icd", "icd-10", "icd10", "icd-10-cm", "diagnosis", "diagnoses",
                         "diagnosis code", "diagnosis codes", "dx", "diag", "diagnosed",
                         "primary dx", "secondary dx", "assessment", "billed under",
                         "coded as", "coded"),
                before=80,
            ),
        ),
    ),
)
