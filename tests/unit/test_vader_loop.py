"""The rewritten VADER / VADER-FR valence loop (buzzwatch.text.vader_loop) gives exactly the
scores of the libraries' own code: on tricky sentences (negation, "but"/"mais", caps,
punctuation emphasis, idioms, emoji, "kind of", "least") and on random sentences made of the
words each rule reads."""

from __future__ import annotations

import random

import pytest
from vaderSentiment import vaderSentiment as ven
from vaderSentiment_fr import vaderSentiment as vfr

from buzzwatch.text import vader_loop
from buzzwatch.text.sentiment import analyzer

ENGLISH = [
    "The book was good.", "The book was not good.", "It isn't a horrible book.", "At least it isn't a horrible book.",
    "VADER is smart, handsome, and funny!", "VADER is VERY SMART, handsome, and FUNNY!!!",
    "VADER is not smart, handsome, nor funny.", "The book was only kind of good.", "It was kind of awful",
    "The plot was good, but the characters are uncompelling and the dialog is not great.",
    "good good but bad bad good", "great but great but awful",
    "Today SUX!", "Today only kinda sux! But I'll get by, lol", "Make sure you :) or :D today!",
    "Catch utf-8 emoji such as 💘 and 💋 and 😁", "Not bad at all", "never so happy", "never this good",
    "without doubt good", "without a doubt bad", "no good", "no problem", "no no no", "no or bad", "no nor good",
    "the least good thing", "at least good", "very least happy", "least bad", "it was the shit",
    "kiss of death for happy people", "yeah right great", "to die for love", "bus stop happy",
    "beating heart love", "just enough good", "sort of nice", "sort of", "kind of", "kind", "of",
    "WHY?? why??? Why????", "GOOD", "good GOOD good", "I can't even", "not not good", "don't not like",
    "  spaced   out  ", "", "!!!", "uh-uh that's nice", "rarely good", "despite the great food",
    "The food was extremely BAD and REALLY awful", "I don't know.", "no one cares, nobody does",
    "@brand lost my bag and I'm still waiting, thanks for nothing",
]
FRENCH = [
    "Le film était bon.", "Le film n'était pas bon.", "Jamais content de ce service", "pas mal du tout",
    "C'est bien mais le service est nul", "très TRÈS bien !!!", "SUPER génial", "à peine correct",
    "putain de génial", "quelque peu déçu", "à peu près bien", "l'avion est en retard...",
    "Quelle   galère    aujourd'hui", "rien de bon", "sans doute le meilleur", "plus jamais ça",
    "ni bon ni mauvais", "no good", "no or nor bad", "least bon", "at least bon", "Merci ❤️ 😡",
    "kind of nul", "C'EST NUL", "trop bien", "pas terrible", "vraiment pas top", "", "''", "' '",
    "heureux heureux mais triste", "Déçu... vraiment déçu.....", "aucune réponse ???",
]
WORDS_EN = ("good bad great awful not no never so this without doubt least at very kind of sort but the shit "
            "kiss death yeah right die for bus stop just enough really extremely GOOD BAD NOT VERY isn't "
            "don't nor or happy sad lol :) :( ! ? , . love hate nobody waiting still refund cancelled "
            "LOVE Great kinda barely hardly most less").split()
WORDS_FR = ("bon mauvais pas jamais plus rien sans ni très trop super vraiment mais génial nul déçu heureux "
            "à peine peu quelque putain de triste BON NUL TRÈS no or nor least at kind of panne retard "
            "l'avion c'est n'est ! ? ... , super_ ") .split()


def _base(lang: str):
    return (ven if lang == "en" else vfr).SentimentIntensityAnalyzer


def _library_sentiments(a, lang: str, text: str) -> list:
    """The sentiments list as the library's own loop builds it (before any "but" rule)."""
    base = _base(lang)
    module = ven if lang == "en" else vfr
    sentitext = module.SentiText(text)
    sentiments: list = []
    words = sentitext.words_and_emoticons
    for i, item in enumerate(words):
        if item.lower() in module.BOOSTER_DICT or (
                i < len(words) - 1 and item.lower() == "kind" and words[i + 1].lower() == "of"):
            sentiments.append(0)
            continue
        sentiments = base.sentiment_valence(a, 0, sentitext, item, i, sentiments)
    return sentiments


def _our_sentiments(a, lang: str, text: str) -> list:
    words = vader_loop.english_words(text) if lang == "en" else vader_loop.french_words(text)
    lows = [w.lower() for w in words]
    module = ven if lang == "en" else vfr
    negation = _library_negation(a, lang)
    return vader_loop.valences(words, lows, a.lexicon, module.BOOSTER_DICT,
                               None if lang == "en" else vader_loop.french_keys, negation,
                               _base(lang)._special_idioms_check,
                               vader_loop.idiom_words(module.SPECIAL_CASES, module.BOOSTER_DICT))


def _library_negation(a, lang: str):
    base = _base(lang)

    def negation(lows, start_i, i, valence):
        return base._negation_check(valence, lows, start_i, i)

    return negation


def _sentences(words: tuple[str, ...], seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(words) for _ in range(rng.randrange(1, 9))) for _ in range(n)]


@pytest.mark.parametrize("lang,texts", [("en", ENGLISH + _sentences(WORDS_EN, 1, 1500)),
                                        ("fr", FRENCH + _sentences(WORDS_FR, 2, 1500))])
@pytest.mark.parametrize("supplement", [False, True])
def test_valence_loop_equals_the_librarys_own(lang, texts, supplement):
    a = analyzer(lang, supplement=supplement)
    for text in texts:
        assert _our_sentiments(a, lang, text) == _library_sentiments(a, lang, text), text
        # and bit for bit (0 vs 0.0 vs -0.0 included)
        assert [repr(x) for x in _our_sentiments(a, lang, text)] == \
            [repr(x) for x in _library_sentiments(a, lang, text)], text


@pytest.mark.parametrize("lang,texts", [("en", ENGLISH + _sentences(WORDS_EN, 3, 1500)),
                                        ("fr", FRENCH + _sentences(WORDS_FR, 4, 1500))])
def test_without_supplement_the_analyzers_score_as_the_libraries(lang, texts):
    """Without the complaint supplement our analyzers are the libraries, made faster."""
    a = analyzer(lang, supplement=False)
    for text in texts:
        assert a.polarity_scores(text) == _base(lang).polarity_scores(a, text), text


def test_idiom_words_are_the_words_of_multi_word_keys():
    assert {"kiss", "of", "death", "kind", "sort", "just", "enough"} <= vader_loop.idiom_words(
        ven.SPECIAL_CASES, ven.BOOSTER_DICT)
    assert "badass" not in vader_loop.idiom_words(ven.SPECIAL_CASES, ven.BOOSTER_DICT)


def test_french_key_is_unidecode():
    import unidecode

    for word in ("déçu", "très", "galère", "noël", "plain", "", "ça"):
        assert vader_loop.french_key(word) == unidecode.unidecode(word)
        assert vader_loop.french_keys([word, word]) == [unidecode.unidecode(word)] * 2


@pytest.mark.parametrize("text", [
    "", " ", "a", "AB", "aB", "Ab", "C'EST NUL", "TRÈS TRÈS TRÈS BIEN SUPER NUL OUI", "A B C D E F G H",
    "!!! ??? ...", "MERCI!!! VRAIMENT.", "x,Y;Z.", "ÉTÉ été Été", "1234 56", "ÇA VA ? NON", "  DOUBLE  SPACE  ",
    "l'AVION est EN RETARD", "emoji_anger NUL", "ǅA ǄA", "ﬁNE", "ß", "xSS", "A\tB C\nD", "aÉ Éé éÉ", "12 34 :) ;-)",
    "AB  CD   EF", " AB", "AB ", "Aé Aß aZ a1 a_",
] + _sentences(tuple("A AB Ab aB ab ABC abc ! ? . , ; ÉTÉ été \t \n ß 1 éX Xé".split(" ")), 5, 400))
def test_french_uppercase_emphasis_equals_vader_fr(text):
    assert analyzer("fr")._amplify_uc(text) == vfr.SentimentIntensityAnalyzer._amplify_uc(text)


@pytest.mark.parametrize("lang,texts", [("en", ENGLISH + _sentences(WORDS_EN, 6, 300)),
                                        ("fr", FRENCH + _sentences(WORDS_FR, 7, 300))])
def test_words_are_the_librarys_tokens(lang, texts):
    split = vader_loop.english_words if lang == "en" else vader_loop.french_words
    module = ven if lang == "en" else vfr
    for text in texts + [":) :( ;-) <3 :D", "'quoted' \"word\" ...", "a,b, c. !!x!!", "  ", "x''y"]:
        assert split(text) == module.SentiText(text).words_and_emoticons, text
