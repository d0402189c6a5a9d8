"""Write tests/data/detection_corpus.jsonl: labelled, realistic agent traffic for bench/detection.py.

Deterministic (fixed seed). Each record: ``{"id", "kind", "text", "entities": [{"detector",
"start", "end"}]}``. Templates mark values as ``{detector:generator}``; ``{_:generator}`` inserts
an unlabelled value (hard negatives: invalid look-alikes, order numbers, dates that are not
birth dates…). Run: ``.venv/bin/python tests/data/make_corpus.py``.
"""

from __future__ import annotations

import json
import random
import re
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus_values as cv  # noqa: E402
from corpus_templates import CLEAN, POSITIVE  # noqa: E402

SEED = 20240611
RECORDS = 1800
CLEAN_SHARE = 0.4
OUT = Path(__file__).resolve().parent / "detection_corpus.jsonl"
_SLOT = re.compile(r"\{(\w+):(\w+)\}")

Gen = Callable[[random.Random, dict[str, str]], str]


def _named(rng: random.Random, ctx: dict[str, str]) -> str:
    ctx["name"] = cv.name(rng, rare=0.06)
    return ctx["name"]


PHRASES = {
    "religion_phrase": ["she is a practising Catholic", "he is a devout Muslim", "she is Jewish",
                        "he attends the local mosque every Friday", "she observes Ramadan"],
    "union_phrase": ["the employee is a member of the Unite union", "he is a shop steward for the GMB union",
                     "she joined the Teamsters union in March", "the worker is a member of the nurses union"],
    "ethnicity_field": ["Ethnicity: Hispanic", "ethnicity: Black British", "Race: Asian",
                        "ethnic origin: Pakistani"],
    "health_phrase": ["the employee is pregnant and due in May", "she was diagnosed with breast cancer in 2022",
                      "he is HIV-positive and on treatment", "my husband suffers from severe depression",
                      "the applicant's disability requires a ground-floor desk"],
    "orientation_phrase": ["he came out as gay last year", "the tenant is openly bisexual",
                           "she is a lesbian and lives with her wife"],
    "political_phrase": ["she is a registered member of the Green Party", "he voted Republican in every election",
                         "my neighbour is an active supporter of the Labour Party"],
    "genetic_phrase": ["the patient carries the BRCA1 mutation", "her genetic test results showed a Lynch syndrome variant",
                       "he tested positive for the Huntington's gene"],
    "biometric_phrase": ["we keep each employee's fingerprint template on the controller",
                         "the visitor log stores the user's face print", "his iris scan is enrolled in the system"],
}


def _phrase(key: str) -> Gen:
    return lambda rng, ctx: rng.choice(PHRASES[key])


GENERATORS: dict[str, Gen] = {
    **{key: _phrase(key) for key in PHRASES},
    "name": _named,
    "name2": lambda rng, ctx: cv.name(rng),
    "last": lambda rng, ctx: rng.choice(cv.LAST),
    "first": lambda rng, ctx: rng.choice(cv.FIRST),
    "email": lambda rng, ctx: cv.email_for(rng, ctx.get("name") or cv.name(rng)),
    "phone": lambda rng, ctx: cv.phone(rng),
    "dob": lambda rng, ctx: cv.dob(rng),
    "ssn": lambda rng, ctx: cv.ssn(rng),
    "ssn_bare": lambda rng, ctx: cv.ssn(rng, sep=""),
    "bad_ssn": lambda rng, ctx: cv.bad_ssn(rng),
    "itin": lambda rng, ctx: cv.itin(rng),
    "ein": lambda rng, ctx: cv.ein(rng),
    "passport": lambda rng, ctx: rng.choice([cv.digits(rng, 1).replace("0", "5") + cv.digits(rng, 8),
                                             rng.choice("ACEFGHJKLMNPRSTUVWXYZ") + cv.digits(rng, 8)]),
    "mrn": lambda rng, ctx: rng.choice(["00", "", "MR", "H"]) + cv.digits(rng, rng.randint(6, 8)),
    "memberid": lambda rng, ctx: rng.choice(["XYZ", "BCB", "UHC", "W", "AET"]) + cv.digits(rng, 9),
    "mbi": lambda rng, ctx: cv.mbi(rng),
    "npi": lambda rng, ctx: cv.npi(rng),
    "dea": lambda rng, ctx: cv.dea(rng, rng.choice(cv.LAST)),
    "icd": lambda rng, ctx: rng.choice(cv.ICD10),
    "card": lambda rng, ctx: cv.card(rng),
    "bad_card": lambda rng, ctx: cv.bad_card(rng),
    "cvv": lambda rng, ctx: cv.digits(rng, rng.choice([3, 3, 3, 4])),
    "exp": lambda rng, ctx: f"{rng.randint(1, 12):02d}/{rng.randint(25, 31)}",
    "iban": lambda rng, ctx: cv.iban(rng),
    "bad_iban": lambda rng, ctx: cv.iban(rng, broken=True),
    "aba": lambda rng, ctx: cv.aba(rng),
    "swift": lambda rng, ctx: cv.swift(rng),
    "nino": lambda rng, ctx: cv.nino(rng),
    "nhs": lambda rng, ctx: cv.nhs(rng),
    "dni": lambda rng, ctx: cv.dni(rng),
    "nie": lambda rng, ctx: cv.nie(rng),
    "cf": lambda rng, ctx: cv.fiscal_code(rng),
    "nir": lambda rng, ctx: cv.nir(rng),
    "steuer": lambda rng, ctx: cv.steuer_id(rng),
    "aws": lambda rng, ctx: cv.aws_key(rng),
    "aws_secret": lambda rng, ctx: cv.aws_secret(rng),
    "gh": lambda rng, ctx: cv.github_token(rng),
    "openai": lambda rng, ctx: cv.openai_key(rng),
    "stripe": lambda rng, ctx: cv.stripe_key(rng),
    "slack": lambda rng, ctx: cv.slack_token(rng),
    "google": lambda rng, ctx: cv.google_api_key(rng),
    "anthropic": lambda rng, ctx: cv.anthropic_key(rng),
    "odd_card": lambda rng, ctx: cv.odd_card(rng),
    "odd_ssn": lambda rng, ctx: cv.ssn(rng, sep=rng.choice(["\u2010", "\u2011", "\u2013"])),
    "lower_iban": lambda rng, ctx: cv.iban(rng).lower(),
    "jwt": lambda rng, ctx: cv.jwt(rng),
    "pk": lambda rng, ctx: cv.private_key(rng),
    "password": lambda rng, ctx: cv.password(rng),
    "ip": lambda rng, ctx: cv.ipv4(rng),
    "ipv6": lambda rng, ctx: cv.ipv6(rng),
    "street": lambda rng, ctx: cv.street(rng),
    "condition": lambda rng, ctx: rng.choice(cv.CONDITIONS),
    "order": lambda rng, ctx: cv.digits(rng, rng.choice([8, 10, 12])),
    "uuid": lambda rng, ctx: str(uuid.UUID(int=rng.getrandbits(128))),
    "sha": lambda rng, ctx: "".join(rng.choice("0123456789abcdef") for _ in range(40)),
    "amount": lambda rng, ctx: f"{rng.randint(10, 99999):,}.{rng.randint(0, 99):02d}",
    "num": lambda rng, ctx: str(rng.randint(100, 99999)),
    "date": lambda rng, ctx: f"{rng.randint(2023, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    "usdate": lambda rng, ctx: f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/{rng.randint(2023, 2025)}",
    "ts": lambda rng, ctx: f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z",
    "version": lambda rng, ctx: f"{rng.randint(1, 20)}.{rng.randint(0, 40)}.{rng.randint(0, 300)}",
    "nine": lambda rng, ctx: cv.digits(rng, 9),
    "ten": lambda rng, ctx: rng.choice("3456789") + cv.digits(rng, 9),
    "invphone": lambda rng, ctx: f"{rng.randint(201, 989)}-{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}",
}


def render(template: str, rng: random.Random) -> tuple[str, list[dict[str, object]]]:
    """Fill ``template``'s slots and return the text with its labelled spans."""
    ctx: dict[str, str] = {}
    out: list[str] = []
    entities: list[dict[str, object]] = []
    length, cursor = 0, 0
    for slot in _SLOT.finditer(template):
        literal = template[cursor : slot.start()]
        out.append(literal)
        length += len(literal)
        detector, generator = slot.group(1), slot.group(2)
        value = GENERATORS[generator](rng, ctx)
        if detector != "_":
            entities.append({"detector": detector, "start": length, "end": length + len(value)})
        out.append(value)
        length += len(value)
        cursor = slot.end()
    out.append(template[cursor:])
    return "".join(out), entities


def build(seed: int = SEED, count: int = RECORDS) -> list[dict[str, object]]:
    """The corpus records, deterministic for a seed."""
    rng = random.Random(seed)
    records = []
    for index in range(count):
        clean = rng.random() < CLEAN_SHARE
        kind, template = rng.choice(CLEAN if clean else POSITIVE)
        text, entities = render(template, rng)
        records.append({"id": f"rec-{index:05d}", "kind": kind, "clean": clean, "text": text,
                        "entities": entities})
    return records


def main() -> None:
    records = build()
    with OUT.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    clean = sum(1 for r in records if r["clean"])
    entities = sum(len(r["entities"]) for r in records)  # type: ignore[arg-type]
    print(f"wrote {len(records)} records ({clean} clean), {entities} entities to {OUT}")


if __name__ == "__main__":
    main()
