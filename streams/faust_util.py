"""Small adapters between Faust/aiokafka objects and the core's plain values."""

from __future__ import annotations

import asyncio


def kafka_timestamp_ms(message) -> int | None:
    """The record's Kafka timestamp in epoch ms (Faust gives float seconds), or None."""
    ts = getattr(message, "timestamp", None)
    if ts is None or ts <= 0:
        return None
    return int(ts * 1000)


EXIT_UNEXPECTED = 70  # EX_SOFTWARE: the supervisor (compose, systemd, k8s) restarts the worker


def die_without_commit(log, stage: str, exc: BaseException) -> None:
    """Stop the process at once, without committing the offsets of the batch in hand.

    Faust acks a ``take_events`` batch in a ``finally`` when the agent body raises, so letting
    an unexpected exception escape (a broker refusal, a bug outside the per-record guards)
    would commit offsets past records that were neither processed nor dead-lettered. Exiting
    here keeps the last committed offset: the restarted worker reads those records again, and
    idempotent state (mention ids) makes that harmless.
    """
    exit_at_once(EXIT_UNEXPECTED, lambda: log.critical(
        "%s stage failed on a batch (%s: %s); exiting without committing so the restarted worker "
        "reprocesses it", stage, type(exc).__name__, exc, exc_info=exc))


def exit_at_once(code: int, say) -> None:
    """Call ``say()`` (one log line: why), flush the logs, and leave with ``code`` at once: no
    commit, no clean-up (the crash-only exits: :func:`die_without_commit`, and
    ``streams.stop_deadline`` for a stop that hangs). Leaves even if logging fails."""
    import logging
    import os
    import sys

    try:
        say()
        logging.shutdown()
        sys.stderr.flush()
    finally:
        os._exit(code)


async def run_to_completion(batch) -> None:
    """Await the coroutine ``batch`` (one batch of an agent) so that a shutdown cannot cut it.

    Faust stops a worker (SIGTERM) by cancelling its agents. ``take_events`` acks the batch in
    hand in a ``finally`` whatever happened to it, and the last commit follows: a batch cut at
    one of its awaits (a send, the state save) was committed half done, and its mentions were
    lost (seen as 2-8 missing mentions when a second worker was stopped, and after the SIGTERM
    of tests/integration/test_faults.py). So the batch runs in its own task, shielded: a
    cancellation waits for it to finish (batches take well under a second), then goes on.
    Its own failure is raised as usual (see :func:`die_without_commit`).
    """
    task = asyncio.ensure_future(batch)
    cancelled = None
    while True:
        try:
            await asyncio.shield(task)
            break
        except asyncio.CancelledError as exc:
            if task.done():
                if task.cancelled():
                    raise
                break
            cancelled = exc  # shutting down: let the batch finish first
    if cancelled is not None:
        task.result()  # its own failure first, if any
        raise cancelled


def committed_offsets(app) -> dict:
    """Partition -> the committed offset (the next to read) as this worker knows it.

    Faust's monitor forgets its committed offsets at every rebalance and learns them again only
    from this process's next commit, which never comes for a partition with nothing new to
    commit; the consumer knows them from the seek that follows the rebalance. Both, the higher
    offset winning."""
    merged = {tp: off for tp, off in (getattr(app.consumer, "_committed_offset", None) or {}).items()
              if off is not None}
    for tp, off in app.monitor.tp_committed_offsets.items():
        if off is not None and (merged.get(tp) is None or off > merged[tp]):
            merged[tp] = off
    return merged


def backpressured(app, seconds: float) -> bool:
    """Did the worker's fetch loop wait for room in a full stream queue within ``seconds``
    (``SafeConsumer.backpressured_within``; False for another consumer)?"""
    check = getattr(app.consumer, "backpressured_within", None)
    return bool(check and check(seconds))


async def run_in_steps(steps):
    """Drive a core generator (``AggregateStage.process_in_steps``) to its result, letting the
    event loop run its other tasks between steps."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value
        await asyncio.sleep(0)
