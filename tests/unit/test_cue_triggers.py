"""The sarcasm cues' first filter: a post goes on to the cue regexes only if one of its runs
of letters is a trigger word; the filter is one regex search, which must say exactly that."""

from __future__ import annotations

import random
import re

import pytest

from buzzwatch.text.cues import _TRIGGER_WORD, _TRIGGERS

TEXTS = [
    "Oh great, brand cancelled my order again", "ohhh", "OHHHH no", "john", "jobs", "job!", "a_job", "job1",
    "2job", "bien joué", "bien jouée", "joue", "félicitations!!", "FÉLICITATIONS", "felicitationsx", "xthanks",
    "thank-you", "thx4", "thx", "well done", "donee", "wow,wow", "", "   ", "работа", "œuvre job", "encore!",
    "just", "justice", "Thanks for nothing", "service-client", "ah", "aha", "yeah", "yeahh",
]
_WORDS = sorted(_TRIGGERS) + ["x", "é", "_", "1", "-", " ", ",", "ø", "ß", "oh", "jo", "b", "é"]


def _runs_hit(text: str) -> bool:
    return not _TRIGGERS.isdisjoint(re.findall(r"[^\W\d_]+", text.lower()))


@pytest.mark.parametrize("text", TEXTS + ["".join(random.Random(i).choices(_WORDS, k=6)) for i in range(500)])
def test_trigger_search_is_a_trigger_among_the_runs_of_letters(text):
    assert (_TRIGGER_WORD.search(text.lower()) is not None) == _runs_hit(text)
