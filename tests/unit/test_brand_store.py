"""Per-brand state in the table: bounded whatever the rate, readable after a save cut anywhere.

Specification:
- no stored value exceeds 64 KiB, for a brand at 20,000 mentions a minute, nor in a backlog
  where an hour of a hot brand's minutes stays open;
- a save writes only what changed;
- a crash can cut a save after any write: what is stored still loads, and redelivering the
  batch (at-least-once) gives exactly the totals of an uncut run;
- a reader of the whole changelog (tools, tests) gets every brand's state back.
"""

from __future__ import annotations

import copy

import pytest

from buzzwatch.stages.brandstore import MAX_VALUE_BYTES, BrandState, BrandStore, DictKV, StateError, states_from_items
from buzzwatch.contract.scored import ScoredMention

T0 = 1_795_000_000_000 - 1_795_000_000_000 % 60_000


def mention(i: int, minute: int, brand: str = "acme", label: str = "negative", **kw) -> ScoredMention:
    return ScoredMention(id=f"m{i}", brand=brand, created_at_ms=T0 + minute * 60_000 + i % 60_000, lang="en",
                         compound=-0.6 if label == "negative" else 0.5, label=label,
                         text=f"Acme lost my bag again {i % 97} " + "x" * 200, author=f"user{i}", followers=i,
                         author_key=i + 1, fingerprint=(i % 500) + 1, terms=(f"term{i % 700}", "#acmefail"), **kw)


class RecordingKV(DictKV):
    """A DictKV that remembers the writes of the last save, in order."""

    def __init__(self):
        super().__init__()
        self.ops: list[tuple[str, bytes, bytes | None]] = []

    def set(self, key, value):
        self.ops.append(("set", key, value))
        super().set(key, value)

    def delete(self, key):
        self.ops.append(("del", key, None))
        super().delete(key)


def test_a_brand_at_20000_mentions_a_minute_stays_under_the_bound():
    kv = DictKV()
    store = BrandStore(kv)
    st = BrandState.new("acme")
    for i in range(20_000):
        st.buckets.add(mention(i, 0))
        if i % 1000 == 999:
            store.save(st)  # once per batch of 1,000
    assert kv.largest <= MAX_VALUE_BYTES
    assert store.largest_value == kv.largest
    again = store.load("acme")
    assert again.buckets.counted() == st.buckets.counted() == (20_000, 20_000)
    assert again.buckets.open[T0].to_dict() == st.buckets.open[T0].to_dict()


def test_an_hour_of_open_minutes_in_a_backlog_stays_under_the_bound():
    """The aligned watermark waits for a slow partition; the hot brand's minutes pile up open."""
    kv = DictKV()
    store = BrandStore(kv)
    st = BrandState.new("acme")
    i = 0
    for minute in range(60):
        for _ in range(2_000):
            st.buckets.add(mention(i, minute))
            i += 1
        store.save(st)
    assert len(st.buckets.open) == 60
    assert kv.largest <= MAX_VALUE_BYTES
    assert len(kv.data[b"acme"]) < 16_384  # the index: runs of open minutes, not a list of them
    assert store.load("acme").buckets.counted() == (120_000, 120_000)


def test_a_save_writes_only_what_changed():
    kv = RecordingKV()
    store = BrandStore(kv)
    st = BrandState.new("acme")
    for i in range(5_000):
        st.buckets.add(mention(i, i // 1000))  # five minutes
    store.save(st)
    kv.ops.clear()
    st.buckets.add(mention(99_999, 4))
    store.save(st)
    written = [k for op, k, _ in kv.ops]
    assert written == [b"acme\x00i\x00" + str(T0 + 4 * 60_000).encode() + b"\x000",
                       b"acme\x00m\x00" + str(T0 + 4 * 60_000).encode(), b"acme"]


def test_closing_drops_the_minute_values_and_later_the_expired_ids():
    kv = DictKV()
    store = BrandStore(kv)
    st = BrandState.new("acme", dedupe_horizon_minutes=2)
    st.buckets.add(mention(1, 0))
    store.save(st)
    st.buckets.close_until(T0 + 60_000)
    store.save(st)
    assert sorted(kv.data) == [b"acme", b"acme\x00i\x00" + str(T0).encode() + b"\x000"]  # ids kept for dedupe
    assert store.load("acme").buckets.add(mention(1, 0)) == "duplicate"
    st.buckets.close_until(T0 + 10 * 60_000)
    store.save(st)
    assert sorted(kv.data) == [b"acme"]


@pytest.mark.parametrize("batch_size", [7, 300])
def test_a_save_cut_after_any_write_loads_and_redelivery_gives_exact_totals(batch_size):
    mentions = [mention(i, i // 200, label="negative" if i % 3 else "positive") for i in range(900)]
    # the reference: no crash
    ref = BrandState.new("acme")
    for m in mentions:
        ref.buckets.add(m)
    ref.buckets.close_until(T0 + 3 * 60_000)
    expected = ref.buckets.counted()

    kv = RecordingKV()
    store = BrandStore(kv)
    st = BrandState.new("acme")
    done = 0
    while done < len(mentions):
        batch = mentions[done: done + batch_size]
        before = copy.deepcopy(kv.data)
        for m in batch:
            st.buckets.add(m)
        if done + batch_size >= 600 > done:
            st.buckets.close_until(T0 + 3 * 60_000)  # a batch that also closes minutes
        kv.ops.clear()
        store.save(st)
        ops = list(kv.ops)
        for cut in range(len(ops) + 1):
            # the crash: only the first `cut` writes of this save reached the changelog
            crashed = DictKV()
            crashed.data = copy.deepcopy(before)
            for op, key, value in ops[:cut]:
                crashed.set(key, value) if op == "set" else crashed.delete(key)
            recovered = BrandStore(crashed).load("acme") or BrandState.new("acme")
            for m in batch + mentions[done + batch_size:]:  # at-least-once: the batch again, then the rest
                recovered.buckets.add(m)
            recovered.buckets.close_until(T0 + 3 * 60_000)
            assert recovered.buckets.counted() == expected, (done, cut, ops[cut - 1][:2] if cut else None)
        done += batch_size


def test_the_whole_changelog_gives_every_brand_back():
    kv = DictKV()
    store = BrandStore(kv)
    for brand in ("acme", "Lavéria"):
        st = BrandState.new(brand)
        for i in range(10):
            st.buckets.add(mention(i, 0, brand=brand))
        store.save(st)
    states = states_from_items(kv.data.items())
    assert sorted(states) == ["Lavéria", "acme"]
    assert states["Lavéria"].buckets.counted() == (10, 10)


def test_a_value_over_the_bound_is_refused_with_a_clear_error():
    store = BrandStore(DictKV(), max_value_bytes=100)
    st = BrandState.new("acme")
    st.buckets.add(mention(1, 0))
    with pytest.raises(StateError, match="bound 100"):
        store.save(st)


def test_state_of_another_version_asks_for_a_rebuild():
    kv = DictKV()
    kv.data[b"acme"] = b'{"v": 1}'
    with pytest.raises(StateError, match="rebuild"):
        BrandStore(kv).load("acme")


def test_a_gained_brand_shows_the_same_gauges_from_its_index_alone():
    """A worker that gains a partition shows its brands at once from their index (closed
    minutes, hours, last assessment), without their open minutes, id logs or detector."""
    from buzzwatch.config import CoreConfig
    from buzzwatch.contract.scored import Watermark
    from buzzwatch.stages.aggregate import AggregateStage, brand_gauges

    kv = DictKV()
    stage = AggregateStage(CoreConfig.from_dict({"brands": [{"name": "acme"}]}), kv)
    rows = [(0, ScoredMention(id=str(i), brand="acme", created_at_ms=T0 + (i % 90) * 60_000, lang="en",
                              compound=-0.5 if i % 3 else 0.4, label="negative" if i % 3 else "positive"))
            for i in range(900)]
    stage.save(stage.process(rows + [(0, Watermark(0, 1, T0 + 80 * 60_000))]).touched)  # minutes 78-89 stay open

    store = BrandStore(kv)
    full, closed = store.load("acme"), store.load_closed("acme")
    assert brand_gauges(closed) == brand_gauges(full) is not None
    assert closed.buckets.open == {} and full.buckets.open  # what it leaves out
    assert store.load_closed("globex") is None
