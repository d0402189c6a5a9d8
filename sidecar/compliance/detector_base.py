"""The shape of a detector: candidate patterns, validators and context words.

A detector is data (:class:`Detector`) made of :class:`PatternSpec` values. Each spec has an
RE2 candidate regex; a candidate counts only when it is isolated from surrounding letters and
digits, passes the spec's validator (a checksum, a range check) and, when the format is
ambiguous on its own, has one of the spec's context words shortly before (or after) it. A
detector whose logic does not fit this mould (names) supplies a ``finder`` function and the
``triggers`` that the one-pass prefilter should look for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import re2

from sidecar.compliance import textscan
from sidecar.compliance.textscan import Span

Validator = Callable[[str], bool]
#: Splits a candidate into sub-spans (relative to the candidate) to validate, best first.
Splitter = Callable[[str], Iterable[Span]]
Finder = Callable[[textscan.Prepared], list[Span]]
#: Looks at the value in its text: ``guard(text, start, end)`` returns False to reject it.
Guard = Callable[[str, int, int], bool]


@dataclass(frozen=True, slots=True)
class PatternSpec:
    """One candidate pattern of a detector.

    Attributes:
        regex: RE2 syntax; ``group`` selects the value's span inside the match (a tuple of
            groups: the first of them that took part, for alternatives that capture apart).
        validate: returns True when the value is real (checksum, ranges); None accepts all.
        context: words of which one must occur within ``before`` characters before the value
            (or ``after`` characters after it). Empty: no context needed.
        negative: words that reject a candidate when they occur within ``negative_before``
            characters before it (``order``, ``invoice``…), unless ``labels`` overrule them.
        labels: explicit labels of the value's kind (``SSN``, ``card``). A label in the same
            window overrules the negative words when it is the word nearest to the value, or
            when it heads a list that reaches the nearest negative word through ``or``, ``and``,
            ``/``, ``&`` or commas: ``Account holder SSN: …``, ``SSN or ITIN: …``.
        isolated: reject values glued to letters or digits (see ``textscan.isolated``).
        split: for greedy candidates, yields the sub-spans to try, best first.
        guard: a last check that sees the surrounding text (e.g. "not inside a URL").
    """

    regex: str
    validate: Validator | None = None
    group: int | tuple[int, ...] = 0
    context: tuple[str, ...] = ()
    before: int = 50
    after: int = 0
    negative: tuple[str, ...] = ()
    negative_before: int = 30
    labels: tuple[str, ...] = ()
    isolated: bool = True
    split: Splitter | None = None
    guard: Guard | None = None


@dataclass(frozen=True, slots=True)
class Detector:
    """A named detector. ``id`` is the API's detector id and the ``detector`` of each match."""

    id: str
    description: str
    patterns: tuple[PatternSpec, ...] = ()
    finder: Finder | None = None
    triggers: tuple[str, ...] = field(default=())
    warm: Callable[[], None] | None = None
    #: Labels beyond the patterns' ``labels`` and ``context`` that name this detector's value
    #: in a metadata key (see :meth:`key_labels`).
    extra_key_labels: tuple[str, ...] = ()

    def key_labels(self) -> tuple[str, ...]:
        """The words that, in a metadata key path, say an integer there is this detector's
        kind of value (``card``, ``card_number``, ``ssn``): every spec's ``labels`` and
        ``context`` words and ``extra_key_labels``. An integer under a key without one is
        not reported by this detector (``{"message_id": 4111111111111111}``)."""
        words: list[str] = list(self.extra_key_labels)
        for spec in self.patterns:
            words.extend(spec.labels)
            words.extend(spec.context)
        return tuple(dict.fromkeys(words))

    def trigger_patterns(self) -> tuple[str, ...]:
        """The regexes the prefilter looks for: each spec's candidate regex followed, when
        the spec needs context, by its context words (a spec runs only when both occur);
        or the custom triggers of a finder."""
        if self.finder is not None:
            return self.triggers
        out: list[str] = []
        for spec in self.patterns:
            out.append(spec.regex)
            if spec.context:
                out.append("(?i)" + textscan.word_alternation(spec.context))
        return tuple(out)


class _CompiledSpec:
    __slots__ = ("spec", "regex", "groups", "context", "negative", "labels")

    def __init__(self, spec: PatternSpec) -> None:
        self.spec = spec
        self.regex = textscan.compile_re(spec.regex)
        self.groups = spec.group if isinstance(spec.group, tuple) else (spec.group,)
        self.context = textscan.context_regex(spec.context) if spec.context else None
        self.negative = textscan.context_regex(spec.negative) if spec.negative else None
        self.labels = textscan.context_regex(spec.labels) if spec.labels else None

    def find(self, prepared: textscan.Prepared, out: list[Span]) -> None:
        spec, text = self.spec, prepared.text
        for start, end in textscan.iter_spans(self.regex, prepared, self.groups):
            pieces = spec.split(text[start:end]) if spec.split is not None else ((0, end - start),)
            for rel_start, rel_end in pieces:
                s, e = start + rel_start, start + rel_end
                if self._accept(text, s, e):
                    out.append((s, e))
                    break

    def _accept(self, text: str, start: int, end: int) -> bool:
        spec = self.spec
        if spec.isolated and not textscan.isolated(text, start, end):
            return False
        if spec.validate is not None and not spec.validate(text[start:end]):
            return False
        if self.negative is not None and self._negated(text[max(0, start - spec.negative_before) : start]):
            return False
        if spec.guard is not None and not spec.guard(text, start, end):
            return False
        if self.context is not None:
            return textscan.in_window(self.context, text, start, end, spec.before, spec.after)
        return True

    def _negated(self, window: str) -> bool:
        """True when a negative word in ``window`` (the text just before a candidate) rejects
        it: there is one, and no label overrules it (see ``PatternSpec.labels``)."""
        assert self.negative is not None
        if not textscan.search(self.negative, window):
            return False
        if self.labels is None or not textscan.search(self.labels, window):
            return True
        prepared = textscan.Prepared(window)
        words = sorted(
            [(s, e, False) for s, e in textscan.iter_spans(self.negative, prepared)]
            + [(s, e, True) for s, e in textscan.iter_spans(self.labels, prepared)]
        )
        following = len(window)
        for start, end, is_label in reversed(words):
            if following < len(window) and not _LIST_JOINER.fullmatch(window[end:following]):
                return True
            if is_label:
                return False
            following = start
        return True


#: What joins the words of a label list: ``SSN or ITIN``, ``SSN/ITIN``, ``SSN, ITIN``.
_LIST_JOINER = re.compile(r"\s*(?:or|and|/|&|,)\s*", re.IGNORECASE)


class CompiledDetector:
    """A detector with its regexes compiled. Stateless; safe to share between threads."""

    __slots__ = ("detector", "_specs", "_needs", "_key_labels")

    def __init__(self, detector: Detector) -> None:
        self.detector = detector
        words = detector.key_labels()
        self._key_labels = textscan.context_regex(words) if words else None
        self._specs = tuple(_CompiledSpec(spec) for spec in detector.patterns)
        needs: list[tuple[int, ...]] = []
        index = 0
        for spec in detector.patterns:
            width = 2 if spec.context else 1
            needs.append(tuple(range(index, index + width)))
            index += width
        self._needs = tuple(needs)
        if detector.warm is not None:
            detector.warm()

    @property
    def id(self) -> str:
        return self.detector.id

    def labels_key(self, key: str) -> bool:
        """True when the metadata key text ``key`` (see ``engine``: path segments as words)
        carries one of the detector's :meth:`Detector.key_labels`."""
        return self._key_labels is not None and textscan.search(self._key_labels, textscan.safe_text(key))

    def find(
        self, text: textscan.Prepared | str, hits: frozenset[int] | None = None, offset: int = 0
    ) -> list[Span]:
        """Spans of this detector's values in ``text``, sorted, overlaps merged.

        The detector reads the text folded (``textscan.Prepared.folded``: no invisible
        characters, ASCII spaces and hyphens); the spans are offsets in ``text`` as given.

        Args:
            text: the text (a ``textscan.Prepared`` when the caller scans it more than once).
            hits: prefilter indexes that matched (in the text or its folded form); ``offset``
                is the index of this detector's first trigger pattern in the prefilter. None
                runs every spec.
        """
        given = text if isinstance(text, textscan.Prepared) else textscan.Prepared(text)
        prepared = given.folded()
        found: list[Span] = []
        if self.detector.finder is not None:
            found = self.detector.finder(prepared)
        else:
            for spec, needs in zip(self._specs, self._needs):
                if hits is None or all(i + offset in hits for i in needs):
                    spec.find(prepared, found)
        return prepared.original_spans(merge_spans(found))


def merge_spans(spans: list[Span]) -> list[Span]:
    """Sort spans and merge the ones that overlap."""
    if len(spans) < 2:
        return spans
    spans.sort()
    merged = [spans[0]]
    for start, end in spans[1:]:
        last_start, last_end = merged[-1]
        if start < last_end:
            merged[-1] = (last_start, max(last_end, end))
        else:
            merged.append((start, end))
    return merged


def build_pattern(regex: str) -> re2._Regexp:
    """Compile a detector regex (used by custom finders)."""
    return textscan.compile_re(regex)
