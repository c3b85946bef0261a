"""Loading alert lifecycle events from a JSONL file or from a Kafka topic (``topic:NAME``)."""

from __future__ import annotations

from pathlib import Path

import orjson


def load_alerts(source: str, settings) -> list[dict]:
    if source.startswith("topic:"):
        from kafka import KafkaConsumer, TopicPartition

        topic = source.removeprefix("topic:")
        consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap(), enable_auto_commit=False,
                                 **settings.kafka_security.kafka_python_kwargs())
        try:
            parts = consumer.partitions_for_topic(topic)
            if not parts:
                raise ValueError(f"topic {topic!r} does not exist")
            tps = [TopicPartition(topic, p) for p in sorted(parts)]
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            end = consumer.end_offsets(tps)
            out = []
            for _ in range(10_000):
                if all(consumer.position(tp) >= end[tp] for tp in tps):
                    break
                for records in consumer.poll(timeout_ms=500).values():
                    out.extend(orjson.loads(r.value) for r in records if r.value)
            return out
        finally:
            consumer.close()
    path = Path(source)
    events = []
    with path.open("rb") as fh:
        for lineno, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    events.append(orjson.loads(line))
                except orjson.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{lineno}: not JSON: {exc}") from exc
    return events
