"""Ingest agent: raw mentions -> (scored mentions keyed by brand | dead letters) + watermarks.

Runs on the raw topic's partitions, so the CPU work spreads evenly whatever brand is hot.
Per batch: decode and score in the core (``IngestStep``), send, then send one watermark marker
per raw partition seen to every scored partition (after the mentions, so each scored partition
receives a partition's mentions before the marker that vouches for them). A timer re-sends
markers and declares caught-up silent partitions idle.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

from buzzwatch.stages.ingest import IngestStep, RawRecord
from streams import metrics as M
from streams.dlq import dlq_headers
from streams.faust_util import backpressured, committed_offsets, die_without_commit, kafka_timestamp_ms, run_to_completion
from streams.read_holes import ReadHoles
from streams.state_dump import log_state


def register(app, *, source, scored, dlq, step: IngestStep, settings):
    """The ingest agent on ``source`` (the raw mentions topic) and its watermark timer.

    Returns the handles the composition root needs: ``forget(raw_partitions)`` when raw
    partitions are revoked, and ``refresh_watermarks()`` (what the timer runs)."""
    last_event_wall: dict[int, float] = {}
    # Event time vouched for per raw partition: the clock as of the last batch whose scored
    # records have all been handed to the producer. The timer runs between the agent's awaits,
    # so it must never announce the clock of a batch still being sent.
    published: dict[int, int] = {}
    sent_clock: dict[int, int] = {}  # the same clock, held back from ``published`` while a hole is open
    holes = ReadHoles()  # next offset expected per raw partition; a hole holds its marker
    name = source.get_topic_name()

    def forget(raw_partitions) -> None:
        for p in raw_partitions:
            for d in (last_event_wall, published, sent_clock):
                d.pop(p, None)
        holes.forget(raw_partitions)

    def committed_by_partition() -> dict[int, int]:
        try:
            return {tp.partition: off for tp, off in committed_offsets(app).items() if tp.topic == name}
        except Exception:  # noqa: BLE001 - no consumer yet (test context): unknown
            return {}

    def publish(p: int) -> None:
        """Vouch for the partition's clock of fully sent batches, unless a hole holds it."""
        if p in sent_clock and not holes.holding(p):
            published[p] = sent_clock[p]


    async def send_markers(partitions, idle: set[int] = frozenset()) -> None:
        for marker in step.markers(partitions, settings.partitions, idle, clocks=published):
            wire = marker.to_wire()
            for target in range(settings.partitions):
                await scored.send(value=wire, partition=target)

    @app.agent(source, name="ingest")
    async def ingest(stream):
        async for events in stream.take_events(settings.batch_size, within=settings.batch_within_s):
            try:
                await run_to_completion(ingest_batch(events))
            except Exception as exc:  # noqa: BLE001 - see die_without_commit
                die_without_commit(app.log, "ingest", exc)

    async def ingest_batch(events) -> None:
        records = [
            RawRecord(
                partition=e.message.partition,
                offset=e.message.offset,
                timestamp_ms=kafka_timestamp_ms(e.message),
                value=e.message.value,
                key=e.message.key,
                topic=e.message.topic,
            )
            for e in events
        ]
        result = step.process(records)  # never raises for one record: see IngestStep.process
        for rej in result.rejected:
            r = rej.record
            await dlq.send(
                key=r.key,
                value=r.value if r.value is not None else b"",
                headers=dlq_headers(reason=rej.rejection.reason, detail=rej.rejection.detail,
                                    topic=r.topic, partition=r.partition, offset=r.offset),
            )
        for brand, record in result.batches():  # one record per brand per batch (size-bounded)
            await scored.send(key=brand.encode("utf-8"), value=record)
        now = time.time()
        seen = {r.partition for r in records}
        committed = committed_by_partition()
        for p in seen:
            was_holding = holes.holding(p)
            holes.observe(p, [r.offset for r in records if r.partition == p], committed.get(p))
            if holes.holding(p) and not was_holding:
                app.log.warning("ingest: raw partition %d: offset %d was not read before later ones; its "
                                "watermark is held until the commit passes it", p, holes.first_hole(p))
            if step.clock.get(p) is not None:
                sent_clock[p] = step.clock.get(p)
            publish(p)
        for r in records:
            last_event_wall[r.partition] = now
        await send_markers(sorted(seen))
        M.observe_ingest(result, records, now)

    async def refresh_watermarks() -> None:
        """Re-send markers; a partition caught up and silent for ``idle_partition_s`` is idle."""
        idle_after = settings.core.pipeline.idle_partition_s
        owned = {tp.partition: tp for tp in app.consumer.assignment() if tp.topic == name}
        if not owned:
            return
        now = time.time()
        idle = set()
        committed = committed_by_partition()
        for p in owned:
            holes.release(p, committed.get(p))
            publish(p)
        for p, tp in sorted(owned.items()):
            try:
                high = app.consumer.highwater(tp)
            except Exception:  # noqa: BLE001 - not known yet: not idle
                continue
            done = holes.next_offset(p)  # after what was processed
            if done is None:  # nothing processed since start (or since the partition came back)
                # The committed offset, not the consumer's position: records fetched and then
                # dropped by the consumer move its position but were never processed.
                done = committed.get(p)
            if done is None:
                try:
                    done = await app.consumer.position(tp) or 0
                except Exception:  # noqa: BLE001 - revoked or not positioned yet (a rebalance): next tick
                    continue
            caught_up = high is not None and 0 <= high <= done
            last = last_event_wall.setdefault(p, now)
            if (not caught_up and settings.stall_exit_s and now - last >= settings.stall_exit_s
                    and not backpressured(app, settings.stall_exit_s)):
                # Records wait on this partition and none has reached the agent for that long:
                # a stalled consumer (seen after repeated crashes: Faust's acks stop advancing).
                # Not while the fetch loop waits for room in a full queue: no partition gets
                # records then (a loaded worker, a backlog), and the agents' own progress is
                # streams.commit_watch's to judge.
                # Crash-only recovery: exit without committing; the supervisor restarts the
                # worker, which reads from the last commit (idempotent by mention id).
                log_state(app, f"ingest: raw partition {p} stalled")
                die_without_commit(app.log, "ingest", TimeoutError(
                    f"raw partition {p}: {high - done} records waiting, none processed for {now - last:.0f} s"))
            if caught_up and now - last >= idle_after and not holes.holding(p):
                idle.add(p)
        # A rebalance may have taken partitions away during the awaits above: a crashed timer
        # stopped the whole worker (a second worker joining, 1 run of 20), and a marker for a
        # partition another worker now owns would speak for records this one does not read.
        still = {tp.partition for tp in app.consumer.assignment() if tp.topic == name}
        await send_markers(sorted(p for p in owned if p in still), idle & still)

    def describe() -> str:
        """Per raw partition seen: the clock vouched for, the clock sent, the next offset
        expected and a hole holding the marker (for ``kill -USR1``, streams.state_dump)."""
        seen = sorted(set(published) | set(sent_clock) | set(last_event_wall))
        return "; ".join(f"raw {p}: published={published.get(p)} sent={sent_clock.get(p)} "
                         f"next_offset={holes.next_offset(p)} hole={holes.first_hole(p) if holes.holding(p) else None}"
                         for p in seen) or "no raw partition processed"

    app.timer(settings.watermark_interval_s)(refresh_watermarks)
    return SimpleNamespace(forget=forget, refresh_watermarks=refresh_watermarks, ingest_batch=ingest_batch,
                           describe=describe)
