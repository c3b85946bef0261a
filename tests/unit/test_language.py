"""Language routing: the declared language wins when usable, detection otherwise."""

import pytest

from buzzwatch.text.language import MODEL_LANGUAGES, detect_language, normalize_lang, route_language


@pytest.mark.parametrize("text", [
    "Mon vol a été annulé et personne ne répond au téléphone, c'est une honte",
    "Impossible de joindre le service client depuis trois jours",  # no function-word majority: the model
    "La box est encore en panne ce matin",
    "@Orange_fr toujours pas de connexion chez moi http://t.co/abc",
])
def test_clear_french_sentences_are_detected_as_french(text):
    assert detect_language(text) == "fr"


@pytest.mark.parametrize("text", [
    "My flight was cancelled and nobody answers the phone",
    "@AmericanAir still waiting for my bag, this is ridiculous",
    "Worst customer service ever",
])
def test_clear_english_sentences_are_detected_as_english(text):
    assert detect_language(text) == "en"


@pytest.mark.parametrize("text, lang", [
    ("El servicio al cliente es terrible, nadie contesta el teléfono", "es"),
    ("Der Kundendienst ist eine Katastrophe, niemand antwortet", "de"),
    ("O atendimento ao cliente é péssimo, ninguém responde", "pt"),
])
def test_other_languages_are_detected_as_themselves(text, lang):
    assert detect_language(text) == lang


@pytest.mark.parametrize("text", ["", "   ", "!!! ???", "@acme @globex", "https://t.co/x 12345", "👍👍"])
def test_text_without_words_is_undetermined(text):
    assert detect_language(text) == "und"


@pytest.mark.parametrize("declared, expected", [
    ("en", "en"), ("EN", "en"), ("fr-FR", "fr"), ("fr_CA", "fr"), (" Fr ", "fr"), ("eng", "en"),
    ("fra", "fr"), ("in", "id"), ("es-419", "es"),
])
def test_declared_lang_is_normalized(declared, expected):
    assert normalize_lang(declared) == expected
    assert route_language(declared, "text in any language at all") == expected


@pytest.mark.parametrize("declared", [None, "", "und", "zxx", "12", "english please"])
def test_unusable_declared_lang_falls_back_to_detection(declared):
    assert route_language(declared, "Mon colis est perdu et personne ne me répond") == "fr"


def test_detection_answers_iso_639_1_codes_only():
    assert all(len(code) == 2 for code in MODEL_LANGUAGES)
    assert {"en", "fr"} <= set(MODEL_LANGUAGES)
