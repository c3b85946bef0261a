"""The local Apache Kafka broker and the topic set-up the workers rely on (real broker, no mocks)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

from streams import kafka_local
from streams.kafka_local import KafkaError, LocalKafka, port_answers
from streams.topics import DAY_MS, create_topics, describe_topics, topic_specs

from .harness import REPO, unique

pytestmark = pytest.mark.kafka


def java_processes_using(path: Path) -> list[int]:
    """Pids of live processes whose command line mentions ``path`` (our broker's data dir)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
                state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if str(path) in cmdline and state != "Z":
                pids.append(int(proc.name))
    return pids


def test_broker_answers_metadata_requests(kafka_bootstrap):
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap, request_timeout_ms=10_000)
    try:
        assert isinstance(admin.list_topics(), list)
        assert admin.describe_cluster()["brokers"]
    finally:
        admin.close()


def test_topics_are_created_once_with_deliberate_settings(kafka_bootstrap):
    prefix = unique("topics") + "."
    specs = topic_specs(3, prefix=prefix)
    names = {s.name for s in specs}
    assert sorted(create_topics(kafka_bootstrap, specs)) == sorted(names)
    assert create_topics(kafka_bootstrap, specs) == []  # idempotent: existing topics are fine
    rows = {r["name"]: r for r in describe_topics(kafka_bootstrap, sorted(names))}
    assert {n: (r["partitions"], r["replication"], int(r["retention.ms"]) // DAY_MS, r["cleanup.policy"])
            for n, r in rows.items()} == {
        prefix + "mentions": (3, 1, 7, "delete"),
        prefix + "mentions.scored": (3, 1, 1, "delete"),  # co-partitioned with mentions and the table
        prefix + "mentions.dlq": (1, 1, 30, "delete"),
        prefix + "buzz.alerts": (1, 1, 30, "delete"),
        prefix + "buzz.acks": (1, 1, -1, "compact"),  # one cumulative ack record per alert_id, kept
    }


def test_create_reports_only_the_missing_topics(kafka_bootstrap):
    prefix = unique("partial") + "."
    specs = topic_specs(2, prefix=prefix)
    assert create_topics(kafka_bootstrap, specs[:1]) == [prefix + "mentions"]
    assert create_topics(kafka_bootstrap, specs) == [s.name for s in specs[1:]]


def test_describe_reports_missing_topics_without_creating_them(kafka_bootstrap):
    name = unique("missing")
    assert describe_topics(kafka_bootstrap, [name]) == [
        {"name": name, "exists": False, "partitions": None, "replication": None}]
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        assert name not in admin.list_topics()
    finally:
        admin.close()


def test_produce_consume_round_trip(kafka_bootstrap):
    prefix = unique("roundtrip") + "."
    [mentions, *_] = topic_specs(1, prefix=prefix)
    create_topics(kafka_bootstrap, [mentions])
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    producer.send(mentions.name, key=b"Acme", value=b'{"id":"1"}').get(timeout=30)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, consumer_timeout_ms=10_000)
    try:
        consumer.assign([TopicPartition(mentions.name, 0)])
        consumer.seek_to_beginning()
        got = next(iter(consumer))
    finally:
        consumer.close()
    assert (got.key, got.value) == (b"Acme", b'{"id":"1"}')


def test_local_broker_stops_without_leftovers():
    with LocalKafka() as broker:
        data_dir, proc = broker.data_dir, broker.proc
        assert port_answers(broker.port)
        assert java_processes_using(data_dir) == [proc.pid]
        assert (data_dir / "server.log").exists()  # log4j2 is wired (slf4j 2.x), not NOP
    assert proc.poll() is not None
    assert not port_answers(broker.port)
    assert not data_dir.exists()
    assert java_processes_using(data_dir) == []


def test_a_broker_that_cannot_start_fails_with_its_log(monkeypatch):
    # someone else (not Kafka) already listens on the port the broker is given
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    taken = squatter.getsockname()[1]
    real_free_port = kafka_local.free_port
    ports = iter([taken])
    monkeypatch.setattr(kafka_local, "free_port", lambda exclude=(): next(ports, None) or real_free_port(exclude))
    broker = LocalKafka()
    try:
        with pytest.raises(KafkaError, match="(?s)exited.*server.log.*(Address already in use|bind)"):
            broker.start(timeout_s=60)
    finally:
        squatter.close()
    assert broker.proc is None and not broker.data_dir.exists()
    assert java_processes_using(broker.data_dir) == []


def test_kafka_up_outlives_the_cli_and_down_stops_it(tmp_path):
    # a private cache (jars shared through a symlink) so a developer's own `kafka up` is untouched
    cache = tmp_path / "cache"
    (cache / "kafka" / kafka_local.KAFKA_VERSION).mkdir(parents=True)
    (cache / "kafka" / kafka_local.KAFKA_VERSION / "libs").symlink_to(kafka_local.resolve_jars())
    env = {k: v for k, v in os.environ.items() if k != "BUZZWATCH_KAFKA"} | {"BUZZWATCH_CACHE": str(cache)}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "streams.kafka_local", *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=120)

    assert cli("status").returncode == 1
    up = cli("up")
    try:
        assert up.returncode == 0, up.stderr
        bootstrap = up.stdout.strip()
        status = cli("status")  # another process finds it through the state file
        assert status.returncode == 0, status.stdout + status.stderr
        state = json.loads(status.stdout)
        assert state["bootstrap"] == bootstrap and port_answers(state["port"])
        assert java_processes_using(Path(state["data_dir"])) == [state["pid"]]
        assert cli("up").stdout.strip() == bootstrap  # idempotent
        found = subprocess.run([sys.executable, "-c", "from streams.kafka_local import bootstrap_servers as b; print(b())"],
                               cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
        assert found.stdout.strip() == bootstrap
    finally:
        down = cli("down")
    assert down.stdout.strip() == "stopped", down.stdout + down.stderr
    assert java_processes_using(Path(state["data_dir"])) == []
    assert not Path(state["data_dir"]).exists()
    assert cli("status").stdout.strip() == "down"
    assert cli("down").stdout.strip() == "not running"


def test_without_a_broker_the_error_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.delenv("BUZZWATCH_KAFKA", raising=False)
    monkeypatch.setenv("BUZZWATCH_CACHE", str(tmp_path))
    with pytest.raises(KafkaError, match="buzzwatch kafka up"):
        kafka_local.bootstrap_servers()
    monkeypatch.setenv("BUZZWATCH_KAFKA", "kafka.example:9092")
    assert kafka_local.bootstrap_servers() == "kafka.example:9092"
