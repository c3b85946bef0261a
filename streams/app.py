"""The Faust application: topics, the brand-state table, and the agents wired to the core.

``build_app(settings)`` is a factory rather than a module-level ``app`` because the same code
runs the live worker, an isolated replay (other app id, other alert topic) and the tests.

Tables use the memory store: a restarted worker rebuilds them from their compacted changelog
topics (no RocksDB to install). The brand-state table uses the producer's partitioner on the
brand key, exactly as the ingest stage does when it sends to ``mentions.scored``, so a brand's
state lives on the partition that receives its mentions (co-partitioning).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import faust
from aiokafka.partitioner import murmur2

from buzzwatch.aggregate import Aggregator, BrandState
from buzzwatch.ingest import IngestStep
from streams.settings import Settings

log = logging.getLogger("buzzwatch")


def brand_partition(brand: str, partitions: int) -> int:
    """The partition Kafka's default partitioner gives a brand key (murmur2, like the producer)."""
    return (murmur2(brand.encode("utf-8")) & 0x7FFFFFFF) % partitions


@dataclass
class Pipeline:
    """What the agents share inside one worker process."""

    settings: Settings
    app: faust.App
    mentions: faust.TopicT
    scored: faust.TopicT
    dlq: faust.TopicT
    alerts: faust.TopicT
    states: faust.Table
    delivered: faust.Table
    ingest: IngestStep
    aggregator: Aggregator
    cache: dict[str, BrandState] = field(default_factory=dict)
    brand_partitions: dict[str, int] = field(default_factory=dict)
    on_revoke_raw: list = field(default_factory=list)  # agents' callbacks(raw partitions revoked)

    def state(self, brand: str) -> BrandState:
        st = self.cache.get(brand)
        if st is None:
            raw = self.states.get(brand.encode("utf-8"))
            st = BrandState.loads(raw) if raw else self.aggregator.new_state(brand)
            self.cache[brand] = st
            if raw and brand in self.brand_partitions:
                # a brand (re)gained after a start or a rebalance shows its figures again at once
                from streams.metrics import set_brand_gauges

                set_brand_gauges(brand, st.gauges())
        return st

    def save(self, brand: str) -> None:
        st = self.cache.get(brand)
        if st is not None:  # None: revoked meanwhile; the new owner has the last saved state
            self.states[brand.encode("utf-8")] = st.dumps()

    def brands_on(self, partition: int) -> list[str]:
        return [b for b, p in self.brand_partitions.items() if p == partition]


def build_app(settings: Settings, *, with_web_metrics: bool = True) -> tuple[faust.App, Pipeline]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.app_id,
        broker=f"kafka://{settings.kafka_bootstrap()}",
        store="memory://",
        datadir=str(settings.data_dir / settings.app_id),
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_bind=settings.web_host,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication,
        consumer_auto_offset_reset="earliest",
        table_standby_replicas=0,
        broker_commit_every=1000,
        stream_buffer_maxsize=8192,
        producer_acks=-1,
        producer_max_batch_size=1_048_576 // 2,
        producer_linger_ms=20,
        web_enabled=True,
        # A crashed worker's partitions wait for its session to time out before anyone else
        # (or its own restart) gets them: seconds, not Faust's minute. With a stable instance
        # id (static membership, KIP-345) a restarted worker takes its partitions back at once.
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=max(0.5, settings.session_timeout_s / 4),
        consumer_group_instance_id=settings.instance_id,
    )
    t = settings.topics
    raw = dict(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    mentions = app.topic(t.mentions, partitions=settings.partitions, **raw)
    scored = app.topic(t.scored, partitions=settings.partitions, **raw)
    dlq = app.topic(t.dlq, partitions=1, **raw)
    alerts = app.topic(t.alerts, partitions=1, **raw)
    # Tables hold raw bytes both ways: the key and value *types* must say so too, or Faust
    # decodes the changelog as JSON on recovery and a restarted worker never starts.
    raw_table = dict(key_type=bytes, value_type=bytes, use_partitioner=True,
                     schema=faust.Schema(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"))
    # Per-brand buckets and detector state (buzzwatch.aggregate.BrandState), one value per brand.
    states = app.Table("brand_state", partitions=settings.partitions, **raw_table)
    # Lifecycle events already delivered to each sink (idempotent notify).
    delivered = app.Table("alert_deliveries", partitions=1, **raw_table)
    pipe = Pipeline(
        settings=settings,
        app=app,
        mentions=mentions,
        scored=scored,
        dlq=dlq,
        alerts=alerts,
        states=states,
        delivered=delivered,
        ingest=IngestStep(settings.core),
        aggregator=Aggregator(settings.core),
        brand_partitions={b: brand_partition(b, settings.partitions) for b in settings.core.brand_names},
    )

    @app.on_partitions_revoked.connect
    async def _forget_states(app, revoked, **kwargs) -> None:  # noqa: ARG001
        # Another worker may own these brands now: re-read from the table when they come back,
        # stop exporting their gauges (the new owner exports them), and forget the event-time
        # clocks of raw partitions we no longer read (a new owner starts from the commit).
        pipe.cache.clear()
        scored_parts = {tp.partition for tp in revoked if tp.topic == scored.get_topic_name()}
        from streams.metrics import forget_brand_gauges

        forget_brand_gauges([b for b, p in pipe.brand_partitions.items() if p in scored_parts])
        raw_parts = {tp.partition for tp in revoked if tp.topic == mentions.get_topic_name()}
        pipe.ingest.clock.forget(raw_parts)
        for hook in pipe.on_revoke_raw:
            hook(raw_parts)

    from agents import aggregate, ingest, notify

    ingest.register(pipe)
    aggregate.register(pipe)
    notify.register(pipe)
    if with_web_metrics:
        from streams.metrics import install_metrics_page

        install_metrics_page(app)
    return app, pipe
