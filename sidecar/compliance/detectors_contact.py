"""Contact and personal-detail detectors: email, phone, date of birth, IP address, street address."""

from __future__ import annotations

import ipaddress
from datetime import date

from sidecar.compliance import validators as v
from sidecar.compliance.detector_base import Detector, PatternSpec

_FILE_TLDS = frozenset({"png", "jpg", "jpeg", "gif", "svg", "webp", "js", "ts", "css", "py", "json",
                        "txt", "md", "html", "htm", "xml", "yaml", "yml", "pdf", "zip", "lock"})
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_RE = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?" \
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
PHONE_WORDS = ("phone", "tel", "telephone", "mobile", "cell", "cellphone", "fax", "call", "called",
               "calling", "text", "sms", "whatsapp", "contact", "reach", "ring", "number",
               "landline", "hotline", "extension", "ext", "dial", "tlf", "téléphone", "telefon",
               "telefono", "móvil", "handy", "portable")
NOT_PHONE_WORDS = ("invoice", "inv", "order", "order no", "ref", "reference", "tracking",
                   "account", "acct", "case", "ticket", "sku", "serial", "po", "confirmation",
                   "transaction", "isbn", "id", "routing", "npi", "nhs")
DOB_WORDS = ("dob", "d.o.b", "d.o.b.", "date of birth", "birth date", "birthdate", "born",
             "born on", "birthday", "b.", "fecha de nacimiento", "date de naissance", "né le",
             "née le", "geburtsdatum", "geb.", "geboren", "data di nascita", "nato il", "nata il")
_STREET_SUFFIX = (r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way"
                  r"|Place|Pl|Terrace|Ter|Parkway|Pkwy|Circle|Cir|Highway|Hwy|Square|Sq|Trail|Trl"
                  r"|Crescent|Close|Row|Plaza|Alley|Gardens|Grove|Mews|Hill)")


def _email_ok(value: str) -> bool:
    local, _, domain = value.rpartition("@")
    tld = domain.rsplit(".", 1)[-1].lower()
    return (
        bool(local)
        and not local.startswith(".")
        and ".." not in value
        and tld not in _FILE_TLDS
        and not domain.startswith("-")
    )


def _not_in_url(text: str, start: int, end: int) -> bool:
    """Reject ``user:secret@host`` inside a URL: the token holding the value has no ``://``."""
    token_start = start
    while token_start > 0 and not text[token_start - 1].isspace() and text[token_start - 1] not in "\"'<(,;":
        token_start -= 1
        if start - token_start > 300:
            break
    return "://" not in text[token_start:start]


def _nanp_ok(ten: str) -> bool:
    return len(ten) == 10 and ten[0] in "23456789" and ten[3] in "23456789" and ten[1:3] != "11"


def _intl_phone_ok(value: str) -> bool:
    digits = v.digits_only(value)
    if not 8 <= len(digits) <= 15:
        return False
    if digits[0] == "1":  # +1: the North American Numbering Plan
        return len(digits) == 11 and _nanp_ok(digits[1:])
    return len(set(digits)) > 2


def _nanp_value_ok(value: str) -> bool:
    return _nanp_ok(v.digits_only(value))


def _uk_phone_ok(value: str) -> bool:
    digits = v.digits_only(value)
    return len(digits) in (10, 11) and digits[1] != "0"


def _plausible_date(year: int, month: int, day: int) -> bool:
    if not 1900 <= year <= 2029:
        return False
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _dob_ok(value: str) -> bool:
    text = value.lower().replace(",", " ").replace(".", " ").replace("/", " ").replace("-", " ")
    parts = text.split()
    try:
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            a, b, c = (int(p) for p in parts)
            if len(parts[0]) == 4:
                return _plausible_date(a, b, c)
            return _plausible_date(c, a, b) or _plausible_date(c, b, a)
        numbers = [p.rstrip("stndrh") for p in parts if p[:1].isdigit()]
        months = [p for p in parts if p[:3] in _MONTHS]
        if len(numbers) == 2 and months:
            day, year = sorted((int(n) for n in numbers), key=lambda n: n > 31)
            return _plausible_date(year, _MONTHS.index(months[0][:3]) + 1, day)
    except ValueError:
        return False
    return False


def _ipv4_ok(value: str) -> bool:
    octets = [int(p) for p in value.split(".")]
    if octets[0] in (0, 127, 255) or octets == [0, 0, 0, 0]:
        return False
    return not all(o in (0, 255) for o in octets[1:])


def _ipv6_ok(value: str) -> bool:
    try:
        addr = ipaddress.IPv6Address(value)
    except ValueError:
        return False
    if addr.is_loopback or addr.is_unspecified:
        return False
    groups = [g for g in value.split(":") if g]
    return len(groups) >= 6 or any(len(g) >= 3 for g in groups)


DETECTORS = (
    Detector(
        id="email",
        description="Email addresses.",
        patterns=(
            PatternSpec(
                regex=r"\b[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+"
                r"[A-Za-z]{2,24}\b",
                validate=_email_ok,
                isolated=False,
                guard=_not_in_url,
            ),
        ),
    ),
    Detector(
        id="phone",
        description="Phone numbers: international (+CC), NANP with separators, and national "
        "formats or bare digit runs only next to a phone word.",
        patterns=(
            PatternSpec(
                regex=r"\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,5}\b",
                validate=_intl_phone_ok,
            ),
            PatternSpec(
                regex=r"(?:\([2-9]\d{2}\) ?|\b[2-9]\d{2}[.-])[2-9]\d{2}[.-]\d{4}\b",
                validate=_nanp_value_ok,
                negative=NOT_PHONE_WORDS,
                negative_before=20,
            ),
            PatternSpec(
                regex=r"\b[2-9]\d{2} [2-9]\d{2} \d{4}\b|\b[2-9]\d{2}[2-9]\d{6}\b",
                validate=_nanp_value_ok,
                context=PHONE_WORDS,
                before=40,
                negative=NOT_PHONE_WORDS,
                negative_before=20,
            ),
            PatternSpec(
                regex=r"\b0\d{2,4}[ -]?\d{3,4}[ -]?\d{3,4}\b",
                validate=_uk_phone_ok,
                context=PHONE_WORDS,
                before=40,
                negative=NOT_PHONE_WORDS,
                negative_before=20,
            ),
        ),
    ),
    Detector(
        id="date_of_birth",
        description="Calendar dates next to a birth-date label (DOB, born, date of birth…).",
        patterns=(
            PatternSpec(
                regex=r"\b\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)\d{2}\b|\b(?:19|20)\d{2}-\d{2}-\d{2}\b",
                validate=_dob_ok,
                context=DOB_WORDS,
                before=40,
            ),
            PatternSpec(
                regex=rf"(?i)\b\d{{1,2}}(?:st|nd|rd|th)?\.? {_MONTH_RE}\.?,? (?:19|20)\d{{2}}\b"
                rf"|\b{_MONTH_RE}\.? \d{{1,2}}(?:st|nd|rd|th)?,? (?:19|20)\d{{2}}\b",
                validate=_dob_ok,
                context=DOB_WORDS,
                before=40,
            ),
        ),
    ),
    Detector(
        id="ip_address",
        description="IPv4 and IPv6 host addresses (not loopback, unspecified or netmasks; not "
        "version numbers).",
        patterns=(
            PatternSpec(
                regex=r"\b(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\b",
                validate=_ipv4_ok,
                negative=("version", "ver", "v", "release", "build", "firmware", "oid", "snmp",
                          "sdk", "chrome", "firefox", "safari", "python", "node", "pip", "npm"),
                negative_before=20,
            ),
            PatternSpec(
                regex=r"(?i)\b[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){2,7}\b|::[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){1,6}\b",
                validate=_ipv6_ok,
            ),
        ),
    ),
    Detector(
        id="street_address",
        description="Street addresses (US/UK number + street + suffix, German, French, Italian, "
        "Spanish forms, PO boxes).",
        patterns=(
            PatternSpec(
                regex=r"\b\d{1,6}[A-Za-z]?,? (?:[NSEW]\.? |North |South |East |West )?"
                r"(?:(?:\d{1,3}(?:st|nd|rd|th)|\p{Lu}[\p{Ll}'’]+\.?) ){1,3}" + _STREET_SUFFIX
                + r"\b\.?(?:,? (?:Apt|Apartment|Suite|Ste|Unit|Flat|#) ?[A-Za-z0-9-]{1,6})?"
                r"(?:, \p{Lu}[\p{Ll}]+(?: \p{Lu}[\p{Ll}]+)?,? (?:[A-Z]{2} )?\d{5}(?:-\d{4})?)?",
            ),
            PatternSpec(
                regex=r"\b\p{Lu}[\p{Ll}]+(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|ufer)"
                r" \d{1,4}[a-z]?\b(?:, \d{5} \p{Lu}[\p{Ll}]+)?",
            ),
            PatternSpec(
                regex=r"\b\d{1,4}(?: bis| ter)?,? (?:rue|avenue|boulevard|bd|place|chemin|allée|impasse"
                r"|quai|cours|route) (?:de la |de l'|du |des |de |d')?\p{Lu}[\p{L}'’-]+"
                r"(?: \p{Lu}[\p{L}'’-]+){0,3}(?:, \d{5} \p{Lu}[\p{L}-]+)?",
            ),
            PatternSpec(
                regex=r"\b(?:Via|Viale|Piazza|Corso|Calle|Avenida|Avda\.|Plaza|Paseo|Carrer|Rua)"
                r" (?:de la |del |de |di |della |dei |delle )?\p{Lu}[\p{L}'’-]+(?: \p{Lu}[\p{L}'’-]+){0,3}"
                r",? (?:n\. ?|nº ?|n° ?)?\d{1,4}\b",
            ),
            PatternSpec(regex=r"(?i)\bp\.? ?o\.? box \d{1,6}\b"),
        ),
    ),
)
