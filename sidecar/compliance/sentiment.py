"""A small lexicon-based sentiment scorer for ``sentiment_analysis`` rules.

Each word found in ``data/sentiment_lexicon.txt`` adds its valence (-4..+4). A negation
(``not``, ``never``, ``n't``…) among the three words before flips and damps it; an intensifier
(``very``, ``extremely``…) right before scales it up. The sum ``s`` is squashed into [-1, 1]
with ``s / sqrt(s² + 15)`` (as VADER does), so one mild word scores about -0.46 and a string of
insults tends to -1. Deterministic, no model, linear in the text.
"""

from __future__ import annotations

import functools
import math
from importlib import resources

_NEGATIONS = frozenset(
    "not no never none nobody nothing neither nor cannot cant without dont doesnt didnt isnt "
    "wasnt arent werent wont wouldnt shouldnt couldnt hardly".split()
)
_INTENSIFIERS = {"very": 1.3, "extremely": 1.5, "really": 1.2, "so": 1.2, "absolutely": 1.4,
                 "totally": 1.3, "completely": 1.3, "utterly": 1.5, "incredibly": 1.4,
                 "super": 1.2, "most": 1.2}
_ALPHA = 15.0
_STRIP = ".,;:!?\"'()[]{}<>*_`~…“”‘’"


@functools.cache
def lexicon() -> dict[str, float]:
    """The word -> valence table shipped with the package."""
    text = resources.files("sidecar.compliance").joinpath("data", "sentiment_lexicon.txt").read_text("utf-8")
    table: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            word, _, value = line.partition("\t")
            table[word.strip()] = float(value)
    return table


def _words(text: str) -> list[str]:
    out = []
    for raw in text.lower().split():
        word = raw.strip(_STRIP).replace("'", "").replace("’", "")
        if word:
            out.append(word)
    return out


def score(text: str) -> float:
    """Sentiment of ``text`` in [-1, 1]: negative below 0, 0 for neutral or empty text."""
    table = lexicon()
    words = _words(text)
    total = 0.0
    for index, word in enumerate(words):
        valence = table.get(word)
        if valence is None:
            continue
        if index and words[index - 1] in _INTENSIFIERS:
            valence *= _INTENSIFIERS[words[index - 1]]
        window = words[max(0, index - 3) : index]
        if any(w in _NEGATIONS for w in window):
            valence *= -0.74
        total += valence
    if total == 0:
        return 0.0
    return total / math.sqrt(total * total + _ALPHA)
