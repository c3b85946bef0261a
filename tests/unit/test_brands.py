"""Brand matching and masking, as specifications: what counts as a mention of a brand, and
what is hidden from the sentiment scorer."""

import pytest

from buzzwatch.brands import PLACEHOLDER, Brand, BrandMatcher, normalize
from buzzwatch.sentiment import SentimentScorer

ACME = Brand("Acme", aliases=("Acme Corp",), handles=("@AcmeHelp",), hashtags=("#acmefail",))
LAVERIA = Brand("laveria")
GLOBEX = Brand("Globex", handles=("globex_fr",))  # handle configured without its @
MATCHER = BrandMatcher([ACME, LAVERIA, GLOBEX])


@pytest.mark.parametrize("text, brands", [
    ("Lavéria a encore perdu mon linge", ["laveria"]),
    ("LAVÉRIA !!!", ["laveria"]),
    ("Lave\u0301ria (decomposed accent)", ["laveria"]),
])
def test_accented_name_matches_unaccented_config(text, brands):
    assert MATCHER.match(text) == brands


def test_accented_config_matches_unaccented_text():
    assert BrandMatcher([Brand("Lavéria")]).match("laveria is down") == ["Lavéria"]


@pytest.mark.parametrize("text, brands", [
    ("@Acme why", ["Acme"]),             # a name matches as a handle
    ("#acme why", ["Acme"]),             # ... and as a hashtag
    ("@acmehelp hello", ["Acme"]),       # a configured handle
    ("#AcmeFail again", ["Acme"]),       # a configured hashtag
    ("@globex_fr merci", ["Globex"]),    # handle configured without @
    ("acmefail is a word here", []),     # a hashtag only counts with its #
    ("acmehelp without the at", []),     # a handle only counts with its @
    ("#acmehelp", []),                   # ... not as a hashtag
])
def test_handle_and_hashtag_match(text, brands):
    assert MATCHER.match(text) == brands


@pytest.mark.parametrize("text", ["acmeville is nice", "the acmes", "superacme", "acme_corp_fan", "lavérias"])
def test_substring_inside_word_does_not_match(text):
    assert MATCHER.match(text) == []


@pytest.mark.parametrize("text", ["Acme Corp is late", "acme   corp", "Acme\ncorp"])
def test_multi_word_alias_matches_across_any_whitespace(text):
    assert MATCHER.match(text) == ["Acme"]


def test_mention_can_match_several_brands_in_config_order_without_duplicates():
    assert MATCHER.match("globex > acme > ACME CORP > @acmehelp") == ["Acme", "Globex"]


def test_same_alias_fans_out_to_every_brand_that_has_it():
    m = BrandMatcher([Brand("Delta Air Lines", aliases=("Delta",)), Brand("Delta Faucet", aliases=("Delta",))])
    assert m.match("delta broke") == ["Delta Air Lines", "Delta Faucet"]


@pytest.mark.parametrize("declared, canonical", [
    ("acme", "Acme"), ("ACME CORP", "Acme"), ("@AcmeHelp", "Acme"), ("#acmefail", "Acme"),
    ("Lavéria", "laveria"), ("Initech", None), ("", None),
])
def test_declared_brand_resolves_to_its_canonical_name(declared, canonical):
    assert MATCHER.canonical(declared) == canonical


@pytest.mark.parametrize("text, masked", [
    ("I love @AcmeHelp", f"I love @{PLACEHOLDER}"),
    ("Acme Corp rocks #AcmeFail", f"{PLACEHOLDER} rocks #{PLACEHOLDER}"),
    ("Lavéria est nulle", f"{PLACEHOLDER} est nulle"),
    ("Lave\u0301ria est nulle", f"{PLACEHOLDER} est nulle"),  # 8 chars in, 7 normalized
    ("Straße und Lavéria", f"Straße und {PLACEHOLDER}"),     # text before a length-changing char kept
    ("acmeville stays", "acmeville stays"),
])
def test_masking_replaces_brand_terms_and_keeps_the_rest(text, masked):
    assert MATCHER.mask(text) == masked


@pytest.mark.parametrize("brand, text", [
    (Brand("United", handles=("@united",)), "@united"),
    (Brand("Free"), "Free"),
    (Brand("Best Buy"), "Best Buy"),
    (Brand("Spirit"), "#Spirit"),
])
def test_masking_removes_sentiment_bearing_brand_names(brand, text):
    scorer = SentimentScorer()
    assert scorer.score(text, "en").compound > 0  # VADER reads the bare name as praise
    assert scorer.score(BrandMatcher([brand]).mask(text), "en").compound == 0.0


def test_masked_mention_is_scored_on_its_words_not_on_the_brand_name():
    scorer = SentimentScorer()
    matcher = BrandMatcher([Brand("United", handles=("@united",))])
    raw = scorer.score("I love @united", "en").compound
    masked = scorer.score(matcher.mask("I love @united"), "en").compound
    assert masked == scorer.score("I love", "en").compound < raw


def test_unconfigured_brand_field_is_masked_with_handle_and_hashtag():
    m = BrandMatcher([ACME])
    assert m.mask("Best Buy, @BestBuy and #bestbuy are the best", extra_names=["Best Buy", "BestBuy"]) == (
        f"{PLACEHOLDER}, @{PLACEHOLDER} and #{PLACEHOLDER} are the best"
    )
    assert m.mask("@united is great", extra_names=["@united"]) == f"@{PLACEHOLDER} is great"


def test_overlapping_configured_and_extra_names_give_one_placeholder():
    assert MATCHER.mask("Acme Corp!", extra_names=["Acme"]) == f"{PLACEHOLDER}!"


@pytest.mark.parametrize("raw, error", [
    ({"aliases": ["x"]}, "missing 'name'"),
    ({"name": ""}, "missing 'name'"),
    ({"name": 3}, "missing 'name'"),
    ({"name": "Acme", "aliases": [1]}, "'aliases' must be a list of strings"),
    ({"name": "Acme", "handles": ["two words"]}, "must be one word"),
    ({"name": "Acme", "alias": ["typo"]}, "unknown key"),
    ("Acme", "must be a table"),
])
def test_bad_brand_config_is_a_clear_value_error(raw, error):
    with pytest.raises(ValueError, match=error):
        Brand.from_dict(raw)


def test_brand_from_dict_reads_the_toml_table():
    b = Brand.from_dict({"name": "Acme", "aliases": ["Acme Corp"], "handles": ["@acme"], "hashtags": ["acmefail"],
                         "languages": ["EN"]})
    assert b == Brand("Acme", ("Acme Corp",), ("@acme",), ("acmefail",), ("en",))


def test_brand_configured_twice_is_an_error():
    with pytest.raises(ValueError, match="twice"):
        BrandMatcher([ACME, ACME])


@pytest.mark.parametrize("text, expected", [("ÉTÉ", "ete"), ("Straße", "strasse"), ("ﬁne", "fine"), ("abc", "abc")])
def test_normalize_casefolds_and_strips_accents(text, expected):
    assert normalize(text) == expected


def test_thousands_of_brands_match_with_one_pattern():
    brands = [Brand(f"brand{i:04d}x", handles=(f"@b{i}help",)) for i in range(3000)]
    m = BrandMatcher(brands)
    assert m.match("brand0042x and @b2999help, not brand0042xy") == ["brand0042x", "brand2999x"]
