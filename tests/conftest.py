"""Session fixtures shared by the integration tests: one real Kafka broker for the whole run.

Never skips: if the broker cannot start, every test that needs it fails with the reason.
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def kafka_bootstrap():
    """Bootstrap servers of a real Apache Kafka: ``$BUZZWATCH_KAFKA`` or a local broker."""
    if os.environ.get("BUZZWATCH_KAFKA"):
        yield os.environ["BUZZWATCH_KAFKA"]
        return
    from streams.kafka_local import LocalKafka

    broker = LocalKafka()
    try:
        bootstrap = broker.start()
    except Exception as exc:  # noqa: BLE001
        broker.stop()
        pytest.fail(f"could not start the local Apache Kafka broker: {exc}", pytrace=False)
    try:
        yield bootstrap
    finally:
        broker.stop()
