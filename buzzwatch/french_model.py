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
NEUTRAL_BAND = 0.1  # thresholds (-0.1, 0.1) on the shaped compound = the most likely class

_URL = re.compile(r"https?://\S+|(?<!\w)http(?!\w)|www\.\S+")
_HANDLE = re.compile(r"@\w+")
_TOKEN = re.compile(r"[#@]?\w+|[!?]")
_CHAR_N = (3, 5)
_PREFIX = 5


def _fold(text: str) -> str:
    if text.isascii():
        return text
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def features(text: str) -> set[str]:
    """The sparse features of a post: words (w:), 5-letter prefixes of longer words (p:),
    character 3- to 5-grams of words (c:) and shape markers (m:).

    >>> sorted(f for f in features("Trop nul @Acme!") if not f.startswith("c:"))
    ['m:!', 'm:h0', 'm:nourl', 'm:u1', 'w:!', 'w:@u', 'w:nul', 'w:trop']
    """
    low = text.lower()
    t = _HANDLE.sub(" @u ", _URL.sub(" ", _fold(low.replace("’", "'"))))
    out: set[str] = set()
    for w in _TOKEN.findall(t):
        out.update(_word_features(w))
    out.add("m:url" if "http" in low or "www." in low else "m:nourl")
    out.add("m:h%d" % min(low.count("#"), 3))
    out.add("m:u%d" % min(low.count("@"), 2))
    if low.startswith("@"):
        out.add("m:reply")
    if "!" in low:
        out.add("m:!")
    if "?" in low:
        out.add("m:?")
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
                 bias: Sequence[float], scale: float):
        self.weights = {f: tuple(w) for f, w in weights.items()}
        self.dense = [tuple(w) for w in dense]
        self.bias = tuple(bias)
        self.scale = scale

    def probabilities(self, text: str, vader: Mapping[str, float]) -> tuple[float, float, float]:
        """(p_negative, p_neutral, p_positive) of ``text`` given VADER-FR's scores of it."""
        z0, z1, z2 = self.bias
        known = [w for w in map(self.weights.get, features(text)) if w is not None]
        if known:
            k = self.scale / math.sqrt(len(known))
            z0 += k * sum(w[0] for w in known)
            z1 += k * sum(w[1] for w in known)
            z2 += k * sum(w[2] for w in known)
        for name, w in zip(DENSE, self.dense):
            v = vader[name]
            z0 += w[0] * v
            z1 += w[1] * v
            z2 += w[2] * v
        top = max(z0, z1, z2)
        e0, e1, e2 = math.exp(z0 - top), math.exp(z1 - top), math.exp(z2 - top)
        total = e0 + e1 + e2
        return e0 / total, e1 / total, e2 / total

    def compound(self, text: str, vader: Mapping[str, float]) -> float:
        return shape_compound(self.probabilities(text, vader))

    def to_json(self) -> dict:
        return {"classes": list(CLASSES), "dense": [list(DENSE), [list(w) for w in self.dense]],
                "bias": list(self.bias), "scale": self.scale,
                "weights": {f: list(w) for f, w in sorted(self.weights.items())}}

    @classmethod
    def from_json(cls, data: dict) -> "FrenchModel":
        if data.get("classes") != list(CLASSES) or data["dense"][0] != list(DENSE):
            raise ValueError("French model file does not match this version (classes or dense features differ)")
        return cls(data["weights"], data["dense"][1], data["bias"], data["scale"])


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
