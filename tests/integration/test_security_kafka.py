"""Against a secured broker: TLS with client certificates (mutual TLS) and SASL_SSL with
SCRAM-SHA-512. With the right credentials every client works (topics, simulate and ingest
producers, the Faust worker consuming and producing scored records, replay, the admin client of
`state rebuild`); with wrong ones each command stops within seconds, saying what to fix; no
secret reaches a log, an error message, the metrics page or ``repr(settings)``.

One broker (PLAINTEXT + SSL + SASL_SSL listeners, fresh CA) is started for the module.
"""

from __future__ import annotations

import logging
import time
import urllib.request

import orjson
import pytest

from buzzwatch.timeutil import format_timestamp
from streams.kafka_access import KafkaAccessError, check_access
from streams.kafka_local import KafkaError, LocalKafka
from streams.local_certs import issue, make_ca
from streams.settings import load_settings

from .harness import buzzwatch, free_port, metric, read_topic, running_worker, scrape, unique, wait_for, worker_env, write_config

pytestmark = [pytest.mark.kafka, pytest.mark.security]

USER = "buzzwatch"
PASSWORD = "Pw-right-4c1d9e"  # distinctive: searched for in every output
WRONG_PASSWORD = "Pw-wrong-77aa01"
FAIL_WITHIN_S = 20  # a refused command exits this fast (the access check is bounded by 10 s)


class Secured:
    """The module's broker and the credential sets, right and wrong."""

    def __init__(self, broker: LocalKafka, tmp):
        self.broker = broker
        self.tmp = tmp
        tls = broker.tls
        self.password_file = tmp / "sasl_password"
        self.password_file.write_text(PASSWORD + "\n")
        self.wrong_password_file = tmp / "wrong_password"
        self.wrong_password_file.write_text(WRONG_PASSWORD + "\n")
        self.other_ca = make_ca(tmp / "other", "other-ca")
        self.intruder = issue(self.other_ca, tmp / "other", "intruder", server=False)
        self.good = {
            "tls": {
                "BUZZWATCH_KAFKA": broker.bootstrap_for("SSL"),
                "BUZZWATCH_KAFKA_SECURITY_PROTOCOL": "SSL",
                "BUZZWATCH_KAFKA_SSL_CAFILE": str(tls.ca_file),
                "BUZZWATCH_KAFKA_SSL_CERTFILE": str(tls.client.cert),
                "BUZZWATCH_KAFKA_SSL_KEYFILE": str(tls.client.key),
            },
            "sasl": {
                "BUZZWATCH_KAFKA": broker.bootstrap_for("SASL_SSL"),
                "BUZZWATCH_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "BUZZWATCH_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
                "BUZZWATCH_KAFKA_SASL_USERNAME": USER,
                "BUZZWATCH_KAFKA_SASL_PASSWORD_FILE": str(self.password_file),
                "BUZZWATCH_KAFKA_SSL_CAFILE": str(tls.ca_file),
            },
        }

    def env(self, mode: str, config, app_id: str, prefix: str, port: int, **changes) -> dict:
        env = worker_env(config, "unused", app_id, prefix, port, self.tmp / f"data-{app_id}")
        env.update(self.good[mode], COLUMNS="200")  # rich tables: full topic names
        for key, value in changes.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = str(value)
        return env


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("secured-kafka")
    broker = LocalKafka(tls=True, scram_users={USER: PASSWORD})
    try:
        broker.start()
    except (KafkaError, OSError) as exc:
        pytest.fail(f"could not start the secured local Kafka broker: {exc}", pytrace=False)
    try:
        yield Secured(broker, tmp)
    finally:
        broker.stop()


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    return write_config(tmp_path_factory.mktemp("secured-config") / "buzzwatch.toml", partitions=2)


def archive(path, n: int) -> int:
    """``n`` valid mentions of configured brands, event time one hour ago."""
    t0 = int(time.time() * 1000) - 3_600_000
    with path.open("wb") as fh:
        for i in range(n):
            fh.write(orjson.dumps({"id": f"arch-{i}", "text": f"@acme order {i} arrived late, awful",
                                   "created_at": format_timestamp(t0 + i * 1000),
                                   "author": {"id": f"u{i}", "followers": 10}}) + b"\n")
    return n


def listening_addresses(port: int) -> set[str]:
    """IPv4/IPv6 addresses with a TCP socket listening on ``port`` (Linux /proc/net/tcp*)."""
    import ipaddress

    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            for line in fh.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    raw = bytes.fromhex(address)
                    # /proc prints each 32-bit word in host (little-endian) order
                    raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                    ip = ipaddress.ip_address(raw)
                    found.add(str(ip.ipv4_mapped or ip) if ip.version == 6 else str(ip))
    return found


@pytest.mark.parametrize("mode", ["tls", "sasl"])
def test_every_client_works_with_the_right_credentials(secured, config, tmp_path, mode):
    app_id, prefix, port = unique(f"sec-{mode}"), f"{unique(mode)}.", free_port()
    env = secured.env(mode, config, app_id, prefix, port, BUZZWATCH_WEB_HOST=None)  # the default bind address
    outputs = [buzzwatch("topics", "create", env=env).stdout]
    described = buzzwatch("topics", "describe", env=env).stdout
    assert f"{prefix}mentions" in described
    simulated = buzzwatch("simulate", "--produce", "--brands", "Acme", "--minutes", "3", "--rate", "10", env=env).stdout
    produced = int(simulated.split()[1])
    ingested = buzzwatch("ingest", str(tmp_path / "archive.jsonl"), "--rejects", str(tmp_path / "rejects.jsonl"),
                         env=env) if archive(tmp_path / "archive.jsonl", 40) else None
    assert "produced 40" in ingested.stdout
    total = produced + 40
    outputs += [described, simulated, ingested.stdout, ingested.stderr]

    log = tmp_path / "worker.log"
    with running_worker(env, log, loglevel="debug") as proc:  # debug: the most a log could leak
        samples = wait_for(lambda: (s := scrape(port)) and metric(s, "buzzwatch_mentions_consumed_total") == total and s,
                           timeout=90, what="the worker consumed everything", proc=proc, log_path=log)
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        assert listening_addresses(port) == {"127.0.0.1"}  # metrics on loopback only, by default
    accepted = metric(samples, "buzzwatch_mentions_accepted_total")
    unmatched = metric(samples, "buzzwatch_mentions_unmatched_total") or 0
    assert accepted == total
    settings = load_settings(config, env=env)
    # read back through the plain listener; scored mentions are keyed by brand (watermarks are not)
    # (one record per brand per batch: count the mentions inside)
    from buzzwatch.contract.scored import decode_scored

    scored = [m for r in read_topic(secured.broker.bootstrap, settings.topics.scored) if r.key
              for m in decode_scored(r.value)]
    assert len(scored) == accepted - unmatched > 0

    replayed = buzzwatch("replay", "--into", "r1", "--out-dir", str(tmp_path / "replays"), env=env)
    report = orjson.loads((tmp_path / "replays" / "r1" / "report.json").read_bytes())
    assert report["consumed"] == total

    # the admin client and consumer of `state rebuild` (its lag probe) on the worker's group
    from streams.rebuild import group_lag

    assert group_lag(settings.kafka_bootstrap(), app_id, [settings.topics.mentions], settings.kafka_security) == 0

    everything = "\n".join(outputs + [replayed.stdout, replayed.stderr, log.read_text(errors="replace"), page,
                                      repr(settings), str(settings)])
    assert PASSWORD not in everything


# (mode, changed variables, what the message says) -> every command fails fast and says so
REFUSALS = {
    "wrong password": ("sasl", {"BUZZWATCH_KAFKA_SASL_PASSWORD_FILE": "wrong"}, "refused the SASL credentials"),
    "unknown user": ("sasl", {"BUZZWATCH_KAFKA_SASL_USERNAME": "mallory"}, "refused the SASL credentials"),
    "mechanism not enabled": ("sasl", {"BUZZWATCH_KAFKA_SASL_MECHANISM": "SCRAM-SHA-256"}, "does not accept SASL mechanism"),
    "client certificate of another CA": ("tls", {"BUZZWATCH_KAFKA_SSL_CERTFILE": "intruder.cert",
                                                 "BUZZWATCH_KAFKA_SSL_KEYFILE": "intruder.key"}, "refused this client's TLS certificate"),
    "no client certificate": ("tls", {"BUZZWATCH_KAFKA_SSL_CERTFILE": None, "BUZZWATCH_KAFKA_SSL_KEYFILE": None},
                              "refused this client's TLS certificate"),
    "broker certificate not trusted": ("tls", {"BUZZWATCH_KAFKA_SSL_CAFILE": "other-ca"}, "is not trusted"),
    "plaintext client on a TLS listener": ("tls", {"BUZZWATCH_KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",
                                                   "BUZZWATCH_KAFKA_SSL_CAFILE": None, "BUZZWATCH_KAFKA_SSL_CERTFILE": None,
                                                   "BUZZWATCH_KAFKA_SSL_KEYFILE": None}, "does this listener speak PLAINTEXT"),
    "TLS client on the plaintext listener": ("tls", {"BUZZWATCH_KAFKA": "plaintext listener"}, "does this listener speak SSL"),
}
# all commands for one refusal of each kind; the others through `topics create` only
ALL_COMMANDS = {"wrong password", "client certificate of another CA"}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_wrong_credentials_fail_fast_with_a_clear_error(secured, config, tmp_path, case):
    mode, changes, says = REFUSALS[case]
    files = {"wrong": secured.wrong_password_file, "intruder.cert": secured.intruder.cert,
             "intruder.key": secured.intruder.key, "other-ca": secured.other_ca.cert,
             "plaintext listener": secured.broker.bootstrap}
    changes = {k: (files.get(v, v) if v is not None else None) for k, v in changes.items()}
    env = secured.env(mode, config, unique("refused"), f"{unique('refused')}.", free_port(), **changes)
    archive(tmp_path / "a.jsonl", 3)
    commands = [("topics", "create")]
    if case in ALL_COMMANDS:
        commands += [("ingest", str(tmp_path / "a.jsonl")), ("replay", "--into", "x", "--out-dir", str(tmp_path)),
                     ("worker",), ("simulate", "--produce", "--minutes", "1")]
    for args in commands:
        started = time.monotonic()
        proc = buzzwatch(*args, env=env, timeout=60, check=False)
        took = time.monotonic() - started
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert says in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert took < FAIL_WITHIN_S, (args, took)
        assert PASSWORD not in proc.stdout + proc.stderr and WRONG_PASSWORD not in proc.stdout + proc.stderr


def test_no_secret_in_logs_errors_or_repr(secured, config, tmp_path, caplog):
    """In-process, every library logging at DEBUG: right and wrong passwords never appear."""
    from streams.producer import produce_mentions
    from streams.replay import replay
    from streams.topics import create_topics, topic_specs

    caplog.set_level(logging.DEBUG)
    prefix = f"{unique('logs')}."
    right = load_settings(config, env=secured.env("sasl", config, unique("logs"), prefix, free_port()))
    wrong = load_settings(config, env=secured.env("sasl", config, unique("logs"), prefix, free_port(),
                                                  BUZZWATCH_KAFKA_SASL_PASSWORD_FILE=secured.wrong_password_file))
    bootstrap, security = right.kafka_bootstrap(), right.kafka_security
    create_topics(bootstrap, topic_specs(2, right.topics.as_dict()), security=security)
    produce_mentions(bootstrap, right.topics.mentions,
                     [{"id": "s1", "text": "@acme hello", "created_at": format_timestamp(int(time.time() * 1000) - 60_000)}],
                     security=security)
    assert replay(right, "logs", None, None, out_dir=tmp_path, progress=False)["consumed"] == 1
    messages = [repr(right), str(right), repr(wrong), repr(security), repr(security.faust_credentials())]
    with pytest.raises(KafkaAccessError) as refused:
        check_access(bootstrap, wrong.kafka_security, timeout_s=5)
    messages.append(str(refused.value))
    # the library itself, with the wrong password, bounded: an error, and no password in it
    from kafka import KafkaProducer

    with pytest.raises(Exception) as raw:  # noqa: PT011 - whatever kafka-python raises, it must not carry it
        KafkaProducer(bootstrap_servers=bootstrap, bootstrap_timeout_ms=3000, **wrong.kafka_security.kafka_python_kwargs())
    messages.append(repr(raw.value))
    text = caplog.text + "\n".join(messages)
    assert caplog.records, "nothing was logged: the capture did not work"
    assert PASSWORD not in text
    assert WRONG_PASSWORD not in text
