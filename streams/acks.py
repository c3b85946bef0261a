"""The alert book read straight from Kafka (``buzz.alerts`` + the compacted ``buzz.acks``), and
writing an acknowledgement: what ``buzzwatch alerts ...`` does, without a worker.

Acks are one cumulative record per alert_id in a compacted topic, so every worker, every replay
and this CLI see the latest one. Two people acking the same alert in the same second: the last
record written wins (each merges what it read; notes of the other may be lost, never the ack).
"""

from __future__ import annotations

import time

import orjson

from buzzwatch.oncall.book import OnCallError, fold_event, merge_ack
from streams.alerts_io import load_alerts


def read_acks(settings) -> dict[str, dict]:
    """alert_id -> latest ack record (tombstones remove it)."""
    from kafka import KafkaConsumer, TopicPartition

    topic = settings.topics.acks
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap(), enable_auto_commit=False)
    try:
        parts = consumer.partitions_for_topic(topic)
        if not parts:
            return {}
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        end = consumer.end_offsets(tps)
        out: dict[str, dict] = {}
        for _ in range(10_000):
            if all(consumer.position(tp) >= end[tp] for tp in tps):
                break
            for records in consumer.poll(timeout_ms=500).values():
                for r in records:
                    if r.key is None:
                        continue
                    key = r.key.decode("utf-8")
                    if r.value is None:
                        out.pop(key, None)
                    else:
                        out[key] = orjson.loads(r.value)
        return out
    finally:
        consumer.close()


def read_book(settings) -> tuple[dict[str, dict], dict[str, dict]]:
    """(book, acks): every alert folded from the alerts topic, and the acks."""
    book: dict[str, dict] = {}
    try:
        events = load_alerts(f"topic:{settings.topics.alerts}", settings)
    except ValueError:  # the topic does not exist yet: no alert ever
        events = []
    for event in events:
        try:
            fold_event(book, event, settings.core.oncall)
        except (KeyError, TypeError, ValueError):
            continue  # unreadable records are the notify agent's to report
    return book, read_acks(settings)


def record_action(settings, alert_id: str, action: str, by: str, note: str | None = None,
                  book: dict | None = None, acks: dict | None = None) -> dict:
    """Merge an ``ack`` / ``note`` / ``resolve`` into the alert's record and write it to the acks
    topic; OnCallError when the alert is unknown or the action is incomplete."""
    from kafka import KafkaProducer

    if book is None or acks is None:
        book, acks = read_book(settings)
    if alert_id not in book:
        raise OnCallError(f"no alert {alert_id!r} in {settings.topics.alerts} (see `buzzwatch alerts list --all`)")
    rec = merge_ack(acks.get(alert_id), {"action": action, "by": by, "note": note, "at_ms": int(time.time() * 1000)})
    rec["alert_id"] = alert_id
    from streams.topics import create_topics, topic_specs

    # the broker would auto-create a missing acks topic without compaction: create it as specified
    create_topics(settings.kafka_bootstrap(), [s for s in topic_specs(settings.partitions, settings.topics.as_dict(),
                                                                       replication=settings.replication)
                                               if s.name == settings.topics.acks])
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap(), acks="all")
    try:
        producer.send(settings.topics.acks, key=alert_id.encode("utf-8"), value=orjson.dumps(rec)).get(timeout=30)
    finally:
        producer.close()
    return rec
