"""Kafka security settings: read once (TOML + environment + secret files), validated eagerly,
turned into the same credentials for kafka-python, aiokafka and Faust; secrets never printed."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import pytest

from buzzwatch.config import ConfigError
from streams.kafka_access import KafkaAccessError, check_access
from streams.kafka_security import KafkaSecurity
from streams.local_certs import issue, make_ca
from streams.secret_values import SecretStr, read_secret
from streams.settings import load_settings

pytestmark = pytest.mark.security

SECRET = "Hunter2-unit-9f8e"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, a client certificate it signed, and a key that belongs to another certificate."""
    d = tmp_path_factory.mktemp("pki")
    ca = make_ca(d)
    client = issue(ca, d, "client", server=False)
    other = issue(ca, d, "other", server=False)
    not_pem = d / "not-a-ca.pem"
    not_pem.write_text("hello\n")
    return {"ca": ca.cert, "cert": client.cert, "key": client.key, "other_key": other.key, "not_pem": not_pem,
            "missing": d / "missing.pem"}


SASL = {"sasl_mechanism": "SCRAM-SHA-512", "sasl_username": "bw", "sasl_password": SecretStr(SECRET)}

# (settings, the error says) - every invalid combination is refused when the settings are built
INVALID = [
    ({"protocol": "TLS"}, "expected one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"),
    ({"protocol": "SASL_SSL"}, "needs sasl_mechanism"),
    ({"protocol": "SASL_PLAINTEXT", **SASL, "sasl_mechanism": "GSSAPI"}, "sasl_mechanism = 'GSSAPI'"),
    ({"protocol": "SASL_PLAINTEXT", **SASL, "sasl_username": None}, "needs sasl_username"),
    ({"protocol": "SASL_PLAINTEXT", **SASL, "sasl_password": None}, "BUZZWATCH_KAFKA_SASL_PASSWORD_FILE"),
    ({"protocol": "PLAINTEXT", "sasl_username": "bw"}, "does not use SASL"),
    ({"protocol": "SSL", **SASL}, "does not use SASL"),
    ({"protocol": "SASL_PLAINTEXT", **SASL, "ssl_cafile": "ca"}, "does not use TLS"),
    ({"protocol": "SSL", "ssl_certfile": "cert"}, "go together"),
    ({"protocol": "SSL", "ssl_cafile": "missing"}, "no such file"),
    ({"protocol": "SSL", "ssl_cafile": "not_pem"}, "not a PEM CA certificate"),
    ({"protocol": "SSL", "ssl_cafile": "ca", "ssl_certfile": "cert", "ssl_keyfile": "other_key"},
     "cannot load the client certificate and key"),
]


@pytest.mark.parametrize("kwargs,says", INVALID, ids=[s for _, s in INVALID])
def test_invalid_settings_are_refused_with_the_key_named(pki, kwargs, says):
    kwargs = {k: (pki[v] if isinstance(v, str) and v in pki and k.startswith("ssl_") else v) for k, v in kwargs.items()}
    with pytest.raises(ConfigError) as err:
        KafkaSecurity(**kwargs)
    assert says in str(err.value)
    assert SECRET not in str(err.value)


def test_mutual_tls_gives_one_verifying_context_to_every_library(pki):
    sec = KafkaSecurity("SSL", ssl_cafile=pki["ca"], ssl_certfile=pki["cert"], ssl_keyfile=pki["key"])
    kp, ak = sec.kafka_python_kwargs(), sec.aiokafka_kwargs()
    assert kp["security_protocol"] == ak["security_protocol"] == "SSL"
    for ctx in (kp["ssl_context"], ak["ssl_context"]):
        assert isinstance(ctx, ssl.SSLContext)
        assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
        assert ctx.minimum_version >= ssl.TLSVersion.TLSv1_2
    creds = sec.faust_credentials()
    assert type(creds).__name__ == "SSLCredentials" and creds.protocol.value == "SSL"


def test_hostname_check_can_be_turned_off_for_a_cluster_without_proper_names(pki):
    sec = KafkaSecurity("SSL", ssl_cafile=pki["ca"], ssl_check_hostname=False)
    assert sec.ssl_context().check_hostname is False
    assert sec.kafka_python_kwargs()["ssl_check_hostname"] is False


@pytest.mark.parametrize("protocol", ["SASL_SSL", "SASL_PLAINTEXT"])
def test_faust_gets_exactly_the_aiokafka_options(pki, protocol):
    from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

    tls = {"ssl_cafile": pki["ca"]} if protocol == "SASL_SSL" else {}
    sec = KafkaSecurity(protocol, **SASL, **tls)
    through_faust = credentials_to_aiokafka_auth(sec.faust_credentials())
    ours = sec.aiokafka_kwargs()
    without_context = lambda kw: {k: v for k, v in kw.items() if k != "ssl_context"}  # noqa: E731
    assert without_context(through_faust) == without_context(ours)
    assert (through_faust["ssl_context"] is None) == (protocol == "SASL_PLAINTEXT")
    assert through_faust["sasl_plain_password"] == SECRET


def test_the_password_reaches_the_libraries_but_never_their_logs():
    sec = KafkaSecurity("SASL_PLAINTEXT", **SASL)
    kw = sec.kafka_python_kwargs()
    assert kw["sasl_plain_password"] == SECRET and kw["sasl_plain_password"].encode() == SECRET.encode()
    # kafka-python logs its whole config dict at DEBUG: values print with repr
    for shown in (repr(kw), str(kw), repr(sec), str(sec), f"{sec}", repr(sec.faust_credentials()), sec.describe()):
        assert SECRET not in shown


def test_secret_str_never_shows_its_value():
    s = SecretStr(SECRET)
    assert SECRET not in repr(s) + str(s) + f"{s}" + f"{s!r}" + "%s %r" % (s, s)
    with pytest.raises(TypeError):
        __import__("pickle").dumps(s)


# --- reading secrets -------------------------------------------------------------------------
def test_a_secret_comes_from_the_variable_or_from_its_file(tmp_path):
    f = tmp_path / "pw"
    f.write_text(SECRET + "\n")  # `echo x > file` adds a newline: stripped
    assert read_secret({"X": SECRET}, "X").get_secret_value() == SECRET
    assert read_secret({"X_FILE": str(f)}, "X").get_secret_value() == SECRET
    assert read_secret({"X": ""}, "X") is None


@pytest.mark.parametrize("env,says", [
    ({"X": "a", "X_FILE": "/dev/null"}, "$X and $X_FILE are both set"),
    ({"X_FILE": "/nonexistent/pw"}, "$X_FILE: cannot read the secret file /nonexistent/pw"),
    ({"X_FILE": "/dev/null"}, "is empty"),
])
def test_secret_file_errors_name_the_variable(env, says):
    with pytest.raises(ConfigError) as err:
        read_secret(env, "X")
    assert says in str(err.value)


# --- the settings file and the environment ----------------------------------------------------
def write(tmp_path, text: str) -> Path:
    path = tmp_path / "buzzwatch.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("section,key,variable", [
    ("kafka", "sasl_password", "BUZZWATCH_KAFKA_SASL_PASSWORD"),
    ("kafka", "ssl_key_password", "BUZZWATCH_KAFKA_SSL_KEY_PASSWORD"),
    ("alerting", "webhook_url", "BUZZWATCH_WEBHOOK_URL"),
])
def test_secrets_in_the_config_file_are_refused_and_the_error_says_where_they_go(tmp_path, section, key, variable):
    path = write(tmp_path, f'[{section}]\n{key} = "{SECRET}"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={})
    assert f"${variable} or ${variable}_FILE" in str(err.value)
    assert SECRET not in str(err.value)


def test_unknown_kafka_keys_are_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"\[kafka\]: unknown key\(s\) sasl_user;"):
        load_settings(write(tmp_path, '[kafka]\nsasl_user = "bw"\n'), env={})


def test_toml_gives_the_settings_and_the_environment_overrides_them(tmp_path, pki):
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.pem").write_bytes(pki["ca"].read_bytes())
    pw = tmp_path / "pw"
    pw.write_text(SECRET)
    path = write(tmp_path, '[kafka]\nbootstrap = "b:9093"\nsecurity_protocol = "sasl_ssl"\n'
                           'sasl_mechanism = "SCRAM-SHA-256"\nsasl_username = "toml-user"\n'
                           'ssl_cafile = "certs/ca.pem"\nconnect_timeout_s = 4\n')
    s = load_settings(path, env={"BUZZWATCH_KAFKA_SASL_PASSWORD_FILE": str(pw),
                                 "BUZZWATCH_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512"})
    sec = s.kafka_security
    assert (sec.protocol, sec.sasl_mechanism, sec.sasl_username) == ("SASL_SSL", "SCRAM-SHA-512", "toml-user")
    assert sec.ssl_cafile == tmp_path / "certs" / "ca.pem"  # relative to the config file
    assert sec.sasl_password.get_secret_value() == SECRET
    assert s.kafka_connect_timeout_s == 4.0
    assert SECRET not in repr(s) + str(s)


@pytest.mark.parametrize("env,says", [
    ({"BUZZWATCH_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "needs sasl_mechanism"),
    ({"BUZZWATCH_KAFKA_SSL_CHECK_HOSTNAME": "maybe"}, "$BUZZWATCH_KAFKA_SSL_CHECK_HOSTNAME: expected true or false"),
    ({"BUZZWATCH_KAFKA_CONNECT_TIMEOUT_S": "soon"}, "$BUZZWATCH_KAFKA_CONNECT_TIMEOUT_S='soon'"),
    ({"BUZZWATCH_KAFKA_CONNECT_TIMEOUT_S": "0"}, "connect_timeout_s must be a number > 0"),
    ({"BUZZWATCH_KAFKA_SASL_PASSWORD": SECRET}, "does not use SASL"),
])
def test_bad_environment_values_are_clear_errors(tmp_path, env, says):
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, ""), env=env)
    assert says in str(err.value)
    assert SECRET not in str(err.value)


def test_webhook_url_comes_from_its_file_and_is_masked(tmp_path):
    url = tmp_path / "webhook"
    url.write_text(f"https://hooks.example.invalid/{SECRET}\n")
    s = load_settings(write(tmp_path, ""), env={"BUZZWATCH_WEBHOOK_URL_FILE": str(url)})
    assert s.webhook_url.get_secret_value() == f"https://hooks.example.invalid/{SECRET}"
    assert SECRET not in repr(s)


# --- the metrics/web address --------------------------------------------------------------------
def test_metrics_bind_to_loopback_unless_configured_otherwise(tmp_path):
    assert load_settings(write(tmp_path, ""), env={}).web_host == "127.0.0.1"
    assert load_settings(Path(__file__).parents[2] / "config" / "buzzwatch.toml", env={}).web_host == "127.0.0.1"
    assert load_settings(write(tmp_path, ""), env={"BUZZWATCH_WEB_HOST": "0.0.0.0"}).web_host == "0.0.0.0"


def test_the_faust_app_binds_where_configured_and_gets_the_credentials(tmp_path):
    from streams.app import build_app

    s = load_settings(write(tmp_path, '[[brands]]\nname = "Acme"\n'), env={
        "BUZZWATCH_KAFKA": "127.0.0.1:1", "BUZZWATCH_DATA_DIR": str(tmp_path / "data"),
        "BUZZWATCH_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "BUZZWATCH_KAFKA_SASL_MECHANISM": "PLAIN",
        "BUZZWATCH_KAFKA_SASL_USERNAME": "bw", "BUZZWATCH_KAFKA_SASL_PASSWORD": SECRET,
    })
    app = build_app(s).app
    assert app.conf.web_bind == "127.0.0.1" and app.conf.web_host == "127.0.0.1"
    creds = app.conf.broker_credentials
    assert (creds.protocol.value, creds.mechanism.value, creds.username) == ("SASL_PLAINTEXT", "PLAIN", "bw")


# --- the access check, without a broker ----------------------------------------------------------
def test_access_check_to_a_closed_port_fails_at_once_with_the_address():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens
    with pytest.raises(KafkaAccessError, match=f"cannot connect to Kafka at 127.0.0.1:{port}"):
        check_access(f"127.0.0.1:{port}", KafkaSecurity(), timeout_s=3)


def test_access_check_refuses_a_malformed_bootstrap():
    with pytest.raises(KafkaAccessError, match="is not host:port"):
        check_access("localhost", KafkaSecurity(), timeout_s=1)


def test_a_failing_webhook_delivery_never_shows_its_url(caplog):
    import asyncio
    import logging

    import aiohttp

    from streams.sinks import Sink

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens: every attempt fails
    sink = Sink("webhook", f"http://127.0.0.1:{port}/hooks/{SECRET}", retries=1, timeout_s=1, backoff_s=0.01)
    caplog.set_level(logging.DEBUG)

    async def deliver():
        async with aiohttp.ClientSession() as session:
            return await sink.deliver(session, {"brand": "Acme", "event": "opened", "alert_id": "a1", "severity": "watch",
                                                "detected_at": "2026-11-24T06:00:00Z"})

    assert asyncio.run(deliver()) is False
    assert SECRET not in caplog.text + repr(sink) + str(sink)


def test_the_access_probe_keeps_a_refused_connection_s_late_callbacks_quiet():
    """The probe's refusal is one clear sentence: aiokafka's read-task callback failing on the
    same refused connection while the loop shuts down prints nothing more; anything else does."""
    from streams.kafka_access import _quiet_connection_errors

    seen = []

    class Loop:
        def default_exception_handler(self, context):
            seen.append(context["exception"])

    for exc in (ssl.SSLError(1, "tlsv13 alert certificate required"), ConnectionResetError(), RuntimeError("Event loop is closed")):
        _quiet_connection_errors(Loop(), {"message": "Exception in callback", "exception": exc})
    assert seen == []
    odd = ValueError("a bug")
    _quiet_connection_errors(Loop(), {"message": "Exception in callback", "exception": odd})
    assert seen == [odd]
