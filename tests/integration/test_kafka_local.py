"""The local broker and the topic set-up the workers rely on."""

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from streams.topics import create_topics, describe_topics, topic_specs

from .harness import unique

pytestmark = pytest.mark.kafka


def test_topics_are_created_once_with_deliberate_settings(kafka_bootstrap):
    prefix = unique("topics") + "."
    names = {k: prefix + v for k, v in {"mentions": "mentions", "scored": "mentions.scored",
                                          "dlq": "mentions.dlq", "alerts": "buzz.alerts"}.items()}
    specs = topic_specs(3, names)
    assert sorted(create_topics(kafka_bootstrap, specs)) == sorted(names.values())
    assert create_topics(kafka_bootstrap, specs) == []  # idempotent
    rows = {r["name"]: r for r in describe_topics(kafka_bootstrap, list(names.values()))}
    assert rows[names["mentions"]]["partitions"] == 3
    assert rows[names["scored"]]["partitions"] == 3  # co-partitioned with the state table
    assert rows[names["dlq"]]["partitions"] == 1
    assert rows[names["mentions"]]["retention.ms"] == str(7 * 86_400_000)
    assert rows[names["dlq"]]["retention.ms"] == str(30 * 86_400_000)
    assert all(r["cleanup.policy"] == "delete" for r in rows.values())


def test_produce_consume_round_trip(kafka_bootstrap):
    topic = unique("roundtrip")
    create_topics(kafka_bootstrap, topic_specs(1, {"mentions": topic, "scored": topic + ".s", "dlq": topic + ".d", "alerts": topic + ".a"}))
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    producer.send(topic, key=b"Acme", value=b'{"id":"1"}').get(timeout=30)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, consumer_timeout_ms=10_000)
    consumer.assign([TopicPartition(topic, 0)])
    consumer.seek_to_beginning()
    got = next(iter(consumer))
    consumer.close()
    assert (got.key, got.value) == (b"Acme", b'{"id":"1"}')


def test_local_broker_starts_and_stops_without_leftovers():
    from streams.kafka_local import LocalKafka, port_answers

    broker = LocalKafka()
    bootstrap = broker.start()
    port = int(bootstrap.rsplit(":", 1)[1])
    proc = broker.proc
    assert port_answers(port)
    broker.stop()
    assert proc.poll() is not None
    assert not broker.data_dir.exists()
