"""Small adapters between Faust/aiokafka objects and the core's plain values."""

from __future__ import annotations


def kafka_timestamp_ms(message) -> int | None:
    """The record's Kafka timestamp in epoch ms (Faust gives float seconds), or None."""
    ts = getattr(message, "timestamp", None)
    if ts is None or ts <= 0:
        return None
    return int(ts * 1000)
