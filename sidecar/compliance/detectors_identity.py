"""Government identifier detectors: US SSN, ITIN, EIN, passport; UK, Spanish, Italian,
French and German national numbers."""

from __future__ import annotations

from sidecar.compliance import validators as v
from sidecar.compliance.detector_base import Detector, PatternSpec

SSN_WORDS = ("ssn", "ssn#", "ss#", "ss #", "ss no", "social security", "social security number",
             "social sec", "soc sec", "ssa", "social", "tin")
#: Words that make a dashed number something other than an SSN.
NOT_SSN_WORDS = ("order", "invoice", "part", "part no", "sku", "ticket", "case", "ref",
                 "reference", "tracking", "serial", "model", "item", "confirmation", "phone",
                 "tel", "fax", "routing", "account", "acct", "itin", "ein")
#: Explicit SSN labels: nearer to a dashed number than a word of ``NOT_SSN_WORDS``, they win.
SSN_LABELS = ("ssn", "ssn#", "ss#", "ss #", "ss no", "social security", "social security number",
              "social sec", "soc sec")
ITIN_WORDS = ("itin", "individual taxpayer", "taxpayer identification", "taxpayer id", "tax id",
              "tax identification", "tin", "w-7", "irs")
EIN_WORDS = ("ein", "employer identification", "employer id", "fein", "federal tax id",
             "federal tax identification", "federal id", "tax id", "tin", "irs", "employer tax id")


def _us_passport_ok(value: str) -> bool:
    if value[0].isalpha():
        return len(value) == 9 and value[1:].isdigit() and len(set(value[1:])) > 1
    return len(value) == 9 and value.isdigit() and len(set(value)) > 1 and value[0] != "0"


DETECTORS = (
    Detector(
        id="ssn",
        description="US Social Security numbers (area, group and serial rules); undashed forms "
        "need an SSN label nearby.",
        patterns=(
            PatternSpec(regex=r"\b\d{3}-\d{2}-\d{4}\b", validate=v.ssn_valid, negative=NOT_SSN_WORDS,
                        labels=SSN_LABELS),
            PatternSpec(
                regex=r"\b\d{3} \d{2} \d{4}\b|\b\d{9}\b",
                validate=v.ssn_valid,
                context=SSN_WORDS,
                before=40,
            ),
        ),
    ),
    Detector(
        id="us_itin",
        description="US Individual Taxpayer Identification Numbers (9xx, valid group) near a "
        "taxpayer label.",
        patterns=(
            PatternSpec(
                regex=r"\b9\d{2}-\d{2}-\d{4}\b|\b9\d{2} \d{2} \d{4}\b|\b9\d{8}\b",
                validate=v.itin_valid,
                context=ITIN_WORDS,
                before=50,
            ),
        ),
    ),
    Detector(
        id="us_ein",
        description="US Employer Identification Numbers (IRS prefixes) near an EIN label.",
        patterns=(
            PatternSpec(
                regex=r"\b\d{2}-\d{7}\b|\b\d{9}\b",
                validate=v.ein_valid,
                context=EIN_WORDS,
                before=50,
            ),
        ),
    ),
    Detector(
        id="us_passport",
        description="US passport numbers (9 digits, or a letter and 8 digits) near the word passport.",
        patterns=(
            PatternSpec(
                regex=r"\b[A-Z]\d{8}\b|\b\d{9}\b",
                validate=_us_passport_ok,
                context=("passport", "passport no", "passport number", "passport #", "travel document"),
                before=50,
            ),
        ),
    ),
    Detector(
        id="uk_nino",
        description="UK National Insurance numbers (HMRC prefix rules, suffix A-D).",
        patterns=(
            PatternSpec(
                regex=r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b",
                validate=v.uk_nino_valid,
            ),
        ),
    ),
    Detector(
        id="uk_nhs",
        description="UK NHS numbers (modulus 11) near the word NHS.",
        patterns=(
            PatternSpec(
                regex=r"\b\d{3}[ -]?\d{3}[ -]?\d{4}\b",
                validate=v.uk_nhs_valid,
                context=("nhs", "nhs no", "nhs number", "nhs#", "health service"),
                before=50,
            ),
        ),
    ),
    Detector(
        id="es_dni",
        description="Spanish DNI numbers with a valid check letter.",
        patterns=(PatternSpec(regex=r"\b\d{8}-?[A-Z]\b", validate=v.es_dni_valid),),
    ),
    Detector(
        id="es_nie",
        description="Spanish NIE numbers (X/Y/Z prefix) with a valid check letter.",
        patterns=(PatternSpec(regex=r"\b[XYZ]-?\d{7}-?[A-Z]\b", validate=v.es_nie_valid),),
    ),
    Detector(
        id="it_fiscal_code",
        description="Italian codici fiscali (including omocodia) with a valid check character.",
        patterns=(
            PatternSpec(
                regex=r"\b[A-Z]{6}[0-9LMNP-V]{2}[ABCDEHLMPRST][0-9LMNP-V]{2}[A-Z][0-9LMNP-V]{3}[A-Z]\b",
                validate=v.it_fiscal_code_valid,
            ),
        ),
    ),
    Detector(
        id="fr_nir",
        description="French social security numbers (NIR) with a valid key, Corsica included.",
        patterns=(
            PatternSpec(
                regex=r"\b[12378] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}\b",
                validate=v.fr_nir_valid,
            ),
        ),
        extra_key_labels=("nir", "insee", "numero insee", "securite sociale", "sécurité sociale",
                          "numero de securite sociale", "social security"),
    ),
    Detector(
        id="de_tax_id",
        description="German tax identification numbers (Steuer-ID: digit rule and ISO 7064 "
        "check digit) near a tax label.",
        patterns=(
            PatternSpec(
                regex=r"\b[1-9]\d ?\d{3} ?\d{3} ?\d{3}\b",
                validate=v.de_tax_id_valid,
                context=("steuer", "steuer-id", "steuerid", "steuer id", "steuerliche",
                         "identifikationsnummer", "steuernummer", "idnr", "tax id", "tin",
                         "tax identification", "finanzamt", "steuer-identifikationsnummer"),
                before=60,
            ),
        ),
    ),
)
