"""Helpers for tests that run real workers against the real broker (bounded waits everywhere)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

REPO = Path(__file__).resolve().parents[2]

BRANDS_TOML = """
[[brands]]
name = "Acme"
aliases = ["Acme Corp"]
handles = ["@acme"]
hashtags = ["#acme", "#acmefail"]

[[brands]]
name = "Lavéria"
handles = ["@laveria"]
hashtags = ["#laveria"]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def write_config(path: Path, *, partitions: int = 4, lateness_s: int = 60, extra: str = "", brands: str = BRANDS_TOML) -> Path:
    path.write_text(
        f"""
[topics]
partitions = {partitions}

[worker]
batch_size = 500
batch_within_s = 0.2
watermark_interval_s = 0.5

[pipeline]
allowed_lateness_s = {lateness_s}
idle_partition_s = 3600

{extra}
{brands}
""",
        encoding="utf-8",
    )
    return path


def worker_env(config: Path, bootstrap: str, app_id: str, prefix: str, port: int, data_dir: Path, **more) -> dict:
    env = dict(os.environ)
    env.update(
        BUZZWATCH_CONFIG=str(config),
        BUZZWATCH_KAFKA=bootstrap,
        BUZZWATCH_APP_ID=app_id,
        BUZZWATCH_TOPIC_PREFIX=prefix,
        BUZZWATCH_WEB_PORT=str(port),
        BUZZWATCH_WEB_HOST="127.0.0.1",
        BUZZWATCH_DATA_DIR=str(data_dir),
    )
    env.update({k: str(v) for k, v in more.items()})
    return env


def buzzwatch(*args: str, env: dict, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "streams.cli", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"buzzwatch {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@contextlib.contextmanager
def running_worker(env: dict, log_path: Path, loglevel: str = "warn"):
    log = log_path.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "streams.cli", "worker", "--loglevel", loglevel],
                            env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        log.close()


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    from streams.metrics import scrape as scrape_url

    return scrape_url(f"http://127.0.0.1:{port}/metrics")


def metric(samples: dict, name: str, **labels) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def wait_for(predicate, *, timeout: float, interval: float = 0.5, what: str = "condition", proc=None, log_path=None):
    """Poll ``predicate`` (returning a truthy value) for at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-4000:] if log_path else ""
            raise AssertionError(f"worker exited with {proc.returncode} while waiting for {what}:\n{tail}")
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - still starting
            last_error = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last error: {last_error!r})\n"
                         f"{state_of(proc, log_path)}")


def state_of(proc, log_path) -> str:
    """The worker log's tail and, when the worker still runs, what it says it is doing when
    asked (SIGUSR1: streams.state_dump), for a failure's message."""
    if log_path is None:
        return ""
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGUSR1)
        time.sleep(2.0)
    text = log_path.read_text(errors="replace")
    dump = text.rfind("state on SIGUSR1")
    return text[-4000:] if dump < 0 else text[max(0, dump - 2000):dump + 12000]


def produce(bootstrap: str, topic: str, records: list[tuple[int, bytes | None, bytes]]) -> None:
    """Produce (partition, key, value) in order."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    try:
        for partition, key, value in records:
            producer.send(topic, key=key, value=value, partition=partition)
        producer.flush()
    finally:
        producer.close()


def read_topic(bootstrap: str, topic: str, *, timeout_s: float = 10.0) -> list:
    """Every record currently in the topic (all partitions, from the beginning)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=1500)
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        if not tps:
            return []
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        end = consumer.end_offsets(tps)
        out = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and any(consumer.position(tp) < end[tp] for tp in tps):
            for batch in consumer.poll(timeout_ms=500).values():
                out.extend(batch)
        return out
    finally:
        consumer.close()


def latest_by_key(records) -> dict:
    out = {}
    for r in records:
        if r.value is None:
            out.pop(r.key, None)
        else:
            out[r.key] = r.value
    return out
