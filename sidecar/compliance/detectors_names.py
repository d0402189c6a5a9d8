"""The ``person_name`` detector: a names dictionary plus context rules, no NER model.

A capitalised run of words is a name when
  * it follows a title (``Mr``, ``Dr``, ``Prof``…): the title vouches for it;
  * it follows a role word (``patient``, ``employee``, ``Name:``, ``Dear``…) and holds a known
    given name or surname;
  * or, anywhere, it holds a known given name directly followed by a known surname
    (``John Smith``, ``Maria J. Garcia``), unless the given name is also an ordinary word
    (``Will``, ``Grace``) or the pair is a place (``Santa Clara``).
Names come from ``data/first_names.txt`` and ``data/surnames.txt``.
"""

from __future__ import annotations

import functools
import unicodedata
from importlib import resources

import re2

from sidecar.compliance.detector_base import Detector, build_pattern
from sidecar.compliance.textscan import Prepared, Span, iter_groups, iter_spans

_TOKEN = r"\p{Lu}['’]?\p{L}+(?:-\p{Lu}\p{L}+)?"
_TITLES = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Rev|Herr|Frau|Mme|Mlle|Sr|Sra|Sig|Dott)"
_ROLES = (
    r"(?i:patient|pt|employee|staff member|customer|client|member|applicant|user|resident|tenant"
    r"|claimant|candidate|contact|beneficiary|insured|cardholder|card holder|account holder"
    r"|policyholder|guarantor|caller|guest|student|spouse|physician|nurse|attending|referred by"
    r"|full name|name|dear|hi|hello|attn|employee name|signed by|referred to|seen by|spoke with"
    r"|patient name|customer name)"
)
RUN_PATTERN = _TOKEN + r"(?:[ \t]+(?:\p{Lu}\.[ \t]+)?" + _TOKEN + r")+"
LED_PATTERN = (
    r"(?:\b" + _ROLES + r"\s*[:,-]?[ \t]+(?:" + _TITLES + r"\.?[ \t]+)?|\b" + _TITLES + r"\.?[ \t]+)(" + _TOKEN
    + r"(?:[ \t]+(?:\p{Lu}\.[ \t]+)?" + _TOKEN + r"){0,2})"
)

#: Given names that are also everyday words, headings or places; they need a context rule.
_AMBIGUOUS_FIRST = frozenset(
    """will mark bill may june april august grace hope joy faith rose pat sue art guy chase lane
    dawn summer autumn iris ruby pearl crystal amber jade ray dean drew rich frank gene van don
    major sky page paris georgia virginia carolina dakota jordan china india asia rod jack bob buck
    cash sunny storm wade penny holly ivy destiny harmony heaven precious angel miracle trinity
    patience charity christian tuesday sterling royal king prince duke earl baron ace bliss
    rocky rusty misty sandy stormy lucky early young long case price min else sung in an lee
    the general avenue street ave main new north south east west ms patient customer
    august sales""".split()
)
_PLACES = frozenset(
    """santa clara|santa monica|santa barbara|santa fe|santa cruz|santa rosa|santa ana|san diego
    |san jose|los angeles|las vegas|palo alto|mount sinai|st louis|st paul|salt lake|grand rapids
    |fort worth|el paso|kansas city|new york|new jersey|des moines|baton rouge|rhode island
    |virginia beach|long beach|mary kay|johnson johnson|jack daniels|ben jerry|dolly parton
    |victoria secret|marie curie|charles schwab|ford motor|hilton hotels|morgan stanley|goldman sachs
    |wells fargo|ernst young|marks spencer|dow jones|lloyd webber|jackson hole|warren buffett""".replace("\n", "").replace("    ", "").split("|")
)
#: Capitalised words that start sentences or headings and are never part of a name.
_NOT_NAMES = frozenset(
    """the a an this that these those please thanks thank hello hi dear regards best kind sincerely
    note notes patient customer employee client user name summary report team support service
    services department account order invoice policy date time today yesterday tomorrow monday
    tuesday wednesday thursday friday saturday sunday january february march april may june july
    august september october november december hospital clinic center centre medical health
    insurance bank street road avenue city county state and or but if when then also however
    subject re fw fwd from to cc id no number phone email address mrn dob ssn visit follow up
    diagnosis assessment plan history chief complaint status approved denied pending yes
    is was are has had will would should can could his her their our your my its ltd inc llc
    lane drive court place terrace parkway boulevard way close square plaza mr mrs ms dr prof
    ave st rd blvd ln ct pl hwy pkwy str apt suite""".split()
)


@functools.lru_cache(maxsize=8192)
def _fold(word: str) -> str:
    return _fold_uncached(word)


def _load(name: str) -> frozenset[str]:
    text = resources.files("sidecar.compliance").joinpath("data", name).read_text("utf-8")
    lines = (line.strip() for line in text.splitlines())
    return frozenset(_fold_uncached(line) for line in lines if line and not line.startswith("#"))


def _fold_uncached(word: str) -> str:
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


@functools.cache
def name_dictionaries() -> tuple[frozenset[str], frozenset[str]]:
    """(given names, surnames), lower-cased and accent-folded."""
    return _load("first_names.txt"), _load("surnames.txt")


@functools.cache
def english_words() -> frozenset[str]:
    """Common lower-case English words: a capitalised one is not an unknown name."""
    return _load("english_words.txt")


@functools.cache
def _patterns() -> tuple[re2._Regexp, re2._Regexp]:
    return build_pattern(RUN_PATTERN), build_pattern(LED_PATTERN)


def _tokens(text: str, start: int, end: int) -> list[tuple[int, int]]:
    tokens, pos = [], start
    for part in text[start:end].split():
        pos = text.index(part, pos)
        tokens.append((pos, pos + len(part)))
        pos += len(part)
    return tokens


def _is_initial(word: str) -> bool:
    return len(word) == 2 and word[1] == "." and word[0].isupper()


def _known(word: str, names: frozenset[str]) -> bool:
    return _known_cached(word, names is name_dictionaries()[0])


@functools.lru_cache(maxsize=16384)
def _known_cached(word: str, given: bool) -> bool:
    names = name_dictionaries()[0 if given else 1]
    folded = _fold(word)
    return folded in names or any(part in names for part in folded.split("-") if len(part) > 2)


def _name_like(word: str) -> bool:
    return not (len(word) > 1 and word.isupper()) and _fold(word) not in _NOT_NAMES


@functools.lru_cache(maxsize=8192)
def _unknown_name(word: str) -> bool:
    """A capitalised word in no dictionary at all: plausibly a name we do not list."""
    if len(word) < 3 or not _name_like(word) or _is_initial(word):
        return False
    first, last = name_dictionaries()
    folded = _fold(word)
    words = english_words()
    parts = [p for p in folded.replace("’", "'").split("-") if p]
    return folded not in first and folded not in last and not any(
        p in words or p.rstrip("s") in words or p.replace("'", "") in words for p in parts
    )


def _from_runs(prepared: Prepared, run_re: re2._Regexp, out: list[Span]) -> None:
    first, last = name_dictionaries()
    text = prepared.text
    for start, end in iter_spans(run_re, prepared):
        toks = _tokens(text, start, end)
        words = [text[s:e] for s, e in toks]
        i = 0
        while i < len(toks) - 1:
            w = words[i]
            known_first = _known(w, first) and _fold(w) not in _AMBIGUOUS_FIRST and _name_like(w)
            # "Frank Reyes" yes, "Sales Price" no: a given name that is also a word needs a
            # surname that is not one.
            ambiguous = _known(w, first) and _fold(w) in _AMBIGUOUS_FIRST and _name_like(w) and (
                _known(words[i + 1], last) and _fold(words[i + 1]) not in english_words()
            )
            known_first = known_first or ambiguous
            if not known_first and not _unknown_name(w):
                i += 1
                continue
            j = i + 1
            while j < len(toks) - 1 and (_is_initial(words[j]) or (_known(words[j], first)
                                                                   and _known(words[j + 1], last))):
                j += 1
            surname = words[j]
            known_last = len(surname) >= 3 and _known(surname, last) and _name_like(surname)
            if known_last or (known_first and _unknown_name(surname)):
                if j + 1 < len(toks) and _known(words[j + 1], last) and _name_like(words[j + 1]):
                    j += 1
                pair = _fold(w) + " " + _fold(words[j])
                if pair not in _PLACES:
                    out.append((toks[i][0], toks[j][1]))
                i = j + 1
            else:
                i += 1


def _from_context(prepared: Prepared, led_re: re2._Regexp, out: list[Span]) -> None:
    first, last = name_dictionaries()
    text = prepared.text
    for spans in iter_groups(led_re, prepared):
        start, end = spans[1]
        lead = text[spans[0][0] : start].strip().rstrip(".:,-").strip()
        lead_word = lead.split()[-1] if lead.split() else ""
        titled = lead_word[:1].isupper() and _fold(lead_word) in _TITLE_WORDS
        toks = _tokens(text, start, end)
        kept = []
        for s, e in toks:
            word = text[s:e]
            if not _is_initial(word) and not _name_like(word):
                break
            kept.append((s, e))
        while kept and _is_initial(text[kept[-1][0] : kept[-1][1]]):
            kept.pop()
        if not kept:
            continue
        words = [text[s:e] for s, e in kept]
        known_first = _known(words[0], first) and _fold(words[0]) not in _AMBIGUOUS_FIRST
        unknown_pair = len(words) > 1 and all(_unknown_name(w) or _known(w, last) for w in words)
        if titled or known_first or (len(words) > 1 and _known(words[-1], last)) or unknown_pair:
            out.append((kept[0][0], kept[-1][1]))


_TITLE_WORDS = frozenset(
    _fold(t) for t in "Mr Mrs Ms Miss Mx Dr Prof Sir Dame Rev Herr Frau Mme Mlle Sr Sra Sig Dott".split()
)


def warm() -> None:
    """Load the dictionaries and compile the patterns now rather than on the first event."""
    name_dictionaries()
    english_words()
    _patterns()


def find_names(text: Prepared) -> list[Span]:
    """Spans of person names in ``text`` (given name + surname, or the name after a title)."""
    run_re, led_re = _patterns()
    found: list[Span] = []
    _from_context(text, led_re, found)
    _from_runs(text, run_re, found)
    return found


DETECTOR = Detector(
    id="person_name",
    description="Person names: dictionary given name + surname pairs, or names after a title "
    "(Mr, Dr…) or a role (patient, employee, Name:…).",
    finder=find_names,
    triggers=(RUN_PATTERN, LED_PATTERN),
    warm=warm,
)
