"""Evidence terms and duplicate fingerprints: the ingest path computes both in one pass
(``terms_and_fingerprint``), which must give exactly what the two functions give alone."""

from __future__ import annotations

import pytest

from buzzwatch.text.terms import extract_terms, terms_and_fingerprint, text_fingerprint

TEXTS = [
    "Day 3 without internet @Acme #AcmeFail https://t.co/x still waiting!!",
    "RT @bob: Boycott ACME  https://t.co/1", "rt: boycott acme", "  RT  hello world", "RTX is great",
    "rt", "RT", "Retweet this", "Lavéria ÉTÉ Straße #Été café", "l’avion est en retard, c’est nul",
    "www.acme.com is down", "mail support@acme.com please", "http", "https://", "@", "@@bob", "#a #ab #abc",
    "Acme 😡😡😡 🙃 👍🏽", "Ǆemo ǅ ǆ ﬁle ℌ ① Ⅻ", "e\u0301te\u0301 cafe\u0301", "", " ", "RT @x https://t.co/y",
    "don't-stop 'quoted' -dashed- word’s", "ÀÉÎÕÜ àéîõü ÇçÑñ", "日本語のツイート @acme",
]


@pytest.mark.parametrize("text", TEXTS)
def test_terms_and_fingerprint_equals_the_two_functions(text):
    assert terms_and_fingerprint(text) == (extract_terms(text), text_fingerprint(text))


def test_a_retweet_prefix_does_not_change_the_fingerprint():
    assert text_fingerprint("RT @bob: Boycott ACME https://t.co/1") == text_fingerprint("boycott acme")


def _reference_fold(text: str) -> str:
    """The fold as first written: NFKD of the casefolded text, combining marks dropped one by one."""
    import unicodedata

    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in text if not unicodedata.combining(c))


@pytest.mark.parametrize("text", TEXTS)
def test_fold_drops_exactly_the_combining_marks(text):
    from buzzwatch.text.terms import _fold

    assert _fold(text) == _reference_fold(text)


def test_fold_of_every_character():
    import sys

    from buzzwatch.text.terms import _fold

    every = "".join(chr(cp) for cp in range(sys.maxunicode + 1) if not 0xD800 <= cp <= 0xDFFF)
    assert _fold(every) == _reference_fold(every)


@pytest.mark.parametrize("text", TEXTS + [" : a : ", "\t:\x1c x \x1f:\u00a0", "a\u2028b\u3000c", "::", " ", "x  y"])
def test_fingerprint_as_first_written(text):
    """URLs, handles, a retweet prefix blanked, folded, whitespace runs as one space (regex)."""
    import re

    from buzzwatch.hashing import hash63

    body = re.sub(r"@\w+", " ", re.sub(r"https?://\S+|www\.\S+", " ", re.sub(r"^\s*rt\b:?", " ", text, flags=re.I)))
    assert text_fingerprint(text) == hash63(re.sub(r"\s+", " ", _reference_fold(body)).strip(" :"))


def test_whitespace_of_split_is_the_regex_whitespace():
    import re
    import sys

    space = re.compile(r"\s")
    assert all(bool(space.match(chr(cp))) == chr(cp).isspace() for cp in range(sys.maxunicode + 1))
