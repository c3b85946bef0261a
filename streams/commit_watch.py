"""Find a source partition whose committed offset stopped while records were read past it.

Why this exists: Faust (faust-streaming 0.15.3) lost records after a restart or rebalance; the
cause below is fixed in ``streams/faust_consumer.py`` and this rule stays as the net for any
other way a commit can stop (a broker refusing commits, a consumer stall).
Its fetch loop drops any record at or below the partition's *read offset*; the recovery seeks
the stream partitions back to the committed offset and resets that read offset, but a record
fetched before the seek and still being handed to a stream sets the read offset forward again
once the seek is done. The records between the committed offset and that stale read offset are
then fetched again and dropped: never processed, never acked. Faust commits only a contiguous
run of acked offsets, so the partition's commit stops at the first dropped record for ever,
while newer records are processed (faust-streaming issue 596 describes the same race). Seen
here after kill -9 restarts in two forms: all records processed but the commit frozen at the
first dropped one; or records delivered to the stream and lost with the agent idle, the commit
creeping a few offsets per interval (``faust_active_messages`` > 0 in both).

Nothing inside the worker can give those records back to the stream without breaking Faust's
ack bookkeeping, but the broker still has them from the committed offset on. So the worker
applies crash-only recovery: when records handed to its agents ``stall_exit_s`` ago are still not
committed (and the worker is not rebalancing), it exits with code 70 without committing; the supervisor restarts it, and the new
process reads from the committed offset (state updates are idempotent by mention id).

A worker that is only slow is not stuck. Faust hands an agent up to ``stream_buffer_maxsize``
(8,192) records ahead of processing, so a heavily loaded worker (a backlog of 10,000 cold
brands' state on 2 busy cores) can take longer than ``stall_exit_s`` to reach the records it was
handed, and the rule alone ended it there: the memory bench's first start, run beside py-spy and
two busy loops, exited 70 with "offset 2004 handed to the agents 132 s ago is still not
committed", and its restart had the same work ahead. So, given the acks counted per partition
(``SafeConsumer.acks``), a partition whose agent keeps acking records and whose commit keeps
moving is not stuck however long it takes; a commit frozen while acks go on (a record dropped
below them) or acks that stopped (the agent got nothing: records lost in the stream, even with a
commit creeping) still end the worker after ``stall_exit_s``.

`CommitWatch` is the rule alone (plain values in, verdicts out), unit-tested directly; the
timer in `register` feeds it the monitor's read offsets, ``faust_util.committed_offsets`` and the
consumer's acks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Hashable, Mapping


@dataclass(frozen=True)
class StuckCommit:
    partition: Hashable
    read: int  # highest offset handed to the streams when the check started
    committed: int | None  # next offset the group resumes from (None: nothing committed yet)
    stuck_for_s: float

    def describe(self) -> str:
        behind = "nothing committed" if self.committed is None else f"committed offset {self.committed}"
        return (f"{self.partition}: offset {self.read} handed to the agents {self.stuck_for_s:.0f} s ago "
                f"is still not committed ({behind})")


@dataclass
class CommitWatch:
    """Per partition: is what the streams were handed ``after_s`` ago committed by now?

    ``observe`` is called periodically with the offsets as they stand. Each partition holds a
    checkpoint: the highest offset read (handed to the streams) when it was set. Once the
    committed offset passes it (Kafka's committed offset is the next one to read), a new
    checkpoint is taken. A healthy worker passes every checkpoint within seconds, even far
    behind in a backlog; a worker whose consumer dropped records never does, even when a few
    offsets still trickle into the commit. A pause (``paused=True``: a rebalance or a table
    recovery, when Faust commits nothing) drops the checkpoints."""

    after_s: float
    _checkpoint: dict = field(default_factory=dict)  # partition -> (read offset, monotonic since)
    _moved: dict = field(default_factory=dict)  # partition -> (committed, acks, when the commit moved, when acks moved)

    def observe(self, now: float, read: Mapping, committed: Mapping, owned, *, paused: bool = False,
                acks: Mapping | None = None) -> list[StuckCommit]:
        """``acks``: records acked so far per partition (a counter), when known: a partition
        whose acks and commit both moved within ``after_s`` is busy, not stuck."""
        owned = set(owned)
        for held in (self._checkpoint, self._moved):
            for tp in [tp for tp in held if tp not in owned]:
                del held[tp]
        if paused or not self.after_s:
            self._checkpoint.clear()
            self._moved.clear()
            return []
        stuck = []
        for tp in owned:
            r, c = read.get(tp), committed.get(tp)
            busy = acks is not None and self._busy(tp, now, c, acks.get(tp, 0))
            point = self._checkpoint.get(tp)
            if point is not None and c is not None and c > point[0]:
                point = None  # passed: everything handed over by then is committed
            if point is None:
                if r is None or (c is not None and r < c):
                    self._checkpoint.pop(tp, None)  # nothing handed over beyond the commit
                else:
                    self._checkpoint[tp] = (r, now)
                continue
            if now - point[1] >= self.after_s and not busy:
                stuck.append(StuckCommit(tp, point[0], c, now - point[1]))
        return stuck

    def _busy(self, tp, now: float, committed: int | None, acked: int) -> bool:
        """Did both the partition's acks and its commit move within ``after_s``?"""
        last = self._moved.get(tp)
        if last is None:
            self._moved[tp] = (committed, acked, now, now)
            return True
        c0, a0, commit_t, ack_t = last
        commit_t = now if committed != c0 else commit_t
        ack_t = now if acked != a0 else ack_t
        self._moved[tp] = (committed, acked, commit_t, ack_t)
        return now - commit_t < self.after_s and now - ack_t < self.after_s


def register(app, *, topics, after_s: float, interval_s: float = 5.0) -> CommitWatch:
    """A timer that exits the worker (code 70, no commit) when records handed to its agents
    ``after_s`` ago are still not committed (see the module docstring)."""
    from streams.faust_util import committed_offsets, die_without_commit
    from streams.state_dump import log_state

    watch = CommitWatch(after_s=after_s)
    names = {t.get_topic_name() for t in topics}

    @app.timer(interval_s)
    async def check_commit_progress() -> None:
        owned = [tp for tp in app.consumer.assignment() if tp.topic in names]
        recovering = not app.tables.recovery.completed.is_set()
        stuck = watch.observe(time.monotonic(), app.monitor.tp_read_offsets, committed_offsets(app),
                              owned, paused=bool(app.rebalancing or recovering),
                              acks=getattr(app.consumer, "acks", None))
        if stuck:
            log_state(app, "commits stopped")
            die_without_commit(app.log, "commit", TimeoutError(
                "offset commits stopped behind records already read (a consumer that dropped records "
                "after a rebalance, or a broker refusing commits): "
                + "; ".join(s.describe() for s in stuck)))

    return watch
