"""Aggregate agent: scored mentions + watermarks -> brand buckets -> closed minutes -> alerts.

Partitioned by brand and co-partitioned with the brand-state table. Per batch: fold mentions
into their brands' open minutes, advance the aligned watermark of each scored partition, close
the minutes it passed (detector step in the core), send lifecycle events to ``buzz.alerts``
and wait for the broker to have them, then write each touched brand's state once. Events go
out before the state that says they were emitted: a crash in between re-emits them (same
alert id and event: idempotent downstream), never loses them.
"""

from __future__ import annotations

import time

import orjson

from buzzwatch.scored import ScoredMention, WireError, decode_scored
from streams import metrics as M
from streams.dlq import dlq_headers
from streams.faust_util import die_without_commit, kafka_timestamp_ms


def register(pipe) -> None:
    app, settings = pipe.app, pipe.settings
    agg = pipe.aggregator
    configured = set(settings.core.brand_names)

    @app.agent(pipe.scored, name="aggregate")
    async def aggregate(stream):
        async for events in stream.take_events(settings.batch_size, within=settings.batch_within_s):
            try:
                await aggregate_batch(events)
            except Exception as exc:  # noqa: BLE001 - see die_without_commit
                die_without_commit(app.log, "aggregate", exc)

    async def set_aside(message, exc: Exception, reason: str = "internal_error") -> None:
        M.STAGE_ERRORS.labels("aggregate").inc()
        app.log.error("aggregate: dead-lettering %s/%s (%s: %s)", message.partition, message.offset,
                      type(exc).__name__, exc)
        await pipe.dlq.send(key=message.key, value=message.value or b"", headers=dlq_headers(
            reason=reason, detail=f"{type(exc).__name__}: {str(exc)[:200]}", topic=message.topic,
            partition=message.partition, offset=message.offset, stage="aggregate"))

    async def aggregate_batch(events) -> None:
        touched: set[str] = set()
        partitions: set[int] = set()
        outcomes: list[tuple[str, str]] = []
        oldest_ts = None
        for e in events:
            k = e.message.partition
            partitions.add(k)
            try:
                item = decode_scored(e.message.value)
            except WireError as exc:
                M.SCORED_UNREADABLE.inc()
                await set_aside(e.message, exc, reason="not_json")
                continue
            try:
                if isinstance(item, ScoredMention):
                    if item.brand not in pipe.brand_partitions:
                        pipe.brand_partitions[item.brand] = k
                    outcome = agg.add(pipe.state(item.brand), item)
                    outcomes.append((item.brand, outcome))
                    touched.add(item.brand)
                    ts = kafka_timestamp_ms(e.message)
                    if ts is not None and (oldest_ts is None or ts < oldest_ts):
                        oldest_ts = ts
                else:
                    agg.on_watermark(k, item)
            except Exception as exc:  # noqa: BLE001 - one record must not take the others down
                await set_aside(e.message, exc)
        closed_by_brand = {}
        for k in partitions:
            wm = agg.watermark(k)
            if wm is None:
                continue
            M.observe_watermark(wm, time.time())
            for brand in pipe.brands_on(k):
                try:
                    st = pipe.state(brand)
                    before = st.buckets.closed_until_ms
                    closed = agg.close(st, wm)
                except Exception as exc:  # noqa: BLE001 - one brand's bug must not blind the others
                    M.STAGE_ERRORS.labels("aggregate").inc()
                    app.log.exception("aggregate: closing minutes of %r failed (%s); retried next batch",
                                      brand, type(exc).__name__)
                    pipe.cache.pop(brand, None)  # re-read the last saved state next time
                    touched.discard(brand)
                    continue
                if closed or st.buckets.closed_until_ms != before:
                    touched.add(brand)
                if closed:
                    closed_by_brand[brand] = closed
        delivered = []
        for brand, closed in closed_by_brand.items():
            for cm in closed:
                for event in cm.events:
                    delivered.append(await pipe.alerts.send(key=brand.encode("utf-8"), value=orjson.dumps(event)))
        for fut in delivered:
            await fut  # on the broker before the state that says it was emitted
        for brand in sorted(touched):
            pipe.save(brand)
        M.observe_aggregate(outcomes, closed_by_brand, configured, lambda b: pipe.state(b).gauges(),
                            oldest_ts, time.time())
