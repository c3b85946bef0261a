"""The Faust application and what the agents run on: topics, tables, and the core's stages.

``build_app(settings)`` is a factory rather than a module-level ``app`` because the same code
runs the live worker, an isolated replay (other app id, other alert topic) and the tests. It
builds no agent: ``streams.worker.build_worker`` wires the agents (package ``agents``) onto
what this returns, each agent receiving only what it uses.

Tables use the memory store: a restarted worker rebuilds them from their compacted changelog
topics (no RocksDB to install; recovery time is measured in bench/). The brand-state table
holds bounded values under several keys per brand (``buzzwatch.stages.brandstore``) and places every
key on the partition of its brand, which is the partition the ingest stage sends that brand's
mentions to (co-partitioning): a brand's state lives with its mentions. Each scored
partition's aligned watermark lives there too, on that partition.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import faust
from aiokafka.partitioner import murmur2

from buzzwatch.stages.aggregate import AggregateStage
from buzzwatch.stages.brandstore import brand_of_key, watermark_partition
from buzzwatch.stages.ingest import IngestStep
from streams.faust_consumer import use_safe_consumer
from streams.settings import Settings

log = logging.getLogger("buzzwatch")


def brand_partition(brand: str | bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner gives a brand key (murmur2, like the producer)."""
    key = brand.encode("utf-8") if isinstance(brand, str) else brand
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def key_partition(key: bytes, partitions: int) -> int:
    """The table partition of a brand-state key: its brand's, and for a scored partition's
    aligned watermark (``brandstore.watermark_key``) that partition, so that whoever owns the
    scored partition recovers it with the brands living there.

    >>> from buzzwatch.stages.brandstore import watermark_key
    >>> key_partition(b"Acme\\x00m\\x0060000", 4) == brand_partition("Acme", 4), key_partition(watermark_key(3), 4)
    (True, 3)
    """
    p = watermark_partition(key)
    return p % partitions if p is not None else brand_partition(brand_of_key(key), partitions)


class BrandKeyedTable(faust.Table):
    """A table whose keys ``<brand>[\\0...]`` all live on the brand's partition (see :func:`key_partition`)."""

    def partition_for_key(self, key) -> int:
        return key_partition(key, self.partitions or self.app.conf.topic_partitions)


def bytes_table(app: faust.App, name: str, partitions: int) -> faust.Table:
    """A changelogged table of raw bytes both ways whose keys live on their brand's partition
    (all on partition 0 when it has one). The key and value *types* must say bytes too, or Faust
    decodes the changelog as JSON on recovery and a restarted worker never starts."""
    schema = faust.Schema(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    return app.tables.add(BrandKeyedTable(app, name=name, partitions=partitions, beacon=app.tables.beacon,
                                          key_type=bytes, value_type=bytes, schema=schema))


class TableKV:
    """A Faust table seen as the core's bytes-to-bytes store (``buzzwatch.stages.brandstore.KV``)."""

    def __init__(self, table: faust.Table):
        self.table = table

    def get(self, key: bytes) -> bytes | None:
        return self.table.get(key)

    def set(self, key: bytes, value: bytes) -> None:
        self.table[key] = value

    def delete(self, key: bytes) -> None:
        if key in self.table:
            del self.table[key]


@dataclass
class AppTopics:
    mentions: faust.TopicT
    scored: faust.TopicT
    dlq: faust.TopicT
    alerts: faust.TopicT


@dataclass
class WorkerParts:
    """What ``build_app`` makes; the composition root hands each agent the parts it needs."""

    settings: Settings
    app: faust.App
    topics: AppTopics
    states: faust.Table
    delivered: faust.Table
    ingest: IngestStep
    aggregate: AggregateStage
    ingest_agent: Any = None  # handles the ingest agent returns (streams.worker sets them)
    oncall: Any = None  # agents.notify.OnCallDesk once registered (the alert pages read it)


PRODUCER_BUFFER_MESSAGES = 10_000


def build_app(settings: Settings) -> WorkerParts:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.app_id,
        broker=f"kafka://{settings.kafka_bootstrap()}",
        broker_credentials=settings.kafka_security.faust_credentials(),  # None for PLAINTEXT
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
    use_safe_consumer(app, broker_wait_s=settings.broker_wait_s)  # before the topics: Faust's own fetch loop can lose records (see the module)
    # Table writes wait in Faust's producer buffer. Above ``max_messages`` (Faust: 100) waiting
    # writes, Faust stops handing records to the agents and flushes them one event-loop turn at
    # a time, logging a warning each time. One aggregate batch saves hundreds of brands (a few
    # keys each), so every batch hit it. A batch's writes are bounded (batch_size x keys per
    # brand): let them queue.
    app.producer.buffer.max_messages = max(PRODUCER_BUFFER_MESSAGES, 8 * settings.batch_size)
    t = settings.topics
    raw = dict(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    topics = AppTopics(
        mentions=app.topic(t.mentions, partitions=settings.partitions, **raw),
        scored=app.topic(t.scored, partitions=settings.partitions, **raw),
        dlq=app.topic(t.dlq, partitions=1, **raw),
        alerts=app.topic(t.alerts, partitions=1, **raw),
    )
    # Per-brand state (buzzwatch.stages.brandstore: bounded keys, all on the brand's partition).
    states = bytes_table(app, "brand_state", settings.partitions)
    # Lifecycle events already delivered to each sink (idempotent notify).
    delivered = bytes_table(app, "alert_deliveries", 1)

    from streams.metrics import set_brand_gauges  # plain values in, see buzzwatch.stages.aggregate.brand_gauges
    from buzzwatch.stages.aggregate import brand_gauges

    configured = set(settings.core.brand_names)

    def on_load(brand, state) -> None:
        if brand in configured:  # a brand (re)gained after a start or a rebalance shows its figures at once
            set_brand_gauges(brand, brand_gauges(state))

    aggregate = AggregateStage(settings.core, TableKV(states),
                               partition_of=lambda b: brand_partition(b, settings.partitions), on_load=on_load)
    return WorkerParts(settings=settings, app=app, topics=topics, states=states, delivered=delivered,
                       ingest=IngestStep(settings.core), aggregate=aggregate)
