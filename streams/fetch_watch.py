"""Find a stream partition whose records wait in the log while this worker neither reads nor
commits any of them, and end the worker (code 70).

Why this exists: the second-worker fault test failed once in 11 runs under CPU load (stop 19):
after the second worker left, worker a owned every partition again, yet two brands' minutes
stopped closing for four minutes while the others went on. The worker ran and logged nothing.
Records waited on a partition and none of them reached the agents, so the two other watches had
nothing to see: ``streams.commit_watch`` looks at records handed to the agents and not
committed, ``streams.recovery_watch`` at a table recovery that stopped reading, and the recovery
was over. The brands of that partition were owned and never processed: no gauges moving, no
alerts.

The answer is the same crash-only one: when a partition this worker owns has records past its
committed offset, and neither the offset handed to the agents nor the committed offset moved
for ``stall_exit_s``, the worker exits with code 70 (the supervisor restarts it; the new
process reads from the committed offset) after logging where Faust and aiokafka stand for the
partition and what every task waited on. A healthy worker moves both within seconds even deep
in a backlog (Faust commits what the agents acked every few seconds; a full stream buffer
pauses the fetch but not the commits). Rebalances and table recoveries pause the rule (the
recovery watch covers a recovery that stops), and so does back-pressure: while the fetch loop
waits for room in one agent's full queue, no partition gets records, and a loaded worker can
stay there for minutes (the memory bench beside two busy loops: 10,000 cold brands). Whether
that agent progresses is ``streams.commit_watch``'s question (acks and commits moving).

`FetchWatch` is the rule alone (plain values in, verdicts out), unit-tested directly;
`register` feeds it from a timer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Hashable, Mapping


@dataclass(frozen=True)
class StalledPartition:
    partition: Hashable
    committed: int  # the next offset the group reads
    end: int  # the log's end offset: records committed..end-1 wait
    read: int | None  # the last offset handed to the agents (None: none since the assignment)
    silent_for_s: float

    def describe(self) -> str:
        handed = "none handed to the agents" if self.read is None else f"last handed to the agents: {self.read}"
        return (f"{self.partition}: {self.end - self.committed} records wait (committed {self.committed}, "
                f"end {self.end}; {handed}), nothing read or committed for {self.silent_for_s:.0f} s")


@dataclass
class FetchWatch:
    """Per owned partition: do records wait, and has anything moved since ``after_s`` ago?

    ``observe`` is called periodically. A partition's mark is (offset handed over, committed
    offset); any change of it is progress. A partition with nothing waiting (end offset at the
    commit, or unknown) has no clock; a pause (a rebalance, a table recovery) drops every clock."""

    after_s: float
    _since: dict = field(default_factory=dict)  # partition -> ((read, committed), monotonic since)

    def observe(self, now: float, *, owned, read: Mapping, committed: Mapping, ends: Mapping,
                paused: bool = False) -> list[StalledPartition]:
        owned = set(owned)
        for tp in list(self._since):
            if tp not in owned:
                del self._since[tp]
        if paused or not self.after_s:
            self._since.clear()
            return []
        stalled = []
        for tp in sorted(owned, key=str):
            c, end, r = committed.get(tp), ends.get(tp), read.get(tp)
            if c is None or end is None or end <= c:
                self._since.pop(tp, None)  # nothing waiting, or not known yet
                continue
            mark, seen = (r, c), self._since.get(tp)
            if seen is None or seen[0] != mark:
                self._since[tp] = (mark, now)
            elif now - seen[1] >= self.after_s:
                stalled.append(StalledPartition(tp, c, end, r, now - seen[1]))
        return stalled


def register(app, *, topics, after_s: float, interval_s: float = 5.0) -> FetchWatch:
    """A timer that exits the worker (code 70, no commit) when a partition of ``topics`` it owns
    has records waiting and nothing read or committed for ``after_s`` (module docstring)."""
    from streams.faust_util import EXIT_UNEXPECTED, backpressured, committed_offsets, exit_at_once
    from streams.recovery_watch import consumer_state, consumer_thread_tasks, fetcher_state, task_stacks

    watch = FetchWatch(after_s=after_s)
    names = {t.get_topic_name() for t in topics}

    @app.timer(interval_s)
    async def check_fetch_progress() -> None:
        if not after_s:
            return
        owned = [tp for tp in app.consumer.assignment() if tp.topic in names]
        paused = bool(app.rebalancing or app.tables.recovery.in_recovery) or backpressured(app, after_s)
        ends = {}
        if owned and not paused:
            try:
                ends = dict(await app.consumer.highwaters(*owned))
            except Exception:  # noqa: BLE001 - not known this tick (a rebalance, a broker away)
                ends = {}
        # a rebalance may have begun during the await: its partitions are not this rule's
        paused = paused or bool(app.rebalancing or app.tables.recovery.in_recovery)
        stalled = watch.observe(time.monotonic(), owned=owned, read=app.monitor.tp_read_offsets,
                                committed=committed_offsets(app), ends=ends, paused=paused)
        if stalled:
            where = {s.partition: s.end - s.committed for s in stalled}
            exit_at_once(EXIT_UNEXPECTED, lambda: app.log.critical(
                "fetch stalled: %s; exiting so that the restarted worker reads from the committed offsets. "
                "Consumer: %s. Fetcher: %s. Tasks at the stall:\n%s\nTasks of the consumer's thread:\n%s",
                "; ".join(s.describe() for s in stalled), consumer_state(app, where), fetcher_state(app, where),
                task_stacks(), consumer_thread_tasks(app)))

    return watch
