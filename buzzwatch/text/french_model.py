"""A small linear model for French sentiment, on top of VADER-FR: multinomial logistic
regression over words, word prefixes, character n-grams, a few shape features, and VADER-FR's
own scores.

VADER-FR alone reaches macro-F1 0.55-0.59 on French tweets (``bench/sentiment_eval.py``): its
lexicon is a translation with gaps and artefacts ("vol" is theft, "part" is +1.8), and 22 % of
the evaluation tweets score exactly 0. A linear model over n-grams learns the words it lacks;
keeping VADER-FR's scores (with the complaint supplement) as features keeps what it knows
("en panne", "toujours pas de réponse").

The weights are trained at build time by ``scripts/train_french_model.py`` on the *tune*
split of the shared French file only, and shipped as ``buzzwatch/data/french_model.json.gz``
(nothing is downloaded at run time). Prediction is pure Python: a few hundred dict look-ups
per post.

The model's class probabilities become a compound score VADER's thresholds can read: the
difference p(positive) - p(negative), pushed out of the band (-0.1, 0.1) when positive or
negative is the most likely class and squeezed into it when neutral is, so that thresholds
of (-0.1, 0.1) give exactly the most likely class.

The only labelled French data here is about ecology and energy (stance more than wording), so
the model reads only posts of ``MIN_WORDS`` words or more, and is trusted only when confident (its top probability >= ``confidence``, chosen
at training time); otherwise VADER-FR's reading stands, mapped so that the same (-0.1, 0.1)
thresholds give VADER-FR's own labels at its tuned thresholds (-0.05, 0.20). The training
script picks ``confidence`` on the tune split's out-of-fold predictions, under the guard that
the hand-written French traffic of ``buzzwatch.offline.simulate`` is read at least as well as by
VADER-FR alone.

>>> shape_compound((0.7, 0.2, 0.1))  # negative most likely
-0.64
>>> shape_compound((0.3, 0.5, 0.2))  # neutral most likely: inside (-0.1, 0.1)
-0.01
"""

from __future__ import annotations

import gzip
import json
import math
import re
import unicodedata
from functools import lru_cache
from importlib import resources
from typing import Iterable, Mapping, Sequence

MODEL_FILE = "french_model.json.gz"
CLASSES = ("negative", "neutral", "positive")
WORD_CACHE = 100_000  # words whose summed weights are kept (cleared when full)
NEUTRAL_BAND = 0.1
# The model learnt from whole tweets; on a post of a word or two ("❤️❤️ brand", "nul") a
# couple of character n-grams would decide alone, so VADER-FR's lexicon reads those.
MIN_WORDS = 4  # thresholds (-0.1, 0.1) on the shaped compound = the most likely class

_URL = re.compile(r"https?://\S+|(?<!\w)http(?!\w)|www\.\S+")
_HANDLE = re.compile(r"@\w+")
_TOKEN = re.compile(r"[#@]?\w+|[!?]")
_CHAR_N = (3, 5)
_PREFIX = 5


def _fold(text: str) -> str:
    if text.isascii():
        return text
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def post_words(text: str) -> list[str]:
    """The tokens of a post the model reads: lowercase, accents stripped, URLs dropped,
    @handles as ``@u``, the brand placeholder dropped (it says nothing about the post)."""
    t = _fold(text.lower().replace("’", "'"))
    if "http" in t or "www." in t:  # (every URL alternative needs one of them)
        t = _URL.sub(" ", t)
    if "@" in t:
        t = _HANDLE.sub(" @u ", t)
    return [w for w in _TOKEN.findall(t) if w not in _PLACEHOLDERS]


_PLACEHOLDERS = frozenset({"brand", "#brand"})


def shape_features(text: str) -> list[str]:
    """Markers of the post's shape: URL or not, number of hashtags and handles, a reply, ! and ?."""
    low = text.lower()
    out = ["m:url" if "http" in low or "www." in low else "m:nourl",
           "m:h%d" % min(low.count("#"), 3), "m:u%d" % min(low.count("@"), 2)]
    if low.startswith("@"):
        out.append("m:reply")
    if "!" in low:
        out.append("m:!")
    if "?" in low:
        out.append("m:?")
    return out


def features(text: str) -> set[str]:
    """The sparse features of a post (each counts once): per word the word (w:), its 5-letter
    prefix if longer (p:) and its character 3- to 5-grams (c:); then the shape markers (m:).

    >>> sorted(f for f in features("Trop nul @Acme!") if not f.startswith("c:"))
    ['m:!', 'm:h0', 'm:nourl', 'm:u1', 'w:!', 'w:@u', 'w:nul', 'w:trop']
    """
    out: set[str] = set()
    for w in post_words(text):
        out.update(_word_features(w))
    out.update(shape_features(text))
    return out


@lru_cache(maxsize=65536)
def _word_features(w: str) -> tuple[str, ...]:
    """A word's own features (cached: words repeat, n-gram strings are the cost)."""
    out = ["w:" + w]
    if len(w) > _PREFIX:
        out.append("p:" + w[:_PREFIX])
    if w[0] not in "@!?":
        x = "<" + w.lstrip("#") + ">"
        lo, hi = _CHAR_N
        out += ["c:" + x[i:i + n] for n in range(lo, hi + 1) for i in range(len(x) - n + 1)]
    return tuple(out)


DENSE = ("compound", "neg", "pos", "neu")  # VADER-FR's scores, used as they are


VADER_FR_THRESHOLDS = (-0.05, 0.20)  # VADER-FR's tuned thresholds (bench/sentiment_eval.py, tune split)


def from_vader(c: float) -> float:
    """VADER-FR's compound moved so that (-0.1, 0.1) gives its labels at VADER_FR_THRESHOLDS.

    >>> [from_vader(c) for c in (-0.6, -0.05, 0.0, 0.15, 0.2, 0.9)]
    [-0.6, -0.1, 0.0, 0.075, 0.2, 0.9]
    """
    neg, pos = VADER_FR_THRESHOLDS
    if c <= neg:
        return min(c, -NEUTRAL_BAND)
    if c >= pos:
        return max(c, NEUTRAL_BAND)
    return round(c * NEUTRAL_BAND / pos if c > 0 else c * NEUTRAL_BAND / -neg * 0.99, 4)


def shape_compound(probs: Sequence[float]) -> float:
    """A compound score in -1..1 from (p_negative, p_neutral, p_positive); see the module doc."""
    p_neg, p_neu, p_pos = probs
    d = p_pos - p_neg
    if p_neu >= p_neg and p_neu >= p_pos:
        return round(NEUTRAL_BAND * d, 4)
    return round(math.copysign(NEUTRAL_BAND + (1 - NEUTRAL_BAND) * abs(d), d), 4)


class FrenchModel:
    """Weights of the linear model: per feature one weight per class, VADER score weights,
    biases, and the scale applied to the sparse part (divided by sqrt of its known features)."""

    def __init__(self, weights: Mapping[str, Sequence[float]], dense: Sequence[Sequence[float]],
                 bias: Sequence[float], scale: float, confidence: float = 0.0):
        self.weights = {f: tuple(w) for f, w in weights.items()}
        self.dense = [tuple(w) for w in dense]
        self.bias = tuple(bias)
        self.scale = scale
        self.confidence = confidence
        self._words: dict[str, tuple] = {}  # word -> _word(word), at most WORD_CACHE words
        self._index = {f: i for i, f in enumerate(self.weights)}
        self._w0, self._w1, self._w2 = ([w[c] for w in self.weights.values()] for c in range(3))
        # feature -> (index, weight of each class): one look-up per feature of a new word
        self._rows = {f: (i, w[0], w[1], w[2]) for i, (f, w) in enumerate(self.weights.items())}

    def probabilities(self, text: str, vader: Mapping[str, float],
                      words: list[str] | None = None) -> tuple[float, float, float]:
        """(p_negative, p_neutral, p_positive) of ``text`` given VADER-FR's scores of it
        (``words``: its ``post_words``, if already known)."""
        # Each known feature counts once (a set), but most words share none with the words
        # before them: those add their cached sums; only overlapping words go id by id.
        known: set[int] = set()
        s0 = s1 = s2 = 0.0
        w0, w1, w2 = self._w0, self._w1, self._w2
        cache = self._words
        for w in post_words(text) if words is None else words:
            ids, sums, weighted = cache.get(w) or self._word(w)
            if known.isdisjoint(ids):
                s0 += sums[0]
                s1 += sums[1]
                s2 += sums[2]
                known.update(ids)
            elif not known.issuperset(ids):  # (all known: nothing to add)
                for i, a0, a1, a2 in weighted:  # the order of ``ids``, weights at hand
                    if i not in known:
                        known.add(i)
                        s0 += a0
                        s1 += a1
                        s2 += a2
        index = self._index
        for f in shape_features(text):
            i = index.get(f)
            if i is not None and i not in known:
                known.add(i)
                s0 += w0[i]
                s1 += w1[i]
                s2 += w2[i]
        z0, z1, z2 = self.bias
        if known:
            k = self.scale / math.sqrt(len(known))
            z0 += k * s0
            z1 += k * s1
            z2 += k * s2
        for name, w in zip(DENSE, self.dense):
            v = vader[name]
            z0 += w[0] * v
            z1 += w[1] * v
            z2 += w[2] * v
        top = max(z0, z1, z2)
        e0, e1, e2 = math.exp(z0 - top), math.exp(z1 - top), math.exp(z2 - top)
        total = e0 + e1 + e2
        return e0 / total, e1 / total, e2 / total

    def _word(self, w: str) -> tuple[frozenset[int], tuple[float, float, float], tuple[tuple[int, float, float, float], ...]]:
        """Indices of the features of a word that the model knows, their summed weights, and
        each index with its weights in the iteration order of the indices (cached: words
        repeat)."""
        hit = self._words.get(w)
        if hit is None:
            rows = self._rows
            found = [r for r in map(rows.get, _word_features(w)) if r is not None]
            ids = frozenset(r[0] for r in found)  # inserted in feature order, as ever
            by_id = {r[0]: r for r in found}
            weighted = tuple(by_id[i] for i in ids)
            # each class's weights summed in the order of ``ids`` (sum of nothing: 0)
            sums = tuple(map(sum, list(zip(*weighted))[1:])) if weighted else (0, 0, 0)
            hit = (ids, sums, weighted)
            if len(self._words) >= WORD_CACHE:
                self._words.clear()
            self._words[w] = hit
        return hit

    def compound(self, text: str, vader: Mapping[str, float]) -> float:
        """The shaped compound of the model when confident on a post long enough for it
        (``MIN_WORDS``), else VADER-FR's (``from_vader``)."""
        words = post_words(text)
        if sum(1 for w in words if w[0].isalnum()) < MIN_WORDS:
            return from_vader(vader["compound"])
        probs = self.probabilities(text, vader, words)
        if max(probs) >= self.confidence:
            return shape_compound(probs)
        return from_vader(vader["compound"])

    def to_json(self) -> dict:
        return {"classes": list(CLASSES), "dense": [list(DENSE), [list(w) for w in self.dense]],
                "bias": list(self.bias), "scale": self.scale, "confidence": self.confidence,
                "weights": {f: list(w) for f, w in sorted(self.weights.items())}}

    @classmethod
    def from_json(cls, data: dict) -> "FrenchModel":
        if data.get("classes") != list(CLASSES) or data["dense"][0] != list(DENSE):
            raise ValueError("French model file does not match this version (classes or dense features differ)")
        return cls(data["weights"], data["dense"][1], data["bias"], data["scale"], data.get("confidence", 0.0))


def save(model: FrenchModel, path) -> None:
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as fh:
        json.dump(model.to_json(), fh, separators=(",", ":"))


@lru_cache(maxsize=1)
def shipped() -> FrenchModel:
    """The model shipped in the package (built once per process)."""
    with resources.files("buzzwatch").joinpath("data", MODEL_FILE).open("rb") as raw:
        with gzip.open(raw, "rt", encoding="utf-8") as fh:
            return FrenchModel.from_json(json.load(fh))


def rounded(values: Iterable[float], digits: int = 4) -> list[float]:
    return [round(float(v), digits) for v in values]
