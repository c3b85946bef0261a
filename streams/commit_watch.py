"""Find a source partition whose committed offset stopped while records were read past it.

Why this exists: Faust (faust-streaming 0.15) can lose records after a restart or rebalance.
Its fetch loop drops any record at or below the partition's *read offset*; the recovery seeks
the stream partitions back to the committed offset and resets that read offset, but a record
fetched before the seek and still being handed to a stream sets the read offset forward again
once the seek is done. The records between the committed offset and that stale read offset are
then fetched again and dropped: never processed, never acked. Faust commits only a contiguous
run of acked offsets, so the partition's commit stops at the first dropped record for ever,
while newer records are processed (faust-streaming issue 596 describes the same race). Seen
here as "consumed short, commits stuck, faust_active_messages > 0" after kill -9 restarts.

Nothing inside the worker can give those records back to the stream without breaking Faust's
ack bookkeeping, but the broker still has them from the committed offset on. So the worker
applies crash-only recovery: when a partition it owns has records read beyond its committed
offset and that committed offset has not moved for ``stall_exit_s`` while the worker is not
rebalancing, it exits with code 70 without committing; the supervisor restarts it, and the new
process reads from the committed offset (state updates are idempotent by mention id).

`CommitWatch` is the rule alone (plain values in, verdicts out), unit-tested directly; the
timer in `register` feeds it Faust's monitor offsets.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Hashable, Mapping


@dataclass(frozen=True)
class StuckCommit:
    partition: Hashable
    read: int  # highest offset handed to the stream
    committed: int | None  # next offset the group resumes from (None: nothing committed yet)
    stuck_for_s: float

    def describe(self) -> str:
        behind = "nothing committed" if self.committed is None else f"committed offset {self.committed}"
        return (f"{self.partition}: records read up to offset {self.read}, {behind}, "
                f"no commit progress for {self.stuck_for_s:.0f} s")


@dataclass
class CommitWatch:
    """Per partition: since when has the commit been behind what was read, without moving?

    ``observe`` is called periodically with the offsets as they stand. A partition is *behind*
    when its highest read offset is at or past its committed offset (Kafka's committed offset is
    the next one to read). Any advance of the committed offset restarts its clock; so does a
    pause (``paused=True``: a rebalance or a table recovery, when Faust commits nothing)."""

    after_s: float
    _since: dict = field(default_factory=dict)  # partition -> (committed seen, monotonic since)

    def observe(self, now: float, read: Mapping, committed: Mapping, owned, *, paused: bool = False) -> list[StuckCommit]:
        owned = set(owned)
        for tp in list(self._since):
            if tp not in owned:
                del self._since[tp]
        if paused or not self.after_s:
            self._since.clear()
            return []
        stuck = []
        for tp in owned:
            r = read.get(tp)
            c = committed.get(tp)
            if r is None or (c is not None and r < c):
                self._since.pop(tp, None)  # nothing read past the commit: nothing can be stuck
                continue
            seen = self._since.get(tp)
            if seen is None or seen[0] != c:
                self._since[tp] = (c, now)
                continue
            if now - seen[1] >= self.after_s:
                stuck.append(StuckCommit(tp, r, c, now - seen[1]))
        return stuck


def register(app, *, topics, after_s: float, interval_s: float = 5.0) -> CommitWatch:
    """A timer that exits the worker (code 70, no commit) when a source partition's commit is
    stuck behind records already read (see the module docstring)."""
    from streams.faust_util import die_without_commit

    watch = CommitWatch(after_s=after_s)
    names = {t.get_topic_name() for t in topics}

    @app.timer(interval_s)
    async def check_commit_progress() -> None:
        owned = [tp for tp in app.consumer.assignment() if tp.topic in names]
        recovering = not app.tables.recovery.completed.is_set()
        stuck = watch.observe(time.monotonic(), app.monitor.tp_read_offsets, app.monitor.tp_committed_offsets,
                              owned, paused=bool(app.rebalancing or recovering))
        if stuck:
            die_without_commit(app.log, "commit", TimeoutError(
                "offset commits stopped (records dropped by the consumer after a rebalance): "
                + "; ".join(s.describe() for s in stuck)))

    return watch
