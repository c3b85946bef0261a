"""The shipped French model: its fast, cached prediction equals the plain formula, its compound
reads like VADER's, and it stays out of the way where it was not trained to read."""

import math

import pytest

from buzzwatch.text import french_model as fm
from buzzwatch.text.sentiment import analyzer

MODEL = fm.shipped()
FR = analyzer("fr")
TEXTS = [
    "Le Japon relance ses centrales nucléaires malgré Fukushima http://t.co/x",
    "@user Bravo pour les éoliennes en mer, enfin une bonne nouvelle ! #energie",
    "Box en panne depuis trois jours et personne ne répond, ras le bol",
    "Le technicien passe demain matin entre 8h et 12h",
    "les les les énergies énergies renouvelables renouvelables",   # repeated words and n-grams
    "", "!!!", "brand",
]


def plain_probabilities(text, vader):
    """The model's definition, without caches: softmax(bias + scale/sqrt(n) * sum of the
    weights of the n known distinct features + dense weights . VADER scores)."""
    known = [f for f in fm.features(text) if f in MODEL.weights]
    z = list(MODEL.bias)
    k = MODEL.scale / math.sqrt(len(known)) if known else 0.0
    for c in range(3):
        z[c] += k * sum(MODEL.weights[f][c] for f in known)
        z[c] += sum(w[c] * vader[name] for name, w in zip(fm.DENSE, MODEL.dense))
    top = max(z)
    e = [math.exp(x - top) for x in z]
    return [x / sum(e) for x in e]


@pytest.mark.parametrize("text", TEXTS)
def test_cached_prediction_equals_the_plain_formula(text):
    vader = FR.polarity_scores(text)
    for _ in range(2):  # cold and warm word cache
        assert MODEL.probabilities(text, vader) == pytest.approx(plain_probabilities(text, vader), abs=1e-12)


@pytest.mark.parametrize("probs, label", [
    ((0.7, 0.2, 0.1), "negative"), ((0.2, 0.5, 0.3), "neutral"), ((0.1, 0.3, 0.6), "positive"),
    ((0.34, 0.33, 0.33), "negative"), ((0.33, 0.34, 0.33), "neutral"), ((0.0, 0.0, 1.0), "positive"),
])
def test_shaped_compound_at_thresholds_0_1_is_the_most_likely_class(probs, label):
    c = fm.shape_compound(probs)
    assert -1.0 <= c <= 1.0
    assert ("negative" if c <= -0.1 else "positive" if c >= 0.1 else "neutral") == label


@pytest.mark.parametrize("vader_compound, label", [(-0.6, "negative"), (-0.05, "negative"), (0.0, "neutral"),
                                                   (0.19, "neutral"), (0.2, "positive"), (0.9, "positive")])
def test_vader_fr_reading_keeps_its_labels_on_the_same_thresholds(vader_compound, label):
    c = fm.from_vader(vader_compound)
    assert ("negative" if c <= -0.1 else "positive" if c >= 0.1 else "neutral") == label


@pytest.mark.parametrize("text", ["brand nul", "❤️❤️ brand", "pas top", "super merci"])
def test_posts_shorter_than_min_words_are_read_by_vader_fr(text):
    vader = FR.polarity_scores(text)
    assert MODEL.compound(text, vader) == fm.from_vader(vader["compound"])


def test_model_file_round_trips():
    again = fm.FrenchModel.from_json(MODEL.to_json())
    assert again.weights == MODEL.weights and again.confidence == MODEL.confidence


def test_a_model_file_of_another_layout_is_refused():
    data = MODEL.to_json()
    data["classes"] = ["neg", "pos"]
    with pytest.raises(ValueError, match="does not match"):
        fm.FrenchModel.from_json(data)
