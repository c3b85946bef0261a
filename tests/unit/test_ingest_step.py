"""The ingest step: nothing is silently lost, brands fan out, lateness is per raw partition."""

import orjson
from hypothesis import given, settings, strategies as st

from buzzwatch.config import CoreConfig
from buzzwatch.ingest import IngestStep, RawRecord

CFG = CoreConfig.from_dict({
    "brands": [{"name": "Acme", "handles": ["@acme"]}, {"name": "Orange", "handles": ["@orange"]}],
    "pipeline": {"allowed_lateness_s": 60},
})
NOW = 1_795_428_900_000
STEP = IngestStep(CFG)

mention_values = st.one_of(
    st.binary(max_size=60),
    st.builds(
        lambda i, text, ts, brand: orjson.dumps({"id": i, "text": text, "created_at": ts, "brand": brand}),
        st.one_of(st.text(max_size=5), st.integers(-2**53, 2**53), st.none()),
        st.one_of(st.sampled_from(["Acme is down", "@orange et @acme en panne", "lovely day", ""]), st.integers(-2**53, 2**53)),
        st.one_of(st.integers(NOW // 1000 - 3600, NOW // 1000 + 3 * 86400), st.just("2026-11-23T10:00:00Z"), st.text(max_size=4)),
        st.one_of(st.none(), st.sampled_from(["Acme", "Unknown Co", "orange"])),
    ),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), mention_values), max_size=30))
def test_consumed_equals_accepted_plus_dead_lettered(rows):
    out = STEP.process([RawRecord(p, i, NOW, v) for i, (p, v) in enumerate(rows)])
    assert out.consumed == len(rows)
    assert out.consumed == out.accepted + len(out.rejected)
    assert out.accepted == len(out.mentions)
    assert out.accepted >= out.unmatched


def record(mid, text, minute, partition=0, **extra):
    value = orjson.dumps({"id": mid, "text": text, "created_at": (NOW + minute * 60_000) / 1000, **extra})
    return RawRecord(partition, 0, NOW + 3_600_000, value)


def test_a_mention_naming_two_brands_counts_for_both():
    out = IngestStep(CFG).process([record("1", "@orange et @acme en panne depuis ce matin", 0)])
    assert sorted(s.brand for s in out.scored) == ["Acme", "Orange"]


def test_declared_brand_counts_even_if_text_does_not_name_it():
    out = IngestStep(CFG).process([record("1", "their app is down again", 0, brand="acme")])
    assert [s.brand for s in out.scored] == ["Acme"]


def test_mention_of_no_configured_brand_is_counted_unmatched_not_dropped():
    out = IngestStep(CFG).process([record("1", "nothing to see", 0, brand="Unknown Co")])
    assert (out.accepted, out.unmatched, out.scored) == (1, 1, [])


def test_lateness_is_judged_by_the_mentions_own_partition():
    step = IngestStep(CFG)
    out = step.process([
        record("a", "Acme", 10, partition=0),
        record("b", "Acme", 2, partition=1),  # far behind partition 0, but partition 1 is fresh
        record("c", "Acme", 2, partition=0),  # partition 0 is at minute 10: late
    ])
    assert {s.id: s.late for s in out.scored} == {"a": False, "b": False, "c": True}
