"""Event metadata: JSON paths, text leaves, copy-on-write replacement and comparisons.

Paths are dotted with list indexes, as in API.md's match fields: ``user.notes``,
``items[2]``, ``items[2].name``. A key that is not a plain name is written in brackets as a
JSON string: ``headers["x-user.id"]``. :func:`format_path` and :func:`parse_path` round-trip.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

Segment = str | int
Path = tuple[Segment, ...]

MAX_DEPTH = 64
#: Integers with more digits than this are not scanned (no identifier is that long).
MAX_INT_DIGITS = 40
_INT_BOUND = 10**MAX_INT_DIGITS
#: Integers with fewer digits than this are not scanned: no numeric identifier the detectors
#: know is shorter than 9 digits (SSN, ABA routing), and token counts, latencies and statuses
#: are. Compared as a number, before any conversion to text.
MIN_INT_DIGITS = 9
_INT_FLOOR = 10 ** (MIN_INT_DIGITS - 1)
OPERATORS = ("eq", "ne", "contains", "gt", "gte", "lt", "lte")
_MISSING = object()


class PathError(ValueError):
    """A metadata path that cannot be parsed."""


def _plain(key: str) -> bool:
    return bool(key) and (key[0].isalpha() or key[0] == "_") and all(
        ch.isalnum() or ch in "_-" for ch in key
    )


def format_path(path: Path) -> str:
    """``("items", 2, "name")`` -> ``items[2].name``; odd keys in brackets as JSON strings."""
    out: list[str] = []
    for segment in path:
        if isinstance(segment, int):
            out.append(f"[{segment}]")
        elif _plain(segment):
            out.append(("." if out else "") + segment)
        else:
            out.append(f"[{json.dumps(segment, ensure_ascii=False)}]")
    return "".join(out)


def parse_path(text: str) -> Path:
    """Parse a dotted path. Raises PathError for empty or malformed paths."""
    if not isinstance(text, str) or not text.strip():
        raise PathError("path must be a non-empty string")
    segments: list[Segment] = []
    i, n = 0, len(text)
    expect_name = True
    while i < n:
        ch = text[i]
        if ch == "[":
            close = _bracket_end(text, i)
            inner = text[i + 1 : close]
            if inner.startswith('"'):
                try:
                    segments.append(json.loads(inner))
                except ValueError as exc:
                    raise PathError(f"bad quoted key in {text!r}") from exc
            elif inner.isdigit():
                segments.append(int(inner))
            else:
                raise PathError(f"bad index {inner!r} in {text!r}")
            i, expect_name = close + 1, False
        elif ch == ".":
            if expect_name:
                raise PathError(f"empty segment in {text!r}")
            i, expect_name = i + 1, True
        else:
            j = i
            while j < n and text[j] not in ".[":
                j += 1
            segments.append(text[i:j])
            i, expect_name = j, False
    if expect_name:
        raise PathError(f"path {text!r} ends with a dot")
    return tuple(segments)


def _bracket_end(text: str, start: int) -> int:
    if text.startswith('["', start):
        j = start + 2
        while j < len(text):
            if text[j] == "\\":
                j += 2
                continue
            if text[j] == '"':
                if text.startswith('"]', j):
                    return j + 1
                break
            j += 1
        raise PathError(f"unclosed bracket in {text!r}")
    close = text.find("]", start)
    if close < 0:
        raise PathError(f"unclosed bracket in {text!r}")
    return close


def get_path(obj: Any, path: Path) -> Any:
    """The value at ``path``, or the module's ``MISSING`` sentinel (see :func:`is_missing`)."""
    current = obj
    for segment in path:
        if isinstance(segment, int) and isinstance(current, list) and segment < len(current):
            current = current[segment]
        elif isinstance(segment, str) and isinstance(current, dict) and segment in current:
            current = current[segment]
        else:
            return _MISSING
    return current


def is_missing(value: Any) -> bool:
    """True for the sentinel that :func:`get_path` returns when the path leads nowhere."""
    return value is _MISSING


def leaf_text(value: Any) -> str | None:
    """The text that detectors scan for a metadata value: a string as it is, an integer as its
    decimal digits (``4111111111111111`` -> ``"4111111111111111"``); None for anything else
    (booleans, floats, null, containers) and for integers of more than MAX_INT_DIGITS digits,
    which hold no identifier."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and -_INT_BOUND < value < _INT_BOUND:
        return str(value)
    return None


def iter_texts(obj: Any) -> Iterator[tuple[Path, str, bool]]:
    """Every string value and every integer of MIN_INT_DIGITS to MAX_INT_DIGITS digits inside
    ``obj`` (depth-first, document order): ``(path, text, is_integer)``, the text as
    :func:`leaf_text`. Dict keys are not values. Nesting deeper than MAX_DEPTH is not
    descended into."""
    stack: list[tuple[Path, Any]] = [((), obj)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if path:
                yield path, value, False
        elif isinstance(value, int):
            if path and not isinstance(value, bool) and _INT_FLOOR <= abs(value) < _INT_BOUND:
                yield path, str(value), True
        elif len(path) < MAX_DEPTH:
            if isinstance(value, dict):
                items = [(path + (str(k),), v) for k, v in value.items()]
            elif isinstance(value, (list, tuple)):
                items = [(path + (i,), v) for i, v in enumerate(value)]
            else:
                continue
            stack.extend(reversed(items))


def key_words(path: Path) -> str:
    """The string segments of ``path`` as words, for label matching: ``("args", "cardNumber")``
    -> ``"args card Number"``, ``("payment", "card_no", 0)`` -> ``"payment card no"``."""
    words = " ".join(segment for segment in path if isinstance(segment, str))
    return _CAMEL.sub(" ", _KEY_JOINERS.sub(" ", words))


_KEY_JOINERS = re.compile(r"[_\-.]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def replace_strings(obj: Any, replacements: dict[Path, str]) -> Any:
    """A copy of ``obj`` with the values at ``replacements``' paths replaced by the given
    strings; untouched branches are shared, ``obj`` itself is never modified.

    A replaced integer becomes a string (``{"card": 4111111111111111}`` masked is
    ``{"card": "[REDACTED:credit_card]"}``): a redaction token is text, and keeping the number
    would keep the value."""
    if not replacements:
        return obj
    return _replace(obj, (), replacements, {p[:i] for p in replacements for i in range(len(p))})


def _replace(value: Any, path: Path, repl: dict[Path, str], prefixes: set[Path]) -> Any:
    if path in repl:
        return repl[path]
    if path not in prefixes:
        return value
    if isinstance(value, dict):
        return {k: _replace(v, path + (str(k),), repl, prefixes) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_replace(v, path + (i,), repl, prefixes) for i, v in enumerate(value)]
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if not math.isnan(value) else None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def compare(actual: Any, operator: str, expected: Any) -> bool:
    """Apply a metadata operator.

    ``eq``/``ne``: equal JSON values, numbers compared by value (``"5"`` equals ``5``), strings
    case-sensitively. ``contains``: substring of a string (case-insensitive), element of a
    list, or key of an object. ``gt``/``gte``/``lt``/``lte``: numeric when both sides are
    numbers (or numeric strings), else string order (ISO dates compare correctly); other
    types never compare. A missing value satisfies only ``ne``.
    """
    if is_missing(actual):
        return operator == "ne"
    if operator in ("eq", "ne"):
        a, b = _number(actual), _number(expected)
        if isinstance(actual, bool) or isinstance(expected, bool):
            same = type(actual) is type(expected) and actual == expected
        elif a is not None and b is not None:
            same = a == b
        else:
            same = actual == expected
        return same if operator == "eq" else not same
    if operator == "contains":
        if isinstance(actual, str):
            return str(expected).casefold() in actual.casefold()
        if isinstance(actual, list):
            return expected in actual
        if isinstance(actual, dict):
            return isinstance(expected, str) and expected in actual
        return False
    a, b = _number(actual), _number(expected)
    if a is None or b is None:
        if not (isinstance(actual, str) and isinstance(expected, str)):
            return False
        left: Any = actual
        right: Any = expected
    else:
        left, right = a, b
    if operator == "gt":
        return bool(left > right)
    if operator == "gte":
        return bool(left >= right)
    if operator == "lt":
        return bool(left < right)
    if operator == "lte":
        return bool(left <= right)
    raise ValueError(f"unknown operator {operator!r}")
