"""Sentiment of a (brand-masked, language-routed) mention: VADER for English, VADER-FR for French.

Other languages are "unscored", never "neutral": a Spanish bad buzz must not dilute the
negative share with fake neutrals, and the detector can count what it cannot read.

Both analyzers get the customer-complaint supplement of ``buzzwatch.text.lexicon_complaints``
("still waiting", "on hold", "en panne"...), because VADER alone misses most of the vocabulary
of a service failure (``bench/sentiment_eval.py`` measures both). They are built once per
process (they parse their lexicon files) and shared: scoring is read-only.

>>> scorer = SentimentScorer(neg_threshold=-0.05, pos_threshold=0.05)
>>> scorer.score("brand lost my bag and I am still waiting for a refund", "en").label
'negative'
>>> scorer.score("Merci brand, service au top !", "fr").label
'positive'
>>> scorer.score("El servicio es terrible", "es")
Sentiment(lang='es', compound=0.0, label='unscored')
"""

from __future__ import annotations

import html
import math
import re
import threading
from dataclasses import dataclass
from typing import Mapping, Sequence

from buzzwatch.text import cues, vader_loop
from buzzwatch.text import lexicon_complaints as lex

LABELS = ("negative", "neutral", "positive", "unscored")
SCORED_LANGUAGES = ("en", "fr")

# VADER's published cut-offs.
DEFAULT_NEG_THRESHOLD = -0.05
DEFAULT_POS_THRESHOLD = 0.05
# The compound of a post with a sarcasm cue (buzzwatch.text.cues), or its own if more negative.
SARCASTIC_COMPOUND = -0.5
# The thresholds a deployment uses (chosen by bench/sentiment_eval.py on its tune split) are
# buzzwatch.config.SENTIMENT_THRESHOLDS, passed in as ``lang_thresholds``.


@dataclass(frozen=True, slots=True)
class Sentiment:
    lang: str
    compound: float  # -1..1; 0.0 for unscored
    label: str  # one of LABELS



def _punctuation_emphasis(text: str) -> float:
    """VADER's (and VADER-FR's) emphasis of up to four '!' and more than one '?'."""
    ep_count = text.count("!")
    if ep_count > 4:
        ep_count = 4
    qm_count = text.count("?")
    qm_amplifier = 0
    if qm_count > 1:
        qm_amplifier = qm_count * 0.18 if qm_count <= 3 else 0.96
    return ep_count * 0.292 + qm_amplifier


def _polarity(sentiments: list, punct_emph_amplifier: float, compound: float) -> dict[str, float]:
    """The end of VADER's and VADER-FR's ``score_valence`` (the same code in both libraries):
    the neg / neu / pos proportions, with the punctuation emphasis on the stronger side."""
    pos_sum = 0.0
    neg_sum = 0.0
    neu_count = sentiments.count(0)  # (0, 0.0 and -0.0 alike, as the libraries' == 0)
    for score in sentiments:
        if score > 0:
            pos_sum += (float(score) + 1)
        elif score < 0:
            neg_sum += (float(score) - 1)
    if pos_sum > math.fabs(neg_sum):
        pos_sum += punct_emph_amplifier
    elif pos_sum < math.fabs(neg_sum):
        neg_sum -= punct_emph_amplifier
    total = pos_sum + math.fabs(neg_sum) + neu_count
    return {"neg": round(math.fabs(neg_sum / total), 3), "neu": round(math.fabs(neu_count / total), 3),
            "pos": round(math.fabs(pos_sum / total), 3), "compound": round(compound, 4)}

def label_for(compound: float, neg_threshold: float, pos_threshold: float) -> str:
    """The label of a compound score: <= neg_threshold negative, >= pos_threshold positive.

    >>> [label_for(c, -0.05, 0.05) for c in (-0.5, -0.05, 0.0, 0.05, 0.9)]
    ['negative', 'negative', 'neutral', 'positive', 'positive']
    """
    if compound <= neg_threshold:
        return "negative"
    if compound >= pos_threshold:
        return "positive"
    return "neutral"


def _prepare(text: str) -> str:
    # Curly apostrophes defeat VADER's "n't" negation and VADER-FR's elision split ("l’avion");
    # tweets arrive HTML-escaped ("&amp;", "&gt;").
    text = text.replace("’", "'")
    return html.unescape(text) if "&" in text else text


def _english_class():
    from vaderSentiment import vaderSentiment as v

    idiom_words = vader_loop.idiom_words(v.SPECIAL_CASES, v.BOOSTER_DICT)
    special_idioms = v.SentimentIntensityAnalyzer._special_idioms_check

    class EnglishAnalyzer(v.SentimentIntensityAnalyzer):
        """VADER with the complaint supplement, and VADER 3.3.2's hot spots made cheap with
        identical results: the per-character emoji loop (skipped for ASCII text) and the
        valence loop, which lowercased each word many times over
        (``buzzwatch.text.vader_loop``)."""

        def __init__(self, supplement: bool = True):
            super().__init__()
            self.phrases = lex.PHRASES_EN if supplement else None
            self.dangling_negation = lex.DANGLING_NEGATION_EN if supplement else 0.0
            if supplement:
                self.lexicon.update(lex.WORDS_EN)
                self.lexicon.update(lex.phrase_valences(lex.PHRASES_EN))
                self.lexicon.update(cues.emoji_valences())
                for word in [w for w in self.lexicon if w.isdigit()]:
                    del self.lexicon[word]  # "1337", "143": flight, order and room numbers to a brand

        def polarity_scores(self, text):
            if self.phrases:
                if "@" in text:
                    text = _names_only(text)
                text = lex.rewrite_phrases(cues.rewrite_emojis(text), self.phrases)
            if not text.isascii():
                text = _demojize(text, self.emojis)
            text = text.strip()
            words = vader_loop.english_words(text)
            lows = [w.lower() for w in words]
            sentiments = vader_loop.valences(words, lows, self.lexicon, v.BOOSTER_DICT, None, _negation_check,
                                             special_idioms, idiom_words)
            # no negation word, no "n't" in any word (nor in their join: the space is no part
            # of it): no dangling negation to look for
            if self.dangling_negation and not (negate.isdisjoint(lows) and "n't" not in " ".join(lows)):
                _dangling_negations(lows, sentiments, self.dangling_negation, _is_negation)
            if "but" in lows:
                sentiments = self._but_check(words, sentiments)
            return self.score_valence(sentiments, text)

        def score_valence(self, sentiments, text):
            """VADER's ``score_valence`` with its helpers inlined (punctuation emphasis and the
            positive/negative/neutral sift): the same operations in the same order."""
            if not sentiments:
                return {"neg": 0.0, "neu": 0.0, "pos": 0.0, "compound": 0.0}
            sum_s = float(sum(sentiments))
            punct_emph_amplifier = _punctuation_emphasis(text)
            if sum_s > 0:
                sum_s += punct_emph_amplifier
            elif sum_s < 0:
                sum_s -= punct_emph_amplifier
            return _polarity(sentiments, punct_emph_amplifier, v.normalize(sum_s))

    def _negation_check(lows, start_i, i, valence):
        """VADER's ``_negation_check`` on the lowercase words (start_i < i always holds)."""
        if start_i == 0:
            if _is_negation(lows[i - 1]):
                valence = valence * v.N_SCALAR
        if start_i == 1:
            if lows[i - 2] == "never" and (lows[i - 1] == "so" or lows[i - 1] == "this"):
                valence = valence * 1.25
            elif lows[i - 2] == "without" and lows[i - 1] == "doubt":
                pass
            elif _is_negation(lows[i - 2]):
                valence = valence * v.N_SCALAR
        if start_i == 2:
            if lows[i - 3] == "never" and (lows[i - 2] == "so" or lows[i - 2] == "this") or (lows[i - 1] == "so" or lows[i - 1] == "this"):
                valence = valence * 1.25
            elif lows[i - 3] == "without" and (lows[i - 2] == "doubt" or lows[i - 1] == "doubt"):
                pass
            elif _is_negation(lows[i - 3]):
                valence = valence * v.N_SCALAR
        return valence

    negate = frozenset(v.NEGATE)

    def _is_negation(word: str) -> bool:
        """VADER's ``negated([word])`` for one lowercase word, without its list copies."""
        return word in negate or "n't" in word

    return EnglishAnalyzer


def _french_class():
    import warnings

    with warnings.catch_warnings():  # fuzzywuzzy warns about its slow matcher, used only by *_max
        warnings.simplefilter("ignore")
        from vaderSentiment_fr import vaderSentiment as v
    import unidecode

    no_negate = frozenset(unidecode.unidecode(w) for w in v.NO_NEGATE)

    negate = frozenset(v.NEGATE)
    idiom_words = vader_loop.idiom_words(v.SPECIAL_CASES, v.BOOSTER_DICT)
    special_idioms = v.SentimentIntensityAnalyzer._special_idioms_check
    amplify_sp = v.SentimentIntensityAnalyzer._amplify_sp

    class FrenchAnalyzer(v.SentimentIntensityAnalyzer):
        """VADER-FR with the complaint supplement; its valence loop lowercases each word once
        (``buzzwatch.text.vader_loop``) and its negation check no longer re-reads its
        exception list for every word (same results)."""

        def __init__(self, supplement: bool = True):
            super().__init__()
            self.phrases = lex.PHRASES_FR if supplement else None
            if supplement:
                self.lexicon.update(lex.WORDS_FR)
                self.lexicon.update(lex.phrase_valences(lex.PHRASES_FR))
                self.lexicon.update(cues.emoji_valences())

        def polarity_scores(self, text):
            if self.phrases:
                text = lex.rewrite_phrases(cues.rewrite_emojis(text), self.phrases)
            # VADER-FR's polarity_scores (it has no "but"/"mais" rule; polarity_scores_max has)
            if not text.isascii():
                text = _demojize(text, self.emojis)
            text = text.strip()
            words = vader_loop.french_words(text)
            lows = [w.lower() for w in words]
            sentiments = vader_loop.valences(words, lows, self.lexicon, v.BOOSTER_DICT, vader_loop.french_keys,
                                             _negation_check, special_idioms, idiom_words)
            return self.score_valence(sentiments, text)

        def score_valence(self, sentiments, text):
            """VADER-FR's ``score_valence`` with its helpers inlined (punctuation, capitals
            and suspension-points emphasis, the sift): the same operations in the same order."""
            if not sentiments:
                return {"neg": 0.0, "neu": 0.0, "pos": 0.0, "compound": 0.0}
            sum_s = float(sum(sentiments))
            punct_emph_amplifier = _punctuation_emphasis(text) + self._amplify_sp(text)
            uc_amplifier = self._amplify_uc(text)
            if sum_s > 0:
                sum_s += punct_emph_amplifier
                if sum_s >= 0.05:
                    sum_s += uc_amplifier
            elif sum_s < 0:
                sum_s -= punct_emph_amplifier
                if sum_s <= -0.05:
                    sum_s -= uc_amplifier
            else:
                sum_s -= 0.5 * punct_emph_amplifier
            return _polarity(sentiments, punct_emph_amplifier, v.normalize(sum_s))

        @staticmethod
        def _amplify_sp(text):
            """VADER-FR's suspension-points emphasis; none without two dots in a row."""
            return amplify_sp(text) if ".." in text else 0.0

        @staticmethod
        def _amplify_uc(text_):
            """VADER-FR's ``_amplify_uc``: the number of words (after removing ?!.,; and
            splitting on spaces) longer than one character with no lowercase letter after the
            first, at most 5, times 0.292; a regex rules out most words in C."""
            uc_count = 0
            # (str.replace runs in C at memchr speed; a translate table is a dict look-up per character)
            text = text_.replace("?", "").replace("!", "").replace(".", "").replace(",", "").replace(";", "")
            for word in _UC_CANDIDATE.findall(text):
                if not any(map(str.islower, word[1:])):
                    if uc_count > 4:
                        break
                    uc_count += 1
            return uc_count * 0.292

    def _negation_check(lows, start_i, i, valence):
        """VADER-FR's ``_negation_check`` (``negated`` lowercases again: a no-op on ``lows``)."""
        if lows[i] in no_negate:
            return valence
        word = lows[i - (start_i + 1)]
        if start_i <= 2 and (word in negate or "n't" in word):
            valence = valence * v.N_SCALAR
        return valence

    return FrenchAnalyzer


# The words (split on single spaces) of two characters or more whose second character is not
# a lowercase letter: only those can be all capitals after their first; most words are ruled
# out in C.
_UC_CANDIDATE = re.compile(r"(?<![^ ])[^ ](?![a-z])[^ ][^ ]*")

_HANDLE = re.compile(r"(?<![\w@])@(?!brand(?!\w))\w+")


def _names_only(text: str) -> str:
    """``text`` with every @handle but the brand placeholder read as a name: VADER strips the
    "@" and would score "@Happy_Travels" or "@FreeMobile"'s "free" as sentiment words.

    >>> _names_only("@HappyHolidays @brand lost my bag, cc @united")
    '@user @brand lost my bag, cc @user'
    """
    return _HANDLE.sub("@user", text)


def _dangling_negations(lows, sentiments, valence: float, is_negation) -> None:
    """Give ``valence`` to each negation with no sentiment word to negate in the next three
    words ("I can't get an agent", "still not boarded"): VADER only negates lexicon words, so
    these complaints would otherwise score zero. A negation that does negate a word ("not
    good") is left to VADER's own rule. ``lows``: the sentence's words, lowercase."""
    for i, w in enumerate(lows):
        if sentiments[i] == 0 and is_negation(w) and not any(sentiments[i + 1: i + 4]):
            sentiments[i] = valence


def _demojize(text: str, emojis: Mapping[str, str]) -> str:
    """VADER's emoji-to-words loop, unchanged in effect (and skipped, in C, when no character
    of the text is one of its emoji: accented text mostly)."""
    if emojis.keys().isdisjoint(text):
        return text
    out = []
    prev_space = True
    for ch in text:
        description = emojis.get(ch)
        if description is not None:
            if not prev_space:
                out.append(" ")
            out.append(description)
            prev_space = False
        else:
            out.append(ch)
            prev_space = ch == " "
    return "".join(out)


_lock = threading.Lock()
_analyzers: dict[tuple[str, bool], object] = {}


def analyzer(lang: str, supplement: bool = True):
    """The shared analyzer for ``lang`` ("en" or "fr"), built on first use."""
    key = (lang, supplement)
    if key not in _analyzers:
        with _lock:
            if key not in _analyzers:
                cls = {"en": _english_class, "fr": _french_class}[lang]()
                _analyzers[key] = cls(supplement=supplement)
    return _analyzers[key]


class SentimentScorer:
    """Scores masked text in its routed language and labels it with the configured thresholds.

    ``lang_thresholds`` optionally overrides the thresholds per language, e.g.
    ``{"fr": (-0.1, 0.3)}``, since the two lexicons are not calibrated alike.
    """

    def __init__(
        self,
        neg_threshold: float = DEFAULT_NEG_THRESHOLD,
        pos_threshold: float = DEFAULT_POS_THRESHOLD,
        *,
        lang_thresholds: Mapping[str, tuple[float, float]] | None = None,
        supplement: bool = True,
        french_model: bool = True,
    ):
        if not neg_threshold < pos_threshold:
            raise ValueError(f"neg_threshold ({neg_threshold}) must be below pos_threshold ({pos_threshold})")
        self.neg_threshold = neg_threshold
        self.pos_threshold = pos_threshold
        self.lang_thresholds = dict(lang_thresholds or {})
        self.supplement = supplement
        self._french_model = None
        if french_model:
            from buzzwatch.text.french_model import shipped

            self._french_model = shipped()
        self._analyzers = {lang: analyzer(lang, supplement) for lang in SCORED_LANGUAGES}

    def vocabularies(self) -> dict[str, frozenset[str]]:
        """The words each scored language's lexicon knows (language routing of short posts)."""
        return {lang: frozenset(w for w in a.lexicon if " " not in w) for lang, a in self._analyzers.items()}

    def thresholds(self, lang: str) -> tuple[float, float]:
        return self.lang_thresholds.get(lang, (self.neg_threshold, self.pos_threshold))

    def compound(self, text: str, lang: str) -> float | None:
        """The compound score of ``text`` in ``lang`` (-1..1), None if the language is not
        scored: VADER's in English; in French the shipped linear model's
        (``buzzwatch.text.french_model``, which reads VADER-FR's scores); with the supplement, a
        sarcastic post (``buzzwatch.text.cues``) is at most ``SARCASTIC_COMPOUND``."""
        a = self._analyzers.get(lang)
        if a is None:
            return None
        if not text:
            return 0.0
        text = _prepare(text)
        scores = a.polarity_scores(text)
        c = float(scores["compound"])
        if lang == "fr" and self._french_model is not None:
            c = self._french_model.compound(text, scores)
        if self.supplement and cues.is_sarcastic(text, scores["neg"] > 0, a.lexicon):
            c = min(-abs(c), SARCASTIC_COMPOUND)
        return c

    def score(self, text: str, lang: str) -> Sentiment:
        """Sentiment of already-masked ``text`` in the already-routed ``lang``."""
        c = self.compound(text, lang)
        if c is None:
            return Sentiment(lang, 0.0, "unscored")
        neg, pos = self.thresholds(lang)
        return Sentiment(lang, c, label_for(c, neg, pos))

    def score_many(self, items: Sequence[tuple[str, str]]) -> list[Sentiment]:
        """``score`` over (text, lang) pairs, in order."""
        return [self.score(text, lang) for text, lang in items]
