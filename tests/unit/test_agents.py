"""The agents in-process, under Faust's ``test_context()`` (memory store, no broker): what each
sends for what it reads. The Kafka tests prove the same end to end; these pin the wiring
(decode -> core -> send) and the rules that live in the agents, one at a time."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from buzzwatch.config import CoreConfig
from buzzwatch.contract.scored import ScoredMention, Watermark, decode_scored, encode_batches
from streams.settings import Settings

T0 = 1_795_000_000_000 - 1_795_000_000_000 % 60_000


class Sent:
    """Stands in for a topic's ``send``: records what the agent sent, delivered at once."""

    def __init__(self):
        self.records: list[dict] = []

    async def __call__(self, *, key=None, value=None, partition=None, headers=None, **_):
        self.records.append({"key": key, "value": value, "partition": partition, "headers": dict(headers or [])})
        fut = asyncio.get_running_loop().create_future()
        fut.set_result(None)
        return fut


@pytest.fixture
def worker(tmp_path):
    from streams.worker import build_worker

    core = CoreConfig.from_dict({
        "brands": [{"name": "Acme", "handles": ["@acme"]}],
        "pipeline": {"allowed_lateness_s": 60, "idle_partition_s": 0.0},
        "detector": {"warmup_minutes": 0},
    })
    settings = Settings(core=core, bootstrap="127.0.0.1:1", app_id=f"unit-{tmp_path.name}", data_dir=Path(tmp_path),
                        partitions=1, batch_within_s=0.02, watermark_interval_s=0.05)
    parts = build_worker(settings, with_web_metrics=False)
    parts.app.finalize()
    parts.app.conf.store = "memory://"
    parts.app.flow_control.resume()
    sent = {name: Sent() for name in ("scored", "dlq", "alerts")}
    for name, recorder in sent.items():
        getattr(parts.topics, name).send = recorder
    return parts, sent


def consumer_stub(topic: str, *, highwater: int, position: int):
    """The consumer's view of raw partition 0 that the watermark timer reads."""
    from faust.types import TP

    class Consumer:
        def assignment(self):
            return {TP(topic, 0)}

        def highwater(self, tp):
            return highwater

        async def position(self, tp):
            return position

    return Consumer


def agent(parts, name):
    return parts.app.agents[name]


def run(coro):
    return asyncio.run(coro)


def test_ingest_sends_one_record_per_brand_then_a_marker_and_dead_letters_the_odd(worker):
    parts, sent = worker
    good = [orjson.dumps({"id": str(i), "text": "@acme lost my parcel, awful", "created_at": T0 / 1000 + i, "lang": "en"})
            for i in range(3)]

    async def scenario():
        async with agent(parts, "ingest").test_context() as ag:
            for value in [*good, b"{not json"]:
                await ag.put(value)
            await asyncio.sleep(0.2)

    run(scenario())
    batches = [decode_scored(r["value"]) for r in sent["scored"].records if r["key"] == b"Acme"]
    assert [m.id for batch in batches for m in batch] == ["0", "1", "2"]
    markers = [decode_scored(r["value"]) for r in sent["scored"].records if r["key"] is None]
    assert markers and all(isinstance(m, Watermark) for m in markers)
    assert markers[-1].event_time_ms == T0  # where a majority (3 of 3) of the partition's records agree
    (dead,) = sent["dlq"].records
    assert dead["value"] == b"{not json" and dead["headers"]["buzzwatch.reason"] == b"not_json"


def test_a_caught_up_silent_partition_is_declared_idle_by_the_timer(worker):
    """The one wall-clock rule: caught up (position = high-water mark) and silent for
    ``idle_partition_s`` (0 here) -> the markers say idle, so it holds no minute open."""
    parts, sent = worker
    topic = parts.topics.mentions.get_topic_name()

    Consumer = consumer_stub(topic, highwater=5, position=5)
    parts.app.consumer = Consumer()  # type: ignore[assignment]
    run(parts.ingest_agent.refresh_watermarks())
    (marker,) = [decode_scored(r["value"]) for r in sent["scored"].records]
    assert marker.idle and marker.raw_partition == 0

    sent["scored"].records.clear()
    Consumer.highwater = lambda self, tp: 9  # records arrived: not caught up, not idle
    run(parts.ingest_agent.refresh_watermarks())
    (marker,) = [decode_scored(r["value"]) for r in sent["scored"].records]
    assert not marker.idle


def test_aggregate_counts_closes_alerts_and_saves_bounded_state(worker):
    parts, sent = worker
    rows = [ScoredMention(id=str(i), brand="Acme", created_at_ms=T0 + (i % 30) * 60_000, lang="en",
                          compound=-0.7, label="negative", text="awful") for i in range(300)]

    async def scenario():
        async with agent(parts, "aggregate").test_context() as ag:
            for record in encode_batches([m.to_wire() for m in rows], max_bytes=4_000):
                await ag.put(record, key=b"Acme")
            await ag.put(b"[2,[[0,\"x\"]]]", key=b"Acme")  # a batch this version cannot read
            await ag.put(Watermark(0, 1, T0 + 40 * 60_000).to_wire())
            await asyncio.sleep(0.2)

    run(scenario())
    st = parts.aggregate.state("Acme")
    assert st.buckets.counted() == (300, 300)
    assert st.buckets.closed_until_ms == T0 + 39 * 60_000
    (dead,) = sent["dlq"].records
    assert dead["headers"]["buzzwatch.stage"] == b"aggregate"
    stored = dict(parts.states.data)
    assert b"Acme" in stored and max(len(v) for v in stored.values()) < 64 * 1024


def test_a_batch_that_fails_as_a_whole_stops_the_worker_without_committing(worker, monkeypatch):
    """Not a record's fault (a broker refusal, a bug outside the per-record guards): the process
    exits before Faust acks the batch, so the restarted worker reads it again."""
    import agents.aggregate

    parts, sent = worker
    exits = []
    monkeypatch.setattr(agents.aggregate, "die_without_commit", lambda log, stage, exc: exits.append((stage, exc)))

    def broken(items):
        raise MemoryError("the whole batch")
        yield  # a generator, as the stage's own: the agent drives it in steps

    monkeypatch.setattr(parts.aggregate, "process_in_steps", broken)

    async def scenario():
        async with agent(parts, "aggregate").test_context() as ag:
            await ag.put(Watermark(0, 1, T0).to_wire())
            await asyncio.sleep(0.1)

    run(scenario())
    assert [(stage, type(exc).__name__) for stage, exc in exits] == [("aggregate", "MemoryError")]


def test_notify_books_an_opened_alert_and_keeps_spam_reports_out_of_the_book(worker):
    parts, sent = worker
    opened = {"alert_id": "Acme:2026-11-18T10:00:00Z", "brand": "Acme", "event": "opened", "severity": "warning",
              "onset_at": "2026-11-18T10:00:00Z", "detected_at": "2026-11-18T10:05:00Z", "evidence": {}}
    flood = {**opened, "alert_id": "Acme:spam:1", "event": "spam_flood"}

    async def scenario():
        async with agent(parts, "notify").test_context() as ag:
            for event in (opened, flood):
                await ag.put(orjson.dumps(event), key=b"Acme")
            await asyncio.sleep(0.1)

    run(scenario())
    desk = parts.oncall
    assert [e["alert_id"] for e in desk.entries()] == [opened["alert_id"]]
    assert desk.entry(opened["alert_id"])["deadline_ms"] > 0


def test_a_partition_with_records_waiting_and_none_processed_stops_the_worker(worker, monkeypatch):
    """Crash-only recovery from a stalled consumer: records wait on a raw partition and none
    reached the agent for ``stall_exit_s``: exit without committing (the supervisor restarts)."""
    import agents.ingest
    import time as _time

    parts, sent = worker
    exits = []
    monkeypatch.setattr(agents.ingest, "die_without_commit", lambda log, stage, exc: exits.append(str(exc)))
    topic = parts.topics.mentions.get_topic_name()

    parts.app.consumer = consumer_stub(topic, highwater=9, position=5)()  # type: ignore[assignment]
    run(parts.ingest_agent.refresh_watermarks())  # first look: the clock starts
    assert exits == []
    real = _time.time
    monkeypatch.setattr(agents.ingest.time, "time", lambda: real() + parts.settings.stall_exit_s + 1)
    run(parts.ingest_agent.refresh_watermarks())
    assert exits and "4 records waiting" in exits[0]



def test_no_partition_is_stalled_while_the_fetch_loop_waits_for_room_in_a_full_queue(worker, monkeypatch):
    """A loaded worker whose aggregate queue is full hands the ingest nothing for minutes: that is
    back-pressure, not a stalled partition (measured: the memory bench beside two busy loops
    exited 70 on this rule after a restart with 10,000 cold brands)."""
    import agents.ingest
    import time as _time

    parts, sent = worker
    exits = []
    monkeypatch.setattr(agents.ingest, "die_without_commit", lambda log, stage, exc: exits.append(str(exc)))
    topic = parts.topics.mentions.get_topic_name()
    consumer = consumer_stub(topic, highwater=9, position=5)()
    consumer.backpressured_within = lambda seconds: True
    parts.app.consumer = consumer  # type: ignore[assignment]
    run(parts.ingest_agent.refresh_watermarks())
    real = _time.time
    monkeypatch.setattr(agents.ingest.time, "time", lambda: real() + parts.settings.stall_exit_s + 1)
    run(parts.ingest_agent.refresh_watermarks())
    assert exits == []
    consumer.backpressured_within = lambda seconds: False  # the queue has room again, still nothing
    run(parts.ingest_agent.refresh_watermarks())
    assert exits and "4 records waiting" in exits[0]


def test_brands_of_a_gained_partition_show_their_figures_before_their_next_minute(worker):
    """After a rebalance the new owner of a scored partition exports its brands' gauges at its
    first batch (loaded from the table), not once traffic closes another of their minutes."""
    from streams import metrics as M

    parts, _sent = worker
    rows = [ScoredMention(id=str(i), brand="Acme", created_at_ms=T0 + i * 60_000, lang="en",
                          compound=-0.7, label="negative", text="awful") for i in range(5)]

    def gauge():
        return M.REGISTRY.get_sample_value("buzzwatch_brand_last_closed_minute_timestamp_seconds", {"brand": "Acme"})

    async def scenario():
        async with agent(parts, "aggregate").test_context() as ag:
            for record in encode_batches([m.to_wire() for m in rows], max_bytes=4_000):
                await ag.put(record, key=b"Acme")
            await ag.put(Watermark(0, 1, T0 + 10 * 60_000).to_wire())
            await asyncio.sleep(0.2)
            # a new owner of scored partition 0: nothing cached, no watermark yet, and the raw
            # partition's new owner has no clock to vouch for (traffic has not resumed)
            parts.aggregate.forget()
            parts.aggregate.watermarks.clear()
            M.forget_brand_gauges(["Acme"])
            assert gauge() is None
            parts.app.consumer = consumer_stub(parts.topics.scored.get_topic_name(), highwater=0, position=0)()
            await ag.put(Watermark(0, 1, -1).to_wire())
            await asyncio.sleep(0.2)

    run(scenario())
    assert gauge() == (T0 + 8 * 60_000) / 1000  # the last closed minute (watermark - lateness)


def test_only_the_worker_holding_the_alerts_partition_runs_the_response_clock():
    from faust.types import TP

    from agents.notify import holds

    alerts = TP("buzz.alerts", 0)

    class Consumer:
        def __init__(self, tps):
            self.tps = tps

        def assignment(self):
            if self.tps is None:
                raise RuntimeError("not assigned yet")
            return self.tps

    assert holds(Consumer({alerts, TP("mentions", 0)}), alerts)
    assert not holds(Consumer({TP("mentions", 0)}), alerts)  # the other worker of two
    assert not holds(Consumer(None), alerts) and not holds(None, alerts)  # starting up


def test_a_batch_of_table_writes_queues_without_stopping_the_streams(worker):
    """Faust stops handing records to the agents (and logs a warning) once more than
    ``max_messages`` table writes wait in its producer buffer; one aggregate batch saves a few
    keys for each brand whose minute it closed."""
    parts, _ = worker
    assert parts.app.producer.buffer.max_messages >= 8 * parts.settings.batch_size


def test_a_partition_revoked_while_the_watermark_timer_runs_neither_crashes_it_nor_gets_a_marker(worker):
    """Seen on the real broker (a second worker joining, 1 run of 20): the assignment changed
    while the timer awaited a position, and the timer's StopIteration crashed the worker."""
    from faust.types import TP

    parts, sent = worker
    topic = parts.topics.mentions.get_topic_name()
    assigned = {TP(topic, 0), TP(topic, 1)}

    class Consumer:
        def assignment(self):
            return set(assigned)

        def highwater(self, tp):
            return 5

        async def position(self, tp):
            assigned.discard(TP(topic, 1))  # the rebalance lands while the timer waits here
            if tp.partition == 1:
                raise RuntimeError("Partition is not assigned")  # what aiokafka raises then
            return 5

    parts.app.consumer = Consumer()  # type: ignore[assignment]
    run(parts.ingest_agent.refresh_watermarks())
    markers = [decode_scored(r["value"]) for r in sent["scored"].records]
    assert markers and {m.raw_partition for m in markers} == {0}


def test_a_hole_in_a_raw_partition_s_offsets_holds_its_marker_until_the_commit_passes_it(worker):
    """Seen live (second worker joining and leaving): the record at the committed offset was
    dropped by the consumer, the ingest read the ones after it and its marker vouched for their
    event time; the minutes closed, and the record read again after the restart was late."""
    from types import SimpleNamespace

    from faust.types import TP

    parts, sent = worker
    topic = parts.topics.mentions.get_topic_name()
    consumer = consumer_stub(topic, highwater=2200, position=2141)()
    consumer._committed_offset = {TP(topic, 0): 2141}
    parts.app.consumer = consumer  # type: ignore[assignment]

    def events(offsets):
        return [SimpleNamespace(message=SimpleNamespace(
            partition=0, offset=o, key=None, topic=topic, timestamp=T0 / 1000 + o * 60,
            value=orjson.dumps({"id": str(o), "text": "@acme awful", "created_at": T0 / 1000 + o * 60, "lang": "en"})))
            for o in offsets]

    def last_marker():
        markers = [decode_scored(r["value"]) for r in sent["scored"].records if r["key"] is None]
        return markers[-1].event_time_ms

    run(parts.ingest_agent.ingest_batch(events(range(2141, 2146))))
    before = last_marker()
    run(parts.ingest_agent.ingest_batch(events(range(2147, 2160))))  # 2146 never came
    assert last_marker() == before  # held: no minute may close past the missing record
    run(parts.ingest_agent.refresh_watermarks())
    assert last_marker() == before  # the commit waits at 2146: still held

    consumer._committed_offset = {TP(topic, 0): 2160}  # 2146 was read again and all committed
    run(parts.ingest_agent.refresh_watermarks())
    assert last_marker() > before
