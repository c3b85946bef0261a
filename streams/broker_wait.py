"""A starting worker waits for a broker that is down, for at most ``[worker] broker_wait_s``.

Why: a broker restarts (a rolling upgrade, a host reboot, compose starting the workers before
Kafka answers) while a worker starts. Once running, the clients ride such an outage out by
themselves (``tests/integration/test_faults.py``: a broker down 10 s mid-stream). At start-up
they did not: the access check said "cannot connect" and exited 2, and a changelog topic
declared while the broker went away ended the worker with exit 1 (``NodeNotReadyError`` from
Faust's ``create_topic``). The supervisor then restarted it, but a worker that cannot start
alone while Kafka restarts is one more thing to babysit during the restart.

What waits: only what a broker's absence explains (a refused or reset connection, a timeout,
a node not ready, a request Kafka itself marks retriable). A refused certificate, a wrong
password or a broker that answers with a real error still ends the start at once, with the
reason. Every retry logs one warning line with the reason and the time left; after
``broker_wait_s`` the last reason is raised as it was.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from typing import Awaitable, Callable, TypeVar

T = TypeVar("T")

FENCED = "brokers are currently fenced"
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 5.0

log = logging.getLogger(__name__)


def broker_absent(exc: BaseException) -> bool:
    """Whether ``exc`` is what a broker that is down or restarting gives: worth waiting for.

    >>> broker_absent(ConnectionRefusedError(111, "Connect call failed"))
    True
    >>> broker_absent(ssl.SSLCertVerificationError("certificate verify failed"))
    False
    >>> broker_absent(ValueError("not host:port"))
    False
    >>> broker_absent(RuntimeError("InvalidReplicationFactorError: Unable to replicate the partition 1 "
    ...                            "time(s): All brokers are currently fenced"))
    True
    """
    if isinstance(exc, (ssl.SSLError, FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)):
        return False  # the broker answered, or a local file is wrong: waiting changes nothing
    transient = getattr(exc, "transient", None)  # streams.kafka_access.KafkaAccessError says itself
    if transient is not None:
        return bool(transient)
    if isinstance(exc, (OSError, TimeoutError, asyncio.TimeoutError)):
        return True
    if type(exc).__name__ in {"KafkaTimeoutError", "NoBrokersAvailable", "NotReady"}:
        return True
    if FENCED in str(exc):
        # A KRaft broker that just started is fenced until the controller has it registered:
        # it answers, but refuses to create a topic ("InvalidReplicationFactorError"), the same
        # code as a replication factor above the broker count, which this text tells apart.
        return True
    return bool(getattr(exc, "retriable", False))  # aiokafka's and kafka-python's own verdict


class _Patience:
    """How long to pause before the next try, or None: give up (not the broker's absence, or
    ``wait_s`` spent). Logs each pause with its reason."""

    def __init__(self, what: str, wait_s: float, clock: Callable[[], float]):
        self.what, self.clock = what, clock
        self.deadline = clock() + wait_s
        self.attempt = 0

    def pause_after(self, exc: BaseException) -> float | None:
        left = self.deadline - self.clock()
        if not broker_absent(exc) or left <= 0:
            return None
        pause = min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2 ** self.attempt, left)
        self.attempt += 1
        log.warning("%s: Kafka is not answering (%s: %s); trying again in %.1f s, for %.0f s more",
                    self.what, type(exc).__name__, exc, pause, left)
        return pause


def waiting_for_broker(fn: Callable[[], T], *, what: str, wait_s: float,
                       sleep: Callable[[float], None] = time.sleep,
                       clock: Callable[[], float] = time.monotonic) -> T:
    """``fn()``, called again while it fails because the broker is absent, for at most ``wait_s``."""
    patience = _Patience(what, wait_s, clock)
    while True:
        try:
            return fn()
        except Exception as exc:
            pause = patience.pause_after(exc)
            if pause is None:
                raise
        sleep(pause)


async def waiting_for_broker_async(fn: Callable[[], Awaitable[T]], *, what: str, wait_s: float,
                                   sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                                   clock: Callable[[], float] = time.monotonic) -> T:
    """The same as :func:`waiting_for_broker` for a coroutine function."""
    patience = _Patience(what, wait_s, clock)
    while True:
        try:
            return await fn()
        except Exception as exc:
            pause = patience.pause_after(exc)
            if pause is None:
                raise
        await sleep(pause)
