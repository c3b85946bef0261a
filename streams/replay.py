"""`buzzwatch replay`: reprocess a time range of the mentions topic in isolation.

The range is chosen by Kafka record time (``offsets_for_times``, what the broker indexes); the
processing is in event time, with exactly the ingest and aggregate steps of the workers
(``buzzwatch.offline.pipeline.OfflineRun``), fed partition by partition in whatever order the fetches
come back. Isolation: its own consumer group (``<app>-replay-<name>``, nothing committed that
the live group reads), its own in-memory state (live tables are never written), its own
topics ``replay.<name>.buzz.alerts`` and ``replay.<name>.mentions.dlq``, and files under
``--out-dir/<name>/``: ``alerts.jsonl`` and ``report.json``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import orjson
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from buzzwatch.stages.ingest import RawRecord
from buzzwatch.offline.pipeline import OfflineRun
from streams.dlq import dlq_headers
from streams.settings import Settings

FETCH_BATCH = 2000


@dataclass(frozen=True)
class ReplayPlan:
    topic: str
    start: dict[int, int]  # partition -> first offset
    stop: dict[int, int]  # partition -> offset after the last one

    @property
    def total(self) -> int:
        return sum(max(0, self.stop[p] - self.start[p]) for p in self.start)

    @property
    def empty_partitions(self) -> tuple[int, ...]:
        return tuple(p for p in sorted(self.start) if self.stop[p] <= self.start[p])


def plan_range(consumer: KafkaConsumer, topic: str, from_ms: int | None, to_ms: int | None) -> ReplayPlan:
    parts = consumer.partitions_for_topic(topic)
    if not parts:
        raise ValueError(f"topic {topic!r} does not exist or has no partitions")
    tps = [TopicPartition(topic, p) for p in sorted(parts)]
    begin = consumer.beginning_offsets(tps)
    end = consumer.end_offsets(tps)

    def at(ms: int | None, default: dict) -> dict[int, int]:
        if ms is None:
            return {tp.partition: default[tp] for tp in tps}
        found = consumer.offsets_for_times({tp: ms for tp in tps})
        return {tp.partition: (found[tp].offset if found.get(tp) else end[tp]) for tp in tps}

    return ReplayPlan(topic, at(from_ms, begin), at(to_ms, end))


def replay(
    settings: Settings,
    name: str,
    from_ms: int | None,
    to_ms: int | None,
    *,
    topic: str | None = None,
    speed: float | None = None,
    out_dir: Path = Path("replays"),
    progress: bool = True,
    read_order: str = "interleaved",
) -> dict:
    """Run the replay; return the report (also written to ``out_dir/name/report.json``).

    ``read_order`` ``sequential`` reads one partition to its end before the next (the most
    skewed schedule possible); ``interleaved`` lets the consumer fetch them together. Both must
    give the same alerts: that is what the aligned watermark guarantees, and tests check it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bootstrap = settings.kafka_bootstrap()
    topic = topic or settings.topics.mentions
    group = f"{settings.app_id}-replay-{name}"
    alerts_topic = f"replay.{name}.buzz.alerts"
    dlq_topic = f"replay.{name}.mentions.dlq"
    target = out_dir / name
    target.mkdir(parents=True, exist_ok=True)
    auth = settings.kafka_security.kafka_python_kwargs()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                             max_poll_records=FETCH_BATCH, auto_offset_reset="earliest", **auth)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20, **auth)
    started = time.monotonic()
    try:
        plan = plan_range(consumer, topic, from_ms, to_ms)
        run = OfflineRun(settings.core, raw_partitions=len(plan.start), idle_partitions=plan.empty_partitions,
                         keep_closed=True)
        todo = [TopicPartition(topic, p) for p in plan.start if plan.stop[p] > plan.start[p]]
        if read_order not in ("interleaved", "sequential"):
            raise ValueError("read order is interleaved or sequential")
        consumer.assign(todo)
        for tp in todo:
            consumer.seek(tp, plan.start[tp.partition])
        if read_order == "sequential" and todo:
            consumer.pause(*todo[1:])
        first_ts = None
        done = 0
        emitted = 0
        columns = (TextColumn(f"replay {name}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]:,.0f} rec/s"),
                   TimeRemainingColumn())
        with Progress(*columns, disable=not progress) as bar:
            task = bar.add_task("replay", total=plan.total, rate=0.0)
            active = set(todo)
            while active:
                polled = consumer.poll(timeout_ms=1000, max_records=FETCH_BATCH)
                batch: list[RawRecord] = []
                for tp, records in polled.items():
                    stop = plan.stop[tp.partition]
                    for r in records:
                        if r.offset >= stop:
                            break
                        batch.append(RawRecord(tp.partition, r.offset, r.timestamp if r.timestamp and r.timestamp > 0 else None,
                                               r.value, r.key, topic))
                    if consumer.position(tp) >= stop or (records and records[-1].offset >= stop - 1):
                        if tp in active:
                            active.discard(tp)
                            consumer.pause(tp)
                            if read_order == "sequential":
                                waiting = [t for t in todo if t in active]
                                if waiting:
                                    consumer.resume(waiting[0])
                if not batch:
                    continue
                if speed:
                    stamps = [r.timestamp_ms for r in batch if r.timestamp_ms]
                    if stamps:
                        first_ts = first_ts if first_ts is not None else min(stamps)
                        ahead = (max(stamps) - first_ts) / 1000 / speed - (time.monotonic() - started)
                        if ahead > 0:
                            time.sleep(ahead)
                before = len(run.events)
                before_rej = len(run.rejected)
                run.feed(batch)
                for rej in run.rejected[before_rej:]:
                    rec = rej.record
                    producer.send(dlq_topic, key=rec.key, value=rec.value or b"", headers=dlq_headers(
                        reason=rej.rejection.reason, detail=rej.rejection.detail, topic=topic,
                        partition=rec.partition, offset=rec.offset,
                    ))
                for event in run.events[before:]:
                    producer.send(alerts_topic, key=event["brand"].encode("utf-8"), value=orjson.dumps(event))
                    emitted += 1
                done += len(batch)
                bar.update(task, completed=done, rate=done / max(time.monotonic() - started, 1e-6))
        producer.flush()
    finally:
        consumer.close()
        producer.close()
    with (target / "alerts.jsonl").open("wb") as fh:
        for event in run.events:
            fh.write(orjson.dumps(event) + b"\n")
    report = build_report(run, name, topic, from_ms, to_ms, time.monotonic() - started)
    report["clock_events"] = write_clock(settings, run, target / "clock.jsonl")
    report["alerts_topic"] = alerts_topic
    report["dlq_topic"] = dlq_topic
    (target / "report.json").write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    return report


def write_clock(settings: Settings, run: OfflineRun, path: Path) -> int:
    """The response clock over the replayed lifecycle events and the live acks (read only), up to
    the replay's last closed minute, as the workers compute it (``buzzwatch.oncall.deadline``)."""
    from buzzwatch.oncall.deadline import replay_clock
    from buzzwatch.oncall.book import CLOCK_EVENTS
    from streams.acks import read_acks

    wm = run.stage.watermark(0)
    ticks = [wm - run.stage.lateness_ms] if wm is not None else []
    acks = read_acks(settings) if run.events else {}
    clock = [e for e in replay_clock(run.events, acks, settings.core.oncall, ticks) if e["event"] in CLOCK_EVENTS]
    with path.open("wb") as fh:
        for event in clock:
            fh.write(orjson.dumps(event) + b"\n")
    return len(clock)


def build_report(run: OfflineRun, name: str, topic: str, from_ms, to_ms, seconds: float) -> dict:
    brands = {}
    for brand, closed in sorted(run.closed.items()):
        mentions = sum(c.summary.mentions for c in closed)
        scored = sum(c.summary.scored for c in closed)
        negative = sum(c.summary.negative for c in closed)
        compound = sum(c.summary.compound_sum for c in closed)
        brands[brand] = {
            "closed_minutes": len(closed),
            "mentions": mentions,
            "mean_sentiment": round(compound / scored, 4) if scored else None,
            "negative_share": round(negative / scored, 4) if scored else None,
            "alerts": sum(1 for e in run.events if e["brand"] == brand and e["event"] == "opened"),
            "lifecycle_events": sum(1 for e in run.events if e["brand"] == brand),
        }
    reasons: dict[str, int] = {}
    for r in run.rejected:
        reasons[r.rejection.reason] = reasons.get(r.rejection.reason, 0) + 1
    return {
        "name": name, "topic": topic, "from_ms": from_ms, "to_ms": to_ms,
        "consumed": run.consumed, "accepted": run.accepted, "dead_lettered": reasons,
        "bucket_outcomes": run.outcomes, "lifecycle_events": len(run.events),
        "seconds": round(seconds, 3), "records_per_second": round(run.consumed / seconds, 1) if seconds > 0 else None,
        "brands": brands,
    }
