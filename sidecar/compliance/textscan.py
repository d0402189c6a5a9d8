"""Low-level text helpers shared by detectors and rules: RE2 compilation, safe text, context.

All pattern matching in the engine goes through RE2 (``google-re2``), which runs in time
linear in the text whatever the pattern, so neither a rule author nor an attacker who controls
the event text can make evaluation blow up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import re2

#: RE2's memory budget per compiled regex. Sets of many patterns need more than the default
#: 8 MiB so that their DFA never gives up on long inputs.
REGEX_MAX_MEM = 32 << 20
SET_MAX_MEM = 128 << 20

Span = tuple[int, int]

_SURROGATES = re.compile("[\ud800-\udfff]")


def options(*, max_mem: int = REGEX_MAX_MEM) -> re2.Options:
    """RE2 options used everywhere: UTF-8, errors raised (not logged to stderr)."""
    opts = re2.Options()
    opts.max_mem = max_mem
    opts.log_errors = False
    return opts


def compile_re(pattern: str) -> re2._Regexp:
    """Compile ``pattern`` with RE2. Raises ``re2.error`` when RE2 cannot run it."""
    return re2.compile(pattern, options())


def safe_text(text: str) -> str:
    """Return ``text`` with lone surrogates replaced by U+FFFD.

    RE2 needs valid UTF-8. Each surrogate becomes exactly one replacement character, so
    character offsets in the result are offsets in the original.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATES.sub("\ufffd", text)
    return text


def iter_spans(regex: re2._Regexp, text: str, group: int = 0) -> Iterator[Span]:
    """Yield the (start, end) character spans of ``group`` for every match of ``regex``."""
    for match in regex.finditer(text):
        start, end = match.span(group)
        if start >= 0:
            yield start, end


def word_alternation(words: Iterable[str]) -> str:
    """An RE2 alternation of literal ``words``, each with word boundaries where it starts or
    ends with a word character, longest first so that longer phrases win."""
    parts = []
    for word in sorted(set(words), key=lambda w: (-len(w), w)):
        body = re2.escape(word).replace("\\ ", r"\s+")
        left = r"\b" if word[:1].isalnum() or word[:1] == "_" else ""
        right = r"\b" if word[-1:].isalnum() or word[-1:] == "_" else ""
        parts.append(f"{left}{body}{right}")
    return "(?:" + "|".join(parts) + ")"


def context_regex(words: Iterable[str]) -> re2._Regexp:
    """A case-insensitive RE2 that finds any of ``words`` as whole words."""
    return compile_re("(?i)" + word_alternation(words))


_JOINERS = frozenset("-./_+#@")


def isolated(text: str, start: int, end: int) -> bool:
    """True when ``text[start:end]`` is not glued to more letters or digits.

    Rejects a value with a letter or digit right before or after it, or joined to one by a
    separator (``INV-555-123-4567``, ``1.2.3.4.5``, ``x_123``), so that fragments of longer
    tokens are never reported.
    """
    if start > 0:
        prev = text[start - 1]
        if prev.isalnum():
            return False
        if prev in _JOINERS and start > 1 and text[start - 2].isalnum():
            return False
    if end < len(text):
        nxt = text[end]
        if nxt.isalnum():
            return False
        if nxt in _JOINERS and end + 1 < len(text) and text[end + 1].isalnum():
            return False
    return True


def in_window(regex: re2._Regexp | None, text: str, start: int, end: int, before: int, after: int) -> bool:
    """True when ``regex`` matches in the ``before`` characters before the span or the
    ``after`` characters after it."""
    if regex is None:
        return False
    if before and regex.search(text[max(0, start - before) : start]) is not None:
        return True
    return bool(after) and regex.search(text[end : end + after]) is not None
