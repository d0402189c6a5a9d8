"""Validators for European national identifiers (UK, Spain, Italy, France, Germany).

Each takes the candidate as written (spaces allowed where the format has them) and returns
True only when the structure and check character are right.
"""

from __future__ import annotations

_NINO_BAD_FIRST = frozenset("DFIQUV")
_NINO_BAD_SECOND = frozenset("DFIOQUV")
_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
_CF_ODD = dict(
    zip(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        (1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3,
         6, 8, 12, 14, 16, 10, 22, 25, 24, 23),
    )
)
_CF_OMOCODIA = {ch: str(i) for i, ch in enumerate("LMNPQRSTUV")}
_CF_MONTHS = frozenset("ABCDEHLMPRST")
_CF_DIGIT_POSITIONS = (6, 7, 9, 10, 12, 13, 14)


def _compact(value: str) -> str:
    return "".join(value.split()).replace("-", "").upper()


def uk_nino_valid(value: str) -> bool:
    """UK National Insurance number: two prefix letters (HMRC rules), six digits, suffix A-D."""
    v = _compact(value)
    if len(v) != 9 or not v.isascii():
        return False
    prefix, digits, suffix = v[:2], v[2:8], v[8]
    if not prefix.isalpha() or not digits.isdigit() or suffix not in "ABCD":
        return False
    return (
        prefix[0] not in _NINO_BAD_FIRST
        and prefix[1] not in _NINO_BAD_SECOND
        and prefix not in _NINO_BAD_PREFIXES
    )


def uk_nhs_valid(value: str) -> bool:
    """NHS number: 10 digits, modulus 11 check digit (a computed 10 is never issued)."""
    d = _compact(value)
    if len(d) != 10 or not d.isascii() or not d.isdigit() or len(set(d)) == 1:
        return False
    total = sum(int(ch) * weight for ch, weight in zip(d[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(d[9])


def es_dni_valid(value: str) -> bool:
    """Spanish DNI: 8 digits and the check letter ``TRWAGMYFPDXBNJZSQVHLCKE[n % 23]``."""
    v = _compact(value)
    if len(v) != 9 or not v[:8].isascii() or not v[:8].isdigit():
        return False
    return _DNI_LETTERS[int(v[:8]) % 23] == v[8]


def es_nie_valid(value: str) -> bool:
    """Spanish NIE: X, Y or Z (read as 0, 1, 2), 7 digits, DNI check letter."""
    v = _compact(value)
    if len(v) != 9 or v[0] not in "XYZ" or not v[1:8].isascii() or not v[1:8].isdigit():
        return False
    return _DNI_LETTERS[int(str("XYZ".index(v[0])) + v[1:8]) % 23] == v[8]


def it_fiscal_code_valid(value: str) -> bool:
    """Italian codice fiscale: 16 characters, month letter, day range, check character.

    Digits may be replaced by letters (omocodia) when two people would share a code.
    """
    v = _compact(value)
    if len(v) != 16 or not v.isascii() or not v.isalnum():
        return False
    decoded = list(v)
    for pos in _CF_DIGIT_POSITIONS:
        ch = decoded[pos]
        if ch in _CF_OMOCODIA:
            decoded[pos] = _CF_OMOCODIA[ch]
        elif not ch.isdigit():
            return False
    if not v[:6].isalpha() or v[8] not in _CF_MONTHS or not v[11].isalpha():
        return False
    day = int(decoded[9] + decoded[10])
    if not (1 <= day <= 31 or 41 <= day <= 71):
        return False
    total = 0
    for index, ch in enumerate(v[:15]):
        if index % 2 == 0:  # 1st, 3rd, ... characters (odd positions, 1-based)
            total += _CF_ODD[ch]
        else:
            total += int(ch) if ch.isdigit() else ord(ch) - 65
    return chr(65 + total % 26) == v[15]


def fr_nir_valid(value: str) -> bool:
    """French NIR (numéro de sécurité sociale): 13 characters + 2-digit key ``97 - n mod 97``.

    Corsican departments 2A and 2B count as 19 and 18 in the key computation.
    """
    v = _compact(value)
    if len(v) != 15 or not v.isascii():
        return False
    body, key = v[:13], v[13:]
    if body[5:7] == "2A":
        body = body[:5] + "19" + body[7:]
    elif body[5:7] == "2B":
        body = body[:5] + "18" + body[7:]
    if not body.isdigit() or not key.isdigit() or body[0] not in "12378":
        return False
    month = int(body[3:5])
    if not (1 <= month <= 12 or 20 <= month <= 42 or 50 <= month <= 99):
        return False
    return 97 - int(body) % 97 == int(key)


def _steuer_id_digits_ok(first10: str) -> bool:
    counts: dict[str, int] = {}
    for ch in first10:
        counts[ch] = counts.get(ch, 0) + 1
    repeated = [ch for ch, n in counts.items() if n > 1]
    if len(repeated) != 1 or counts[repeated[0]] > 3:
        return False
    if counts[repeated[0]] == 3:
        rep = repeated[0] * 3
        if rep in first10:  # a digit may not appear three times in a row
            return False
    return True


def de_tax_id_valid(value: str) -> bool:
    """German Steuerliche Identifikationsnummer: 11 digits, no leading 0, digit-repetition
    rule on the first ten (exactly one digit appears twice or three times, never three in a
    row) and an ISO 7064 MOD 11,10 check digit."""
    d = _compact(value)
    if len(d) != 11 or not d.isascii() or not d.isdigit() or d[0] == "0":
        return False
    if not _steuer_id_digits_ok(d[:10]):
        return False
    product = 10
    for ch in d[:10]:
        total = (int(ch) + product) % 10
        if total == 0:
            total = 10
        product = (total * 2) % 11
    check = 11 - product
    if check == 10:
        check = 0
    return check == int(d[10])
