"""Text-matching rule bodies: keyword lists, user regexes and prompt-injection phrases.

Each compiles to one RE2 regex (a keyword list becomes a single alternation, so matching cost
does not grow with the number of keywords) and reports the character spans it finds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import re2

from sidecar.compliance import injection, textscan
from sidecar.compliance.textscan import Span

def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


@dataclass(frozen=True, slots=True)
class TextMatcher:
    """A matcher before compilation.

    Attributes:
        regex: the RE2 source (also given to the prefilter).
        detector: the ``detector`` name its matches carry.
        groups: capture groups that may hold the match; the first that took part wins.
        whole_word: reject matches that end in a word character followed by another.
        fold: match the folded text (``textscan.Prepared.folded``), so that invisible
            characters or odd spaces cannot hide a phrase. Not for user keywords and regexes,
            which may look for exactly those characters.
    """

    regex: str
    detector: str
    groups: tuple[int, ...] = (0,)
    whole_word: bool = False
    fold: bool = False


class CompiledMatcher:
    """A :class:`TextMatcher` with its regex compiled."""

    __slots__ = ("matcher", "_regex")

    def __init__(self, matcher: TextMatcher) -> None:
        self.matcher = matcher
        self._regex = textscan.compile_re(matcher.regex)

    def find(self, prepared: textscan.Prepared) -> list[Span]:
        """Non-empty spans in ``prepared`` (offsets in it, also when the matcher folds)."""
        out: list[Span] = []
        target = prepared.folded() if self.matcher.fold else prepared
        whole, groups, text = self.matcher.whole_word, self.matcher.groups, target.text
        for start, end in textscan.iter_spans(self._regex, target, groups):
            if end <= start:
                continue
            if whole and end < len(text) and _is_word_char(text[end]) and _is_word_char(text[end - 1]):
                continue
            out.append((start, end))
        return target.original_spans(out)


def keyword_matcher(keywords: Sequence[str], *, whole_word: bool, case_sensitive: bool) -> TextMatcher:
    """One alternation over ``keywords``, longest first.

    Whole-word matching is Unicode-aware: a keyword that starts with a word character must not
    follow one (RE2 has no lookbehind, so the boundary character is matched outside the
    reported group), and one that ends with a word character must not be followed by one.
    """
    ordered = sorted(set(keywords), key=lambda k: (-len(k), k))
    flags = "" if case_sensitive else "(?i)"
    if not whole_word:
        return TextMatcher(regex=f"{flags}(?:{'|'.join(re2.escape(k) for k in ordered)})", detector="keyword")
    word_led = "|".join(re2.escape(k) for k in ordered if _is_word_char(k[0]))
    other = "|".join(re2.escape(k) for k in ordered if not _is_word_char(k[0]))
    branches = []
    if word_led:
        branches.append(f"(?:^|[^\\p{{L}}\\p{{N}}_])({word_led})")
    if other:
        branches.append(f"({other})")
    return TextMatcher(
        regex=flags + "(?:" + "|".join(branches) + ")",
        detector="keyword",
        groups=tuple(range(1, len(branches) + 1)),
        whole_word=True,
    )


def regex_matcher(pattern: str, flags: str) -> TextMatcher:
    """A user regex with its ``i``/``m``/``s`` flags turned into an RE2 inline flag group."""
    inline = "".join(sorted(set(flags) & set("ims")))
    return TextMatcher(regex=(f"(?{inline})" if inline else "") + pattern, detector="regex")


INJECTION_MATCHERS = tuple(
    TextMatcher(regex="(?i)" + pattern, detector="prompt_injection", fold=True) for pattern in injection.PATTERNS
)
