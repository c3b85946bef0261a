"""A starting worker waits ``[worker] broker_wait_s`` for a broker that is down or restarting,
and never for a broker that answers with a refusal (streams.broker_wait). The real outage is
in tests/integration/test_faults.py (a broker restarted while the worker starts)."""

from __future__ import annotations

import asyncio
import socket
import ssl

import pytest

from buzzwatch.config import ConfigError
from streams.broker_wait import broker_absent, waiting_for_broker, waiting_for_broker_async
from streams.kafka_access import KafkaAccessError, check_access
from streams.kafka_security import KafkaSecurity
from streams.settings import load_settings


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self):
        self.now = 0.0
        self.pauses: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.pauses.append(s)
        self.now += s

    async def async_sleep(self, s: float) -> None:
        self.sleep(s)

    def wait(self, fn, wait_s: float):
        """``waiting_for_broker(fn)`` on this clock."""
        return waiting_for_broker(fn, what="topics", wait_s=wait_s, sleep=self.sleep, clock=self.clock)


def failing(times: int, exc: BaseException, result="started"):
    calls = []

    def fn():
        calls.append(1)
        if len(calls) <= times:
            raise exc
        return result

    fn.calls = calls
    return fn


def test_a_broker_back_within_the_wait_is_used_as_if_it_never_left():
    t = FakeTime()
    fn = failing(3, ConnectionRefusedError(111, "Connect call failed"))
    assert t.wait(fn, 120) == "started"
    assert len(fn.calls) == 4
    assert t.pauses == [0.5, 1.0, 2.0]  # backing off


def test_the_pauses_back_off_to_five_seconds_and_the_last_reason_is_raised_after_the_wait():
    t = FakeTime()
    fn = failing(10_000, ConnectionRefusedError(111, "Connect call failed"))
    with pytest.raises(ConnectionRefusedError):
        t.wait(fn, 30)
    assert max(t.pauses) == 5.0
    assert t.now == pytest.approx(30.0)  # the last pause is cut to what is left of the wait


@pytest.mark.parametrize("exc", [
    ssl.SSLCertVerificationError("certificate verify failed"),
    KafkaAccessError("Kafka at 127.0.0.1:9093 refused the SASL credentials"),
    ValueError("bootstrap server 'x' is not host:port"),
    RuntimeError("could not create topics: t: InvalidReplicationFactorError Replication factor: 3 larger than "
                 "available brokers: 1"),
])
def test_a_broker_that_answers_with_a_refusal_is_not_waited_for(exc):
    t = FakeTime()
    fn = failing(1, exc)
    with pytest.raises(type(exc)):
        t.wait(fn, 120)
    assert len(fn.calls) == 1 and t.pauses == []


def test_no_wait_at_all_with_broker_wait_s_zero():
    t = FakeTime()
    fn = failing(1, ConnectionRefusedError(111, "Connect call failed"))
    with pytest.raises(ConnectionRefusedError):
        t.wait(fn, 0)
    assert len(fn.calls) == 1


def test_the_async_wait_retries_aiokafka_s_retriable_errors_and_logs_each_pause(caplog):
    from aiokafka.errors import NodeNotReadyError

    t = FakeTime()
    calls = []

    async def declare():
        calls.append(1)
        if len(calls) <= 2:
            raise NodeNotReadyError("Attempt to send a request to node which is not ready (node id 1).")
        return "declared"

    caplog.set_level("WARNING", logger="streams.broker_wait")
    got = asyncio.run(waiting_for_broker_async(declare, what="declaring topic app-brand_state-changelog",
                                               wait_s=120, sleep=t.async_sleep, clock=t.clock))
    assert got == "declared"
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert lines[0].startswith("declaring topic app-brand_state-changelog: Kafka is not answering (NodeNotReadyError")
    assert "trying again in 0.5 s, for 120 s more" in lines[0]


@pytest.mark.parametrize("exc, absent", [
    (ConnectionResetError(), True),
    (asyncio.TimeoutError(), True),
    (KafkaAccessError("cannot connect to Kafka at 127.0.0.1:1: Connect call failed", transient=True), True),
    (KafkaAccessError("the TLS certificate of Kafka at 127.0.0.1:1 is not trusted"), False),
    (ssl.SSLError(1, "WRONG_VERSION_NUMBER"), False),  # an OSError, but the broker answered
    (FileNotFoundError(2, "No such file", "ca.pem"), False),  # an OSError too, but a local file
])
def test_what_counts_as_a_broker_absent(exc, absent):
    assert broker_absent(exc) is absent


def test_the_access_check_of_a_closed_port_is_a_transient_refusal():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens
    with pytest.raises(KafkaAccessError, match="cannot connect to Kafka") as refused:
        check_access(f"127.0.0.1:{port}", KafkaSecurity(), timeout_s=1)
    assert refused.value.transient is True


# --- the setting ---------------------------------------------------------------------------
def settings_with(tmp_path, worker: str = "", **env):
    path = tmp_path / "buzzwatch.toml"
    path.write_text(f"[worker]\n{worker}\n", encoding="utf-8")
    return load_settings(path, env=env)


@pytest.mark.parametrize("worker, env, expected", [
    ("", {}, 120.0),
    ("broker_wait_s = 30", {}, 30.0),
    ("broker_wait_s = 0", {}, 0.0),  # exit at once, with the reason, as every other command does
    ("broker_wait_s = 30", {"BUZZWATCH_BROKER_WAIT_S": "600"}, 600.0),  # the environment wins
])
def test_broker_wait_s_from_the_file_and_the_environment(tmp_path, worker, env, expected):
    assert settings_with(tmp_path, worker, **env).broker_wait_s == expected


@pytest.mark.parametrize("worker, env", [
    ("broker_wait_s = -1", {}),
    ('broker_wait_s = "30"', {}),
    ("broker_wait_s = inf", {}),
    ("", {"BUZZWATCH_BROKER_WAIT_S": "a while"}),
])
def test_a_bad_broker_wait_s_is_refused_at_start_up(tmp_path, worker, env):
    with pytest.raises(ConfigError, match="BROKER_WAIT_S|broker_wait_s"):
        settings_with(tmp_path, worker, **env)
