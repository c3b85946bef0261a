"""Session fixtures shared by all tests: one real Kafka broker for the whole run.

Never skips: if the broker cannot start, every test that needs it fails with the reason
(pytest caches the failure, so the start is attempted once, not once per test).
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def kafka_bootstrap():
    """Bootstrap servers of a real Apache Kafka: ``$BUZZWATCH_KAFKA``, else a local broker
    (``streams.kafka_local.LocalKafka``) started for this session and stopped at its end."""
    if os.environ.get("BUZZWATCH_KAFKA"):
        yield os.environ["BUZZWATCH_KAFKA"]
        return
    from streams.kafka_local import KafkaError, LocalKafka

    broker = LocalKafka()
    try:
        bootstrap = broker.start()  # cleans up after itself if it fails
    except (KafkaError, OSError) as exc:
        pytest.fail(f"could not start the local Apache Kafka broker: {exc}", pytrace=False)
    try:
        yield bootstrap
    finally:
        broker.stop()
