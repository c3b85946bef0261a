"""Sentiment scoring: labels, language coverage, and the complaint vocabulary VADER misses."""

import subprocess
import sys

import pytest

from buzzwatch.text.sentiment import LABELS, Sentiment, SentimentScorer, analyzer, label_for

SCORER = SentimentScorer(neg_threshold=-0.05, pos_threshold=0.05)


@pytest.mark.parametrize("compound, neg, pos, label", [
    (-0.6, -0.05, 0.05, "negative"),
    (-0.05, -0.05, 0.05, "negative"),   # the threshold itself is negative
    (-0.049, -0.05, 0.05, "neutral"),
    (0.0, -0.05, 0.05, "neutral"),
    (0.05, -0.05, 0.05, "positive"),    # the threshold itself is positive
    (0.3, -0.05, 0.4, "neutral"),       # a higher positive bar
    (0.1, 0.2, 0.4, "negative"),        # thresholds can both sit above zero
])
def test_label_thresholds(compound, neg, pos, label):
    assert label_for(compound, neg, pos) == label


def test_thresholds_must_be_ordered():
    with pytest.raises(ValueError):
        SentimentScorer(neg_threshold=0.1, pos_threshold=0.1)


@pytest.mark.parametrize("lang", ["es", "de", "und", "pt", ""])
def test_other_languages_are_unscored_not_neutral(lang):
    assert SCORER.score("This is absolutely wonderful, I love it", lang) == Sentiment(lang, 0.0, "unscored")


@pytest.mark.parametrize("text, lang, label", [
    ("This is absolutely wonderful, thank you!", "en", "positive"),
    ("Worst service ever, I am furious", "en", "negative"),
    ("The flight leaves at 9", "en", "neutral"),
    ("Merci beaucoup, service excellent !", "fr", "positive"),
    ("C'est une honte, service lamentable", "fr", "negative"),
    ("Le colis arrive demain à midi", "fr", "neutral"),
])
def test_english_and_french_are_scored(text, lang, label):
    s = SCORER.score(text, lang)
    assert (s.lang, s.label) == (lang, label)
    assert -1.0 <= s.compound <= 1.0
    assert s.label in LABELS


@pytest.mark.parametrize("text, lang", [
    ("brand I have been on hold for an hour", "en"),
    ("still waiting for my refund", "en"),
    ("I can't get anyone on the phone", "en"),          # a negation with nothing to negate
    ("my flight was delayed twice, no response from brand", "en"),
    ("toujours pas de réponse du service client", "fr"),
    ("box en panne depuis trois jours", "fr"),
    ("colis en retard, toujours rien", "fr"),
])
def test_customer_complaints_plain_vader_misses_are_negative(text, lang):
    assert SCORER.score(text, lang).label == "negative"


@pytest.mark.parametrize("text", [
    "It would be nice if someone answered the phone",   # praise in the conditional: it did not happen
    "Would've appreciated a heads-up about the delay",
    "You really need to do better",                     # "better" asked for
    "As a loyal customer I expected more than this",    # said to complain
    "I would like to speak to someone about my bag",    # a request, not liking (VADER: +0.36)
    "Yes. Still at the gate.",                          # the answer to the brand's question
    "My credit from the cancelled trip never showed up",  # a service noun, not praise
])
def test_complaint_phrasings_read_as_praise_by_vader_are_not_positive(text):
    assert SentimentScorer(supplement=False).score(text, "en").compound > SCORER.score(text, "en").compound
    assert TUNED.score(text, "en").label != "positive"


@pytest.mark.parametrize("text, labels", [
    ("No worries, thanks for the quick answer!", {"positive"}),  # VADER reads "worries" as negative
    ("Feels like home, love this airline", {"positive"}),
    # the limit of the conditional rule: a wish read as praise by VADER is now only neutral
    ("It would be nice to fly with you again, great crew", {"neutral", "positive"}),
])
def test_praise_is_not_read_as_a_complaint_around_those_phrases(text, labels):
    assert TUNED.score(text, "en").label in labels


@pytest.mark.parametrize("text", [
    "Good morning! The sun is shining and I love it :)",
    "This movie was not bad at all",
    "What a terrible, horrible day",
])
def test_supplement_leaves_general_text_where_vader_puts_it(text):
    plain = SentimentScorer(supplement=False).score(text, "en").label
    assert SCORER.score(text, "en").label == plain


def test_curly_apostrophe_negates_like_a_straight_one():
    assert SCORER.score("It isn’t good", "en") == SCORER.score("It isn't good", "en")


def test_per_language_thresholds_override_the_global_ones():
    scorer = SentimentScorer(-0.05, 0.05, lang_thresholds={"en": (-0.05, 0.99)})
    assert scorer.score("Thanks, great job", "en").label == "neutral"
    assert scorer.score("Merci, super travail", "fr").label == "positive"


def test_score_many_keeps_order_and_languages():
    items = [("Great!", "en"), ("Nul.", "fr"), ("Genial", "es")]
    assert [(s.lang, s.label) for s in SCORER.score_many(items)] == [
        ("en", "positive"), ("fr", "negative"), ("es", "unscored")]


def test_empty_text_is_neutral_in_a_scored_language():
    assert SCORER.score("", "en") == Sentiment("en", 0.0, "neutral")


def test_analyzers_are_built_once_and_shared():
    assert analyzer("en") is analyzer("en")
    assert SentimentScorer()._analyzers["fr"] is SCORER._analyzers["fr"]


def test_fast_english_analyzer_gives_vader_results():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    reference = SentimentIntensityAnalyzer()
    fast = analyzer("en", supplement=False)
    for text in ["I don't love it 😍", "Never so happy!!!", "not bad, without doubt good", "kind of ok",
                 "The food was great but the service was awful", "I can't even", "NOT GOOD at all :("]:
        assert fast.polarity_scores(text) == reference.polarity_scores(text), text


def test_core_modules_import_no_stream_framework():
    code = ("import sys, buzzwatch.text.brands, buzzwatch.text.language, buzzwatch.text.sentiment; "
            "print(sorted(m for m in ('faust', 'aiokafka', 'kafka') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- emoji, sarcasm and French litotes (buzzwatch.text.cues, lexicon_complaints) -------------------

TUNED = SentimentScorer(lang_thresholds={"en": (-0.05, 0.40), "fr": (-0.10, 0.10)})


@pytest.mark.parametrize("text, lang", [
    ("Oh great, brand cancelled my order again 🙃", "en"),
    ("amazing job losing my data", "en"),
    ("amazing job @brand losing my data", "en"),
    ("Thanks for fixing it so fast 🙄", "en"),
    ("Wow great, another outage", "en"),
    ("Well done brand, my bag is lost again", "en"),
    ("Bravo, vraiment génial 👏", "fr"),
    ("Bravo brand, encore en panne", "fr"),
    ("Super service 🤡", "fr"),
    ("Merci pour rien", "fr"),
    ("thx for losing my bag", "en"),
    ("Thank you for not even answering my calls", "en"),
])
def test_sarcasm_is_negative(text, lang):
    assert TUNED.score(text, lang).label == "negative"


@pytest.mark.parametrize("text, lang", [
    ("Great job fixing the outage so fast, thank you!", "en"),
    ("Oh great, my order arrived early!", "en"),
    ("Bravo to the whole team 👏", "en"),
    ("Thanks for getting us home safely, wonderful crew", "en"),
    ("Merci brand, service au top 👍", "fr"),
])
def test_genuine_praise_is_not_read_as_sarcasm(text, lang):
    assert TUNED.score(text, lang).label == "positive"


@pytest.mark.parametrize("text, lang", [
    ("brand 😡😡😡", "en"), ("😡", "en"), ("brand 🤬", "fr"), ("👎👎", "fr"), ("brand 💩", "en"),
])
def test_angry_emoji_alone_is_scored_negative(text, lang):
    assert TUNED.score(text, lang).label == "negative"


@pytest.mark.parametrize("text, lang", [("brand 😍", "en"), ("❤️❤️ brand", "fr"), ("👍", "en")])
def test_happy_emoji_alone_is_scored_positive(text, lang):
    assert TUNED.score(text, lang).label == "positive"


@pytest.mark.parametrize("text", ["brand pas terrible", "pas top", "Service pas au top", "pas génial ce matin",
                                  "franchement pas ouf"])
def test_french_litotes_are_negative(text):
    assert TUNED.score(text, "fr").label == "negative"


def test_plain_vader_is_left_as_it_was_without_the_supplement():
    plain = SentimentScorer(supplement=False, french_model=False)
    assert plain.score("Oh great, brand cancelled my order again 🙃", "en").compound > 0


def test_french_is_scored_by_the_shipped_model_and_vader_fr_without_it():
    from buzzwatch.text.french_model import shipped

    assert shipped().confidence > 0  # the gate chosen at training time is shipped with the weights
    with_model = SentimentScorer().compound("Le Japon relance ses centrales nucléaires malgré Fukushima", "fr")
    without = SentimentScorer(french_model=False).compound("Le Japon relance ses centrales nucléaires malgré Fukushima", "fr")
    assert -1.0 <= with_model <= 1.0 and -1.0 <= without <= 1.0
