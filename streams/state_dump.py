"""What a running worker is doing, on demand: ``kill -USR1 <pid>`` logs it (one WARNING record).

For the stall no watch catches yet: rebalance and recovery flags, the records a table recovery
has left, every assigned partition's committed and last handed-over offsets, where Faust's
fetch sets and aiokafka's fetcher stand for it, and every asyncio task's chain of awaits (main
loop and the consumer's thread). The fault tests send it before they give up on a worker, so a
failure's log says where the worker stood.
"""

from __future__ import annotations

import signal
import weakref
from typing import Callable

_PARTS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # app -> [(name, describe)]


def add(app, name: str, describe_part: Callable[[], str]) -> None:
    """Add one part's own state (the ingest's clocks, the aggregate's watermarks) to the dump."""
    _PARTS.setdefault(app, []).append((name, describe_part))


def describe(app) -> str:
    from streams.faust_util import committed_offsets
    from streams.recovery_watch import consumer_state, consumer_thread_tasks, fetcher_state, task_stacks

    parts = []
    try:
        recovery = app.tables.recovery
        assigned = sorted(app.consumer.assignment(), key=str)
        committed, read = committed_offsets(app), app.monitor.tp_read_offsets
        left = {str(tp): n for tp, n in recovery.active_remaining().items() if n and n > 0}
        parts.append(f"rebalancing={bool(app.rebalancing)} in_recovery={bool(recovery.in_recovery)} "
                     f"recovery_completed={recovery.completed.is_set()} changelog records left={left}")
        parts.append("offsets (committed / last handed to the agents): " + "; ".join(
            f"{tp.topic}/{tp.partition}: {committed.get(tp)} / {read.get(tp)}" for tp in assigned))
        every = {tp: 0 for tp in assigned}
        parts.append("consumer: " + consumer_state(app, every))
        parts.append("fetcher: " + fetcher_state(app, every))
    except Exception as exc:  # noqa: BLE001 - a diagnostic must say what it could
        parts.append(f"(state not readable: {exc!r})")
    for name, describe_part in _PARTS.get(app, ()):
        try:
            parts.append(f"{name}: {describe_part()}")
        except Exception as exc:  # noqa: BLE001
            parts.append(f"{name}: (not readable: {exc!r})")
    parts.append("tasks:\n" + task_stacks())
    parts.append("tasks of the consumer's thread:\n" + consumer_thread_tasks(app))
    return "\n".join(parts)


def log_state(app, why: str) -> None:
    """Log :func:`describe` before a crash-only exit (the stall rules), so that the exit says
    where the worker stood; never raises."""
    try:
        app.log.warning("state at the exit (%s):\n%s", why, describe(app))
    except Exception:  # noqa: BLE001 - the exit must happen anyway
        pass


def install(loop, app) -> None:
    """Log :func:`describe` when the process gets SIGUSR1 (on the event loop: a loop stuck in
    a call logs nothing, which says that much)."""
    loop.add_signal_handler(signal.SIGUSR1, lambda: app.log.warning("state on SIGUSR1:\n%s", describe(app)))
