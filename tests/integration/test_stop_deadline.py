"""SIGTERM stops a worker within a bounded time, on the real broker, even when the broker is gone.

Without the bound, a worker whose broker had gone away logged ``Stopping...`` and waited for the
broker for ever; a second SIGTERM and SIGINT were ignored, only SIGKILL ended it. Now a stop not
finished within ``[worker] stop_timeout_s`` exits with code 75 and one error line, without the
final commit (the next start re-reads from the last commit), and a second signal exits at once.
A normal stop (broker up) still ends cleanly with code 0, well within the default bound.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from buzzwatch.timeutil import format_timestamp
from streams.settings import DEFAULTS
from streams.stop_deadline import EXIT_STOP_TIMEOUT

from .harness import REPO, buzzwatch, free_port, metric, produce, scrape, unique, wait_for, worker_env, write_config

pytestmark = pytest.mark.kafka

OVERDUE = "did not finish in {s} s; exiting without commit; the next start re-reads from the last committed offsets"
MARGIN_S = 10  # process exit and a loaded two-core machine


def start_worker(tmp_path: Path, bootstrap: str, name: str, **env) -> tuple[subprocess.Popen, Path]:
    """A worker on its own topics and group that has consumed a few mentions."""
    config = write_config(tmp_path / f"{name}.toml")
    prefix = unique(name) + "."
    port = free_port()
    worker = worker_env(config, bootstrap, unique(f"{name}app"), prefix, port, tmp_path / f"{name}-data", **env)
    buzzwatch("topics", "create", env=worker)
    now = format_timestamp(int(time.time() * 1000))
    produce(bootstrap, prefix + "mentions",
            [(i % 4, None, orjson.dumps({"id": f"{name}-{i}", "text": "Acme is great", "created_at": now}))
             for i in range(20)])
    log = tmp_path / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "streams.cli", "worker", "--loglevel", "info"],
                                env=worker, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: (metric(scrape(port), "buzzwatch_mentions_consumed_total") or 0) > 0,
                 timeout=120, what=f"worker {name} consuming", proc=proc, log_path=log)
    except BaseException:
        proc.kill()
        proc.wait(timeout=10)
        raise
    return proc, log


def stop(proc: subprocess.Popen, wait_s: float, sig: signal.Signals = signal.SIGTERM) -> tuple[int | None, float]:
    """Send ``sig``, then the exit code and the seconds it took (None: still running after ``wait_s``)."""
    started = time.monotonic()
    proc.send_signal(sig)
    try:
        return proc.wait(timeout=wait_s), time.monotonic() - started
    except subprocess.TimeoutExpired:
        return None, time.monotonic() - started


def log_text(log: Path) -> str:
    return log.read_text(errors="replace")


@pytest.mark.timeout(300)
def test_sigterm_with_the_broker_gone_exits_within_stop_timeout_s_and_a_second_signal_at_once(tmp_path):
    from streams.kafka_local import LocalKafka

    broker = LocalKafka()  # its own broker: the test stops it
    bootstrap = broker.start()
    procs = []
    try:
        bounded, bounded_log = start_worker(tmp_path, bootstrap, "bounded", BUZZWATCH_STOP_TIMEOUT_S=5)
        procs.append(bounded)
        patient, patient_log = start_worker(tmp_path, bootstrap, "patient", BUZZWATCH_STOP_TIMEOUT_S=0)
        procs.append(patient)
        broker.stop()
        time.sleep(2.0)  # both workers notice the broker is gone

        code, bounded_took = stop(bounded, wait_s=5 + MARGIN_S)
        assert code == EXIT_STOP_TIMEOUT, f"exit {code} after {bounded_took:.1f} s:\n{log_text(bounded_log)[-3000:]}"
        assert 4.5 <= bounded_took <= 5 + MARGIN_S
        errors = [line for line in log_text(bounded_log).splitlines() if "[ERROR] stop (on SIGTERM)" in line]
        assert len(errors) == 1 and OVERDUE.format(s=5) in errors[0], errors

        # stop_timeout_s = 0 waits for ever (as before) ... until a second signal (Ctrl-C): exit at once
        code, took = stop(patient, wait_s=8)
        assert code is None, f"a stop without a bound ended by itself (exit {code})"
        code, took = stop(patient, wait_s=MARGIN_S, sig=signal.SIGINT)
        assert code == EXIT_STOP_TIMEOUT, f"exit {code} after {took:.1f} s:\n{log_text(patient_log)[-3000:]}"
        assert "SIGINT while stopping (on SIGTERM" in log_text(patient_log)
        print(f"\nbroker gone: SIGTERM to exit {EXIT_STOP_TIMEOUT} in {bounded_took:.1f} s (stop_timeout_s = 5); "
              f"SIGINT during a stop to exit in {took:.1f} s")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        broker.stop()


@pytest.mark.timeout(180)
def test_a_normal_sigterm_still_stops_cleanly_within_the_default_bound(tmp_path, kafka_bootstrap):
    proc, log = start_worker(tmp_path, kafka_bootstrap, "clean")
    try:
        code, took = stop(proc, wait_s=DEFAULTS.stop_timeout_s + MARGIN_S)
        assert code == 0, f"exit {code} after {took:.1f} s:\n{log_text(log)[-3000:]}"
        assert took < DEFAULTS.stop_timeout_s  # the default bound did not cut it short
        assert "exiting without commit" not in log_text(log)
        print(f"\nbroker up: SIGTERM to exit 0 in {took:.1f} s")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
