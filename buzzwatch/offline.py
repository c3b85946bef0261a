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

from buzzwatch.aggregate import Aggregator, BrandState, ClosedMinute
from buzzwatch.config import CoreConfig
from buzzwatch.ingest import IngestStep, RawRecord
from buzzwatch.scored import Watermark


@dataclass
class OfflineRun:
    config: CoreConfig
    ingest: IngestStep = field(init=False)
    aggregator: Aggregator = field(init=False)
    states: dict[str, BrandState] = field(default_factory=dict)
    events: list[dict] = field(default_factory=list)
    closed: dict[str, list[ClosedMinute]] = field(default_factory=dict)
    consumed: int = 0
    accepted: int = 0
    rejected: list = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    keep_closed: bool = False
    raw_partitions: int = 1
    idle_partitions: tuple[int, ...] = ()  # partitions with nothing to read: never hold minutes open

    def __post_init__(self) -> None:
        self.ingest = IngestStep(self.config)
        self.aggregator = Aggregator(self.config)
        for brand in self.config.brand_names:
            self.states[brand] = self.aggregator.new_state(brand)
        for p in self.idle_partitions:
            self.aggregator.on_watermark(0, Watermark(p, self.raw_partitions, -1, idle=True))

    def feed(self, records: list[RawRecord]) -> None:
        """One batch of raw records (of any raw partitions, each in its own order)."""
        result = self.ingest.process(records)
        self.consumed += result.consumed
        self.accepted += result.accepted
        self.rejected.extend(result.rejected)
        for s in result.scored:
            state = self.states.get(s.brand)
            if state is None:
                state = self.states[s.brand] = self.aggregator.new_state(s.brand)
            outcome = self.aggregator.add(state, s)
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        for p in sorted({r.partition for r in records}):
            wm = self.ingest.clock.get(p)
            if wm is not None:
                self.aggregator.on_watermark(0, Watermark(p, self.raw_partitions, wm))
        if self.aggregator.watermark(0) is None:
            return
        for brand in sorted(self.states):
            closed = self.aggregator.close(self.states[brand], self.aggregator.watermark(0))
            for cm in closed:
                self.events.extend(cm.events)
            if self.keep_closed and closed:
                self.closed.setdefault(brand, []).extend(closed)


def run_offline(config: CoreConfig, values: Iterable[bytes | None], batch_size: int = 1000,
                keep_closed: bool = False, timestamp_ms: int | None = None) -> OfflineRun:
    """Run raw mention values (JSON bytes) through ingest + aggregate in batches.

    ``timestamp_ms`` stands for the Kafka record time of every value (the reference for
    ``future_timestamp``); ``None`` disables that check, as for an archive."""
    run = OfflineRun(config, keep_closed=keep_closed)
    batch: list[RawRecord] = []
    for offset, value in enumerate(values):
        batch.append(RawRecord(0, offset, timestamp_ms, value))
        if len(batch) >= batch_size:
            run.feed(batch)
            batch = []
    if batch:
        run.feed(batch)
    return run
