"""Cheap text features for evidence: hashtags and salient words, and a duplicate-text fingerprint.

These run on every brand-matched mention in the ingest stage, so they are a couple of regex
passes, no model. The fingerprint ignores case, URLs, @handles and spacing, so that the same
copy-pasted complaint from a hundred accounts (a raid, a bot net) counts as duplicates while
two different complaints do not.

>>> extract_terms("Day 3 without internet @Acme #AcmeFail https://t.co/x still waiting!!")
('#acmefail', 'internet', 'still', 'waiting', 'without')
>>> text_fingerprint("RT @bob: Boycott ACME  https://t.co/1") == text_fingerprint("boycott acme https://t.co/2")
True
"""

from __future__ import annotations

import re
import unicodedata
from buzzwatch.hashing import hash63
from buzzwatch.text.brands import _DROP_COMBINING

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"@\w+")
_RT = re.compile(r"^\s*rt\b:?", re.IGNORECASE)
_HASHTAG = re.compile(r"#\w{2,}")
_WORD = re.compile(r"[^\W\d_][\w'’-]{3,}")

MAX_TERMS_PER_MENTION = 12

# Function words of both languages: they are never evidence.
STOPWORDS = frozenset(
    """
    about after again also always been before being cant could didnt does doesnt dont from
    have just like more most much must never only other over really same should some than
    that thats their them then there these they this those through today very want was were
    what when where which while will with would your youre yours here into been being
    avec dans donc elle elles encore être etre leur leurs mais même meme nous pour quand
    que qui sans sont sous tout tous toute toutes très tres vous votre vos cest c'est
    aussi alors avoir fait faire comme plus moins cette ceux celle chez depuis entre
    """.split()
)


def _fold(text: str) -> str:
    if text.isascii():  # most posts: nothing to decompose (a profile showed this loop per character)
        return text.lower()
    # str.translate deleting every combining mark (brands' table): one C-level pass
    return unicodedata.normalize("NFKD", text.casefold()).translate(_DROP_COMBINING)


def _without_links(text: str) -> str:
    """``text`` with URLs and @handles blanked (the regexes need "http"/"www." and "@")."""
    if "http" in text or "www." in text:
        text = _URL.sub(" ", text)
    return _HANDLE.sub(" ", text) if "@" in text else text


def extract_terms(text: str, limit: int = MAX_TERMS_PER_MENTION) -> tuple[str, ...]:
    """Hashtags (kept with ``#``) and content words, folded, deduplicated, sorted."""
    return _terms(_fold(_without_links(text)), limit)


def _terms(folded: str, limit: int) -> tuple[str, ...]:
    terms = set(_HASHTAG.findall(folded)) if "#" in folded else set()
    for word in _WORD.findall(_HASHTAG.sub(" ", folded) if terms else folded):
        word = word.strip("'’-")
        if len(word) >= 4 and word not in STOPWORDS:
            terms.add(word)
    return tuple(sorted(terms)[:limit])


def text_fingerprint(text: str) -> int:
    """64-bit fingerprint of the text with URLs, handles, retweet prefix, case and spacing removed."""
    return _fingerprint(_fold(_without_links(_RT.sub(" ", text))))


def _fingerprint(folded: str) -> int:
    # runs of whitespace as one space, ends stripped of spaces and colons (str.split's
    # whitespace is exactly the regex \s this first used: tests/unit/test_terms.py)
    return hash63(" ".join(folded.split()).strip(" :"))


def terms_and_fingerprint(text: str, limit: int = MAX_TERMS_PER_MENTION) -> tuple[tuple[str, ...], int]:
    """``(extract_terms(text, limit), text_fingerprint(text))``, the text cleaned and folded
    once for both when it has no retweet prefix (the ingest path: both run on every mention).

    >>> t = "RT @bob: Day 3 without internet @Acme https://t.co/x"
    >>> all(terms_and_fingerprint(x) == (extract_terms(x), text_fingerprint(x)) for x in (t, t[8:]))
    True
    """
    folded = _fold(_without_links(text))
    if _RT.match(text) is None:  # the fingerprint's text is then the terms' text
        return _terms(folded, limit), _fingerprint(folded)
    return _terms(folded, limit), text_fingerprint(text)
