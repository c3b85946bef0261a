"""The brand's own accounts, as specifications: what they post is a response, never a
complaint, and it travels to the aggregate flagged ``from_brand``. Also: which brands and
which language a mention gets from the brands' rules."""

from dataclasses import replace

import orjson
import pytest

from buzzwatch.text.analyze import MentionAnalyzer
from buzzwatch.config import CoreConfig
from buzzwatch.contract.mention import Mention
from buzzwatch.contract.scored import ScoredMention, WireError, decode_scored

CFG = CoreConfig.from_dict({"brands": [
    {"name": "Orange", "handles": ["@orange"], "languages": ["fr", "en"],
     "exclude": ["orange juice", "jus d'orange"], "own_handles": ["@Orange_France"], "own_author_ids": ["42"]},
    {"name": "Free", "handles": ["@free"], "match": "handles", "languages": ["fr"]},
    {"name": "Acme", "handles": ["@acme"], "languages": ["en", "fr"]},
]})
ANALYZER = MentionAnalyzer(CFG)


def mention(text, author_id=None, author_name=None, brand=None, lang=None):
    return Mention(id="m1", text=text, created_at_ms=0, author_id=author_id, author_name=author_name,
                   brand=brand, lang=lang)


def scored(m):
    return {s.brand: s.from_brand for s in ANALYZER.scored(m, ANALYZER.analyze(m))}


@pytest.mark.parametrize("m, expected", [
    # the brand's apology, from its handle: counted for the brand, flagged as a response
    (mention("Nous sommes désolés pour la panne, nos équipes sont mobilisées", author_name="Orange_France"),
     {"Orange": True}),
    (mention("@client désolé pour la gêne", author_id="42"), {"Orange": True}),   # a verified author id
    (mention("@free est en panne aussi", author_name="@orange_france"), {"Orange": True, "Free": False}),
    (mention("Orange en panne, nul", author_name="bob"), {"Orange": False}),       # a customer
    (mention("Orange en panne, nul", author_id="43"), {"Orange": False}),
])
def test_posts_by_the_brands_own_accounts_are_responses(m, expected):
    assert scored(m) == expected


def test_a_response_is_flagged_whatever_its_sentiment():
    m = mention("Nous sommes désolés pour cette panne horrible", author_name="Orange_France")
    a = ANALYZER.analyze(m)
    assert a.sentiment.label == "negative"            # the words are negative...
    assert a.from_brands == ("Orange",)               # ...but it is the brand answering


@pytest.mark.parametrize("text, declared, brands", [
    ("I love orange juice", None, ()),
    ("I love orange juice", "Orange", ()),                   # a declared brand refused by its rules
    ("their app is down again", "Orange", ("Orange",)),      # a declared brand the text does not name
    ("I feel free today", "Free", ()),                       # handles-only brand, bare word
    ("ma box est en panne", "free", ("Free",)),
])
def test_declared_brand_follows_the_brands_rules(text, declared, brands):
    assert ANALYZER.brands_of(mention(text, brand=declared)) == brands


@pytest.mark.parametrize("text, declared, lang", [
    ("Acme fail", None, "en"),              # short: the brand's first language knows "fail"
    ("Orange nul", None, "fr"),             # "nul" is French (the model said Danish)
    ("@free nul", None, "fr"),              # a French-only brand
    ("Acme 😡😡😡", None, "en"),             # emoji only: the brand's first language, scored
    ("@orange 😡😡😡", None, "fr"),
    ("Acme pas top", None, "fr"),           # French words win over the first language
    ("Merci @orange, service au top", None, "fr"),  # ambiguous, detected Romanian: the brand's language
    ("El servicio de Acme es terrible, nadie contesta el teléfono", None, "es"),  # long: detected
    ("Orange nul", "de", "de"),             # a declared language wins
])
def test_short_and_ambiguous_posts_go_to_the_brands_languages(text, declared, lang):
    assert ANALYZER.analyze(mention(text, lang=declared)).sentiment.lang == lang


@pytest.mark.parametrize("text", ["Acme 😡😡😡", "Acme fail", "Orange nul", "@orange pas terrible"])
def test_short_complaints_are_scored_negative(text):
    assert ANALYZER.analyze(mention(text)).sentiment.label == "negative"


# --- the wire: from_brand is appended last, the 16-field form still decodes --------------------

BASE = ScoredMention(id="t1", brand="Orange", created_at_ms=60_000, lang="fr", compound=-0.6, label="negative",
                     text="désolés", author="Orange_France", followers=10, from_brand=True)


@pytest.mark.parametrize("record", [BASE, replace(BASE, from_brand=False)])
def test_scored_mention_round_trips_with_from_brand(record):
    assert decode_scored(record.to_wire()) == [record]


def test_from_brand_is_the_last_field_of_the_wire_array():
    row = orjson.loads(BASE.to_wire())
    assert len(row) == 17 and row[-1] is True


def test_a_record_written_before_from_brand_existed_decodes_as_not_from_brand():
    old = orjson.loads(BASE.to_wire())[:16]
    (decoded,) = decode_scored(orjson.dumps(old))
    assert decoded.from_brand is False
    assert decoded.id == "t1" and decoded.label == "negative"


@pytest.mark.parametrize("row_len", [15, 18])
def test_a_wire_array_of_unknown_length_is_a_clear_error(row_len):
    row = orjson.loads(BASE.to_wire())
    row = row[:row_len] if row_len < len(row) else row + [None] * (row_len - len(row))
    with pytest.raises(WireError):
        decode_scored(orjson.dumps(row))


# --- the aggregate side: responses are counted apart from mentions -----------------------------

def test_a_response_is_counted_as_a_response_not_as_a_mention():
    from buzzwatch.stages.buckets import BrandBuckets

    st = BrandBuckets.new("Orange")
    customer = ScoredMention(id="c1", brand="Orange", created_at_ms=60_000, lang="fr", compound=-0.8,
                             label="negative", text="panne encore")
    reply = replace(BASE, id="r1", created_at_ms=61_000)
    assert st.add(customer) == "counted"
    st.add(reply)
    [minute] = st.close_until(120_000)
    assert (minute.mentions, minute.negative, minute.responses) == (1, 1, 1)
    assert [p.id for p in minute.top_negative] == ["c1"]  # the apology is not evidence of a crisis


def test_open_minute_state_keeps_responses_and_reads_state_written_without_them():
    from buzzwatch.stages.buckets import OpenMinute

    m = OpenMinute(start_ms=0)
    m.add(BASE)
    d = m.to_dict()
    assert OpenMinute.from_dict(d).responses == 1
    d["c"] = d["c"][:10]  # a minute written before responses existed
    assert OpenMinute.from_dict(d).responses == 0


def test_the_minute_keeps_the_brands_earliest_answer_whatever_the_arrival_order():
    from buzzwatch.stages.buckets import BrandBuckets

    replies = [replace(BASE, id=f"r{i}", created_at_ms=60_000 + t, url=f"https://x/{i}")
               for i, t in enumerate([30_000, 5_000, 5_000, 50_000])]
    for order in (replies, list(reversed(replies))):
        st = BrandBuckets.new("Orange")
        for r in order:
            st.add(r)
        [minute] = st.close_until(120_000)
        assert minute.responses == 4
        assert (minute.first_response.id, minute.first_response.url) == ("r1", "https://x/1")
