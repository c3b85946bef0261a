"""Event-time progress: per raw partition on the ingest side, aligned (minimum) on the aggregate side.

Why two halves (DESIGN.md, "closing a minute"): mentions of one brand reach the aggregate from
every raw partition, and a replay reads those partitions at very different speeds. So

* lateness is decided on the ingest side, against the mention's **own raw partition**: a
  mention is late when its partition had already moved past the end of its minute plus the
  allowed lateness before it. That depends only on the order inside one partition, which Kafka
  keeps, so live and replay agree on it;
* a minute closes on the aggregate side only when the **minimum** over all raw partitions has
  moved past its end plus the allowed lateness. Any mention of that minute still to come from
  partition p would then be late by p's own watermark: closing can never cut off an on-time
  mention, whatever the reading speeds.

A partition that is caught up and silent (``idle``) would hold every minute open; it is left
out of the minimum until it speaks again (the rule Flink and Kafka Streams use). Idleness is
the one wall-clock input, and it is decided by the caller.

>>> clock = PartitionClock(allowed_lateness_ms=60_000, window=1)
>>> clock.observe(0, 600_000), clock.observe(0, 400_000), clock.observe(0, 545_000)
(False, True, False)
>>> w = AlignedWatermark()
>>> w.update(0, 2, 600_000); w.get() is None
True
>>> w.update(1, 2, 300_000); w.get()
300000
"""

from __future__ import annotations

from buzzwatch.timeutil import MINUTE_MS, minute_start  # noqa: F401 (minute_start: re-exported)


class PartitionClock:
    """Event-time progress per raw partition, robust to a wrong clock, and the lateness verdict.

    A partition's clock is not its maximum event time: one mention dated hours ahead (a source
    with a wrong clock, a unit error that passed the contract) would make every later mention of
    the partition "late" and hold the aligned watermark hours ahead, blinding the pipeline until
    real time catches up. The clock advances only where a majority of the partition's last
    ``window`` event times agree: to the ``quorum``-th largest of them (``quorum = window // 2 + 1``,
    the median for 5), and not before ``quorum`` records were seen, so one outlier in any
    ``window`` consecutive records is ignored, the partition's very first record included (the
    outlier itself is still counted, in its own minute). On ordinary traffic the clock trails the
    newest record by about ``window // 2`` records, far less than the allowed lateness at any
    real rate.

    >>> clock = PartitionClock(allowed_lateness_ms=60_000, window=3)
    >>> [clock.observe(0, t) for t in (600_000, 601_000, 602_000)], clock.get(0)
    ([False, False, False], 601000)
    >>> clock.observe(0, 72_000_000), clock.get(0)   # 20 h ahead: one voice, the clock stays
    (False, 602000)
    >>> clock.observe(0, 603_000), clock.observe(0, 400_000)
    (False, True)
    """

    def __init__(self, allowed_lateness_ms: int, window: int = 5):
        if window < 1:
            raise ValueError("window must be >= 1")
        self.allowed_lateness_ms = allowed_lateness_ms
        self.window = window
        self.quorum = window // 2 + 1
        self.max_ms: dict[int, int] = {}  # the robust clock per partition (name kept for state)
        self.recent: dict[int, list[int]] = {}

    def observe(self, partition: int, event_ms: int) -> bool:
        """Record one event of ``partition``; return True when it is late by that partition."""
        seen = self.max_ms.get(partition)
        late = seen is not None and minute_start(event_ms) + MINUTE_MS + self.allowed_lateness_ms <= seen
        recent = self.recent.setdefault(partition, [])
        recent.append(event_ms)
        if len(recent) > self.window:
            del recent[0]
        if len(recent) >= self.quorum:
            candidate = sorted(recent)[-self.quorum]  # `quorum` recent records are at or past it
            if seen is None or candidate > seen:
                self.max_ms[partition] = candidate
        return late

    def get(self, partition: int) -> int | None:
        return self.max_ms.get(partition)

    def forget(self, partitions) -> None:
        """Drop the clocks of partitions this reader gave up (after a rebalance)."""
        for p in partitions:
            self.max_ms.pop(p, None)
            self.recent.pop(p, None)


class AlignedWatermark:
    """Minimum event time over the raw partitions, as reported by watermark markers.

    ``get()`` is ``None`` until every raw partition has reported (or is idle): before that
    nothing can be closed safely.
    """

    def __init__(self) -> None:
        self.raw_partitions = 0
        self.by_partition: dict[int, int] = {}
        self.idle: set[int] = set()

    def update(self, raw_partition: int, raw_partitions: int, event_time_ms: int, idle: bool = False) -> None:
        if raw_partitions != self.raw_partitions:
            # The raw topic gained partitions (or this is the first marker): unknown ones block.
            self.raw_partitions = raw_partitions
            self.by_partition = {p: t for p, t in self.by_partition.items() if p < raw_partitions}
            self.idle = {p for p in self.idle if p < raw_partitions}
        # Markers from one partition can only move forward (a stale marker after a rebalance is ignored).
        if event_time_ms > self.by_partition.get(raw_partition, -1):
            self.by_partition[raw_partition] = event_time_ms
        if idle:
            self.idle.add(raw_partition)
        else:
            self.idle.discard(raw_partition)

    def to_dict(self) -> dict:
        """What :meth:`from_dict` reads back: the live aggregate keeps it in its table, so that a
        restarted worker (or a partition's next owner) knows how far every raw partition got.

        >>> w = AlignedWatermark(); w.update(1, 2, 60_000); w.update(0, 2, -1, idle=True)
        >>> w.to_dict()
        {'n': 2, 't': {'1': 60000}, 'i': [0]}
        >>> AlignedWatermark.from_dict(w.to_dict()).get()
        60000
        """
        return {"n": self.raw_partitions, "t": {str(p): t for p, t in sorted(self.by_partition.items())},
                "i": sorted(self.idle)}

    @classmethod
    def from_dict(cls, d: dict) -> "AlignedWatermark":
        w = cls()
        w.raw_partitions = int(d["n"])
        w.by_partition = {int(p): int(t) for p, t in d["t"].items()}
        w.idle = {int(p) for p in d["i"]}
        return w

    def merge(self, other: "AlignedWatermark") -> None:
        """Take in what ``other`` knows (a stored copy): each raw partition's furthest clock.
        Markers only move a partition forward, so merging never loses progress, in any order.

        >>> a, b = AlignedWatermark(), AlignedWatermark()
        >>> a.update(0, 2, 50_000); a.update(1, 2, 90_000); b.update(0, 2, 70_000); b.update(1, 2, 60_000)
        >>> a.merge(b); a.by_partition
        {0: 70000, 1: 90000}
        """
        if other.raw_partitions > self.raw_partitions:
            self.raw_partitions = other.raw_partitions
        for p, t in other.by_partition.items():
            if p < self.raw_partitions and t > self.by_partition.get(p, -1):
                self.by_partition[p] = t

    def get(self) -> int | None:
        if not self.raw_partitions:
            return None
        active = [
            self.by_partition.get(p)
            for p in range(self.raw_partitions)
            if p not in self.idle
        ]
        if not active:
            # Everyone idle: the furthest any partition got is safe (nothing more is coming).
            return max(self.by_partition.values()) if self.by_partition else None
        if any(t is None for t in active):
            return None
        return min(active)  # type: ignore[type-var]
