"""Low-level text helpers shared by detectors and rules: RE2 compilation, safe text, context.

All pattern matching in the engine goes through RE2 (``google-re2``), which runs in time
linear in the text whatever the pattern, so neither a rule author nor an attacker who controls
the event text can make evaluation blow up.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator, Sequence

import re2

#: RE2's memory budget per compiled regex. Sets of many patterns need more than the default
#: 8 MiB so that their DFA never gives up on long inputs.
REGEX_MAX_MEM = 32 << 20
SET_MAX_MEM = 128 << 20

Span = tuple[int, int]

_SURROGATES = re.compile("[\ud800-\udfff]")
_UNANCHORED = re2._Anchor.UNANCHORED


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


#: Characters that take no room on screen (zero-width space and joiners, word joiner, soft
#: hyphen, byte-order mark, direction marks): they can split a word without showing.
INVISIBLE = "\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
#: Spaces other than U+0020 (no-break, narrow, figure, em…) and hyphens other than U+002D.
WIDE_SPACES = "\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
DASHES = "\u2010-\u2015\u2212\ufe63\uff0d"
_FOLDABLE = re.compile(f"([{INVISIBLE}])|([{WIDE_SPACES}])|[{DASHES}]")


def fold(text: str) -> tuple[str, list[int]]:
    """``text`` as detectors read it: invisible characters removed, other spaces made U+0020
    and other hyphens and dashes made ``-``. Also returns, for each removed character, the
    offset in the result where it was, minus one per earlier removal (``Prepared`` uses
    these to map offsets back). Returns ``text`` itself when there is nothing to fold."""
    pieces: list[str] = []
    removed: list[int] = []
    cursor = 0
    for match in _FOLDABLE.finditer(text):
        at = match.start()
        pieces.append(text[cursor:at])
        if match.group(1):
            removed.append(at - len(removed))
        else:
            pieces.append(" " if match.group(2) else "-")
        cursor = at + 1
    if cursor == 0:
        return text, removed
    pieces.append(text[cursor:])
    return "".join(pieces), removed


class Prepared:
    """A text ready for RE2: the safe ``str``, its UTF-8 bytes, and byte -> character offset
    conversion (free for ASCII text, a bisect over the non-ASCII characters otherwise).

    Matching goes through RE2's low-level ``Match`` on the bytes, which is several times
    faster than the ``re2`` module's ``finditer`` wrapper (that re-encodes the text and
    re-derives offsets on every call).

    :meth:`folded` is the same text as detectors read it (see :func:`fold`);
    :meth:`original_spans` maps spans found in it back to this text.
    """

    __slots__ = ("text", "data", "ascii", "_wide", "_extra", "_folded", "_fold_done", "_removed")

    def __init__(self, text: str, _removed: list[int] | None = None) -> None:
        self.text = safe_text(text)
        self.data = self.text.encode("utf-8")
        self.ascii = len(self.data) == len(self.text)
        self._wide: list[int] | None = None
        self._extra: list[int] = []
        # The folded form when it differs; None when folding changes nothing (``self`` is
        # not stored there: the cycle would keep every text alive until the cyclic GC ran).
        self._folded: Prepared | None = None
        self._fold_done = self.ascii
        self._removed = _removed

    def folded(self) -> Prepared:
        """This text with invisible characters dropped and odd spaces and dashes made ASCII;
        ``self`` when there is nothing to fold (always for ASCII text)."""
        if not self._fold_done:
            text, removed = fold(self.text)
            self._folded = None if text is self.text else Prepared(text, removed)
            self._fold_done = True
        return self if self._folded is None else self._folded

    def original_spans(self, spans: list[Span]) -> list[Span]:
        """``spans`` of a :meth:`folded` text as spans of the text it was folded from. A span
        keeps the invisible characters inside it, not those at its edges."""
        removed = self._removed
        if not removed:
            return spans
        back = bisect.bisect_right
        return [(s + back(removed, s), e - 1 + back(removed, e - 1) + 1) if e > s else (s + back(removed, s),) * 2
                for s, e in spans]

    def char_offset(self, byte_offset: int) -> int:
        """The character offset of a byte offset that falls on a character boundary."""
        if self.ascii:
            return byte_offset
        if self._wide is None:
            self._index()
        assert self._wide is not None
        k = bisect.bisect_left(self._wide, byte_offset)
        return byte_offset - (self._extra[k - 1] if k else 0)

    def _index(self) -> None:
        wide: list[int] = []
        extra: list[int] = []
        total = 0
        for match in _NON_ASCII.finditer(self.text):
            width = len(match.group().encode("utf-8")) - 1
            wide.append(match.start() + total)
            total += width
            extra.append(total)
        self._wide, self._extra = wide, extra


_NON_ASCII = re.compile("[^\x00-\x7f]")


def _raw_matches(regex: re2._Regexp, prepared: Prepared) -> Iterator[list[tuple[int, int]]]:
    raw = regex._regexp
    data, end = prepared.data, len(prepared.data)
    pos = 0
    while pos <= end:
        spans = raw.Match(_UNANCHORED, data, pos, end)
        whole_start, whole_end = spans[0]
        if whole_start < 0:
            return
        yield spans
        if whole_end > whole_start:
            pos = whole_end
        else:  # empty match: step over one whole character
            pos = whole_end + 1
            while pos < end and (data[pos] & 0xC0) == 0x80:
                pos += 1


def iter_spans(regex: re2._Regexp, prepared: Prepared, groups: Sequence[int] = (0,)) -> Iterator[Span]:
    """Yield the character span of the first of ``groups`` that took part, for every
    non-overlapping match of ``regex`` in ``prepared`` (left to right)."""
    char = prepared.char_offset
    for spans in _raw_matches(regex, prepared):
        for group in groups:
            start, stop = spans[group]
            if start >= 0:
                yield char(start), char(stop)
                break


def iter_groups(regex: re2._Regexp, prepared: Prepared) -> Iterator[list[Span]]:
    """Yield, for every match, the character spans of all groups ((-1, -1) when a group
    did not take part)."""
    char = prepared.char_offset
    for spans in _raw_matches(regex, prepared):
        yield [(char(a), char(b)) if a >= 0 else (-1, -1) for a, b in spans]


def search(regex: re2._Regexp, text: str) -> bool:
    """True when ``regex`` matches somewhere in ``text`` (a short, already safe string)."""
    data = text.encode("utf-8")
    return regex._regexp.Match(_UNANCHORED, data, 0, len(data))[0][0] >= 0


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
    if before and search(regex, text[max(0, start - before) : start]):
        return True
    return bool(after) and search(regex, text[end : end + after])
