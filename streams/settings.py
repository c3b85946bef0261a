"""One frozen settings object for a worker: TOML file + environment overrides.

Agents never read ``os.environ``; they get a :class:`Settings`. Precedence: built-in defaults <
the TOML file (``--config`` or ``$BUZZWATCH_CONFIG``, default ``config/buzzwatch.toml``) <
environment variables (documented in README and ``.env.example``):

==============================  ===========================================  =================
variable                        meaning                                       default
==============================  ===========================================  =================
BUZZWATCH_CONFIG                path of the TOML file                         config/buzzwatch.toml
BUZZWATCH_KAFKA                 bootstrap servers of an existing Kafka        local broker
BUZZWATCH_KAFKA_SECURITY_PROTOCOL  PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL  PLAINTEXT
BUZZWATCH_KAFKA_SASL_MECHANISM  PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512          (none)
BUZZWATCH_KAFKA_SASL_USERNAME   SASL user name                                (none)
BUZZWATCH_KAFKA_SASL_PASSWORD   SASL password (secret; or ..._PASSWORD_FILE)  (none)
BUZZWATCH_KAFKA_SASL_PASSWORD_FILE  file holding the SASL password            (none)
BUZZWATCH_KAFKA_SSL_CAFILE      PEM CA bundle that signed the brokers' certs  system CAs
BUZZWATCH_KAFKA_SSL_CERTFILE    PEM client certificate (mutual TLS)           (none)
BUZZWATCH_KAFKA_SSL_KEYFILE     PEM key of the client certificate             (none)
BUZZWATCH_KAFKA_SSL_KEY_PASSWORD  password of that key (secret; or ..._FILE)  (none)
BUZZWATCH_KAFKA_SSL_KEY_PASSWORD_FILE  file holding the key password          (none)
BUZZWATCH_KAFKA_SSL_CHECK_HOSTNAME  verify the broker's name (true/false)     true
BUZZWATCH_KAFKA_CONNECT_TIMEOUT_S  bound of the start-up access check (s)     10
BUZZWATCH_APP_ID                Faust app id (consumer group, table names)    buzzwatch
BUZZWATCH_WEB_HOST              address of the metrics/web server             127.0.0.1
BUZZWATCH_WEB_PORT              port of the metrics/web server (/metrics)     6066
BUZZWATCH_PARTITIONS            partitions of mentions and mentions.scored    4
BUZZWATCH_TOPIC_PREFIX          prefix for all topic names                    (none)
BUZZWATCH_ALERTMANAGER_URL      Alertmanager base URL (API v2)                (off)
BUZZWATCH_WEBHOOK_URL           Slack-compatible webhook URL (secret)         (off)
BUZZWATCH_WEBHOOK_URL_FILE      file holding the webhook URL                  (off)
BUZZWATCH_GRAFANA_URL           Grafana base URL for links in alerts          http://127.0.0.1:3000
BUZZWATCH_DATA_DIR              Faust data dir                                .cache/buzzwatch/worker
BUZZWATCH_ALERTS_TOPIC          alerts topic (overrides the prefixed name)    buzz.alerts
BUZZWATCH_INSTANCE_ID           stable, unique id of this worker (static      (none: dynamic)
                                group membership: a restart rejoins at once)
BUZZWATCH_STOP_TIMEOUT_S        a stop (SIGTERM) not done by then exits       20
                                without commit, code 75 (0: wait for ever)
BUZZWATCH_ACKS_TOPIC            acks topic (overrides the prefixed name)      buzz.acks
BUZZWATCH_TEAMS_URL             Teams Workflows webhook URL (secret)          (off)
BUZZWATCH_JSON_WEBHOOK_URL      signed JSON webhook URL (Standard Webhooks)   (off)
BUZZWATCH_WEBHOOK_SECRET        its signing secret (``whsec_`` + base64 ok)   (required with it)
BUZZWATCH_PAGE_URL              base URL of the alert pages in messages       http://WEB_HOST:WEB_PORT
==============================  ===========================================  =================

Secrets (the SASL password, the key password, the webhook URL) come only from the environment
or from the file a ``*_FILE`` variable names (compose and Kubernetes secrets), never from the
TOML file: a secret there is an error that says where to put it (``streams.secret_values``).
``repr(settings)`` shows them as stars. Relative ``ssl_*`` paths in the TOML file are relative
to the file; in the environment, to the working directory.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

from buzzwatch.config import ConfigError, CoreConfig, read_toml
from streams.kafka_security import KafkaSecurity
from streams.secret_values import SecretStr, read_secret

__all__ = ["ConfigError", "KafkaSecurity", "SecretStr", "Settings", "Topics", "load_settings"]

DEFAULT_CONFIG = Path("config/buzzwatch.toml")


@dataclass(frozen=True)
class Topics:
    """Topic names. ``scored`` is internal to one app (like a Kafka Streams repartition topic):
    its default template puts the app id in the name, so a second app on the same input (a
    rebuild, a benchmark, a test) never reads the first one's intermediate records."""

    mentions: str = "mentions"
    scored: str = "{app_id}.mentions.scored"
    dlq: str = "mentions.dlq"
    alerts: str = "buzz.alerts"
    acks: str = "buzz.acks"

    def prefixed(self, prefix: str) -> "Topics":
        if not prefix:
            return self
        return Topics(*(f"{prefix}{name}" for name in (self.mentions, self.scored, self.dlq, self.alerts, self.acks)))

    def for_app(self, app_id: str) -> "Topics":
        return replace(self, scored=self.scored.format(app_id=app_id))

    def as_dict(self) -> dict[str, str]:
        return {"mentions": self.mentions, "scored": self.scored, "dlq": self.dlq, "alerts": self.alerts,
                "acks": self.acks}


@dataclass(frozen=True)
class Settings:
    core: CoreConfig = field(default_factory=CoreConfig)
    config_path: Path | None = None
    bootstrap: str | None = None  # None: the local broker of `buzzwatch kafka up`
    kafka_security: KafkaSecurity = field(default_factory=KafkaSecurity)
    kafka_connect_timeout_s: float = 10.0  # bound of the access check every command runs first
    app_id: str = "buzzwatch"
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    partitions: int = 4
    replication: int = 1
    topic_names: Topics = field(default_factory=Topics)
    batch_size: int = 1000
    batch_within_s: float = 0.5
    watermark_interval_s: float = 1.0
    alertmanager_url: str | None = None
    webhook_url: SecretStr | None = None
    grafana_url: str = "http://127.0.0.1:3000"
    delivery_retries: int = 5
    delivery_timeout_s: float = 5.0
    data_dir: Path = Path(".cache/buzzwatch/worker")
    notify_max_age_s: float = 86_400.0  # older lifecycle events are not paged (e.g. after a rebuild)
    session_timeout_s: float = 10.0  # a crashed worker's partitions are reassigned after this
    stall_exit_s: float = 120.0  # a raw partition, a commit or a table recovery stalled this long: exit 70 (0: never)
    instance_id: str | None = None  # static group membership (KIP-345): unique per worker
    stop_timeout_s: float = 20.0  # a stop not finished this long after it began: exit 75, no commit (0: never)
    broker_wait_s: float = 120.0  # a starting worker waits this long for a broker that is down (streams.broker_wait)
    # on-call loop ([oncall] deployment keys, see ONCALL_KEYS)
    teams_url: SecretStr | None = None
    json_webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    page_url: str | None = None  # None: http://web_host:web_port
    resend_interval_s: float = 60.0  # Alertmanager wants active alerts re-sent (30 s .. 3 min)
    retry_backoff_s: float = 0.5  # first retry delay of a failed delivery, doubled each time ...
    retry_max_backoff_s: float = 60.0  # ... up to this; deliveries are retried forever, in order
    clock_interval_s: float = 5.0  # how often the response clock looks at the event time

    @property
    def alert_page_base(self) -> str:
        return self.page_url or f"http://{self.web_host}:{self.web_port}"

    @property
    def topics(self) -> Topics:
        return self.topic_names.for_app(self.app_id)

    def kafka_bootstrap(self) -> str:
        if self.bootstrap:
            return self.bootstrap
        from streams.kafka_local import bootstrap_servers

        return bootstrap_servers()

    def with_overrides(self, **changes) -> "Settings":
        return replace(self, **changes)


_KAFKA_KEYS = {
    "bootstrap", "security_protocol", "sasl_mechanism", "sasl_username", "ssl_cafile", "ssl_certfile",
    "ssl_keyfile", "ssl_check_hostname", "connect_timeout_s",
}
# secrets: accepted from the environment (or a *_FILE), refused in the TOML file
_SECRET_KEYS = {
    ("kafka", "sasl_password"): "BUZZWATCH_KAFKA_SASL_PASSWORD",
    ("kafka", "ssl_key_password"): "BUZZWATCH_KAFKA_SSL_KEY_PASSWORD",
    ("alerting", "webhook_url"): "BUZZWATCH_WEBHOOK_URL",
}
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def _boolean(raw) -> bool:
    """``true``/``false`` (also 1/0, yes/no, on/off) from the environment; TOML booleans as is.

    >>> _boolean("False"), _boolean(True)
    (False, True)
    """
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise ValueError(f"expected true or false, got {raw!r}")


def _kafka_security(kafka: dict, env: Mapping[str, str], path: Path) -> KafkaSecurity:
    """The ``[kafka]`` security keys, each overridden by its ``BUZZWATCH_KAFKA_*`` variable."""

    def text(key: str) -> str | None:
        raw = env.get(f"BUZZWATCH_KAFKA_{key.upper()}") or None
        if raw is not None:
            return raw
        value = kafka.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{path}: [kafka] {key} must be a string, got {value!r}")
        return value or None

    def file(key: str) -> Path | None:
        from_env = env.get(f"BUZZWATCH_KAFKA_{key.upper()}") or None
        if from_env is not None:
            return Path(from_env)
        value = text(key)
        return None if value is None else (path.parent / value if not Path(value).is_absolute() else Path(value))

    env_check = env.get("BUZZWATCH_KAFKA_SSL_CHECK_HOSTNAME") or None
    try:
        check_hostname = _boolean(env_check if env_check is not None else kafka.get("ssl_check_hostname", True))
    except ValueError as exc:
        where = "$BUZZWATCH_KAFKA_SSL_CHECK_HOSTNAME" if env_check is not None else f"{path}: [kafka] ssl_check_hostname"
        raise ConfigError(f"{where}: {exc}") from None
    protocol = text("security_protocol")
    mechanism = text("sasl_mechanism")
    return KafkaSecurity(
        protocol=protocol.upper() if protocol else "PLAINTEXT",
        sasl_mechanism=mechanism.upper() if mechanism else None,
        sasl_username=text("sasl_username"),
        sasl_password=read_secret(env, "BUZZWATCH_KAFKA_SASL_PASSWORD"),
        ssl_cafile=file("ssl_cafile"),
        ssl_certfile=file("ssl_certfile"),
        ssl_keyfile=file("ssl_keyfile"),
        ssl_key_password=read_secret(env, "BUZZWATCH_KAFKA_SSL_KEY_PASSWORD"),
        ssl_check_hostname=check_hostname,
    )


ONCALL_KEYS = ("teams_url", "json_webhook_url", "page_url", "resend_interval_s", "retry_backoff_s",
               "retry_max_backoff_s", "clock_interval_s")


_WORKER_KEYS = {
    "app_id", "web_host", "web_port", "batch_size", "batch_within_s", "watermark_interval_s",
    "data_dir", "delivery_retries", "delivery_timeout_s", "notify_max_age_s",
    "session_timeout_s", "instance_id", "stall_exit_s", "stop_timeout_s", "broker_wait_s",
}


DEFAULTS = Settings()  # the one place defaults are defined: the dataclass


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from the TOML file and the environment (see module docstring)."""
    env = os.environ if env is None else env
    path = Path(path or env.get("BUZZWATCH_CONFIG") or DEFAULT_CONFIG)
    data = read_toml(path)
    core = CoreConfig.from_dict(data, ONCALL_KEYS)
    oncall = data.get("oncall", {})
    kafka = data.get("kafka", {})
    worker = data.get("worker", {})
    topics_cfg = data.get("topics", {})
    alerting = data.get("alerting", {})
    for (section, key), variable in _SECRET_KEYS.items():
        if key in data.get(section, {}):
            raise ConfigError(f"{path}: [{section}] {key}: secrets are not read from the config file; set "
                              f"${variable} or ${variable}_FILE (a file holding it, e.g. a compose secret)")
    unknown = set(worker) - _WORKER_KEYS
    if unknown:
        raise ConfigError(f"{path}: [worker]: unknown key(s) {', '.join(sorted(unknown))}")
    unknown = set(kafka) - _KAFKA_KEYS
    if unknown:
        raise ConfigError(f"{path}: [kafka]: unknown key(s) {', '.join(sorted(unknown))}; "
                          f"known: {', '.join(sorted(_KAFKA_KEYS))}")
    names = {k: v for k, v in topics_cfg.items() if k in ("mentions", "scored", "dlq", "alerts", "acks")}
    topics = Topics(**names).prefixed(env.get("BUZZWATCH_TOPIC_PREFIX", topics_cfg.get("prefix", "")))
    if env.get("BUZZWATCH_ALERTS_TOPIC"):
        topics = replace(topics, alerts=env["BUZZWATCH_ALERTS_TOPIC"])
    if env.get("BUZZWATCH_ACKS_TOPIC"):
        topics = replace(topics, acks=env["BUZZWATCH_ACKS_TOPIC"])

    def pick(env_name: str, value, cast=str):
        raw = env.get(env_name)
        if raw is None or raw == "":
            return value
        try:
            return cast(raw)
        except ValueError as exc:
            raise ConfigError(f"${env_name}={raw!r}: {exc}") from exc

    security = _kafka_security(kafka, env, path)
    connect_timeout_s = pick("BUZZWATCH_KAFKA_CONNECT_TIMEOUT_S", kafka.get("connect_timeout_s", 10.0), float)
    if not (isinstance(connect_timeout_s, (int, float)) and connect_timeout_s > 0):
        raise ConfigError(f"[kafka] connect_timeout_s must be a number > 0, got {connect_timeout_s!r}")
    grafana_url = pick("BUZZWATCH_GRAFANA_URL", alerting.get("grafana_url", "http://127.0.0.1:3000"))
    if grafana_url != core.alerting.get("grafana_url", grafana_url):
        # the environment wins over the file for the core too: alert links are built there
        core = replace(core, alerting={**core.alerting, "grafana_url": grafana_url})
    elif "grafana_url" not in core.alerting and env.get("BUZZWATCH_GRAFANA_URL"):
        core = replace(core, alerting={**core.alerting, "grafana_url": grafana_url})
    teams = read_secret(env, "BUZZWATCH_TEAMS_URL")
    if teams is None and oncall.get("teams_url"):
        teams = SecretStr(oncall["teams_url"])
    secret = read_secret(env, "BUZZWATCH_WEBHOOK_SECRET")
    settings = Settings(
        core=core,
        config_path=path,
        bootstrap=pick("BUZZWATCH_KAFKA", kafka.get("bootstrap")),
        kafka_security=security,
        kafka_connect_timeout_s=float(connect_timeout_s),
        app_id=pick("BUZZWATCH_APP_ID", worker.get("app_id", DEFAULTS.app_id)),
        web_host=pick("BUZZWATCH_WEB_HOST", worker.get("web_host", DEFAULTS.web_host)),
        web_port=pick("BUZZWATCH_WEB_PORT", int(worker.get("web_port", DEFAULTS.web_port)), int),
        partitions=pick("BUZZWATCH_PARTITIONS", int(topics_cfg.get("partitions", 4)), int),
        replication=int(topics_cfg.get("replication", 1)),
        topic_names=topics,
        batch_size=int(worker.get("batch_size", DEFAULTS.batch_size)),
        batch_within_s=float(worker.get("batch_within_s", DEFAULTS.batch_within_s)),
        watermark_interval_s=float(worker.get("watermark_interval_s", DEFAULTS.watermark_interval_s)),
        alertmanager_url=pick("BUZZWATCH_ALERTMANAGER_URL", alerting.get("alertmanager_url")),
        webhook_url=read_secret(env, "BUZZWATCH_WEBHOOK_URL"),
        grafana_url=grafana_url,
        delivery_retries=int(worker.get("delivery_retries", DEFAULTS.delivery_retries)),
        delivery_timeout_s=float(worker.get("delivery_timeout_s", DEFAULTS.delivery_timeout_s)),
        data_dir=Path(pick("BUZZWATCH_DATA_DIR", worker.get("data_dir", DEFAULTS.data_dir))),
        notify_max_age_s=float(worker.get("notify_max_age_s", DEFAULTS.notify_max_age_s)),
        session_timeout_s=float(worker.get("session_timeout_s", DEFAULTS.session_timeout_s)),
        stall_exit_s=float(worker.get("stall_exit_s", DEFAULTS.stall_exit_s)),
        instance_id=pick("BUZZWATCH_INSTANCE_ID", worker.get("instance_id")) or None,
        stop_timeout_s=pick("BUZZWATCH_STOP_TIMEOUT_S", worker.get("stop_timeout_s", DEFAULTS.stop_timeout_s), float),
        broker_wait_s=pick("BUZZWATCH_BROKER_WAIT_S", worker.get("broker_wait_s", DEFAULTS.broker_wait_s), float),
        teams_url=teams,
        json_webhook_url=pick("BUZZWATCH_JSON_WEBHOOK_URL", oncall.get("json_webhook_url")),
        webhook_secret=secret,
        page_url=pick("BUZZWATCH_PAGE_URL", oncall.get("page_url")),
        resend_interval_s=float(oncall.get("resend_interval_s", DEFAULTS.resend_interval_s)),
        retry_backoff_s=float(oncall.get("retry_backoff_s", DEFAULTS.retry_backoff_s)),
        retry_max_backoff_s=float(oncall.get("retry_max_backoff_s", DEFAULTS.retry_max_backoff_s)),
        clock_interval_s=float(oncall.get("clock_interval_s", DEFAULTS.clock_interval_s)),
    )
    if not 6.0 <= settings.session_timeout_s <= 300.0:
        raise ConfigError("[worker]: session_timeout_s must be between 6 and 300 (broker limits)")
    if not (isinstance(settings.stop_timeout_s, (int, float)) and 0 <= settings.stop_timeout_s < math.inf):
        raise ConfigError(f"[worker]: stop_timeout_s must be a number of seconds >= 0 (0: wait for ever), "
                          f"got {settings.stop_timeout_s!r}")
    if not (isinstance(settings.broker_wait_s, (int, float)) and 0 <= settings.broker_wait_s < math.inf):
        raise ConfigError(f"[worker]: broker_wait_s must be a number of seconds >= 0 (0: do not wait), "
                          f"got {settings.broker_wait_s!r}")
    if settings.json_webhook_url and not settings.webhook_secret:
        raise ConfigError("a signed JSON webhook needs its secret in $BUZZWATCH_WEBHOOK_SECRET")
    if settings.partitions < 1:
        raise ConfigError("partitions must be >= 1")
    return settings
