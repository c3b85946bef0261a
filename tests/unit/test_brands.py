"""Brand matching and masking, as specifications: what counts as a mention of a brand, and
what is hidden from the sentiment scorer."""

import pytest

from buzzwatch.text.brands import PLACEHOLDER, Brand, BrandMatcher, MatchResult, normalize
from buzzwatch.text.sentiment import SentimentScorer, analyzer

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
    assert analyzer("en", supplement=False).polarity_scores(text)["compound"] > 0  # plain VADER reads it as praise
    assert scorer.score(BrandMatcher([brand]).mask(text), "en").compound == 0.0


def test_masked_mention_is_scored_on_its_words_not_on_the_brand_name():
    scorer = SentimentScorer()
    matcher = BrandMatcher([Brand("United", handles=("@united",))])
    raw = analyzer("en", supplement=False).polarity_scores("I love @united")["compound"]
    masked = scorer.score(matcher.mask("I love @united"), "en").compound
    assert masked == scorer.score("I love", "en").compound < raw


@pytest.mark.parametrize("text, same_as", [
    ("@united my bag is lost", "@brand my bag is lost"),  # a brand nobody configured
    ("@HappyTravels @brand my bag is lost", "@brand my bag is lost"),
    ("@FreeMobile la box", "la box"),
    ("cc @best_deals flight 1337 cancelled", "cc flight cancelled"),  # flight numbers are not leetspeak
])
def test_handles_and_numbers_are_names_never_sentiment_words_even_unconfigured(text, same_as):
    scorer = SentimentScorer()
    assert scorer.score(text, "en").compound == scorer.score(same_as, "en").compound


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


# --- real brand names: exclusions, context, handles-only, spelling, URLs and e-mails ---------

ORANGE = Brand("Orange", handles=("@Orange_France",), hashtags=("#orange",), languages=("fr", "en"),
               exclude=("orange juice", "orange cat", "jus d'orange", "orange pressée"))
FREE = Brand("Free", handles=("@free", "@freebox"), hashtags=("#freebox",), match="handles")
APPLE = Brand("Apple", require_any=("iphone", "ipad", "mac", "ios", "app store", "apple store"))
COCA = Brand("Coca-Cola", aliases=("Coke",))
ACME_WEB = Brand("Acme", handles=("@acme",))
REAL = BrandMatcher([ORANGE, FREE, APPLE, COCA, ACME_WEB])


@pytest.mark.parametrize("text, brands", [
    ("I love orange juice", []),                               # an excluded phrase is not the brand
    ("my orange cat sleeps", []),
    ("Un jus d'orange svp", []),
    ("ORANGE JUICE!!!", []),                                   # exclusions ignore case and accents
    ("orange   juice", []),                                    # ... and spacing
    ("Orange juice is nice but Orange 4G is down", ["Orange"]),  # another, bare occurrence counts
    ("orange juice spilled on my @Orange_France box", ["Orange"]),  # a handle always counts
    ("#orange juice", ["Orange"]),                             # ... and so does a hashtag
    ("Orange réseau en panne", ["Orange"]),
])
def test_exclude_phrases_remove_only_the_occurrences_inside_them(text, brands):
    assert REAL.match(text) == brands


@pytest.mark.parametrize("text, brands", [
    ("I feel free", []),                      # handles-only: the bare word never counts
    ("Free shipping today", []),
    ("FREE en panne", []),
    ("@free en panne depuis ce matin", ["Free"]),
    ("ma @Freebox redémarre", ["Free"]),
    ("#Free #freebox", ["Free"]),            # @name / #name of a handles-only brand count too
])
def test_handles_only_brand_counts_handles_and_hashtags_only(text, brands):
    assert REAL.match(text) == brands


@pytest.mark.parametrize("text, brands", [
    ("an apple a day", []),                               # no context term: not the brand
    ("apple pie recipe", []),
    ("Apple broke my iPhone again", ["Apple"]),           # a context term anywhere in the post
    ("the apple store lost my repair", ["Apple"]),        # multi-word context
    ("@apple your store is a mess", ["Apple"]),           # a handle needs no context
    ("Apple Apple", []),                                  # the name is not its own context
])
def test_require_any_needs_a_context_term_next_to_a_bare_name(text, brands):
    assert REAL.match(text) == brands


@pytest.mark.parametrize("text", [
    "Coca-Cola", "coca cola", "CocaCola", "coca-cola", "COCA_COLA", "coca.cola", "Coca - Cola", "#CocaCola",
    "@cocacola", "Cöca-Cola", "coke",
])
def test_names_ignore_punctuation_and_spaces_between_their_words(text):
    assert REAL.match(text) == ["Coca-Cola"]


@pytest.mark.parametrize("text", ["cocacolas", "coca colaa", "supercoca-cola", "coca"])
def test_spelling_insensitive_names_still_need_word_boundaries(text):
    assert REAL.match(text) == []


@pytest.mark.parametrize("text, brands", [
    ("write to support@acme.com", []),                   # an e-mail address is not a mention
    ("see https://acme.com/x", []),                      # nor is a URL
    ("see http://www.acme.com/outage and www.acme.fr", []),
    ("mail support@acme.com, @acme never answers", ["Acme"]),  # the rest of the post still counts
    ("acme.com is down", ["Acme"]),                      # a bare domain name is the brand talked about
    ("thanks @acme.", ["Acme"]),                         # a handle at the end of a sentence
])
def test_no_match_inside_email_addresses_or_urls(text, brands):
    assert REAL.match(text) == brands


@pytest.mark.parametrize("text, brands, refused", [
    ("I love orange juice", (), ("Orange",)),
    ("I feel free", (), ("Free",)),
    ("an apple a day", (), ("Apple",)),
    ("nothing here", (), ()),
    ("Orange 4G down", ("Orange",), ()),
])
def test_match_detail_names_the_brands_refused_by_their_rules(text, brands, refused):
    assert REAL.match_detail(text) == MatchResult(brands, refused)


@pytest.mark.parametrize("author_id, author_name, brands", [
    (None, "Orange_France", ["Orange"]),
    (None, "@orange_france", ["Orange"]),       # handle with @, any case
    ("12345", None, ["Orange"]),                # a verified author id
    (12345, None, []),                          # ids are compared as strings by the mention contract
    ("999", "someone", []),
    (None, None, []),
])
def test_own_accounts_are_recognized_by_handle_or_author_id(author_id, author_name, brands):
    m = BrandMatcher([Brand("Orange", own_handles=("@Orange_France",), own_author_ids=("12345",)), ACME_WEB])
    assert m.own_brands(author_id if isinstance(author_id, str) or author_id is None else None, author_name) == brands


def test_languages_of_brands_in_order_without_repeats():
    assert REAL.languages_of(["Orange", "Acme"]) == ("fr", "en")
    assert REAL.languages_of([]) == ()


@pytest.mark.parametrize("raw, expected", [
    ({"name": "Orange", "exclude": ["orange juice"]}, Brand("Orange", exclude=("orange juice",))),
    ({"name": "Free", "match": "handles"}, Brand("Free", match="handles")),
    ({"name": "Apple", "require_any": "iphone"}, Brand("Apple", require_any=("iphone",))),
    ({"name": "Orange", "own_handles": ["@Orange_France"], "own_author_ids": [42, "x7"]},
     Brand("Orange", own_handles=("@Orange_France",), own_author_ids=("42", "x7"))),
    ({"name": "Free", "languages": ["FR"]}, Brand("Free", languages=("fr",))),
])
def test_new_brand_keys_are_read_from_the_toml_table(raw, expected):
    assert Brand.from_dict(raw) == expected


@pytest.mark.parametrize("raw, error", [
    ({"name": "Free", "match": "words"}, "'match' must be one of text, handles"),
    ({"name": "Free", "match": "handles", "require_any": ["box"]}, "'require_any' has no effect"),
    ({"name": "Orange", "exclude": [""]}, "empty string"),
    ({"name": "Orange", "exclude": ["!!"]}, "no letter or digit"),
    ({"name": "Orange", "own_handles": ["two words"]}, "must be one word"),
    ({"name": "Orange", "own_author_ids": [True]}, "'own_author_ids' must be"),
    ({"name": "Orange", "languages": []}, "'languages' must not be empty"),
    ({"name": "Orange", "excludes": ["x"]}, "unknown key"),
    ({"name": "Orange", "own_handle": ["x"]}, "unknown key"),
])
def test_bad_values_of_the_new_brand_keys_are_clear_errors(raw, error):
    with pytest.raises(ValueError, match=error):
        Brand.from_dict(raw)


def test_new_keys_are_accepted_in_the_config_file_and_unknown_ones_are_errors():
    from buzzwatch.config import ConfigError, CoreConfig

    cfg = CoreConfig.from_dict({"brands": [{"name": "Free", "match": "handles", "own_handles": ["@free"]}]})
    assert cfg.brands[0].match == "handles"
    with pytest.raises(ConfigError, match=r"\[\[brands\]\] #1: .*unknown key\(s\) exclusion"):
        CoreConfig.from_dict({"brands": [{"name": "Orange", "exclusion": ["orange juice"]}]})


def test_shipped_config_loads_with_the_new_keys():
    from pathlib import Path

    from streams.settings import load_settings

    cfg = load_settings(Path(__file__).resolve().parents[2] / "config" / "buzzwatch.toml", env={}).core
    assert cfg.brand_names
