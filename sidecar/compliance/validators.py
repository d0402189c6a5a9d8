"""Checksum and structure validators for the values that detectors find.

Each validator takes the candidate as found in the text (separators allowed where the format
has them) and returns True only when the value is structurally possible: right length, right
prefix ranges and a correct check digit. They never raise on odd input. National identifiers
of European countries live in :mod:`national_ids` and are re-exported here.
"""

from __future__ import annotations

from sidecar.compliance.national_ids import (
    de_tax_id_valid,
    es_dni_valid,
    es_nie_valid,
    fr_nir_valid,
    it_fiscal_code_valid,
    uk_nhs_valid,
    uk_nino_valid,
)

__all__ = [
    "ISO_COUNTRIES",
    "aba_valid",
    "card_brand",
    "card_valid",
    "de_tax_id_valid",
    "dea_valid",
    "digits_only",
    "ein_valid",
    "es_dni_valid",
    "es_nie_valid",
    "fr_nir_valid",
    "iban_valid",
    "it_fiscal_code_valid",
    "itin_valid",
    "luhn_valid",
    "npi_valid",
    "ssn_valid",
    "swift_valid",
    "uk_nhs_valid",
    "uk_nino_valid",
]

#: ISO 3166-1 alpha-2 country codes (officially assigned), plus XK (Kosovo, used by banks).
ISO_COUNTRIES = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
    BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG
    EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR
    HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR
    LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG
    NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE
    SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA
    UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW XK""".split()
)

#: IBAN length per country (SWIFT IBAN registry).
IBAN_LENGTHS = {
    code: int(length)
    for code, length in (
        item.split(":")
        for item in """AD:24 AE:23 AL:28 AT:20 AZ:28 BA:20 BE:16 BG:22 BH:22 BI:27 BR:29 BY:28 CH:21
        CR:22 CY:28 CZ:24 DE:22 DJ:27 DK:18 DO:28 EE:20 EG:29 ES:24 FI:18 FK:18 FO:18 FR:27 GB:22
        GE:22 GI:23 GL:18 GR:27 GT:28 HR:21 HU:28 IE:22 IL:23 IQ:23 IS:26 IT:27 JO:30 KW:30 KZ:20
        LB:28 LC:32 LI:21 LT:20 LU:20 LV:21 LY:25 MC:27 MD:24 ME:22 MK:19 MN:20 MR:27 MT:31 MU:30
        NI:28 NL:18 NO:15 OM:23 PK:24 PL:28 PS:29 QA:29 RO:24 RS:22 RU:33 SA:24 SC:31 SD:18 SE:24
        SI:19 SK:24 SM:27 SO:23 ST:25 SV:28 TL:23 TN:24 TR:26 UA:29 VA:22 VG:24 XK:20 YE:30""".split()
    )
}

_EIN_PREFIXES = frozenset(
    """01 02 03 04 05 06 10 11 12 13 14 15 16 20 21 22 23 24 25 26 27 30 31 32 33 34 35 36 37 38 39
    40 41 42 43 44 45 46 47 48 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64 65 66 67 68 71 72 73 74
    75 76 77 80 81 82 83 84 85 86 87 88 90 91 92 93 94 95 98 99""".split()
)
#: Maestro and Maestro UK IIN prefixes. Maestro also issues 12-digit numbers; they are left out,
#: since that length is shared by too many other codes (UPC barcodes, order numbers).
_MAESTRO_PREFIXES = frozenset({5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763})
_DEA_REGISTRANTS = frozenset("ABCDEFGHJKLMPRSTUX")
#: SSNs that were published and are known not to belong to anyone in particular.
_SSN_KNOWN_INVALID = frozenset({"078051120", "219099999"})


def digits_only(value: str) -> str:
    """Return the ASCII digits of ``value``, dropping separators."""
    return "".join(ch for ch in value if "0" <= ch <= "9")


def _all_same(digits: str) -> bool:
    return len(set(digits)) <= 1


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check over a string of ASCII digits."""
    if not digits or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for index, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if index % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_brand(digits: str) -> str | None:
    """The card network whose IIN range and length fit ``digits``, or None."""
    n = len(digits)
    if n < 12 or n > 19 or not digits.isdigit():
        return None
    p2, p3, p4, p6 = int(digits[:2]), int(digits[:3]), int(digits[:4]), int(digits[:6])
    if digits[0] == "4" and n in (13, 16, 19):
        return "visa"
    if (51 <= p2 <= 55 or 2221 <= p4 <= 2720) and n == 16:
        return "mastercard"
    if p2 in (34, 37) and n == 15:
        return "amex"
    if (p4 == 6011 or 644 <= p3 <= 649 or p2 == 65 or 622126 <= p6 <= 622925) and 16 <= n <= 19:
        return "discover"
    if 3528 <= p4 <= 3589 and 16 <= n <= 19:
        return "jcb"
    if (300 <= p3 <= 305 or p4 == 3095 or p2 in (36, 38, 39)) and 14 <= n <= 19:
        return "diners"
    if p2 == 62 and 16 <= n <= 19:
        return "unionpay"
    if p4 in _MAESTRO_PREFIXES and 13 <= n <= 19:
        return "maestro"
    return None


def card_valid(value: str) -> bool:
    """A payment card number: known IIN range and length, Luhn check, not one repeated digit."""
    digits = digits_only(value)
    return card_brand(digits) is not None and not _all_same(digits) and luhn_valid(digits)


def iban_valid(value: str) -> bool:
    """IBAN: known country, that country's length, ISO 7064 mod-97 == 1."""
    compact = "".join(value.split()).upper()
    if len(compact) < 15 or not compact.isascii() or not compact.isalnum():
        return False
    country = compact[:2]
    if IBAN_LENGTHS.get(country) != len(compact) or not compact[2:4].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(numeric) % 97 == 1


def aba_valid(value: str) -> bool:
    """ABA routing transit number: 9 digits, Federal Reserve prefix, 3-7-1 checksum."""
    d = digits_only(value)
    if len(d) != 9 or _all_same(d):
        return False
    prefix = int(d[:2])
    if not (prefix <= 12 or 21 <= prefix <= 32 or 61 <= prefix <= 72 or prefix == 80):
        return False
    n = [ord(c) - 48 for c in d]
    total = 3 * (n[0] + n[3] + n[6]) + 7 * (n[1] + n[4] + n[7]) + (n[2] + n[5] + n[8])
    return total % 10 == 0


def ssn_valid(value: str) -> bool:
    """US SSN: area not 000, 666 or 9xx; group not 00; serial not 0000."""
    d = digits_only(value)
    if len(d) != 9 or d in _SSN_KNOWN_INVALID:
        return False
    area, group, serial = d[:3], d[3:5], d[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def itin_valid(value: str) -> bool:
    """US ITIN: 9xx area, group 50-65, 70-88, 90-92 or 94-99, serial not 0000."""
    d = digits_only(value)
    if len(d) != 9 or d[0] != "9" or d[5:] == "0000":
        return False
    group = int(d[3:5])
    return 50 <= group <= 65 or 70 <= group <= 88 or 90 <= group <= 92 or 94 <= group <= 99


def ein_valid(value: str) -> bool:
    """US EIN: 9 digits whose two-digit prefix is one the IRS assigns."""
    d = digits_only(value)
    return len(d) == 9 and d[:2] in _EIN_PREFIXES and not _all_same(d[2:])


def npi_valid(value: str) -> bool:
    """US National Provider Identifier: 10 digits starting 1 or 2, Luhn over ``80840`` + NPI."""
    d = digits_only(value)
    return len(d) == 10 and d[0] in "12" and luhn_valid("80840" + d)


def dea_valid(value: str) -> bool:
    """DEA registration number: registrant letter, name letter or 9, 7 digits with check digit."""
    v = value.strip().upper()
    if len(v) != 9 or v[0] not in _DEA_REGISTRANTS or not (v[1].isalpha() or v[1] == "9"):
        return False
    digits = v[2:]
    if not digits.isascii() or not digits.isdigit():
        return False
    n = [ord(c) - 48 for c in digits]
    total = n[0] + n[2] + n[4] + 2 * (n[1] + n[3] + n[5])
    return total % 10 == n[6]


def swift_valid(value: str) -> bool:
    """SWIFT/BIC: 4-letter bank, ISO country, 2-char location, optional 3-char branch."""
    v = value.strip()
    if len(v) not in (8, 11) or not v.isascii() or not v.isalnum() or not v.isupper():
        return False
    if not v[:4].isalpha() or v[4:6] not in ISO_COUNTRIES:
        return False
    # Location code: letters and digits, but "0" and "1" are not used as its first character.
    return v[6] not in "01"
