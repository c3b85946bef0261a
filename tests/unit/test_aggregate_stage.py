"""The aggregate stage: one object owns the per-batch loop for every driver (agent, backtest,
replay, bench). It folds, follows the watermarks, closes, and reports plain values; nothing in
one record or one brand can take the others down."""

from __future__ import annotations

import pytest

from buzzwatch.stages.aggregate import AggregateStage, brand_gauges
from buzzwatch.stages.brandstore import DictKV
from buzzwatch.config import CoreConfig
from buzzwatch.contract.scored import ScoredMention, Watermark

T0 = 1_795_000_000_000 - 1_795_000_000_000 % 60_000
CFG = CoreConfig.from_dict({"brands": [{"name": "acme"}, {"name": "globex"}], "pipeline": {"allowed_lateness_s": 60}})


def m(i, brand="acme", minute=0, label="negative"):
    return ScoredMention(id=str(i), brand=brand, created_at_ms=T0 + minute * 60_000, lang="en",
                         compound=-0.5 if label == "negative" else 0.5, label=label)


def test_a_minute_closes_when_every_raw_partition_passed_it_plus_the_lateness():
    stage = AggregateStage(CFG)
    out = stage.process([(0, m(1)), (0, Watermark(0, 2, T0 + 3 * 60_000))])
    assert out.closed == {}  # raw partition 1 has not spoken: nothing can close
    out = stage.process([(0, Watermark(1, 2, T0 + 2 * 60_000))])
    assert [c.summary.mentions for c in out.closed["acme"]] == [1]  # minute 0 ended at T0+1min, +1 min lateness
    assert out.watermarks == {0: T0 + 2 * 60_000}


def test_brands_close_on_their_own_partition_only():
    parts = {"acme": 0, "globex": 1}
    stage = AggregateStage(CFG, partition_of=parts.__getitem__)
    out = stage.process([(0, m(1)), (1, m(2, "globex")), (0, Watermark(0, 1, T0 + 5 * 60_000))])
    assert set(out.closed) == {"acme"}
    out = stage.process([(1, Watermark(0, 1, T0 + 5 * 60_000))])
    assert set(out.closed) == {"globex"}


def test_a_record_that_fails_is_reported_and_the_batch_goes_on():
    stage = AggregateStage(CFG)
    broken = ScoredMention(id="x", brand="acme", created_at_ms=None, lang="en", compound=0, label="neutral")  # type: ignore[arg-type]
    out = stage.process([(0, m(1)), (0, broken), (0, m(2))])
    assert [i for i, _ in out.failed] == [1]
    assert out.outcomes == [("acme", "counted"), ("acme", "counted")]


def test_a_brand_whose_detection_fails_keeps_what_was_counted_and_blinds_no_other(monkeypatch):
    stage = AggregateStage(CFG)
    real = stage.close

    def close(state, wm):
        if state.buckets.brand == "acme":
            raise RuntimeError("detector bug")
        return real(state, wm)

    monkeypatch.setattr(stage, "close", close)
    out = stage.process([(0, m(1)), (0, m(2, "globex")), (0, Watermark(0, 1, T0 + 5 * 60_000))])
    assert [b for b, _ in out.failed_brands] == ["acme"]
    assert "globex" in out.closed and "acme" in out.touched
    assert stage.state("acme").buckets.counted() == (1, 1)


def test_state_is_saved_and_read_back_by_a_new_stage_as_a_restarted_worker_would():
    kv = DictKV()
    loaded = []
    first = AggregateStage(CFG, kv)
    out = first.process([(0, m(i, minute=i % 3)) for i in range(30)] + [(0, Watermark(0, 1, T0 + 3 * 60_000))])
    first.save(out.touched)
    second = AggregateStage(CFG, kv, on_load=lambda b, st: loaded.append(b))
    again = second.process([(0, m(i, minute=i % 3)) for i in range(30)])  # redelivered after a crash
    assert {o for _, o in again.outcomes} <= {"duplicate", "late"}
    assert second.state("acme").buckets.counted() == first.state("acme").buckets.counted() == (30, 30)
    assert loaded == ["acme"]
    g = brand_gauges(second.state("acme"))
    assert g.last_minute_start_ms == T0 + 60_000 and g.windows["5m"].mentions == 20


def test_a_restarted_stage_knows_how_far_every_raw_partition_got_without_new_markers_from_them():
    """Stop 20's second-worker failure: after a restart, raw partitions 0, 2 and 3 had nothing
    new to read, so their reader had no clock to send, and the markers that had carried their
    clocks were committed: no minute closed again. The aligned watermark is kept in the store."""
    kv = DictKV()
    first = AggregateStage(CFG, kv)
    out = first.process([(0, m(1, minute=0))] + [(0, Watermark(p, 4, T0 + 30 * 60_000)) for p in (0, 2, 3)]
                        + [(0, Watermark(1, 4, T0 + 2 * 60_000))])
    first.save(out.touched)
    assert [c.summary.start_ms for c in out.closed["acme"]] == [T0]

    second = AggregateStage(CFG, kv)  # the restart: raw 1's reader reads on, the others send nothing (-1)
    out = second.process([(0, m(2, minute=5))] + [(0, Watermark(p, 4, -1)) for p in (0, 2, 3)]
                         + [(0, Watermark(1, 4, T0 + 20 * 60_000))])
    assert out.watermarks == {0: T0 + 20 * 60_000}
    closed = [c.summary for c in out.closed["acme"]]
    assert closed[0].start_ms == T0 + 60_000 and closed[-1].start_ms == T0 + 18 * 60_000
    assert sum(c.mentions for c in closed) == 1  # minute 5's mention, counted once


def test_a_stored_watermark_is_written_after_the_brands_and_only_when_it_moved():
    written = []

    class RecordingKV(DictKV):
        def set(self, key, value):
            written.append(key)
            super().set(key, value)

    stage = AggregateStage(CFG, RecordingKV())
    out = stage.process([(0, m(1)), (0, Watermark(0, 1, T0 + 5 * 60_000))])
    stage.save(out.touched)
    assert written[-1] == b"\x00w\x000" and all(k.startswith(b"acme") for k in written[:-1])
    written.clear()
    stage.save(stage.process([(0, Watermark(0, 1, T0 + 5 * 60_000))]).touched)  # the same clock again
    assert written == []


def test_a_partition_given_away_and_taken_back_reads_its_watermark_from_the_store_again():
    kv = DictKV()
    mine, theirs = AggregateStage(CFG, kv), AggregateStage(CFG, kv)
    mine.save(mine.process([(0, Watermark(0, 1, T0 + 5 * 60_000))]).touched)
    mine.forget([0])
    theirs.save(theirs.process([(0, m(1, minute=6)), (0, Watermark(0, 1, T0 + 9 * 60_000))]).touched)
    assert mine.watermark(0) == T0 + 9 * 60_000  # not the 5 minutes it had before giving it away


def test_a_revoke_signal_that_runs_late_loses_no_marker_of_a_partition_still_owned():
    """Faust's revoke signal can run after the new assignment's first batch: what that batch
    learnt, not saved yet, must survive it."""
    stage = AggregateStage(CFG, DictKV())
    stage.save(stage.process([(0, Watermark(0, 1, T0 + 5 * 60_000))]).touched)
    stage.process([(0, Watermark(0, 1, T0 + 9 * 60_000))])  # its save waits behind the batch's sends
    stage.forget([0])
    assert stage.watermark(0) == T0 + 9 * 60_000


def test_forget_drops_the_brands_of_revoked_partitions_only():
    stage = AggregateStage(CFG, DictKV(), partition_of={"acme": 0, "globex": 1}.__getitem__)
    stage.process([(0, m(1)), (1, m(2, "globex"))])
    assert stage.forget([1]) == ["globex"]
    assert sorted(stage.cache) == ["acme"]


@pytest.mark.parametrize("batch", [1, 10, 1000])
def test_batch_boundaries_do_not_change_what_is_counted_or_alerted(batch):
    rows = [(0, m(i, "acme" if i % 4 else "globex", minute=i // 40, label="negative" if i % 5 else "positive"))
            for i in range(400)]
    rows.append((0, Watermark(0, 1, T0 + 30 * 60_000)))
    reference = AggregateStage(CFG)
    ref = reference.process(rows)
    stage = AggregateStage(CFG, DictKV())
    events = []
    for i in range(0, len(rows), batch):
        out = stage.process(rows[i: i + batch])
        stage.save(out.touched)
        events.extend(out.events)
    assert events == ref.events
    for brand in ("acme", "globex"):
        assert stage.state(brand).buckets.to_dict() == reference.state(brand).buckets.to_dict()


def test_a_record_of_a_brand_nobody_configured_grows_no_state():
    stage = AggregateStage(CFG)
    out = stage.process([(0, m(1, brand="unknown-co")), (0, m(2))])
    assert [i for i, _ in out.failed] == [0] and "not configured" in str(out.failed[0][1])
    assert sorted(stage.cache) == ["acme"]


def test_the_brands_public_answer_marks_its_open_alert_responded_once():
    from buzzwatch.stages.aggregate import follow_answer
    from buzzwatch.stages.summary import MinuteSummary, TopPost

    reply = TopPost("r1", "Nous sommes désolés", 0.1, T0 + 30_000, "https://x/r1", "Orange_France", 10)
    quiet = MinuteSummary(brand="acme", start_ms=T0, mentions=3)
    answered = MinuteSummary(brand="acme", start_ms=T0, mentions=3, responses=2, first_response=reply)
    opened = {"alert_id": "acme:1", "event": "opened", "severity": "warning", "onset_at": "x"}
    last: dict = {}
    assert follow_answer(last, answered, []) is None  # no alert open: a reply is just a reply
    assert follow_answer(last, quiet, [opened]) is None
    event = follow_answer(last, answered, [])
    assert (event["alert_id"], event["event"], event["response"]["url"]) == ("acme:1", "responded", "https://x/r1")
    assert follow_answer(last, answered, []) is None  # once per alert
    follow_answer(last, quiet, [{"alert_id": "acme:1", "event": "resolved"}])
    assert last["open_alert"] is None


def test_the_brands_of_a_partition_given_away_are_not_shown_but_nothing_is_lost():
    stage = AggregateStage(CFG, DictKV(), partition_of={"acme": 0, "globex": 1}.__getitem__)
    stage.owned = {0}
    out = stage.process([(0, m(1)), (1, m(2, "globex"))])
    assert out.outcomes == [("acme", "counted"), ("globex", "counted")]  # never skipped
    assert stage.owned_brand("acme") and not stage.owned_brand("globex")


def test_closing_many_brands_pauses_every_few_brands_and_gives_the_same_batch():
    """Closing a minute of 10,000 brands is seconds of CPU: the agent drives the stage in steps
    so that the worker's event loop runs its other tasks (the /metrics page, the timers) between
    them. Stepped or not, the batch and the states are the same."""
    names = [f"brand{i:03d}" for i in range(25)]
    cfg = CoreConfig.from_dict({"brands": [{"name": n} for n in names], "pipeline": {"allowed_lateness_s": 60}})
    batch = [(0, m(i, names[i % 25], minute=i % 3)) for i in range(100)] + [(0, Watermark(0, 1, T0 + 9 * 60_000))]
    whole = AggregateStage(cfg, kv=DictKV())
    expected = whole.process(batch)

    stepped = AggregateStage(cfg, kv=DictKV())
    steps = stepped.process_in_steps(batch, brands_per_step=10)
    pauses = 0
    while True:
        try:
            next(steps)
            pauses += 1
        except StopIteration as done:
            out = done.value
            break
    assert pauses == 10 + 2  # 101 records folded (a pause before the 11th, 21st, ... 101st), 25 brands closed (after the 10th, 20th)
    assert out.events == expected.events and out.outcomes == expected.outcomes
    assert {b: [c.summary for c in cs] for b, cs in out.closed.items()} == \
        {b: [c.summary for c in cs] for b, cs in expected.closed.items()}
    assert out.touched == expected.touched and out.watermarks == expected.watermarks


def test_saving_many_brands_pauses_every_few_brands_and_writes_the_same():
    names = [f"brand{i:03d}" for i in range(25)]
    cfg = CoreConfig.from_dict({"brands": [{"name": n} for n in names], "pipeline": {"allowed_lateness_s": 60}})
    batch = [(0, m(i, names[i % 25], minute=i % 3)) for i in range(100)] + [(0, Watermark(0, 1, T0 + 9 * 60_000))]
    stores = []
    for per_step in (None, 10):
        kv = DictKV()
        stage = AggregateStage(cfg, kv=kv)
        out = stage.process(batch)
        if per_step is None:
            stage.save(out.touched)
        else:
            assert sum(1 for _ in stage.save_in_steps(out.touched, brands_per_step=per_step)) == 2  # after 10, 20
        stores.append(dict(kv.data))
    assert stores[0] == stores[1] and len(stores[0]) > 25
