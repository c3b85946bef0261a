"""The aggregate stage's logic: per-brand state, the aligned watermark, closing minutes, detection.

Cheap arithmetic only (during a bad buzz one brand's partition gets everything): dedupe by id,
add to the brand's event-time minute bucket, and when the aligned watermark passes a minute's
end plus the allowed lateness, close it and run the pure detector step on it.

:class:`BrandState` is what the changelogged table stores, one value per brand, written once
per batch (not per mention). :class:`Aggregator` holds no per-brand state itself, only the
watermarks of the scored partitions it reads and the parameters; the Faust agent, the replay
and the backtest drive it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from buzzwatch.buckets import BrandBuckets
from buzzwatch.config import CoreConfig
from buzzwatch.scored import ScoredMention, Watermark
from buzzwatch.summary import MinuteSummary
from buzzwatch.watermark import AlignedWatermark

STATE_VERSION = 1


ROLLING_WINDOWS_MS = {"5m": 5 * 60_000, "1h": 3_600_000, "24h": 86_400_000}


@dataclass(frozen=True, slots=True)
class BrandGauges:
    """One brand's exported figures (see streams/metrics.py), as of its last closed minute."""

    last_minute_start_ms: int
    mentions: int
    reach: int
    score: float
    severity: int
    expected_per_min: float
    expected_negative_share: float
    windows: dict  # window name -> buckets.Rolling


@dataclass
class BrandState:
    """Everything the pipeline remembers about one brand."""

    buckets: BrandBuckets
    detector: dict[str, Any]
    last: dict[str, Any] = field(default_factory=dict)  # last assessment, for metrics after restart

    @classmethod
    def new(cls, brand: str, config: CoreConfig) -> "BrandState":
        from buzzwatch.detection import initial_state

        return cls(BrandBuckets.new(brand, config.pipeline.dedupe_horizon_minutes), initial_state())

    def gauges(self) -> "BrandGauges | None":
        """The brand's current figures as plain values (what the metrics exporter shows), or
        ``None`` before its first closed minute. Read from the state alone, so a worker that
        takes over a brand after a rebalance shows the same figures as the one that had it."""
        b = self.buckets
        if b.closed_until_ms is None or not b.minutes:
            return None
        row = b.minutes[-1]
        last = self.last or {}
        return BrandGauges(
            last_minute_start_ms=row[0],
            mentions=row[1],
            reach=row[6],
            score=last.get("score", 0.0),
            severity=last.get("severity", 0),
            expected_per_min=last.get("expected_per_min", 0.0),
            expected_negative_share=last.get("expected_negative_share", 0.0),
            windows={name: b.rolling(ms) for name, ms in ROLLING_WINDOWS_MS.items()},
        )

    def dumps(self) -> bytes:
        return orjson.dumps({"v": STATE_VERSION, "b": self.buckets.to_dict(), "d": self.detector, "l": self.last})

    @classmethod
    def loads(cls, raw: bytes) -> "BrandState":
        d = orjson.loads(raw)
        if d.get("v") != STATE_VERSION:
            raise ValueError(f"brand state version {d.get('v')} is not {STATE_VERSION}: rebuild state (docs/runbook)")
        return cls(BrandBuckets.from_dict(d["b"]), d["d"], d.get("l", {}))


@dataclass(frozen=True, slots=True)
class ClosedMinute:
    """One closed minute of one brand, with what the detector made of it."""

    summary: MinuteSummary
    assessment: Any  # buzzwatch.detection.Assessment
    events: list[dict]


class Aggregator:
    """Watermarks per scored partition + the per-brand step functions."""

    def __init__(self, config: CoreConfig):
        self.config = config
        self.detection = config.detection()
        self.lateness_ms = config.pipeline.allowed_lateness_ms
        self.watermarks: dict[int, AlignedWatermark] = {}

    def new_state(self, brand: str) -> BrandState:
        return BrandState.new(brand, self.config)

    @staticmethod
    def add(state: BrandState, m: ScoredMention) -> str:
        """``counted``, ``duplicate`` or ``late``."""
        return state.buckets.add(m)

    def on_watermark(self, partition: int, marker: Watermark) -> None:
        self.watermarks.setdefault(partition, AlignedWatermark()).update(
            marker.raw_partition, marker.raw_partitions, marker.event_time_ms, marker.idle
        )

    def watermark(self, partition: int) -> int | None:
        w = self.watermarks.get(partition)
        return w.get() if w else None

    def close(self, state: BrandState, watermark_ms: int | None) -> list[ClosedMinute]:
        """Close the brand's minutes that end at or before ``watermark - allowed lateness`` and
        run detection on each, in event-time order."""
        if watermark_ms is None:
            return []
        from buzzwatch.detection import observe

        out = []
        for summary in state.buckets.close_until(watermark_ms - self.lateness_ms):
            state.detector, assessment, events = observe(self.detection, state.detector, summary)
            out.append(ClosedMinute(summary, assessment, events))
        if out:
            a = out[-1].assessment
            state.last = {
                "end_ms": a.end_ms,
                "score": a.score,
                "severity": a.severity,
                "expected_per_min": a.expected_per_min,
                "expected_negative_share": a.expected_negative_share,
            }
        return out
