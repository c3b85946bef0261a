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

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"@\w+")
_RT = re.compile(r"^\s*rt\b:?", re.IGNORECASE)
_HASHTAG = re.compile(r"#\w{2,}")
_WORD = re.compile(r"[^\W\d_][\w'’-]{3,}")
_SPACE = re.compile(r"\s+")

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
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in text if not unicodedata.combining(c))


def extract_terms(text: str, limit: int = MAX_TERMS_PER_MENTION) -> tuple[str, ...]:
    """Hashtags (kept with ``#``) and content words, folded, deduplicated, sorted."""
    body = _HANDLE.sub(" ", _URL.sub(" ", text))
    folded = _fold(body)
    terms = set(_HASHTAG.findall(folded))
    for word in _WORD.findall(_HASHTAG.sub(" ", folded)):
        word = word.strip("'’-")
        if len(word) >= 4 and word not in STOPWORDS:
            terms.add(word)
    return tuple(sorted(terms)[:limit])


def text_fingerprint(text: str) -> int:
    """64-bit fingerprint of the text with URLs, handles, retweet prefix, case and spacing removed."""
    body = _HANDLE.sub(" ", _URL.sub(" ", _RT.sub(" ", text)))
    canon = _SPACE.sub(" ", _fold(body)).strip(" :")
    return hash63(canon)
