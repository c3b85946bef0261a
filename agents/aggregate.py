"""Aggregate agent: scored mentions + watermarks -> the aggregate stage -> lifecycle events.

Decode, call the core's :class:`~buzzwatch.stages.aggregate.AggregateStage`, send, save. Records the
stage could not read or fold are dead-lettered with their bytes (stage ``aggregate``). Events go
to ``buzz.alerts`` and are on the broker before the state that says they were emitted is
written: a crash in between re-emits them (same alert id and event: idempotent downstream),
never loses them.
"""

from __future__ import annotations

import asyncio
import time

import orjson

from buzzwatch.stages.aggregate import BRANDS_PER_STEP, AggregateStage, brand_gauges
from buzzwatch.contract.scored import WireError, decode_scored
from streams import metrics as M
from streams.dlq import dlq_headers
from streams.faust_util import die_without_commit, kafka_timestamp_ms, run_in_steps, run_to_completion


def register(app, *, source, alerts, dlq, stage: AggregateStage, settings) -> None:
    """The aggregate agent on ``source`` (mentions.scored), sending to ``alerts`` and ``dlq``."""
    configured = set(settings.core.brand_names)

    async def dead_letter(message, reason: str, exc: Exception, value: bytes | None = None) -> None:
        """``value``: the one failed mention of a batch record (the others were counted)."""
        M.STAGE_ERRORS.labels("aggregate").inc()
        app.log.error("aggregate: dead-lettering %s/%s (%s: %s)", message.partition, message.offset,
                      type(exc).__name__, exc)
        await dlq.send(key=message.key, value=value or message.value or b"", headers=dlq_headers(
            reason=reason, detail=f"{type(exc).__name__}: {str(exc)[:200]}", topic=message.topic,
            partition=message.partition, offset=message.offset, stage="aggregate"))

    scored_topic = source.get_topic_name()

    def owned_partitions() -> set[int] | None:
        """The scored partitions this worker holds now, read from the consumer at every batch
        (Faust's revoke and assign signals can run in either order during a rebalance)."""
        try:
            owned = {tp.partition for tp in app.consumer.assignment() if tp.topic == scored_topic}
        except Exception:  # noqa: BLE001 - no consumer (test context): everything is ours
            return None
        return owned or None

    shown: set[int] = set()  # scored partitions whose brands' gauges this worker shows

    async def show_gained_brands() -> None:
        """Brands of scored partitions this worker just gained show their figures now, read
        from the table, not at their next closed minute: after a rebalance a quiet brand would
        otherwise vanish from the dashboards until traffic closes one of its minutes."""
        owned = stage.owned or set()
        gained = owned - shown
        shown.clear()
        shown.update(owned)
        if not gained:
            return
        for n, brand in enumerate(sorted(configured), 1):
            if n % BRANDS_PER_STEP == 0:
                await asyncio.sleep(0)  # 10,000 brands' gauges from their index: seconds of CPU
            if stage.partition(brand) in gained:
                # Read for the gauges only, never cached: during a rebalance the assignment can
                # show a partition before its table is recovered, and a state cached from a
                # half-recovered table would later be saved over the newer one.
                st = stage.cache.get(brand) or (stage.store.load_closed(brand) if stage.store is not None else None)
                if st is not None:
                    M.set_brand_gauges(brand, brand_gauges(st))

    async def aggregate_batch(events) -> None:
        stage.owned = owned_partitions()
        await show_gained_brands()
        items, messages = [], []
        for e in events:
            try:
                decoded = decode_scored(e.message.value)
            except WireError as exc:
                M.SCORED_UNREADABLE.inc()
                await dead_letter(e.message, "not_json", exc)
                continue
            for item in decoded if isinstance(decoded, list) else (decoded,):
                items.append((e.message.partition, item))
                messages.append(e.message)
        batch = await run_in_steps(stage.process_in_steps(items))  # the loop runs between brands
        for index, exc in batch.failed:
            try:
                value = items[index][1].to_wire()
            except Exception:  # noqa: BLE001 - the record itself is odd: keep the whole message
                value = None
            await dead_letter(messages[index], "internal_error", exc, value)
        for brand, exc in batch.failed_brands:
            M.STAGE_ERRORS.labels("aggregate").inc()
            app.log.error("aggregate: closing minutes of %r failed (%s: %s); retried next batch",
                          brand, type(exc).__name__, exc)
        delivered = [await alerts.send(key=brand.encode("utf-8"), value=orjson.dumps(event))
                     for brand, event in batch.events]
        for fut in delivered:
            await fut  # on the broker before the state that says it was emitted
        if batch.watermarks:  # every event of the minutes closed up to here is on the broker
            top = max(batch.watermarks.values())
            stage.sent_watermark_ms = top if stage.sent_watermark_ms is None else max(top, stage.sent_watermark_ms)
        await run_in_steps(stage.save_in_steps(batch.touched))  # the loop runs between brands
        now = time.time()
        for wm in batch.watermarks.values():
            M.observe_watermark(wm, now)
        stamps = [ts for ts in (kafka_timestamp_ms(m) for m in messages) if ts is not None]
        owned = {b for b in configured if stage.owned_brand(b)}
        M.observe_aggregate(batch.outcomes, owned, min(stamps) if stamps else None, now)
        closed = list(batch.closed.items())
        for start in range(0, len(closed), BRANDS_PER_STEP):  # 10,000 brands' gauges: a second of CPU
            M.observe_closed(dict(closed[start:start + BRANDS_PER_STEP]), owned, lambda b: brand_gauges(stage.state(b)))
            await asyncio.sleep(0)

    @app.agent(source, name="aggregate")
    async def aggregate(stream):
        async for events in stream.take_events(settings.batch_size, within=settings.batch_within_s):
            try:
                await run_to_completion(aggregate_batch(events))
            except Exception as exc:  # noqa: BLE001 - see die_without_commit
                die_without_commit(app.log, "aggregate", exc)
