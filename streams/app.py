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
    oncall: object = None  # agents.notify.OnCallDesk (book, acks, outbox tables) once registered

    def state(self, brand: str) -> BrandState:
        st = self.cache.get(brand)
        if st is None:
            raw = self.states.get(brand.encode("utf-8"))
            st = BrandState.loads(raw) if raw else self.aggregator.new_state(brand)
            self.cache[brand] = st
        return st

    def save(self, brand: str) -> None:
        self.states[brand.encode("utf-8")] = self.cache[brand].dumps()

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
    )
    t = settings.topics
    raw = dict(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    mentions = app.topic(t.mentions, partitions=settings.partitions, **raw)
    scored = app.topic(t.scored, partitions=settings.partitions, **raw)
    dlq = app.topic(t.dlq, partitions=1, **raw)
    alerts = app.topic(t.alerts, partitions=1, **raw)
    raw_schema = faust.Schema(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    # Per-brand buckets and detector state (buzzwatch.aggregate.BrandState), one value per brand.
    states = app.Table(
        "brand_state",
        partitions=settings.partitions,
        schema=raw_schema,
        use_partitioner=True,
    )
    # Lifecycle events already delivered to each sink (idempotent notify).
    delivered = app.Table(
        "alert_deliveries",
        partitions=1,
        schema=raw_schema,
        key_type=bytes,  # the changelog serializers come from key_type/value_type, not the schema:
        value_type=bytes,  # without them values are written and recovered as JSON
        use_partitioner=True,
    )
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
        # Another worker owns these brands now; re-read from the table when they come back.
        pipe.cache.clear()

    from agents import aggregate, ingest, notify

    ingest.register(pipe)
    aggregate.register(pipe)
    notify.register(pipe)
    from streams import alert_page

    alert_page.register(pipe)  # /alerts pages on the worker's web server (needs notify's tables)
    if with_web_metrics:
        from streams.metrics import install_metrics_page

        install_metrics_page(app)
    return app, pipe
