"""Find a table recovery that stopped reading its changelogs, and end the worker (code 70).

Why this exists: CI saw a worker whose recovery, after a second worker joined the group, read
nothing from three of its changelog partitions for more than two minutes (Faust's own warning,
"No event received for active tp ... since recovery start", every five seconds) while the
partitions held records to read. Faust 0.15.3 waits for such a recovery for ever; the worker
then owns brands it never processes: their raw partitions are not read, their gauges are
gone, their alerts never come. ``streams.commit_watch`` does not see it (Faust commits nothing
during a recovery, so that rule pauses), and the cause was not found in the logs at hand.

A restarted worker reads the changelogs from the start, so the worker applies the same
crash-only answer as the commit rule: when a recovery has changelog records left to read and
read none of them for ``stall_exit_s``, it exits with code 70 (the supervisor restarts it). A
healthy recovery reads thousands of records a second from the local broker (10,000 brands'
state took 20-35 s, reading all the time: bench/run_bench.py --only memory), so a silence of
that length is a stall, not slowness. Before leaving it logs what each asyncio task was waiting
on, which is what the next investigation needs.

What the dumps then showed (stop 19): aiokafka's position at the end of every stalled
changelog partition, and nothing of it applied. The records had been fetched and never reached
the recovery; nothing fetches them again by itself. So before exiting, the watch reads such a
partition again from the first record it did not apply (:func:`rewind_targets`), once per
recovery; a stall after that exits as before.

`RecoveryWatch` is the rule alone (plain values in, a verdict out), unit-tested directly;
`register` feeds it Faust's recovery counters from a timer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Mapping


@dataclass(frozen=True)
class StalledRecovery:
    remaining: Mapping  # changelog partition -> records still to read
    silent_for_s: float

    def describe(self) -> str:
        behind = ", ".join(f"{tp}: {n}" for tp, n in sorted(self.remaining.items(), key=str) if n > 0)
        return f"no changelog record read for {self.silent_for_s:.0f} s with records left to read ({behind})"


@dataclass
class RecoveryWatch:
    """Is a recovery that has records left to read still reading them?

    ``observe`` is called periodically. Progress is any change of the records left per
    partition (one record read moves one count); a recovery that ends, or has nothing left to
    read, drops the clock."""

    after_s: float
    _since: float | None = None
    _last: dict | None = None

    def restart(self) -> None:
        """Start the clock again (after the worker acted on a stall)."""
        self._since = self._last = None

    def observe(self, now: float, *, recovering: bool, remaining: Mapping) -> StalledRecovery | None:
        left = {tp: n for tp, n in remaining.items() if n and n > 0}
        if not recovering or not left or not self.after_s:
            self._since = self._last = None
            return None
        if left != self._last:
            self._since, self._last = now, left
            return None
        if now - self._since >= self.after_s:
            return StalledRecovery(dict(left), now - self._since)
        return None


def rewind_targets(remaining: Mapping, applied: Mapping, positions: Mapping) -> dict:
    """Stalled changelog partitions whose consumer position is already past what the recovery
    applied -> the offset to read again from (the first one not applied).

    Seen in the dumps of the real stall (stop 19, the second-worker test under load): the
    recovery had applied nothing (offset -1) of a changelog partition holding 71 records, and
    aiokafka's position was 71: every record had been fetched and none reached the recovery.
    Nothing fetches them again by itself; reading them again from the first one not applied
    is what the restart did, minus the restart (applying a changelog record twice, in order,
    leaves the same state).

    >>> rewind_targets({"c/2": 71, "c/3": 5}, {"c/2": -1, "c/3": 207}, {"c/2": 71, "c/3": 208})
    {'c/2': 0}
    """
    targets = {}
    for tp, left in remaining.items():
        position, done = positions.get(tp), applied.get(tp)
        if not left or left <= 0 or position is None or done is None:
            continue
        first_missing = max(done + 1, 0)
        if position > first_missing:
            targets[tp] = first_missing
    return targets


def task_stacks(innermost: int = 4, loop=None) -> str:
    """One line per pending asyncio task: its name and the innermost frames of the chain of
    awaits it sits in (``Task.get_stack`` shows only the outermost coroutine of a suspended
    task, so the chain is walked through ``cr_await``). Read after a stall: the task that should
    have run and the await it sits on."""
    import asyncio
    import gc
    import inspect

    lines = []
    for task in asyncio.all_tasks(loop):
        frames, awaited = [], task.get_coro()
        while awaited is not None and len(frames) < 64:
            frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None) \
                or getattr(awaited, "ag_frame", None)
            if frame is not None:
                frames.append(frame)
                awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None) \
                    or getattr(awaited, "ag_await", None)
            else:  # an ``async for`` step: the generator it drives is only reachable through gc
                awaited = next((r for r in gc.get_referents(awaited) if inspect.isasyncgen(r)), None)
        where = " > ".join(f"{f.f_code.co_name} ({f.f_code.co_filename.rsplit('/', 1)[-1]}:{f.f_lineno})"
                           for f in frames[-innermost:]) or "not started"
        lines.append(f"{task.get_name()}: {where}")
    return "\n".join(sorted(lines))


def consumer_thread_tasks(app) -> str:
    """The tasks of the loop Faust runs aiokafka in (its own thread): a fetch that never
    returns waits there. Read from another thread, once, on the way out."""
    try:
        return task_stacks(loop=app.consumer._thread.thread_loop)
    except Exception as exc:  # noqa: BLE001 - a diagnostic must not stop the exit
        return f"(not readable: {exc!r})"


def consumer_state(app, stalled: Mapping) -> str:
    """The consumer's flow flags and where each stalled changelog partition stands in its
    fetch sets (a partition missing from the active set is never fetched)."""
    consumer = app.consumer
    active = getattr(consumer, "_active_partitions", None) or set()
    paused = getattr(consumer, "_paused_partitions", None) or set()
    buffered = getattr(consumer, "_buffered_partitions", None) or set()
    places = []
    for tp in sorted(stalled, key=str):
        where = [name for name, tps in (("active", active), ("paused", paused), ("buffered", buffered)) if tp in tps]
        places.append(f"{tp.topic}/{tp.partition}: {'+'.join(where) or 'in no fetch set'}")
    return (f"flow_active={getattr(consumer, 'flow_active', None)} "
            f"can_resume_flow={consumer.can_resume_flow.is_set()} "
            f"flow_control_active={app.flow_control.is_active()} "
            f"generation={app.consumer_generation_id}; " + "; ".join(places))


def _kafka_partitions(app, tps) -> tuple:
    """aiokafka's consumer, and for each of ``tps`` its (partition, state) in aiokafka's
    assignment (None where not assigned there). Read from the main thread; may raise."""
    kafka = app.consumer._thread._consumer
    assignment = kafka._subscription.subscription.assignment
    by_name = {(t.topic, t.partition): t for t in assignment.tps}
    found = {}
    for tp in tps:
        ktp = by_name.get((tp.topic, tp.partition))
        found[tp] = None if ktp is None else (ktp, assignment.state_value(ktp))
    return kafka, found


def fetcher_state(app, stalled: Mapping) -> str:
    """Where aiokafka's own fetcher stands for each stalled partition (read once, from the
    main thread, on the way out): its position against the recovery's offset and highwater,
    whether it is paused, awaiting an offset reset, or has records buffered that nobody took;
    and the nodes with a fetch in flight. A partition aiokafka fetches from past the
    recovery's offset, or never fetches, shows here."""
    try:
        recovery = app.tables.recovery
        kafka, found = _kafka_partitions(app, sorted(stalled, key=str))
        fetcher = kafka._fetcher
        buffered = getattr(fetcher, "_records", {}) or {}
        parts = []
        for tp, where in found.items():
            if where is None:
                parts.append(f"{tp.topic}/{tp.partition}: not in aiokafka's assignment")
                continue
            ktp, state = where
            parts.append(
                f"{tp.topic}/{tp.partition}: position={getattr(state, '_position', None)} "
                f"recovery_offset={recovery.active_offsets.get(tp)} highwater={recovery.active_highwaters.get(tp)} "
                f"status={getattr(state, '_status', None)} paused={getattr(state, '_paused', None)} "
                f"buffered={ktp in buffered}")
        return "; ".join(parts) + f"; fetch in flight to nodes {sorted(getattr(fetcher, '_in_flight', ()))}"
    except Exception as exc:  # noqa: BLE001 - a diagnostic must not stop the exit it explains
        return f"not readable ({exc!r})"


def consumer_positions(app, tps) -> dict:
    """aiokafka's position per partition (None where not known), read from the main thread."""
    try:
        _, found = _kafka_partitions(app, tps)
    except Exception:  # noqa: BLE001 - unknown: no rewind, the exit stays the answer
        return {}
    return {tp: None if where is None else getattr(where[1], "_position", None) for tp, where in found.items()}


def register(app, *, after_s: float, interval_s: float = 5.0) -> RecoveryWatch:
    """Check every ``interval_s`` from the first partition assignment on, and exit the worker
    (code 70, no commit) when its table recovery has records left to read and read none for
    ``after_s`` (see the module docstring).

    Not an ``app.timer``: Faust starts timers only after the first recovery has completed, and
    a first recovery can stall too (the test starts a worker whose recovery never reads)."""
    import asyncio

    from streams.faust_util import EXIT_UNEXPECTED, exit_at_once

    watch = RecoveryWatch(after_s=after_s)
    started: list = []
    rewound: set = set()  # partitions read again once in this recovery: a second stall exits

    async def check() -> None:
        recovery = app.tables.recovery
        if not recovery.in_recovery:
            rewound.clear()
        stalled = watch.observe(time.monotonic(), recovering=bool(recovery.in_recovery),
                                remaining=dict(recovery.active_remaining()))
        if stalled:
            targets = rewind_targets(stalled.remaining, dict(recovery.active_offsets),
                                     consumer_positions(app, stalled.remaining))
            if targets and not (set(targets) & rewound):
                app.log.warning(
                    "table recovery stalled: %s, and the consumer has already fetched past what the "
                    "recovery applied (%s): reading them again from %s. Consumer: %s.",
                    stalled.describe(), fetcher_state(app, stalled.remaining),
                    ", ".join(f"{tp.topic}/{tp.partition}: {off}" for tp, off in sorted(targets.items(), key=str)),
                    consumer_state(app, stalled.remaining))
                rewound.update(targets)
                for tp, offset in targets.items():
                    await app.consumer.seek(tp, offset)
                watch.restart()
                return
            exit_at_once(EXIT_UNEXPECTED, lambda: app.log.critical(
                "table recovery stalled: %s; exiting so that the restarted worker reads the changelogs "
                "again. Consumer: %s. Fetcher: %s. Tasks at the stall:\n%s\nTasks of the consumer's thread:\n%s",
                stalled.describe(), consumer_state(app, stalled.remaining), fetcher_state(app, stalled.remaining),
                task_stacks(), consumer_thread_tasks(app)))

    async def check_until_stopped() -> None:
        while not app.should_stop:
            await asyncio.sleep(interval_s)
            await check()

    @app.on_partitions_assigned.connect
    async def _start_checking(app, assigned, **kwargs) -> None:  # noqa: ARG001
        if not started:
            started.append(app.add_future(check_until_stopped()))

    return watch
