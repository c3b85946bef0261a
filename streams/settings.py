"""One frozen settings object for a worker: TOML file + environment overrides.

Agents never read ``os.environ``; they get a :class:`Settings`. Precedence: built-in defaults <
the TOML file (``--config`` or ``$BUZZWATCH_CONFIG``, default ``config/buzzwatch.toml``) <
environment variables (documented in README and ``.env.example``):

==============================  ===========================================  =================
variable                        meaning                                       default
==============================  ===========================================  =================
BUZZWATCH_CONFIG                path of the TOML file                         config/buzzwatch.toml
BUZZWATCH_KAFKA                 bootstrap servers of an existing Kafka        local broker
BUZZWATCH_APP_ID                Faust app id (consumer group, table names)    buzzwatch
BUZZWATCH_WEB_HOST              address of the metrics/web server             127.0.0.1
BUZZWATCH_WEB_PORT              port of the metrics/web server (/metrics)     6066
BUZZWATCH_PARTITIONS            partitions of mentions and mentions.scored    4
BUZZWATCH_TOPIC_PREFIX          prefix for all topic names                    (none)
BUZZWATCH_ALERTMANAGER_URL      Alertmanager base URL (API v2)                (off)
BUZZWATCH_WEBHOOK_URL           Slack-compatible webhook URL (secret)         (off)
BUZZWATCH_GRAFANA_URL           Grafana base URL for links in alerts          http://127.0.0.1:3000
BUZZWATCH_DATA_DIR              Faust data dir                                .cache/buzzwatch/worker
BUZZWATCH_ALERTS_TOPIC          alerts topic (overrides the prefixed name)    buzz.alerts
BUZZWATCH_ACKS_TOPIC            acks topic (overrides the prefixed name)      buzz.acks
BUZZWATCH_TEAMS_URL             Teams Workflows webhook URL (secret)          (off)
BUZZWATCH_JSON_WEBHOOK_URL      signed JSON webhook URL (Standard Webhooks)   (off)
BUZZWATCH_WEBHOOK_SECRET        its signing secret (``whsec_`` + base64 ok)   (required with it)
BUZZWATCH_PAGE_URL              base URL of the alert pages in messages       http://WEB_HOST:WEB_PORT
==============================  ===========================================  =================
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

from buzzwatch.config import ConfigError, CoreConfig, read_toml

DEFAULT_CONFIG = Path("config/buzzwatch.toml")


class SecretStr:
    """A string that does not print itself (webhook URLs carry tokens)."""

    def __init__(self, value: str):
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "SecretStr('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


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
    summary_interval_s: float = 0.0  # >0: print a per-brand summary table this often (demo)
    notify_max_age_s: float = 86_400.0  # older lifecycle events are not paged (e.g. after a rebuild)
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


ONCALL_KEYS = ("teams_url", "json_webhook_url", "page_url", "resend_interval_s", "retry_backoff_s",
               "retry_max_backoff_s", "clock_interval_s")
_WORKER_KEYS = {
    "app_id", "web_host", "web_port", "batch_size", "batch_within_s", "watermark_interval_s",
    "data_dir", "delivery_retries", "delivery_timeout_s", "summary_interval_s", "notify_max_age_s",
}


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
    unknown = set(worker) - _WORKER_KEYS
    if unknown:
        raise ConfigError(f"{path}: [worker]: unknown key(s) {', '.join(sorted(unknown))}")
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

    webhook = pick("BUZZWATCH_WEBHOOK_URL", alerting.get("webhook_url"))
    teams = pick("BUZZWATCH_TEAMS_URL", oncall.get("teams_url"))
    secret = pick("BUZZWATCH_WEBHOOK_SECRET", None)
    settings = Settings(
        core=core,
        config_path=path,
        bootstrap=pick("BUZZWATCH_KAFKA", kafka.get("bootstrap")),
        app_id=pick("BUZZWATCH_APP_ID", worker.get("app_id", "buzzwatch")),
        web_host=pick("BUZZWATCH_WEB_HOST", worker.get("web_host", "127.0.0.1")),
        web_port=pick("BUZZWATCH_WEB_PORT", int(worker.get("web_port", 6066)), int),
        partitions=pick("BUZZWATCH_PARTITIONS", int(topics_cfg.get("partitions", 4)), int),
        replication=int(topics_cfg.get("replication", 1)),
        topic_names=topics,
        batch_size=int(worker.get("batch_size", 1000)),
        batch_within_s=float(worker.get("batch_within_s", 0.5)),
        watermark_interval_s=float(worker.get("watermark_interval_s", 1.0)),
        alertmanager_url=pick("BUZZWATCH_ALERTMANAGER_URL", alerting.get("alertmanager_url")),
        webhook_url=SecretStr(webhook) if webhook else None,
        grafana_url=pick("BUZZWATCH_GRAFANA_URL", alerting.get("grafana_url", "http://127.0.0.1:3000")),
        delivery_retries=int(worker.get("delivery_retries", 5)),
        delivery_timeout_s=float(worker.get("delivery_timeout_s", 5.0)),
        data_dir=Path(pick("BUZZWATCH_DATA_DIR", worker.get("data_dir", ".cache/buzzwatch/worker"))),
        summary_interval_s=float(worker.get("summary_interval_s", 0.0)),
        notify_max_age_s=float(worker.get("notify_max_age_s", 86_400.0)),
        teams_url=SecretStr(teams) if teams else None,
        json_webhook_url=pick("BUZZWATCH_JSON_WEBHOOK_URL", oncall.get("json_webhook_url")),
        webhook_secret=SecretStr(secret) if secret else None,
        page_url=pick("BUZZWATCH_PAGE_URL", oncall.get("page_url")),
        resend_interval_s=float(oncall.get("resend_interval_s", 60.0)),
        retry_backoff_s=float(oncall.get("retry_backoff_s", 0.5)),
        retry_max_backoff_s=float(oncall.get("retry_max_backoff_s", 60.0)),
        clock_interval_s=float(oncall.get("clock_interval_s", 5.0)),
    )
    if settings.json_webhook_url and not settings.webhook_secret:
        raise ConfigError("a signed JSON webhook needs its secret in $BUZZWATCH_WEBHOOK_SECRET")
    if settings.partitions < 1:
        raise ConfigError("partitions must be >= 1")
    return settings
