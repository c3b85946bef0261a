"""Offline run of the whole pipeline over mentions, as plain function calls (no Kafka).

The ingest step and the aggregate step are the very objects the Faust agents drive; only the
transport is missing. A file is read as one raw partition in file order, so the watermark is
the file's own event-time progress: a minute closes once the file has moved ``allowed_lateness``
past its end, exactly as it would live, and minutes within the allowed lateness of the last
mention stay open (live would not have closed them either). A replay of a topic feeds records
of several raw partitions, in whatever order they are fetched; the aligned watermark (minimum
over partitions, empty ones idle) makes the result independent of that order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from buzzwatch.stages.aggregate import AggregateStage, ClosedMinute
from buzzwatch.stages.brandstore import KV, BrandState
from buzzwatch.config import CoreConfig
from buzzwatch.stages.ingest import IngestStep, RawRecord
from buzzwatch.contract.scored import Watermark


@dataclass
class OfflineRun:
    """The ingest stage and the aggregate stage driven as plain calls, one batch at a time."""

    config: CoreConfig
    ingest: IngestStep = field(init=False)
    stage: AggregateStage = field(init=False)
    events: list[dict] = field(default_factory=list)
    closed: dict[str, list[ClosedMinute]] = field(default_factory=dict)
    consumed: int = 0
    accepted: int = 0
    rejected: list = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    keep_closed: bool = False
    raw_partitions: int = 1
    idle_partitions: tuple[int, ...] = ()  # partitions with nothing to read: never hold minutes open
    kv: KV | None = None  # where state is saved each batch (None: kept in memory only)

    def __post_init__(self) -> None:
        self.ingest = IngestStep(self.config)
        self.stage = AggregateStage(self.config, self.kv)
        if self.idle_partitions:
            self.stage.process([(0, Watermark(p, self.raw_partitions, -1, idle=True)) for p in self.idle_partitions])

    @property
    def states(self) -> dict[str, BrandState]:
        return self.stage.cache

    def feed(self, records: list[RawRecord]) -> None:
        """One batch of raw records (of any raw partitions, each in its own order)."""
        result = self.ingest.process(records)
        self.consumed += result.consumed
        self.accepted += result.accepted
        self.rejected.extend(result.rejected)
        markers = self.ingest.markers(sorted({r.partition for r in records}), self.raw_partitions)
        batch = self.stage.process([(0, s) for s in result.scored] + [(0, m) for m in markers])
        for err_index, exc in batch.failed:
            raise exc  # offline there is no DLQ for the aggregate stage: a failure is a bug to see
        for _brand, outcome in batch.outcomes:
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        self.events.extend(e for _, e in batch.events)
        if self.keep_closed:
            for brand, closed in batch.closed.items():
                self.closed.setdefault(brand, []).extend(closed)
        self.stage.save(batch.touched)


def run_offline(config: CoreConfig, values: Iterable[bytes | None], batch_size: int = 1000,
                keep_closed: bool = False, timestamp_ms: int | None = None, kv: KV | None = None) -> OfflineRun:
    """Run raw mention values (JSON bytes) through ingest + aggregate in batches.

    ``timestamp_ms`` stands for the Kafka record time of every value (the reference for
    ``future_timestamp``); ``None`` disables that check, as for an archive."""
    run = OfflineRun(config, keep_closed=keep_closed, kv=kv)
    batch: list[RawRecord] = []
    for offset, value in enumerate(values):
        batch.append(RawRecord(0, offset, timestamp_ms, value))
        if len(batch) >= batch_size:
            run.feed(batch)
            batch = []
    if batch:
        run.feed(batch)
    return run
