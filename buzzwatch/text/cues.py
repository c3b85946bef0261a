"""Emoji and sarcasm cues: what a lexicon reading word by word gets backwards in complaints.

VADER reads "Oh great, Acme cancelled my order again 🙃" as praise (+0.38: "great"), "amazing
job losing my data" as praise (+0.30) and "Bravo, vraiment génial 👏" as praise (+0.61), and it
gives "😡😡😡" no valence at all. In messages to a brand these are complaints. Two fixes, both
language-independent (emoji) or bilingual (EN/FR phrases):

* **Emoji valences.** Emoji (👏 included: praise, unless a sarcasm cue below says otherwise) are rewritten to tokens (``😡`` -> ``emoji_anger``) that the
  English and French lexicons both know, so "Acme 😡😡😡" is scored, and strongly negative.
* **Sarcasm.** A post with a sarcasm cue is negative whatever its literal score (the scorer
  turns a positive or neutral compound into a negative one). The cues, each a rule of thumb
  from complaint traffic:

  1. an irony emoji: 🙃 (upside-down face), 🙄 (eye roll), 🤡 (clown);
  2. "oh / ah / wow / yeah / just" + a praise word ("oh great", "just perfect", "ah génial"),
     in a post that also says something negative;
  3. a praise interjection ("bravo", "well done", "chapeau", "bien joué", "congrats",
     "félicitations") in a post that also says something negative ("Bravo Orange, encore en
     panne");
  4. praise of a job followed at once by a negative word ("amazing job losing my data",
     "super boulot perdre mon colis"), not "great job fixing the outage";
  5. 👏 (clapping) in a post that says something negative, or after intensified praise with
     nothing else to praise ("vraiment génial 👏", "really great 👏");
  6. thanks for a failure: "thanks for" / "thank you for" / "thx for" followed within two words
     by a negative word or a negation ("thx for losing my bag", "thank you for not even
     answering"), not "thanks for fixing it". (French "merci de ne pas ..." is a polite request,
     hence English only; "merci pour rien" is in the complaint lexicon.)

Limits: genuine "bravo" for fixing a failure ("Bravo for fixing the outage") reads as
sarcasm by rule 3; rules 2-5 need the negative part to be in the lexicon.

>>> rewrite_emojis("Acme 😡😡😡 👍🏽").split()
['Acme', 'emoji_anger', 'emoji_anger', 'emoji_anger', 'emoji_like', '🏽']
>>> is_sarcastic("Oh great, brand cancelled my order again", has_negative=True)
True
>>> is_sarcastic("Oh great, my order arrived early", has_negative=False)
False
>>> is_sarcastic("amazing job losing my data", has_negative=True, lexicon={"losing": -1.6})
True
>>> is_sarcastic("amazing job @brand losing my data", has_negative=True, lexicon={"losing": -1.6})
True
>>> is_sarcastic("great job fixing the outage", has_negative=True, lexicon={"outage": -1.8})
False
>>> is_sarcastic("thx for losing my bag", has_negative=True, lexicon={"losing": -1.6})
True
>>> is_sarcastic("Thank you for not even answering", has_negative=True, lexicon={})
True
>>> is_sarcastic("thanks for fixing the outage so fast", has_negative=True, lexicon={"outage": -1.8})
False
"""

from __future__ import annotations

import re
from typing import Mapping

# Emoji -> (token, valence on VADER's -4..4 scale). Skin tones and the emoji variation
# selector are left as they are (VADER ignores them).
EMOJIS: dict[str, tuple[str, float]] = {
    "😡": ("emoji_anger", -2.5), "🤬": ("emoji_rage", -3.0), "😠": ("emoji_angry", -2.3),
    "😤": ("emoji_huff", -1.8), "👎": ("emoji_dislike", -2.0), "💩": ("emoji_poo", -2.0),
    "😒": ("emoji_unamused", -1.5), "😞": ("emoji_disappointed", -1.8), "😢": ("emoji_cry", -1.8),
    "😭": ("emoji_sob", -2.0), "😩": ("emoji_weary", -1.8), "😫": ("emoji_tired", -1.8),
    "🤮": ("emoji_vomit", -2.5), "🤢": ("emoji_nausea", -2.0), "😖": ("emoji_confounded", -1.8),
    "😣": ("emoji_persevere", -1.5), "💔": ("emoji_broken_heart", -2.0), "☹": ("emoji_frown", -1.8),
    "🙁": ("emoji_slight_frown", -1.5), "😕": ("emoji_confused", -1.0), "🤦": ("emoji_facepalm", -1.8),
    "🙄": ("emoji_eye_roll", -1.5), "🤡": ("emoji_clown", -1.5), "😑": ("emoji_expressionless", -0.8),
    "👍": ("emoji_like", 2.0), "❤": ("emoji_heart", 2.5), "♥": ("emoji_heart", 2.5),
    "😍": ("emoji_heart_eyes", 2.5), "🥰": ("emoji_hearts", 2.5), "😊": ("emoji_blush", 2.0),
    "🙂": ("emoji_smile", 1.0), "😀": ("emoji_grin", 1.8), "😃": ("emoji_smiley", 1.8),
    "😄": ("emoji_smile_eyes", 2.0), "👏": ("emoji_clap", 2.0), "😁": ("emoji_beam", 1.8), "🎉": ("emoji_party", 1.8),
    "👌": ("emoji_ok", 1.5), "💯": ("emoji_hundred", 1.5), "🙏": ("emoji_thanks", 1.0),
}
_EMOJI_RE = re.compile("|".join(map(re.escape, sorted(EMOJIS, key=len, reverse=True))))


def emoji_valences() -> dict[str, float]:
    """Token -> valence, to add to a VADER lexicon."""
    return {tok: v for tok, v in EMOJIS.values()}


def rewrite_emojis(text: str) -> str:
    """``text`` with every known emoji replaced by its token, spaced so that runs of emoji
    ("😡😡😡") count once each."""
    if text.isascii():
        return text
    return _EMOJI_RE.sub(lambda m: f" {EMOJIS[m.group(0)][0]} ", text)


_PRAISE = (r"(?:great|amazing|awesome|fantastic|brilliant|excellent|perfect|wonderful|lovely|nice|"
           r"good|super|superbe?|g[ée]nial|parfait|magnifique|formidable|top|cool)")
_IRONY_EMOJI = re.compile("[🙃🙄🤡]")
_OPENER = re.compile(rf"(?<!\w)(?:oh+|ah+|wow|yeah|just|encore)[\s,!.]+{_PRAISE}(?!\w)", re.IGNORECASE)
_INTERJECTION = re.compile(r"(?<!\w)(?:bravo|well done|chapeau|bien jou[ée]|congrats|congratulations|"
                           r"f[ée]licitations)(?!\w)", re.IGNORECASE)
# A word each of the textual cues needs (the regexes are slow to run on every post).
_TRIGGERS = frozenset("oh ohh ohhh ah ahh wow yeah just encore bravo done chapeau joué joue congrats "
                      "congratulations félicitations felicitations job work service boulot travail "
                      "thanks thank thx".split())
# A trigger that is a whole run of letters (nothing before or after it is a letter): the same
# test as "one of the text's runs of letters is a trigger", without listing every run.
_TRIGGER_WORD = re.compile(r"(?<![^\W\d_])(?:" + "|".join(map(re.escape, sorted(_TRIGGERS, key=len, reverse=True)))
                           + r")(?![^\W\d_])")
_OPENER_OR_INTERJECTION = re.compile(f"{_OPENER.pattern}|{_INTERJECTION.pattern}", re.IGNORECASE)
_JOB = re.compile(rf"(?<!\w){_PRAISE}[\s,]+(?:job|work|service|boulot|travail)[\s,]+(?:[@#]?brand[\s,]+)?"
                  r"(?:de\s+|d['’])?(\w+)",
                  re.IGNORECASE)
_THANKS_FOR = re.compile(r"(?<!\w)(?:thanks|thank\s+you|thx)\s+for\s+"
                         r"(?:[@#]?brand\s+)?(\w+)(?:\s+(\w+))?", re.IGNORECASE)
_NOT = frozenset("not never no nothing".split())
_CLAP = "👏"
_INTENSE_PRAISE = re.compile(rf"(?<!\w)(?:vraiment|really|so|trop|tellement|tr[èe]s|such)\s+{_PRAISE}(?!\w)",
                             re.IGNORECASE)


def is_sarcastic(text: str, has_negative: bool, lexicon: Mapping[str, float] | None = None) -> bool:
    """Whether ``text`` carries one of the sarcasm cues of this module's docstring.

    ``has_negative``: the literal reading found something negative (VADER's ``neg`` > 0);
    ``lexicon``: word valences, to tell "amazing job losing" from "amazing job fixing".

    >>> [is_sarcastic(t, False) for t in ("Thanks for fixing it so fast 🙃", "Bravo, vraiment génial 👏",
    ...                                   "Bravo à toute l'équipe 👏", "Bravo !")]
    [True, True, False, False]
    """
    if not text.isascii():
        if _IRONY_EMOJI.search(text):
            return True
        if _CLAP in text and (has_negative or _INTENSE_PRAISE.search(text)):
            return True
    if not has_negative:  # every other cue needs a negative part
        return False
    if _TRIGGER_WORD.search(text.lower()) is None:  # one cheap pass rules most posts out
        return False
    if _OPENER_OR_INTERJECTION.search(text):
        return True
    if lexicon:
        for m in _JOB.finditer(text):
            if lexicon.get(m.group(1).lower(), 0.0) < 0:
                return True
    for m in _THANKS_FOR.finditer(text):
        words = [w.lower() for w in m.groups() if w]
        if any(w in _NOT or "n't" in w or (lexicon or {}).get(w, 0.0) < 0 for w in words):
            return True
    return False
