"""Credential detectors: cloud and API keys, private keys, JWTs and passwords."""

from __future__ import annotations

import base64
import binascii
import json
import re

from sidecar.compliance.detector_base import Detector, PatternSpec

#: Values after ``password:`` that are words about passwords, or placeholders, not passwords.
_NOT_PASSWORDS = frozenset(
    """required optional missing invalid incorrect expired expiring changed updated reset resets
    resetting correct wrong empty blank hidden masked redacted protected encrypted hashed stored
    provided needed necessary mandatory policy policies manager managers field fields length
    strength requirements requirement rules complexity characters minimum maximum secure
    insecure weak strong compromised leaked rotated successfully please should must cannot will
    would could being been sent shared saved generated entered typed removed deleted disabled
    enabled null none true false undefined string password passwords secret example sample
    placeholder value values here below above following attached same different unchanged
    protected available incorrectly case sensitive visible reused expires""".split()
)
_PLACEHOLDER_START = ("$", "{", "<", "%", "[", "(", "*", "•", "…", "#")


def _password_ok(value: str) -> bool:
    bare = value.strip(".:;!?)]}>")
    if len(bare) < 6 or bare.lower() in _NOT_PASSWORDS or bare.startswith(_PLACEHOLDER_START):
        return False
    return len(set(bare)) >= 3 and not bare.lower().startswith(("xxx", "redacted", "your_", "your-"))


_IDENT = r"[A-Za-z_$][\w$]*"
#: A call or subscript: ``get_secret(``, ``os.environ[``, ``getpass()``, ``args[0]``.
_CALL = re.compile(rf"{_IDENT}(?:\.{_IDENT})*[(\[][^()\[\]]*[)\]]*")
_DOTTED = re.compile(rf"{_IDENT}(?:\.{_IDENT})+")
_NAME = re.compile(_IDENT)
#: First parts of dotted names that are objects in code (``self.password``, ``config.db.pw``).
_CODE_ROOTS = frozenset(
    """self this cls os env environ settings config conf cfg process request req args kwargs opts
    options params secrets vault app ctx context creds credentials""".split()
)


def _not_code(text: str, start: int, end: int) -> bool:
    """False when an unquoted value after a password label is code that refers to a password
    (a call, a subscript, an attribute path, a variable in a dict or an argument list) rather
    than the password itself. A quoted value is a literal and always passes."""
    if start and text[start - 1] in "\"'`":
        return True
    value, after = text[start:end], text[end : end + 1]
    if _CALL.fullmatch(value):
        return False
    if _DOTTED.fullmatch(value):
        parts = value.split(".")
        if parts[0] in _CODE_ROOTS or after in (")", "]", "}", ",") or any(
            "_" in part or (part.isupper() and len(part) > 1) for part in parts
        ):
            return False
    i = start
    while i and text[i - 1].isspace():
        i -= 1
    separator = text[i - 1] if i else ""
    if separator not in (":", "=", ">") or not _NAME.fullmatch(value):
        return True  # prose ("my password is …") or not a plain name
    i -= 2 if text[i - 2 : i] == "=>" else 1
    while i and text[i - 1].isspace():
        i -= 1
    keyed = bool(i) and text[i - 1] in "\"'"  # {"password": user_input}
    return not (keyed or after == "}" or (separator != ":" and after in (")", "]")))


def _diverse(value: str, minimum: int = 10) -> bool:
    return len(set(value)) >= minimum


def _aws_key_ok(value: str) -> bool:
    return _diverse(value[4:], 6)


def _random_body(body: str, minimum: int = 10) -> bool:
    """A key's random part: varied, with letters and digits (not a placeholder or a word)."""
    return _diverse(body, minimum) and any(c.isdigit() for c in body) and any(c.isalpha() for c in body)


def _openai_ok(value: str) -> bool:
    body = value[3:]
    return not body.startswith("ant-") and _random_body(body, 12)


def _anthropic_ok(value: str) -> bool:
    return _random_body(value.split("-", 3)[3], 12)


def _stripe_ok(value: str) -> bool:
    return _random_body(value[8:])


def _slack_ok(value: str) -> bool:
    last = value.rsplit("-", 1)[1]
    return _diverse(last) and any(c.isalpha() for c in last)


def _token_ends(text: str, start: int, end: int) -> bool:
    """The value is not followed by more token characters (for fixed-length keys whose
    alphabet holds ``-``, where ``\\b`` cannot mark the end)."""
    return end == len(text) or not (text[end].isalnum() or text[end] in "_-")


def _b64url_json(segment: str) -> object:
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def _jwt_ok(value: str) -> bool:
    header, _, rest = value.partition(".")
    try:
        decoded = _b64url_json(header)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return False
    return isinstance(decoded, dict) and ("alg" in decoded or "typ" in decoded)


DETECTORS = (
    Detector(
        id="aws_access_key",
        description="AWS access key ids (AKIA/ASIA…) and secret access keys assigned to an AWS "
        "secret variable.",
        patterns=(
            PatternSpec(
                regex=r"\b(?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z2-7]{16}\b",
                validate=_aws_key_ok,
                isolated=False,
            ),
            PatternSpec(
                regex=r"(?i)aws_?secret_?(?:access_?)?key[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+]{40})",
                group=1,
                validate=lambda s: _diverse(s, 12),
                isolated=False,
            ),
        ),
    ),
    Detector(
        id="github_token",
        description="GitHub personal access, OAuth, app and refresh tokens.",
        patterns=(
            PatternSpec(
                regex=r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}\b",
                validate=_diverse,
                isolated=False,
            ),
        ),
    ),
    Detector(
        id="openai_key",
        description="OpenAI API keys (sk-…, sk-proj-…, sk-svcacct-…).",
        patterns=(
            PatternSpec(
                regex=r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,}", validate=_openai_ok, isolated=False
            ),
        ),
    ),
    Detector(
        id="stripe_key",
        description="Stripe live secret and restricted keys (sk_live_…, rk_live_…). Test-mode keys "
        "(sk_test_…) are not reported: they reach no real payments and fill documentation and sample "
        "code. Publishable keys (pk_…) are public by design.",
        patterns=(
            PatternSpec(regex=r"\b(?:sk|rk)_live_[0-9A-Za-z]{24,247}\b", validate=_stripe_ok, isolated=False),
        ),
    ),
    Detector(
        id="slack_token",
        description="Slack bot, user, app and refresh tokens (xoxb-, xoxp-, xoxa-, xoxr-…).",
        patterns=(
            PatternSpec(
                regex=r"\bxox[abpr]-(?:[0-9]{1,13}-){0,4}[0-9A-Za-z]{20,64}\b", validate=_slack_ok, isolated=False
            ),
        ),
    ),
    Detector(
        id="google_api_key",
        description="Google API keys (AIza and 35 characters).",
        patterns=(
            PatternSpec(
                regex=r"\bAIza[0-9A-Za-z_-]{35}",
                validate=lambda s: _diverse(s[4:]),
                isolated=False,
                guard=_token_ends,
            ),
        ),
    ),
    Detector(
        id="anthropic_key",
        description="Anthropic API and admin keys (sk-ant-api03-…, sk-ant-admin01-…).",
        patterns=(
            PatternSpec(
                regex=r"\bsk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{32,}", validate=_anthropic_ok, isolated=False
            ),
        ),
    ),
    Detector(
        id="private_key",
        description="PEM / OpenSSH / PGP private key blocks (the whole block when it is complete).",
        patterns=(
            PatternSpec(
                regex=r"-----BEGIN[A-Z ]{0,30} PRIVATE KEY(?: BLOCK)?-----"
                r"(?s:.*?-----END[A-Z ]{0,30} PRIVATE KEY(?: BLOCK)?-----)?",
                isolated=False,
            ),
        ),
    ),
    Detector(
        id="jwt",
        description="JSON Web Tokens whose header decodes to a JOSE header.",
        patterns=(
            PatternSpec(
                regex=r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{8,}",
                validate=_jwt_ok,
                isolated=False,
            ),
        ),
    ),
    Detector(
        id="password",
        description="Passwords written after a password label (password: …, pwd=…, my password "
        "is …) and in URLs (scheme://user:password@host). Only the value is reported; code that "
        "refers to a password (os.environ[…], get_secret(…), settings.DB_PASSWORD) is not one.",
        patterns=(
            PatternSpec(
                regex=r"(?i)\b(?:password|passwd|passwort|passphrase|passcode|contraseña|pwd|"
                r"mot de passe|db_pass|db_password|admin_password)[\"']?\s*(?:[:=]|=>|\bis\b|\bwas\b)"
                r"\s*(?:[\"'`]([^\s\"'`]{4,128})|([^\s\"'`,;]{3,127}[^\s\"'`,;)\]}>]))",
                group=(1, 2),
                validate=_password_ok,
                isolated=False,
                guard=_not_code,
            ),
            PatternSpec(
                regex=r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,15}://[^\s:/@]{1,64}:([^\s:/@]{3,128})@",
                group=1,
                validate=_password_ok,
                isolated=False,
            ),
        ),
    ),
)
