"""The mention contract: what is accepted, what is refused and why (the DLQ reason)."""

import orjson
import pytest
from hypothesis import given, strategies as st

from buzzwatch.contract.mention import REASONS, Mention, Rejection, parse_mention

NOW = 1_795_428_900_000  # 2026-11-23T10:15:00Z


def raw(**fields) -> bytes:
    base = {"id": "m1", "text": "Acme lost my parcel", "created_at": "2026-11-23T10:14:00Z"}
    base.update(fields)
    return orjson.dumps({k: v for k, v in base.items() if v is not ...})


def test_minimal_mention_is_accepted_with_event_time_in_utc_ms():
    m = parse_mention(raw(), reference_ms=NOW)
    assert isinstance(m, Mention)
    assert m.created_at_ms == NOW - 60_000


@pytest.mark.parametrize(
    "created_at, expected_ms",
    [
        ("2026-11-23T10:14:00Z", NOW - 60_000),
        ("2026-11-23T10:14:00", NOW - 60_000),  # no zone = UTC
        ("2026-11-23T11:14:00+01:00", NOW - 60_000),
        (1795428840, NOW - 60_000),  # epoch seconds
        (1795428840.5, NOW - 59_500),
        (1795428840000, NOW - 60_000),  # epoch milliseconds are recognised, not read as year 58866
        (1795428840000.0, NOW - 60_000),
    ],
)
def test_created_at_forms(created_at, expected_ms):
    assert parse_mention(raw(created_at=created_at), reference_ms=NOW).created_at_ms == expected_ms


@pytest.mark.parametrize(
    "value, reason",
    [
        (b"\xff\xfe not utf8", "not_utf8"),
        (b"{not json", "not_json"),
        (b"[1, 2]", "not_object"),
        (raw(id=...), "missing_field"),
        (raw(text=...), "missing_field"),
        (raw(created_at=...), "missing_field"),
        (raw(id=""), "bad_type"),
        (raw(id=["x"]), "bad_type"),
        (raw(text=42), "bad_type"),
        (raw(text="   "), "empty_text"),
        (raw(text="x" * 10_001), "text_too_long"),
        (raw(created_at="last tuesday"), "bad_timestamp"),
        (raw(created_at=True), "bad_timestamp"),
        (raw(created_at=12), "out_of_range"),  # 1970: a unit error, not a mention
        (raw(created_at="2027-01-01T00:00:00Z"), "future_timestamp"),
        (raw(created_at="2026-11-23T10:26:00Z"), "future_timestamp"),  # 11 min ahead of the record time
        (raw(created_at=1795428840000000), "out_of_range"),  # microseconds: refused, not guessed
        (raw(created_at="2150-01-01T00:00:00Z"), "out_of_range"),
        (raw(created_at="9999-12-31T23:59:59-12:00"), "out_of_range"),
        (raw(created_at=1e300), "out_of_range"),
        (raw(created_at=-5), "out_of_range"),
        (raw(author={"followers": 2e19}), "out_of_range"),
        (raw(author={"followers": 2**62}), "out_of_range"),
        (raw(engagement={"shares": 2**53 + 1}), "out_of_range"),
        (raw(author="bob"), "bad_type"),
        (raw(author={"followers": -3}), "bad_type"),
        (raw(engagement={"likes": "many"}), "bad_type"),
        (raw(lang=5), "bad_type"),
    ],
)
def test_bad_input_is_rejected_with_a_reason(value, reason):
    verdict = parse_mention(value, reference_ms=NOW)
    assert isinstance(verdict, Rejection), verdict
    assert verdict.reason == reason
    assert verdict.reason in REASONS
    assert verdict.detail


def test_future_check_uses_the_record_time_not_the_wall_clock():
    # The same record replayed a year later is judged the same way.
    value = raw(created_at="2026-11-23T10:20:00Z")  # 5 min ahead of the record: a clock skew we accept
    assert isinstance(parse_mention(value, reference_ms=NOW), Mention)
    assert isinstance(parse_mention(value, reference_ms=NOW - 2 * 86_400_000), Rejection)


def test_optional_fields_and_unknown_fields_are_kept():
    m = parse_mention(
        raw(brand="Acme", lang="en", source="x", url="https://x/1",
            author={"id": 7, "name": "bob", "followers": 1200, "verified": True},
            engagement={"likes": 3, "shares": 2, "replies": 1}, campaign="spring", geo={"c": "FR"}),
        reference_ms=NOW,
    )
    assert (m.brand, m.lang, m.author_id, m.author_name, m.followers, m.verified) == ("Acme", "en", "7", "bob", 1200, True)
    assert (m.likes, m.shares, m.replies) == (3, 2, 1)
    assert m.extra == {"campaign": "spring", "geo": {"c": "FR"}}


def test_numeric_ids_are_accepted_as_strings():
    assert parse_mention(raw(id=570306133677760513), reference_ms=NOW).id == "570306133677760513"


@given(st.binary(max_size=200))
def test_any_bytes_give_a_mention_or_a_known_reason_never_an_exception(value):
    verdict = parse_mention(value, reference_ms=NOW)
    assert isinstance(verdict, Mention) or verdict.reason in REASONS


def test_counts_up_to_2_pow_53_are_accepted_exactly():
    m = parse_mention(raw(author={"followers": 2**53}, engagement={"shares": 2**53}), reference_ms=NOW)
    assert (m.followers, m.shares) == (2**53, 2**53)


def test_the_future_limit_is_configurable():
    value = raw(created_at="2026-11-23T12:00:00Z")
    assert isinstance(parse_mention(value, reference_ms=NOW, max_future_ms=3 * 3_600_000), Mention)
    assert parse_mention(value, reference_ms=NOW).reason == "future_timestamp"


@pytest.mark.parametrize(
    "value, expected",
    [
        (raw(brand=5), Rejection("bad_type", "brand must be a string")),
        (raw(url=["x"]), Rejection("bad_type", "url must be a string")),
        (raw(author={"followers": True}), Rejection("bad_type", "author.followers must be a non-negative number")),
        (raw(engagement={"replies": -1}), Rejection("bad_type", "engagement.replies must be a non-negative number")),
        (raw(engagement={"likes": 2**53 + 1}),
         Rejection("out_of_range", "engagement.likes is 9007199254740993, above the limit 2**53")),
    ],
)
def test_rejection_details_name_the_field(value, expected):
    assert parse_mention(value, reference_ms=NOW) == expected


def test_counts_and_optional_strings_are_normalized():
    m = parse_mention(raw(brand="  Acme ", lang="  ", source=None, author={"followers": 12.0, "name": "bob"},
                          engagement={"likes": 0, "shares": 2**53}), reference_ms=NOW)
    assert (m.brand, m.lang, m.source, m.followers, m.likes, m.shares) == ("Acme", None, None, 12, 0, 2**53)
    assert type(m.followers) is int
