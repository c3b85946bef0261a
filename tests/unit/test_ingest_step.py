"""The ingest step: nothing is silently lost, brands fan out, lateness is per raw partition."""

import orjson
from hypothesis import given, settings, strategies as st

from buzzwatch.config import CoreConfig
from buzzwatch.stages.ingest import IngestStep, RawRecord

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
        *(record(f"a{i}", "Acme", 10, partition=0) for i in range(3)),
        record("b", "Acme", 2, partition=1),  # far behind partition 0, but partition 1 is fresh
        record("c", "Acme", 2, partition=0),  # partition 0 is at minute 10: late
    ])
    assert {s.id: s.late for s in out.scored} == {"a0": False, "a1": False, "a2": False, "b": False, "c": True}


def test_a_partition_whose_first_record_has_a_wrong_clock_is_not_blinded():
    step = IngestStep(CoreConfig.from_dict({"brands": [{"name": "Acme"}],
                                            "pipeline": {"allowed_lateness_s": 60, "max_future_s": 86_400}}))
    out = step.process([record("liar", "Acme", 33, partition=0),
                        *(record(f"m{i}", "Acme", i / 10, partition=0) for i in range(10))])
    assert out.late == 0


def test_a_record_that_breaks_the_analyzer_is_dead_lettered_and_the_batch_goes_on(monkeypatch):
    step = IngestStep(CFG)
    real = step.analyzer.analyze

    def analyze(m):
        if m.id == "boom":
            raise ZeroDivisionError("a bug no rule foresaw")
        return real(m)

    monkeypatch.setattr(step.analyzer, "analyze", analyze)
    out = step.process([record("1", "Acme down", 0), record("boom", "Acme down", 0), record("2", "Acme down", 0)])
    assert [s.id for s in out.scored] == ["1", "2"]
    assert [(r.record.value, r.rejection.reason) for r in out.rejected] == [
        (record("boom", "Acme down", 0).value, "internal_error")]
    assert "ZeroDivisionError" in out.rejected[0].rejection.detail
    assert out.consumed == out.accepted + len(out.rejected) == 3


def test_odd_numbers_never_take_good_mentions_down():
    """The records measured in production: each is refused alone, the good ones all count."""
    odd = [
        {"id": "ms", "text": "Acme", "created_at": (NOW - 60_000)},  # epoch ms: accepted
        {"id": "big", "text": "Acme", "created_at": NOW / 1000, "author": {"followers": 2e19}},
        {"id": "y", "text": "Acme", "created_at": 1e18},
    ]
    beyond_u64 = b'{"id":"u","text":"Acme","created_at":%d,"author":{"followers":18446744073709551616}}' % (NOW // 1000)
    infinite = b'{"id":"i","text":"Acme","created_at":1e400}'
    good = [orjson.dumps({"id": f"g{i}", "text": "Acme is down", "created_at": NOW / 1000}) for i in range(50)]
    values = good[:25] + [orjson.dumps(o) for o in odd] + [beyond_u64, infinite] + good[25:]
    out = IngestStep(CFG).process([RawRecord(0, i, NOW, v) for i, v in enumerate(values)])
    assert sorted(r.rejection.reason for r in out.rejected) == ["not_json", "out_of_range", "out_of_range", "out_of_range"]
    assert len(out.scored) == 51 and len(out.wire) == 51


def test_five_huge_reaches_in_one_minute_sum_without_overflow():
    from buzzwatch.stages.buckets import BrandBuckets

    step = IngestStep(CFG)
    values = [orjson.dumps({"id": f"r{i}", "text": "Acme", "created_at": NOW / 1000,
                            "author": {"followers": 2**53}}) for i in range(5)]
    out = step.process([RawRecord(0, i, NOW, v) for i, v in enumerate(values)])
    buckets = BrandBuckets.new("Acme")
    for s in out.scored:
        buckets.add(s)
    summary = buckets.close_until(NOW + 120_000)[0]
    assert summary.reach == 2**53  # saturated, exact below the limit, never wrapped
    orjson.dumps(buckets.to_dict())  # still serialisable


def test_one_record_with_a_wrong_clock_does_not_make_the_partition_late():
    lenient = CoreConfig.from_dict({"brands": [{"name": "Acme"}],
                                    "pipeline": {"allowed_lateness_s": 60, "max_future_s": 86_400}})
    step = IngestStep(lenient)
    rows = [record(f"a{i}", "Acme", i / 10) for i in range(10)]
    rows.insert(5, record("liar", "Acme", 20 * 60))  # 20 h ahead, accepted by this lenient config
    out = step.process(rows)
    assert out.late == 0
    assert step.clock.get(0) < NOW + 60_000
