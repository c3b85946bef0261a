"""A customer-complaint supplement to the VADER lexicons (English and French).

VADER was built on general social-media text: it knows "worst" and "rude" but not the quiet
vocabulary of a service failure ("still waiting", "on hold", "no refund", "en panne",
"toujours pas de réponse"), which carries most of a bad buzz; and it reads the requests that
open complaints ("please help") as praise. This module adds that vocabulary: generic
customer-service and crisis words, nothing specific to one industry, brand or data set.

Valences are on VADER's scale (-4..4). They were set by hand from VADER's own values for
neighbouring words ("delayed" is -0.9 in VADER, "still waiting" is worse than "waiting"),
then adjusted on the tuning split of ``bench/sentiment_eval.py`` only; the held-out split
reports the result (see ``bench/README_sentiment.md``).

Multi-word expressions are rewritten to one token before scoring (``on hold`` -> ``on_hold``)
because VADER scores word by word; the token keeps VADER's negation and booster rules working
on the expression as a whole.

>>> rewrite_phrases("Been ON HOLD for an hour, still waiting", PHRASES_EN)
'Been on_hold for an hour, still_waiting'
>>> rewrite_phrases("Toujours pas de reponse, box en panne", PHRASES_FR)
'toujours_pas de reponse, box en_panne'
"""

from __future__ import annotations

import re
import unicodedata
from typing import Mapping


def _strip_accents(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def _char_regex(c: str) -> str:
    if c == "'":
        return "['’]"
    base = _strip_accents(c)
    return f"[{c}{base}]" if base != c else re.escape(c)

# Single words missing from (or too mild in) VADER's English lexicon.
WORDS_EN: dict[str, float] = {
    # waiting, delays and cancellations
    "delays": -1.3, "delayed": -1.5, "cancelled": -1.5, "canceled": -1.5, "cancellation": -1.3,
    "cancellations": -1.3, "stranded": -2.0, "overbooked": -1.5, "outage": -1.8, "outages": -1.8,
    "waited": -0.8, "waiting": -0.6, "hours": -0.4,
    # money
    "refund": -0.8, "refunds": -0.8, "overcharged": -2.0, "ripoff": -2.5, "fees": -0.5,
    # things that do not work
    "glitch": -1.2, "crashed": -1.5, "crashing": -1.5, "unhelpful": -2.0, "unreachable": -1.5,
    "unanswered": -1.5, "nobody": -0.8, "excuses": -1.0, "worse": -2.0, "disconnected": -1.2,
    # how long it took: in a message to a brand, durations are complaints
    "hrs": -0.4, "hour": -0.3, "minutes": -0.3, "mins": -0.3, "days": -0.2, "late": -0.8,
    # complaint markers: what was tried, told, still not done, why
    "still": -0.4, "tried": -0.5, "trying": -0.3, "told": -0.3, "sitting": -0.3, "why": -0.3,
    "supposed": -0.5, "anymore": -0.5,
    # what reaching the brand cost: busy lines, machines, money and time spent, repeats
    "busy": -0.6, "automated": -0.6, "paid": -0.4, "spent": -0.4, "twice": -0.4, "apparently": -0.3,
    "almost": -0.3,
    # having to call, again: in a message to a brand, contact that did not work the first time
    "call": -0.3, "calls": -0.3, "called": -0.3, "calling": -0.3, "phone": -0.3,
    "customers": -0.3,  # "is this how you treat your customers"
    # VADER reads the request words that open most complaints as praise
    "help": 0.0, "please": 0.0, "joke": -0.5,
    # service nouns, not opinions ("travel credit", "customer care", "support never answered")
    "credit": 0.0, "care": 0.0, "number": 0.0,
    # the answer to the brand's question ("yes, still no bag"), not approval
    "yes": 0.0,
}

# Valence of a negation that negates no sentiment word ("I can't reach anyone", "didn't
# call back"): in a message to a brand, that is a complaint (see sentiment._dangling_negations).
DANGLING_NEGATION_EN = -0.6

# Multi-word expressions (lowercase, single spaces) -> token, and the token's valence.
PHRASES_EN: dict[str, tuple[str, float]] = {
    "on hold": ("on_hold", -1.5),
    "still waiting": ("still_waiting", -1.8),
    "been waiting": ("been_waiting", -1.5),
    "still no": ("still_no", -1.5),
    "still not": ("still_not", -1.5),
    "no response": ("no_response", -1.8),
    "no answer": ("no_answer", -1.8),
    "no reply": ("no_reply", -1.8),
    "no one": ("no_one", -0.8),
    "no help": ("no_help", -2.0),
    "no info": ("no_info", -1.5),
    "no information": ("no_information", -1.5),
    "no updates": ("no_updates", -1.5),
    "hung up": ("hung_up", -1.8),
    "hangs up": ("hung_up", -1.8),
    "hang up": ("hung_up", -1.8),
    "real person": ("real_person", -1.0),  # asked for when the machine or the script failed
    "actual person": ("real_person", -1.0),
    "a human": ("real_person", -1.0),
    "actual human": ("real_person", -1.0),
    "lost my": ("lost_my", -2.0),
    "lost our": ("lost_our", -2.0),
    "not working": ("not_working", -1.8),
    "doesn't work": ("doesnt_work", -1.8),
    "does not work": ("doesnt_work", -1.8),
    "never again": ("never_again", -2.5),
    "can't get through": ("cant_get_through", -1.8),
    "cannot get through": ("cant_get_through", -1.8),
    "waste of time": ("waste_of_time", -2.0),
    "thanks for nothing": ("thanks_for_nothing", -2.5),
    "what a joke": ("what_a_joke", -2.0),
    "customer service": ("customer_service", 0.0),  # names a department, not an opinion
    # praise in the conditional is what did not happen: "it would be nice if someone answered"
    "would be nice": ("would_be_nice", -1.5),
    "would've been nice": ("would_be_nice", -1.5),
    "would have been nice": ("would_be_nice", -1.5),
    "it'd be nice": ("would_be_nice", -1.5),
    "would be great": ("would_be_nice", -1.5),
    "would've been great": ("would_be_nice", -1.5),
    "would have been great": ("would_be_nice", -1.5),
    "would've appreciated": ("would_be_nice", -1.5),
    "would have appreciated": ("would_be_nice", -1.5),
    # "better" asked for is not praise
    "do better": ("do_better", -1.5),
    "could be better": ("do_better", -1.5),
    "expected better": ("do_better", -1.5),
    "expect better": ("do_better", -1.5),
    "deserve better": ("do_better", -1.5),
    "no worries": ("no_worries", 1.0),  # VADER reads "worries" negative
    # "like" as a request or a comparison, not as liking (VADER: +1.5 everywhere)
    "would like": ("would_like", 0.0),
    "i'd like": ("would_like", 0.0),
    "feel like": ("like_as", 0.0),
    "feels like": ("like_as", 0.0),
    "felt like": ("like_as", 0.0),
    "look like": ("like_as", 0.0),
    "looks like": ("like_as", 0.0),
    "looked like": ("like_as", 0.0),
    "seems like": ("like_as", 0.0),
    "sounds like": ("like_as", 0.0),
    "like a": ("like_as", 0.0),
    "like the": ("like_as", 0.0),
    "as well": ("as_well", 0.0),  # "also", not "well"
    "make sure": ("make_sure", 0.0),  # "ensure", not "sure"
    # a long-standing customer says so to complain ("as a loyal customer, I expected...")
    "loyal customer": ("loyal_customer", -1.0),
    "loyal customers": ("loyal_customer", -1.0),
}

# French: keys without accents (VADER-FR looks words up after unidecode).
WORDS_FR: dict[str, float] = {
    "retard": -1.3, "retards": -1.3, "retarde": -1.3, "retardee": -1.3, "annule": -1.5,
    "annulee": -1.5, "annulation": -1.3, "annulations": -1.3, "attente": -0.6, "panne": -1.8,
    "pannes": -1.8, "coupure": -1.5, "coupures": -1.5, "injoignable": -2.0, "injoignables": -2.0,
    "remboursement": -0.8, "rembourser": -0.6, "galere": -1.8, "galerer": -1.8, "bug": -1.2,
    "bugs": -1.2, "plante": -1.0, "surfacture": -2.0, "arnaqueurs": -2.7, "honteux": -2.2,
    "decevant": -1.8, "decu": -1.5, "decue": -1.5, "decus": -1.5, "deception": -1.5,
    "reclamation": -1.0, "plainte": -1.0, "resilier": -1.2, "resiliation": -1.2, "marre": -2.0,
    "aide": 0.3, "svp": 0.0,
}

PHRASES_FR: dict[str, tuple[str, float]] = {
    "en attente": ("en_attente", -1.5),
    "toujours pas": ("toujours_pas", -1.8),
    "toujours rien": ("toujours_rien", -2.0),
    "toujours en attente": ("toujours_en_attente", -2.0),
    "pas de réponse": ("pas_de_reponse", -1.8),
    "aucune réponse": ("aucune_reponse", -1.8),
    "sans réponse": ("sans_reponse", -1.8),
    "personne ne répond": ("personne_ne_repond", -2.0),
    "en panne": ("en_panne", -2.0),
    "en retard": ("en_retard", -1.5),
    "ne fonctionne pas": ("ne_fonctionne_pas", -1.8),
    "ne marche pas": ("ne_marche_pas", -1.8),
    "marche pas": ("ne_marche_pas", -1.8),
    "plus jamais": ("plus_jamais", -2.5),
    "ras le bol": ("ras_le_bol", -2.5),
    "service client": ("service_client", 0.0),
    "foutage de gueule": ("foutage_de_gueule", -3.0),
    "merci pour rien": ("merci_pour_rien", -2.5),
    # litotes: "pas terrible" means "poor", not "not awful" (VADER-FR negates "terrible" to +)
    "pas terrible": ("pas_terrible", -1.5),
    "pas top": ("pas_top", -1.5),
    "pas au top": ("pas_top", -1.5),
    "pas génial": ("pas_genial", -1.5),
    "pas ouf": ("pas_ouf", -1.5),
    "pas fameux": ("pas_fameux", -1.5),
    "pas fou": ("pas_fou", -1.0),
}


def compile_phrases(phrases: Mapping[str, tuple[str, float]]) -> re.Pattern:
    """One case-insensitive regex for all expressions, longest first, on word boundaries;
    any whitespace between words, either apostrophe. The expressions are laid out as a
    character trie, so the engine tries one branch per first letter at each position, not
    every expression (the scan costs the same with 30 or 100 expressions).

    >>> compile_phrases({"no one": ("", 0), "no one cares": ("", 0), "not": ("", 0)}).findall("No  one cares, not me")
    ['No  one cares', 'not']
    """
    trie: dict = {}
    for p in phrases:
        node = trie
        for ch in " ".join(p.lower().split()):
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        branches = [(r"\s+" if ch == " " else _char_regex(ch)) + build(child)
                    for ch, child in sorted(node.items()) if ch != ""]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return "(?:" + body + ")?" if "" in node else body  # the longer expression first

    return re.compile(r"(?<!\w)" + build(trie) + r"(?!\w)", re.IGNORECASE)


_CACHE: dict[int, tuple[re.Pattern, dict[str, str]]] = {}


def rewrite_phrases(text: str, phrases: Mapping[str, tuple[str, float]]) -> str:
    """``text`` with each known expression replaced by its single token."""
    key = id(phrases)
    if key not in _CACHE:
        lookup = {" ".join(_strip_accents(p).split()): tok for p, (tok, _) in phrases.items()}
        _CACHE[key] = (compile_phrases(phrases), lookup)
    pattern, lookup = _CACHE[key]
    return pattern.sub(lambda m: lookup[" ".join(_strip_accents(m.group(0).lower().replace("’", "'")).split())], text)


def phrase_valences(phrases: Mapping[str, tuple[str, float]]) -> dict[str, float]:
    """Token -> valence, to add to a VADER lexicon."""
    return {tok: v for tok, v in phrases.values()}
