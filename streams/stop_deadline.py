"""A bound on how long a worker may take to stop: past it, exit without the final commit.

Why this exists: a worker whose Kafka broker has gone away does not stop on SIGTERM. Faust
logs ``Stopping...`` then ``Wait for streams...`` and goes no further, retrying the broker, and
neither a second SIGTERM nor SIGINT is heard (mode ignores any signal after the first one); only
SIGKILL ends it. Operators
stop workers with SIGTERM (docker stop, systemd, Kubernetes) and a stop that never ends holds up
deploys and failovers.

Exiting without the final commit is always safe here: the worker is crash-only and
at-least-once (state updates are idempotent by mention id, alerts by alert id), so what was not
committed is read again by the next start. So once a stop has begun, a daemon thread waits
``[worker] stop_timeout_s``; if the process is still there, it logs one error line that says so
and leaves with ``os._exit(EXIT_STOP_TIMEOUT)``. A second SIGTERM or SIGINT during a stop exits
the same way at once (an operator who asks twice wants the process gone).

The default bound (20 s) is about ten times a clean stop measured on the real broker (1.2-2.4 s)
and below the 30 s Kubernetes gives a pod before SIGKILL, so the worker says why it leaves.

`StopDeadline` is the rule alone (times in, messages out), unit-tested with a hand-driven clock;
`StopGuard` adds the thread, the monotonic clock and the exit; `GuardedWorker` wires it into a
Faust worker.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass
from typing import Callable

from streams.faust_util import exit_at_once

# EX_TEMPFAIL: distinct from a clean stop (0) and from the crash-only exits of the running worker
# (70, streams.faust_util.EXIT_UNEXPECTED) so the exit status tells which rule ended the process.
EXIT_STOP_TIMEOUT = 75

AFTERWARDS = "exiting without commit; the next start re-reads from the last committed offsets"


@dataclass
class StopDeadline:
    """When a stop began and why; whether it is overdue.

    >>> d = StopDeadline(timeout_s=30)
    >>> d.overdue(now=100.0) is None          # no stop yet
    True
    >>> d.begin("SIGTERM", now=100.0), d.begin("the worker stopping", now=101.0)
    (True, False)
    >>> d.overdue(now=129.9) is None
    True
    >>> print(d.overdue(now=130.0))
    stop (on SIGTERM) did not finish in 30 s; exiting without commit; the next start re-reads from the last committed offsets
    """

    timeout_s: float  # 0: wait for ever
    began_at: float | None = None
    reason: str | None = None

    def begin(self, reason: str, now: float) -> bool:
        """Record the start of a stop; only the first call counts (True)."""
        if self.began_at is not None:
            return False
        self.began_at, self.reason = now, reason
        return True

    def remaining(self, now: float) -> float | None:
        """Seconds left before the stop is overdue; None when none began or no bound is set."""
        if self.began_at is None or not self.timeout_s:
            return None
        return self.timeout_s - (now - self.began_at)

    def overdue(self, now: float) -> str | None:
        """The error line to log and exit with, once the stop has lasted ``timeout_s``."""
        left = self.remaining(now)
        if left is None or left > 0:
            return None
        return f"stop (on {self.reason}) did not finish in {self.timeout_s:g} s; {AFTERWARDS}"

    def signal(self, name: str, now: float) -> str | None:
        """A stop signal arrived: the first begins the stop (None); one during a stop gives the
        line to exit with at once.

        >>> d = StopDeadline(timeout_s=0)
        >>> d.signal("SIGTERM", now=5.0) is None
        True
        >>> print(d.signal("SIGINT", now=7.5))
        SIGINT while stopping (on SIGTERM, 2.5 s ago); exiting without commit; the next start re-reads from the last committed offsets
        """
        if self.begin(name, now):
            return None
        return f"{name} while stopping (on {self.reason}, {now - self.began_at:.1f} s ago); {AFTERWARDS}"


def exit_without_commit(message: str, log: logging.Logger | None = None) -> None:
    """Log ``message`` as one error line and leave at once (no commit, no clean-up: it hangs)."""
    exit_at_once(EXIT_STOP_TIMEOUT, lambda: (log or logging.getLogger(__name__)).error(
        "%s (exit code %d)", message, EXIT_STOP_TIMEOUT))


class StopGuard:
    """`StopDeadline` on the monotonic clock, with a daemon thread that exits when it is overdue.

    The thread does not need the event loop: it fires even when the loop is stuck."""

    def __init__(self, timeout_s: float, *, exit: Callable[[str], None] = exit_without_commit,
                 clock: Callable[[], float] = time.monotonic):
        self.deadline = StopDeadline(timeout_s=timeout_s)
        self._exit = exit
        self._clock = clock
        self._lock = threading.RLock()  # re-entrant: a signal handler may run while the main thread holds it
        self.thread: threading.Thread | None = None

    def begin(self, reason: str) -> None:
        """A stop began (any cause): start the countdown, once."""
        with self._lock:
            started = self.deadline.begin(reason, self._clock())
        if started:
            self._watch()

    def on_signal(self, name: str) -> None:
        """SIGTERM/SIGINT: the first begins the countdown, a later one exits at once."""
        with self._lock:
            message = self.deadline.signal(name, self._clock())  # None: this signal began the stop
        if message is not None:
            self._exit(message)
        else:
            self._watch()

    def _watch(self) -> None:
        if self.deadline.remaining(self._clock()) is None:
            return  # stop_timeout_s = 0: wait for ever
        self.thread = threading.Thread(target=self._run, name="buzzwatch-stop-deadline", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            now = self._clock()
            message = self.deadline.overdue(now)
            if message is not None:
                self._exit(message)
                return
            time.sleep(min(max(self.deadline.remaining(now), 0.01), 1.0))


def install(worker, guard: StopGuard) -> None:
    """Wire ``guard`` into a Faust worker whose own signal handlers are installed: SIGTERM and
    SIGINT reach the guard first, then the worker's handler on the event loop.

    Plain ``signal.signal`` handlers, run by the main thread even when the event loop is stuck;
    the two signals are blocked while the loop's handlers are swapped for them."""
    loop = worker.loop
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    handlers = {signal.SIGTERM: worker._on_sigterm, signal.SIGINT: worker._on_sigint}

    def on_stop_signal(signum, frame) -> None:  # noqa: ARG001
        guard.on_signal(signal.Signals(signum).name)
        loop.call_soon_threadsafe(handlers[signum])

    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    try:
        for sig in stop_signals:
            loop.remove_signal_handler(sig)
            signal.signal(sig, on_stop_signal)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stop_signals)


class GuardedWorker:
    """Mixin for ``faust.Worker``: a stop for any reason (a signal, the worker stopping, the
    command line ending) starts the countdown of its ``stop_guard``."""

    def __init__(self, *args, stop_guard: StopGuard, **kwargs):
        self.stop_guard = stop_guard
        super().__init__(*args, **kwargs)

    def install_signal_handlers(self) -> None:
        super().install_signal_handlers()
        install(self, self.stop_guard)

    async def on_stop(self) -> None:
        self.stop_guard.begin("the worker stopping")
        await super().on_stop()

    def on_worker_shutdown(self) -> None:
        self.stop_guard.begin("the worker shutting down")
        super().on_worker_shutdown()

