"""VADER's and VADER-FR's word-by-word valence loop, computed once per word instead of once
per rule: the same numbers, in the same order of floating-point operations.

Why: the loop is most of the ingest stage's CPU. VADER 3.3.2 (and VADER-FR, its fork)
lowercases every neighbour of a sentiment word again for each rule that reads it, and rebuilds
the whole sentence in lowercase in each negation and idiom check (three times per sentiment
word). Here the sentence is lowercased once (``lows``) and every rule reads that list.

What stays VADER's own: tokenisation (``words``), ``allcap_differential``, the quirky "but"
rule and ``score_valence`` are called as they are. The idiom check runs only when two words
of the window could form one of its multi-word keys (a key of two or three words needs two or
three words of the window among :data:`IDIOM_WORDS`), since without them it cannot change
anything. ``tests/unit/test_vader_loop.py`` compares both analyzers with VADER's own methods on
tricky sentences; ``bench/ingest_golden.py`` compares every text of the shared files.

>>> from buzzwatch.text.sentiment import analyzer
>>> plain = analyzer("en", supplement=False)
>>> text = "The book was NOT kind of good, but the plot was GREAT!!"
>>> plain.polarity_scores(text) == _en.SentimentIntensityAnalyzer.polarity_scores(plain, text)
True
"""

from __future__ import annotations

import re
import string
from functools import lru_cache
from typing import Callable, Mapping, Sequence

import unidecode
from vaderSentiment import vaderSentiment as _en

_PUNCTUATION = string.punctuation
_FR_SPLIT = re.compile(r"[\s']")  # VADER-FR's SentiText split (keeps empty tokens, as it does)


def english_words(text: str) -> list[str]:
    """VADER's ``SentiText.words_and_emoticons`` (its ``_strip_punc_if_word`` inlined)."""
    return [t if len(s := t.strip(_PUNCTUATION)) <= 2 else s for t in text.split()]


def french_words(text: str) -> list[str]:
    """VADER-FR's ``SentiText.words_and_emoticons`` (its ``_strip_punc_if_word`` inlined)."""
    return [t if len(s := t.strip(_PUNCTUATION)) <= 2 else s for t in _FR_SPLIT.split(text)]


def idiom_words(*tables: Mapping[str, float]) -> frozenset[str]:
    """The words of the multi-word keys of VADER's idiom and booster tables."""
    return frozenset(w for table in tables for k in table if " " in k for w in k.split(" "))


def valences(
    words: Sequence[str],
    lows: Sequence[str],
    lexicon: Mapping[str, float],
    boosters: Mapping[str, float],
    lookup: Callable[[Sequence[str]], list[str]] | None,
    negation: Callable[[Sequence[str], int, int, float], float],
    idioms: Callable[[float, Sequence[str], int], float],
    idiom_vocabulary: frozenset[str],
) -> list:
    """``sentiments`` as VADER's ``polarity_scores`` loop builds it (before the "but" rule).

    ``lookup`` maps the lowercase words to their lexicon keys (VADER-FR: ``french_keys``; VADER:
    none, the lowercase word is the key);
    ``negation(lows, start_i, i, valence)`` is the analyzer's negation check; ``idioms`` its
    ``_special_idioms_check``, called only when the window holds two of ``idiom_vocabulary``.
    """
    n = len(words)
    is_cap_diff = _en.allcap_differential(words)
    n_scalar, c_incr = _en.N_SCALAR, _en.C_INCR
    # every word is 0 (VADER appends an int 0) but the lexicon words that are neither a
    # booster nor the "kind" of "kind of": only those are worked on, in any order (each
    # word's valence reads the words, never the other valences)
    sentiments: list = [0] * n
    if lookup is None:
        keys = lows
        candidates = [i for i, low in enumerate(lows) if low in lexicon]
    else:
        keys = lookup(lows)
        candidates = [i for i, key in enumerate(keys) if key in lexicon]
    for i in candidates:
        low = lows[i]
        if low in boosters or (i < n - 1 and low == "kind" and lows[i + 1] == "of"):
            continue
        item = words[i]
        key = keys[i]
        valence = lexicon[key]
        if key == "no" and i != n - 1 and lows[i + 1] in lexicon:
            valence = 0.0
        if (i > 0 and lows[i - 1] == "no") or (i > 1 and lows[i - 2] == "no") \
                or (i > 2 and lows[i - 3] == "no" and lows[i - 1] in ("or", "nor")):
            valence = lexicon[key] * n_scalar
        if is_cap_diff and item.isupper():
            if valence > 0:
                valence += c_incr
            else:
                valence -= c_incr
        for start_i in range(3):
            j = i - (start_i + 1)
            if i > start_i and lows[j] not in lexicon:
                # scalar_inc_dec(words[j], valence, is_cap_diff)
                prev_low = lows[j]
                s = 0.0
                if prev_low in boosters:
                    s = boosters[prev_low]
                    if valence < 0:
                        s *= -1
                    if words[j].isupper() and is_cap_diff:
                        if valence > 0:
                            s += c_incr
                        else:
                            s -= c_incr
                if start_i == 1 and s != 0:
                    s = s * 0.95
                if start_i == 2 and s != 0:
                    s = s * 0.9
                valence = valence + s
                valence = negation(lows, start_i, i, valence)
                if start_i == 2 and _idiom_possible(lows, i, idiom_vocabulary):
                    valence = idioms(valence, words, i)
        # _least_check
        if i > 1 and lows[i - 1] not in lexicon and lows[i - 1] == "least":
            if lows[i - 2] != "at" and lows[i - 2] != "very":
                valence = valence * n_scalar
        elif i > 0 and lows[i - 1] not in lexicon and lows[i - 1] == "least":
            valence = valence * n_scalar
        sentiments[i] = valence
    return sentiments


def _idiom_possible(lows: Sequence[str], i: int, vocabulary: frozenset[str]) -> bool:
    """Whether two words of the idiom check's window (i-3 .. i+2) could start a key."""
    hits = 0
    for w in lows[i - 3: i + 3]:
        if w in vocabulary:
            hits += 1
            if hits == 2:
                return True
    return False


def french_key(low: str) -> str:
    """VADER-FR's lexicon key of a lowercase word: ``unidecode(low)`` (ASCII words are their
    own key, as unidecode returns them unchanged)."""
    return low if low.isascii() else _transliterated(low)


def french_keys(lows: Sequence[str]) -> list[str]:
    """``french_key`` of each word."""
    return [low if low.isascii() else _transliterated(low) for low in lows]


@lru_cache(maxsize=65_536)
def _transliterated(word: str) -> str:
    # Bounded: the most recent 65,536 distinct non-ASCII words (words repeat, unidecode is a
    # Python loop per character); keyed on the word alone, all that unidecode reads.
    return unidecode.unidecode(word)
