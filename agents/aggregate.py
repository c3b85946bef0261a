"""Aggregate agent: scored mentions + watermarks -> brand buckets -> closed minutes -> alerts.

Partitioned by brand and co-partitioned with the brand-state table. Per batch: fold mentions
into their brands' open minutes, advance the aligned watermark of each scored partition, close
the minutes it passed (detector step in the core), write each touched brand's state once, and
send lifecycle events to ``buzz.alerts``. Cheap arithmetic only: this is the hot-key stage.
"""

from __future__ import annotations

import time

import orjson

from buzzwatch.scored import ScoredMention, WireError, decode_scored
from streams import metrics as M
from streams.faust_util import kafka_timestamp_ms


def register(pipe) -> None:
    app, settings = pipe.app, pipe.settings
    agg = pipe.aggregator
    configured = set(settings.core.brand_names)

    @app.agent(pipe.scored, name="aggregate")
    async def aggregate(stream):
        async for events in stream.take_events(settings.batch_size, within=settings.batch_within_s):
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
                    app.log.warning("skipping unreadable mentions.scored record %s/%s: %s", k, e.message.offset, exc)
                    continue
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
            closed_by_brand = {}
            for k in partitions:
                wm = agg.watermark(k)
                if wm is None:
                    continue
                M.observe_watermark(wm, time.time())
                for brand in pipe.brands_on(k):
                    st = pipe.state(brand)
                    before = st.buckets.closed_until_ms
                    closed = agg.close(st, wm)
                    if closed or st.buckets.closed_until_ms != before:
                        touched.add(brand)
                    if closed:
                        closed_by_brand[brand] = closed
            for brand in sorted(touched):
                pipe.save(brand)
            for brand, closed in closed_by_brand.items():
                for cm in closed:
                    for event in cm.events:
                        await pipe.alerts.send(key=brand.encode("utf-8"), value=orjson.dumps(event))
            M.observe_aggregate(outcomes, closed_by_brand, configured, pipe, oldest_ts, time.time())
