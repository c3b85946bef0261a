"""Holes in what the ingest read of a raw partition: its watermark must not pass one.

Why this exists: a record that the consumer drops on a rebalance (Faust paths closed one by one
in ``streams/faust_consumer.py``) is not lost to Kafka: the commit stops at it, and the commit
watch restarts the worker, which reads it again. But while the commit waited, the ingest read the
records after the hole and sent markers vouching for their event time; the aggregate closed those
minutes, and the record read again arrived late and was dropped. Measured on the second-worker
test under CPU load: one mention of 12,853 lost this way in 1 of 14 runs (stop 18).

So the ingest tracks, per raw partition, the next offset it expects. A record past it opens a
hole there; while a hole is open the partition's marker stays at the clock it had before, so no
minute closes past the missing record. A hole closes when the group's committed offset passes it:
Faust commits past an offset only once it was processed, or when the offset is absent from the
log (a transaction marker, which Faust records as a gap). A record that really went missing keeps
the commit, and so the hole, where they are until the commit watch restarts the worker, which
reads it again with the minutes still open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable


@dataclass
class ReadHoles:
    """Per raw partition: the next offset expected, and the holes not yet committed past."""

    _next: dict = field(default_factory=dict)  # partition -> next offset expected
    _holes: dict = field(default_factory=dict)  # partition -> first missing offsets, ascending

    def observe(self, partition: int, offsets: Iterable[int], committed: int | None) -> None:
        """The offsets of one batch's records of ``partition``; ``committed``: the offset the group
        resumes from as this worker knows it (None: unknown), where reading starts after an
        assignment."""
        expected = self._next.get(partition, committed)
        for offset in sorted(offsets):
            if expected is not None and offset > expected:
                self._holes.setdefault(partition, []).append(expected)
            if expected is None or offset >= expected:
                expected = offset + 1
        if expected is not None:
            self._next[partition] = expected
        self.release(partition, committed)

    def release(self, partition: int, committed: int | None) -> None:
        """Close the holes the committed offset has passed."""
        holes = self._holes.get(partition)
        if holes and committed is not None:
            holes[:] = [h for h in holes if h >= committed]
            if not holes:
                del self._holes[partition]

    def next_offset(self, partition: int) -> int | None:
        """The offset after the highest one read (or the commit it started from); None: unknown."""
        return self._next.get(partition)

    def holding(self, partition: int) -> bool:
        return partition in self._holes

    def first_hole(self, partition: int) -> int | None:
        holes = self._holes.get(partition)
        return holes[0] if holes else None

    def forget(self, partitions: Iterable[int]) -> None:
        """Partitions revoked: their next owner starts from the commit."""
        for p in partitions:
            self._next.pop(p, None)
            self._holes.pop(p, None)
