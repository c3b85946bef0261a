"""One ingest batch, as a pure function of the raw records: accepted, rejected, scored, late.

The invariant operators rely on holds per batch by construction:
``consumed == accepted + rejected`` (every record ends in exactly one of the two lists).

>>> from buzzwatch.config import CoreConfig
>>> step = IngestStep(CoreConfig.from_dict({"brands": [{"name": "Acme"}]}))
>>> out = step.process([
...     RawRecord(0, 0, 1_795_428_960_000, b'{"id":"1","text":"Acme is awful","created_at":1795428900,"lang":"en"}'),
...     RawRecord(0, 1, 1_795_428_960_000, b'not json'),
... ])
>>> out.consumed, out.accepted, [r.rejection.reason for r in out.rejected], out.scored[0].label
(2, 1, ['not_json'], 'negative')
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from buzzwatch.text.analyze import MentionAnalyzer
from buzzwatch.config import CoreConfig
from buzzwatch.contract.mention import Mention, Rejection, parse_mention
from buzzwatch.contract.scored import ScoredMention, Watermark, encode_batches
from buzzwatch.stages.watermark import PartitionClock


@dataclass(frozen=True, slots=True)
class RawRecord:
    """A raw Kafka record as the ingest stage sees it (or a line of a file in a backtest)."""

    partition: int
    offset: int
    timestamp_ms: int | None  # Kafka record timestamp: the reference for "too far in the future"
    value: bytes | None
    key: bytes | None = None
    topic: str = "mentions"


@dataclass(frozen=True, slots=True)
class Rejected:
    record: RawRecord
    rejection: Rejection


@dataclass
class IngestResult:
    consumed: int = 0
    accepted: int = 0
    unmatched: int = 0
    late: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    scored: list[ScoredMention] = field(default_factory=list)
    wire: list[bytes] = field(default_factory=list)  # scored[i].to_wire(), encoded once, here

    def batches(self) -> list[tuple[str, bytes]]:
        """(brand, record) to send on mentions.scored: each brand's mentions in input order,
        packed by :func:`buzzwatch.contract.scored.encode_batches` (brands in first-seen order)."""
        rows: dict[str, list[bytes]] = {}
        for s, wire in zip(self.scored, self.wire):
            rows.setdefault(s.brand, []).append(wire)
        return [(brand, rec) for brand, brand_rows in rows.items() for rec in encode_batches(brand_rows)]
    mentions: list[Mention] = field(default_factory=list)  # accepted, in input order
    labels: dict[tuple[str, str], int] = field(default_factory=dict)  # (lang route, label) -> n


class IngestStep:
    """Validate, analyze and timestamp-check raw records; keeps the per-raw-partition clocks."""

    def __init__(self, config: CoreConfig):
        self.config = config
        self.analyzer = MentionAnalyzer(config)
        self.clock = PartitionClock(config.pipeline.allowed_lateness_ms, config.pipeline.event_clock_window)
        self._parse_kwargs = {
            "max_text_chars": config.pipeline.max_text_chars,
            "max_future_ms": config.pipeline.max_future_ms,
        }

    def process(self, records: list[RawRecord]) -> IngestResult:
        """Every record ends accepted or rejected, whatever it holds: a failure on one record
        (a bug, a value no rule foresaw) rejects that record as ``internal_error`` with the
        exception class, and the batch goes on. Nothing of a failed record is half-applied:
        the partition clock and the outputs only change once the record has been fully handled."""
        out = IngestResult()
        for rec in records:
            out.consumed += 1
            try:
                verdict = self._one(rec)
            except Exception as exc:  # noqa: BLE001 - one record must never take the batch down
                verdict = Rejection("internal_error", f"{type(exc).__name__}: {str(exc)[:200]}")
            if isinstance(verdict, Rejection):
                out.rejected.append(Rejected(rec, verdict))
                continue
            parsed, analysis, scored, wire = verdict
            out.accepted += 1
            out.mentions.append(parsed)
            late = self.clock.observe(rec.partition, parsed.created_at_ms)
            if not analysis.brands:
                out.unmatched += 1
                continue
            key = (analysis.sentiment.lang if analysis.sentiment.label != "unscored" else "other",
                   analysis.sentiment.label)
            out.labels[key] = out.labels.get(key, 0) + 1
            if late:
                out.late += 1
                scored = [replace(s, late=True) for s in scored]
                wire = [s.to_wire() for s in scored]
            out.scored.extend(scored)
            out.wire.extend(wire)
        return out

    def markers(self, partitions, raw_partitions: int, idle=frozenset(),
                clocks: dict[int, int] | None = None) -> list[Watermark]:
        """One watermark marker per raw partition: its event-time clock (``clocks`` if given:
        the agent passes the clocks of batches fully sent), ``-1`` while it has none."""
        clocks = self.clock.max_ms if clocks is None else clocks
        return [Watermark(raw_partition=p, raw_partitions=raw_partitions,
                          event_time_ms=clocks.get(p, -1), idle=p in idle) for p in partitions]

    def _one(self, rec: RawRecord):
        parsed = parse_mention(rec.value, reference_ms=rec.timestamp_ms, **self._parse_kwargs)
        if isinstance(parsed, Rejection):
            return parsed
        analysis = self.analyzer.analyze(parsed)
        scored = self.analyzer.scored(parsed, analysis, False)
        return parsed, analysis, scored, [s.to_wire() for s in scored]
