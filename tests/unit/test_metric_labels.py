"""Metric labels stay bounded by the configuration, whatever the traffic.

The pipeline is hostile input: anyone can post a mention naming any "brand", with any text,
author and id. A label value taken from a mention would make a new time series per mention
and, at 100,000 mentions, take Prometheus down. So the only domain label is ``brand``, it
only ever holds a configured brand, and no label holds text, author or id. The flood below
drives the same calls as the ingest and aggregate agents (core steps + ``streams.metrics``
recorders), batch by batch, without Kafka; it also pushes records of unknown brands straight
into the aggregate stage, as a foreign or older producer on ``mentions.scored`` could.
"""

from __future__ import annotations

import time

import orjson
import pytest

from buzzwatch.stages.aggregate import AggregateStage, brand_gauges
from buzzwatch.config import CoreConfig
from buzzwatch.stages.ingest import IngestStep, RawRecord
from buzzwatch.timeutil import format_timestamp
from buzzwatch.contract.scored import ScoredMention
from streams import metrics as M

pytestmark = pytest.mark.security

CORE = CoreConfig.from_dict({
    "brands": [{"name": "Acme", "handles": ["@acme"]}, {"name": "Lavéria", "handles": ["@laveria"]}],
    "pipeline": {"allowed_lateness_s": 60},
})
CONFIGURED = set(CORE.brand_names)
T0 = 1_795_000_000_000 - 1_795_000_000_000 % 60_000
FLOOD = 100_000
BATCH = 2_000
FOREIGN = 300  # brands pushed straight onto the aggregate stage, per round
# every label name a Buzzwatch metric may carry (each from a small fixed set, or `brand`)
ALLOWED_LABELS = {"brand", "window", "event", "reason", "sink", "outcome", "lang", "label", "stage", "le"}


class Pipeline:
    """Ingest + aggregate + metrics, in the agents' order (one raw partition, one scored one)."""

    def __init__(self):
        self.ingest = IngestStep(CORE)
        self.stage = AggregateStage(CORE)
        self.offset = 0

    def feed(self, values: list[bytes], foreign: list[ScoredMention] = ()) -> None:
        # Kafka record time a minute after each mention's event time (the future check reads it)
        records = [RawRecord(0, self.offset + i, T0 + (self.offset + i) * 50 + 60_000, v) for i, v in enumerate(values)]
        self.offset += len(records)
        now_s = time.time()
        result = self.ingest.process(records)
        M.observe_ingest(result, records, now_s)
        items = [(0, s) for s in [*result.scored, *foreign]] + [(0, m) for m in self.ingest.markers([0], 1)]
        out = self.stage.process(items)
        M.observe_aggregate(out.outcomes, CONFIGURED, None, now_s)
        M.observe_closed(out.closed, CONFIGURED, lambda b: brand_gauges(self.stage.state(b)))


def hostile(i: int) -> bytes:
    """A mention declaring and naming a brand nobody configured, with unique id, author, text;
    one in ten also names a configured brand, so per-brand series are really being written."""
    name = f"Unknown{i:06d}"
    text = f"{name} scam @{name.lower()} #{name.lower()}" + (" @acme" if i % 10 == 0 else "")
    return orjson.dumps({
        "id": f"flood-{i}", "brand": name, "text": text, "lang": "en",
        "created_at": format_timestamp(T0 + i * 50),  # event time moves (20 mentions/s): minutes close
        "author": {"id": f"author-{i}", "name": f"Author {i}", "followers": i},
        "url": f"https://example.invalid/{i}",
    })


def foreign_scored(i: int) -> ScoredMention:
    return ScoredMention(id=f"foreign-{i}", brand=f"Foreign{i:06d}", created_at_ms=T0 + i * 50,
                         lang="en", compound=-0.8, label="negative", text=f"foreign {i}", author=f"author-{i}")


def series() -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in M.REGISTRY.collect() for s in fam.samples}


def test_a_flood_of_unknown_brands_adds_no_series():
    pipe = Pipeline()
    warm = 4_000  # 200 s of event time: Acme's minutes close, its series exist
    pipe.feed([hostile(i) for i in range(warm)], [foreign_scored(i) for i in range(FOREIGN)])
    after_warm_up = set(series())
    for start in range(warm, warm + FLOOD, BATCH):
        ids = range(start, min(start + BATCH, warm + FLOOD))
        # more foreign brands in one flood batch (each one's state closes every minute after: kept few)
        foreign = [foreign_scored(FOREIGN + i) for i in range(FOREIGN)] if start == warm + BATCH else []
        pipe.feed([hostile(i) for i in ids], foreign)
    after_flood = series()

    assert set(after_flood) == after_warm_up, set(after_flood) ^ after_warm_up  # not one new series
    brands_seen = {value for _, labels in after_flood for key, value in labels if key == "brand"}
    assert brands_seen == {"Acme"}  # Lavéria gets series once it is mentioned; unknown names never
    assert after_flood[("buzzwatch_brand_mentions_total", (("brand", "Acme"),))] > 0  # the path really ran
    assert pipe.offset == warm + FLOOD


def test_no_label_carries_text_author_or_id():
    pipe = Pipeline()
    pipe.feed([hostile(i) for i in range(4_000)], [foreign_scored(i) for i in range(FOREIGN)])
    for name, labels in series():
        if not name.startswith("buzzwatch_"):
            continue
        assert {key for key, _ in labels} <= ALLOWED_LABELS, name
        for key, value in labels:
            assert not any(part in value for part in ("flood-", "author", "Unknown", "Foreign", "scam", "http")), (name, key, value)
            if key == "brand":
                assert value in CONFIGURED, (name, value)


def test_faust_sensor_keeps_the_offsets_and_skips_per_event_series():
    """The Faust sensor the worker installs: what dashboards, rules and the commit watch read
    (read offsets, active messages, commit offsets) is tracked; per-event and per-table-operation
    series are not (their cost was per record)."""
    from types import SimpleNamespace

    from faust.types import TP
    from prometheus_client import CollectorRegistry, generate_latest

    from streams.metrics import lean_faust_monitor

    registry = CollectorRegistry()
    monitor = lean_faust_monitor(registry)
    tp = TP("mentions", 2)
    message = SimpleNamespace(time_in=None, time_out=None, time_total=None)
    monitor.on_message_in(tp, 41, message)
    assert monitor.on_stream_event_in(tp, 41, object(), object()) is None
    monitor.on_stream_event_out(tp, 41, object(), object(), None)
    monitor.on_table_set(SimpleNamespace(name="brand_state"), b"k", b"v")
    monitor.on_tp_commit({tp: 42})
    assert monitor.tp_read_offsets[tp] == 41 and monitor.tp_committed_offsets[tp] == 42
    page = generate_latest(registry).decode()
    assert "faust_active_messages 1.0" in page
    assert 'faust_topic_partition_offset_commited{partition="2",topic="mentions"} 42.0' in page
    assert "faust_total_events_per_stream{" not in page and "faust_table_operations{" not in page


def test_faust_sensor_partition_series_are_looked_up_once_and_forgotten_at_a_rebalance():
    """The read and end offsets per partition read as Faust's own sensor writes them; after
    Faust clears its per-partition series (a rebalance), a partition still read gets them back
    and one that moved away stays gone."""
    from types import SimpleNamespace

    from faust.types import TP
    from prometheus_client import CollectorRegistry, generate_latest

    from streams.metrics import lean_faust_monitor

    registry = CollectorRegistry()
    monitor = lean_faust_monitor(registry)
    kept, moved = TP("mentions", 0), TP("mentions", 1)
    for tp, offset in ((kept, 7), (moved, 3), (kept, 8)):
        monitor.track_tp_end_offset(tp, offset + 10)
        monitor.on_message_in(tp, offset, SimpleNamespace(time_in=None))
    page = generate_latest(registry).decode()
    assert 'faust_messages_received_per_topics_partition{partition="0",topic="mentions"} 8.0' in page
    assert 'faust_topic_partition_end_offset{partition="1",topic="mentions"} 13.0' in page
    assert 'faust_messages_received_per_topic_total{topic="mentions"} 3.0' in page
    assert "faust_messages_received_total 3.0" in page and monitor.tp_read_offsets[kept] == 8

    monitor._clear_partition_related_metrics()
    monitor.track_tp_end_offset(kept, 30)
    monitor.on_message_in(kept, 9, SimpleNamespace(time_in=None))
    page = generate_latest(registry).decode()
    assert 'faust_messages_received_per_topics_partition{partition="0",topic="mentions"} 9.0' in page
    assert 'faust_topic_partition_end_offset{partition="0",topic="mentions"} 30.0' in page
    assert 'partition="1"' not in page


def test_the_metrics_page_is_rendered_beside_the_event_loop_not_in_it(monkeypatch):
    """With 10,000 brands the page is ~10 MB and about a second of CPU: rendered in the event
    loop, every scrape stopped the worker's agents, timers and other requests for that second."""
    import asyncio

    def slow_render(registry):
        time.sleep(0.3)  # what a big page costs, without the GIL held
        return b"page"

    monkeypatch.setattr(M, "generate_latest", slow_render)
    ticks = []

    async def scenario():
        async def ticker():
            for _ in range(100):
                ticks.append(time.monotonic())
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        body = await M.render_metrics([])
        task.cancel()
        return body

    assert asyncio.run(scenario()) == b"page"
    assert len(ticks) >= 5  # the loop went on while the page was rendered (in it: 1 tick)


def test_the_event_loop_lag_shows_how_long_one_step_held_the_loop():
    import asyncio

    def count_above(seconds):
        buckets = {s.labels["le"]: s.value for s in M.EVENT_LOOP_LAG.collect()[0].samples if s.name.endswith("_bucket")}
        return buckets["+Inf"] - buckets[str(float(seconds))]

    before = count_above(0.25)
    stop = []

    async def scenario():
        watch = asyncio.create_task(M.watch_event_loop(lambda: bool(stop), tick_s=0.01))
        await asyncio.sleep(0.05)
        time.sleep(0.3)  # one step holding the loop
        await asyncio.sleep(0.05)
        stop.append(True)
        await watch

    asyncio.run(scenario())
    assert count_above(0.25) - before == 1


def test_a_probe_asks_for_a_histogram_by_its_bucket_samples():
    # name[] selects samples (prometheus_client's restricted_registry): the family name alone
    # gives an empty page for a histogram, which the memory bench's loop-lag probe first did
    import asyncio

    M.EVENT_LOOP_LAG.observe(0.02)
    assert asyncio.run(M.render_metrics(["buzzwatch_event_loop_lag_seconds"])) == b""
    page = asyncio.run(M.render_metrics(["buzzwatch_event_loop_lag_seconds_bucket"])).decode()
    assert 'buzzwatch_event_loop_lag_seconds_bucket{le="0.05"}' in page
