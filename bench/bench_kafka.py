"""Broker-side helpers of the benchmark: produce a workload, run workers until they drained a
topic, read a changelog, measure a process' memory. Waits are bounded everywhere."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from tests.integration.harness import REPO, latest_by_key, read_topic

FAST_POLL_S = 0.1  # until the first record is consumed (the metrics page is still small)
POLL_S = 1.0  # then: rendering /metrics with 1,000 brands costs the worker CPU, so not too often
LAG_POLL_S = 1.0
PYSPY_DIR_ENV = "BUZZWATCH_BENCH_PYSPY_DIR"  # set by run_bench.py --pyspy
SETTLE_S = 1.0  # after the last raw record is counted, its scored records are on the broker
_CONSUMED = re.compile(rb"^buzzwatch_mentions_consumed_total (\S+)$", re.M)


def producer(bootstrap: str) -> KafkaProducer:
    """A producer tuned for loading a topic fast (acks=all: what is sent is on the broker)."""
    return KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20, batch_size=512 * 1024)


def produce_all(bootstrap: str, topic: str, values: list[bytes], partitions: list[int],
                keys: list[bytes] | None = None) -> float:
    """Send every value to its partition, flush; return the seconds it took. A send the broker
    did not acknowledge raises (a bench that loses its own input measures nothing)."""
    t0 = time.perf_counter()
    p = producer(bootstrap)
    sent = []
    try:
        for i, (value, part) in enumerate(zip(values, partitions)):
            sent.append(p.send(topic, key=keys[i] if keys else None, value=value, partition=part))
        p.flush(timeout=600)
    finally:
        p.close()
    failed = [f for f in sent if not f.succeeded()]
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(sent)} records not acknowledged by the broker on {topic}: "
                           f"{failed[0].exception!r}")
    return time.perf_counter() - t0


def end_total(bootstrap: str, topic: str) -> int:
    """Records currently in ``topic`` (sum of end offsets; the topics here are never trimmed)."""
    c = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(c.partitions_for_topic(topic) or ())]
        return sum(c.end_offsets(tps).values()) if tps else 0
    finally:
        c.close()


def create_compacted(bootstrap: str, topic: str, partitions: int) -> None:
    """A compacted topic, like the changelog Faust would create (so it can be seeded first)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(topic, partitions, 1, topic_configs={"cleanup.policy": "compact"})])
    finally:
        admin.close()


@dataclass
class Worker:
    """One `buzzwatch worker` subprocess with its web port and log."""

    env: dict
    log_path: Path
    proc: subprocess.Popen | None = None
    spawned_at: float = 0.0

    @property
    def port(self) -> int:
        return int(self.env["BUZZWATCH_WEB_PORT"])

    def start(self) -> "Worker":
        self.spawned_at = time.perf_counter()
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "streams.cli", "worker", "--loglevel", "warn"],
                                     env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        if self.env.get(PYSPY_DIR_ENV):  # run_bench.py --pyspy: sample it until it exits
            out = Path(self.env[PYSPY_DIR_ENV]) / f"{self.log_path.stem}.txt"
            subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--rate", "100",
                              "--format", "raw", "--threads", "--output", str(out), "--pid", str(self.proc.pid)],
                             stdout=log, stderr=subprocess.STDOUT)
        log.close()
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def metrics_text(self, *names: str, timeout_s: float = 30.0) -> bytes:
        """The worker's /metrics page (only the families ``names`` when given: the whole page
        with 1,000s of brands costs the worker CPU), or b"" while its web server is not up."""
        query = "?" + "&".join(f"name[]={n}" for n in names) if names else ""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics{query}", timeout=timeout_s) as resp:
                return resp.read()
        except OSError:
            return b""

    def consumed(self) -> float:
        """Its buzzwatch_mentions_consumed_total (0 while not up)."""
        m = _CONSUMED.search(self.metrics_text("buzzwatch_mentions_consumed_total"))
        return float(m.group(1)) if m else 0.0

    def rss_bytes(self) -> int:
        """Resident set size of the worker process (VmRSS)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]


@contextlib.contextmanager
def workers(*ws: Worker):
    """Start the workers together; always stop them."""
    try:
        for w in ws:
            w.start()
        yield ws
    finally:
        for w in ws:
            w.stop()


def consumed(ws) -> float:
    """Raw mentions consumed by these worker processes (sum of their counters)."""
    return sum(w.consumed() for w in ws)


def wait_consumed(ws, n: int, timeout_s: float) -> None:
    """Until the workers consumed ``n`` raw records (e.g. warm-up probes)."""
    deadline = time.monotonic() + timeout_s
    while consumed(ws) < n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"workers did not consume {n} records in {timeout_s:.0f} s")
        for w in ws:
            if not w.alive():
                raise WorkerDied(f"worker exited with {w.proc.returncode}:\n{w.log_tail()}")
        time.sleep(FAST_POLL_S)


class WorkerDied(RuntimeError):
    """A worker exited while it should have been draining a topic."""


class NotDrained(TimeoutError):
    """The workers did not finish in time; ``drain`` holds the marks reached so far."""

    def __init__(self, message: str, drain: "Drain"):
        super().__init__(message)
        self.drain = drain


@dataclass
class Drain:
    """Wall-clock marks (perf_counter seconds) of one drain of a pre-loaded topic."""

    spawned: float
    first_consumed: float | None = None
    all_consumed: float | None = None
    drained: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        """First consumed record to everything processed (see :func:`drain`)."""
        return self.drained - self.first_consumed


def offsets(bootstrap: str, group: str, topic: str) -> tuple[dict[int, int], dict[int, int]]:
    """(committed offsets of ``group``, end offsets) per partition of ``topic``."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        committed = admin.list_group_offsets({group: None}).get(group, {})
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        end = consumer.end_offsets(tps)
        return ({tp.partition: committed[tp].offset for tp in tps if tp in committed},
                {tp.partition: end[tp] for tp in tps})
    finally:
        admin.close()
        consumer.close()


def caught_up(committed: dict[int, int], target: dict[int, int]) -> bool:
    """Every partition committed at or past its target offset.

    >>> caught_up({0: 5, 1: 3}, {0: 5, 1: 4}), caught_up({0: 5, 1: 4}, {0: 5, 1: 4})
    (False, True)
    """
    return all(committed.get(p, 0) >= end for p, end in target.items())


def drain(ws, bootstrap: str, group: str, topics: list[str], total: int, timeout_s: float) -> Drain:
    """Wait until the workers consumed ``total`` raw records and processed everything they
    derived from them; raise :class:`WorkerDied` if one exits, :class:`NotDrained` after
    ``timeout_s``.

    ``topics`` = [mentions, mentions.scored]. Done = the workers' consumed counters reached
    ``total`` (the ingest counts a batch after handing its scored records and markers to the
    producer; or the group committed every raw record, should the counter fall short), then, :data:`SETTLE_S` later, every scored record that existed then has been
    committed by the group (the ingest keeps sending watermark markers while idle, so "no lag
    on mentions.scored" may never hold exactly). Scored commits happen every 1,000 records or
    2.8 s (Faust) and are polled every :data:`LAG_POLL_S`: the end can be seen up to ~3 s
    late. Whether the raw offsets were committed by then is noted, not waited for (a raw
    commit that stops advancing is a finding of its own, see ``Drain.notes``)."""
    raw, scored = topics
    d = Drain(spawned=min(w.spawned_at for w in ws))
    deadline = time.monotonic() + timeout_s
    next_lag, scored_target = 0.0, None
    while time.monotonic() < deadline:
        for w in ws:
            if not w.alive():
                raise WorkerDied(f"worker exited with {w.proc.returncode}:\n{w.log_tail()}")
        t_scrape = time.perf_counter()
        n = consumed(ws) if d.all_consumed is None else total  # then only the offsets are polled
        now = time.perf_counter()
        scrape_s = now - t_scrape
        if n and d.first_consumed is None:
            d.first_consumed = now
        if d.first_consumed is not None and d.all_consumed is None and n < total and now >= next_lag:
            next_lag = now + LAG_POLL_S
            if caught_up(*offsets(bootstrap, group, raw)):  # every raw record committed: consumed
                # The counter was read before the offsets: a last batch may have been counted
                # and committed in between. Read it again; only a counter still short after the
                # commit is a finding (records committed but never counted).
                again = consumed(ws)
                if again < total:
                    held = sum(offsets(bootstrap, group, raw)[1].values())
                    d.notes.append(f"consumed counter says {again:,.0f} of {total:,} but every raw record is committed "
                                   f"(the raw topic holds {held:,} records)")
                n = total
        if n >= total and d.all_consumed is None:
            d.all_consumed = now
        if d.all_consumed is not None and now >= max(next_lag, d.all_consumed + SETTLE_S):
            next_lag = now + LAG_POLL_S
            if scored_target is None:
                scored_target = offsets(bootstrap, group, scored)[1]
            if caught_up(offsets(bootstrap, group, scored)[0], scored_target):
                d.drained = time.perf_counter()
                if any(n.startswith("consumed counter says") for n in d.notes):
                    d.notes.append(f"consumed counter at the end of the drain: {consumed(ws):,.0f}")
                committed, end = offsets(bootstrap, group, raw)
                if not caught_up(committed, end):
                    d.notes.append(f"raw offsets not all committed when drained: committed {committed}, end {end}")
                return d
        # a big /metrics page (thousands of brands) costs the worker seconds: scrape it rarely
        time.sleep(FAST_POLL_S if d.first_consumed is None else max(POLL_S, 10 * scrape_s))
    raise NotDrained(f"not drained after {timeout_s:.0f} s (consumed {consumed(ws):,.0f} of {total:,}; "
                     f"committed on {raw}: {offsets(bootstrap, group, raw)[0]})", d)


def changelog_sizes(bootstrap: str, topic: str, timeout_s: float = 300) -> dict:
    """Sizes of a table's changelog: every record written and the live (latest per key) values."""
    records = read_topic(bootstrap, topic, timeout_s=timeout_s)
    latest = latest_by_key(records)
    return {
        "records": len(records),
        "largest_value_bytes_ever": max((len(r.value) for r in records if r.value is not None), default=0),
        "live_keys": len(latest),
        "live_bytes": sum(len(k) + len(v) for k, v in latest.items()),
        "largest_live_value_bytes": max((len(v) for v in latest.values()), default=0),
        "latest": latest,
    }


def largest_record(bootstrap: str, topic: str, timeout_s: float = 300) -> tuple[int, int]:
    """(records, largest value in bytes) of a topic."""
    records = read_topic(bootstrap, topic, timeout_s=timeout_s)
    return len(records), max((len(r.value or b"") for r in records), default=0)


def bench_env(base: dict, **more) -> dict:
    """A copy of ``base`` with overrides (string values)."""
    env = dict(base)
    env.update({k: str(v) for k, v in more.items()})
    return env


def load_avg() -> float:
    return os.getloadavg()[0]
