"""Payment and banking detectors: cards, CVV, IBAN, ABA routing numbers, SWIFT/BIC."""

from __future__ import annotations

import re
from collections.abc import Iterator

from sidecar.compliance import validators as v
from sidecar.compliance.detector_base import Detector, PatternSpec
from sidecar.compliance.textscan import Span

#: Words that make a number an order, invoice or tracking reference rather than a card.
REFERENCE_WORDS = (
    "order", "order no", "order number", "invoice", "inv", "tracking", "tracking number",
    "reference", "ref", "transaction id", "txn", "confirmation", "isbn", "imei", "serial",
    "shipment", "parcel", "ticket", "case", "sku", "po", "batch", "lot", "build", "request id",
)

#: Explicit card labels: nearer to a number than a word of ``REFERENCE_WORDS``, they win.
CARD_LABELS = (
    "card", "cards", "credit card", "debit card", "card number", "card no", "card #", "card#", "cc",
    "cc#", "ccn", "pan", "visa", "mastercard", "amex", "paid with", "pay with", "paying with",
)


_DIGIT_RUN = re.compile(r"\d+")


def _digit_groups(candidate: str) -> list[tuple[int, int]]:
    return [m.span() for m in _DIGIT_RUN.finditer(candidate)]


def split_card(candidate: str) -> Iterator[Span]:
    """Runs of whole digit groups holding 13 to 19 digits with one kind of separator,
    longest first: ``4111 1111 1111 1111 2024`` also tries ``4111 1111 1111 1111``.
    Separated groups must hold 3 to 6 digits, as printed card numbers do."""
    groups = _digit_groups(candidate)
    if len(groups) == 1:
        yield groups[0]
        return
    windows = []
    for i in range(len(groups)):
        digits, sep = 0, None
        for j in range(i, len(groups)):
            size = groups[j][1] - groups[j][0]
            if not 3 <= size <= 6:
                break
            if j > i:
                gap = candidate[groups[j - 1][1] : groups[j][0]]
                if sep is None:
                    sep = gap
                elif gap != sep:
                    break
            digits += size
            if digits > 19:
                break
            if digits >= 13:
                windows.append((digits, groups[i][0], groups[j][1]))
    windows.sort(key=lambda w: (-w[0], w[1]))
    for _, start, end in windows:
        yield start, end


#: Group sizes of numbers as cards print them; dots and tabs separate only these (a row of
#: tab-separated figures is more often a table than a card).
_PRINTED_LAYOUTS = frozenset({(4, 4, 4, 4), (4, 4, 4, 4, 3), (4, 6, 5), (4, 6, 4), (4, 4, 4, 3), (4, 4, 4, 2)})


def _card_layout_ok(value: str) -> bool:
    groups = _digit_groups(value)
    if len(groups) > 1:
        sizes = tuple(e - s for s, e in groups)
        if any(size < 3 or size > 6 for size in sizes):
            return False
        if value[groups[0][1]] in "\t." and sizes not in _PRINTED_LAYOUTS:
            return False
    return v.card_valid(value)


def split_iban(candidate: str) -> Iterator[Span]:
    """Cut the candidate where its country's IBAN length ends, at a group boundary."""
    length = v.IBAN_LENGTHS.get(candidate[:2].upper())
    if length is None:
        return
    seen = 0
    for index, ch in enumerate(candidate):
        if ch != " ":
            seen += 1
            if seen == length:
                end = index + 1
                if end == len(candidate) or candidate[end] == " ":
                    yield 0, end
                return


def _iban_ok(value: str) -> bool:
    """A valid IBAN written in one case: ``DE89…`` or ``de89…``, not a mixed-case token."""
    return (value.isupper() or value.islower()) and v.iban_valid(value)


def _cvv_ok(value: str) -> bool:
    return value.isdigit() and len(value) in (3, 4)


DETECTORS = (
    Detector(
        id="credit_card",
        description="Payment card numbers (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, "
        "Maestro) with a valid IIN range, length and Luhn check digit; groups separated by spaces, "
        "hyphens, or (in printed layouts) dots or tabs.",
        patterns=(
            PatternSpec(
                regex=r"\b\d(?:[ \t.-]?\d){11,18}\b",
                validate=_card_layout_ok,
                split=split_card,
                negative=REFERENCE_WORDS,
                negative_before=25,
                labels=CARD_LABELS,
            ),
        ),
    ),
    Detector(
        id="card_cvv",
        description="Card security codes (CVV/CVC/CID) written after a card-verification label.",
        patterns=(
            PatternSpec(
                regex=r"(?i)\b(?:cvv2?|cvc2?|cid|csc|cvn|security\s+code|card\s+verification"
                r"(?:\s+(?:value|code|number))?|card\s+code)\b[^0-9\n]{0,12}?(\d{3,4})\b",
                group=1,
                validate=_cvv_ok,
            ),
        ),
    ),
    Detector(
        id="iban",
        description="International Bank Account Numbers with a valid country length and mod-97 check, "
        "in capitals or in lower case.",
        patterns=(
            PatternSpec(
                regex=r"\b[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?\b",
                validate=_iban_ok,
                split=split_iban,
            ),
        ),
    ),
    Detector(
        id="aba_routing",
        description="US ABA routing transit numbers (checksum and Federal Reserve prefix) next to "
        "banking words.",
        patterns=(
            PatternSpec(
                regex=r"\b\d{9}\b",
                validate=v.aba_valid,
                context=("routing", "aba", "rtn", "transit", "routing number", "routing no",
                         "bank routing", "wire", "ach"),
                before=50,
            ),
        ),
    ),
    Detector(
        id="swift_bic",
        description="SWIFT/BIC codes with a valid country, next to banking words.",
        patterns=(
            PatternSpec(
                regex=r"\b[A-Z]{6}[A-Z2-9][A-Z0-9](?:[A-Z0-9]{3})?\b",
                validate=v.swift_valid,
                context=("swift", "bic", "swift/bic", "bank", "wire", "iban", "transfer",
                         "beneficiary", "correspondent", "intermediary", "sort code", "remit"),
                before=60,
                after=25,
            ),
        ),
    ),
)
