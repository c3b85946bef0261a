"""Buzzwatch's topics, with partitions, retention and cleanup set deliberately.

===================  ==========  =========  =======  ================================================
topic                partitions  retention  cleanup  why
===================  ==========  =========  =======  ================================================
mentions             P (4)       7 days     delete   raw input, keyed by brand (or mention id);
                                                     replays and state rebuilds read it back, so it
                                                     keeps a week (raise it to rebuild further back)
<app>.mentions.      P (4)       1 day      delete   ingest -> aggregate, keyed by brand;
scored                                               co-partitioned with the brand-state table (same
                                                     P); internal to one app id, like a Kafka
                                                     Streams repartition topic, so a short retention
                                                     is enough: it is re-derivable from ``mentions``
mentions.dlq         1           30 days    delete   dead letters (original bytes + reason headers),
                                                     low volume, kept long enough for a human to look
buzz.alerts          1           30 days    delete   alert lifecycle events keyed by brand; one
                                                     partition keeps the global order that notify and
                                                     audits read; a month covers any incident review
buzz.acks            1           forever    compact  acknowledgements, one cumulative record per
                                                     alert_id (who acked, notes, resolved): every
                                                     worker, the CLI and replays read the latest
===================  ==========  =========  =======  ================================================

Replication is 1 on the local single-node broker and configurable for a real cluster. Faust
creates its own (compacted) changelog topics for the tables. Names come from
``streams.settings.Topics``; ``names`` / ``prefix`` here let tests and benchmarks use their own.
The admin calls use kafka-python's ``KafkaAdminClient`` (3.x API: dict-form ``create_topics``
with per-topic error codes, ``describe_configs`` returning plain dicts).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from buzzwatch.timeutil import DAY_MS

DEFAULT_NAMES = {"mentions": "mentions", "scored": "mentions.scored", "dlq": "mentions.dlq", "alerts": "buzz.alerts",
                 "acks": "buzz.acks"}
DESCRIBED_CONFIGS = ("retention.ms", "cleanup.policy")


@dataclass(frozen=True)
class TopicSpec:
    """One topic as Buzzwatch wants it: name, partition count, replication and topic configs."""

    name: str
    partitions: int
    replication: int = 1
    config: dict[str, str] = field(default_factory=dict)


def topic_specs(partitions: int = 4, names: dict | None = None, replication: int = 1,
                prefix: str = "") -> list[TopicSpec]:
    """The Buzzwatch topics; ``names`` overrides by role (mentions, scored, dlq, alerts).

    >>> [(s.name, s.partitions, int(s.config["retention.ms"]) // DAY_MS) for s in topic_specs(6, prefix="t.")]
    [('t.mentions', 6, 7), ('t.mentions.scored', 6, 1), ('t.mentions.dlq', 1, 30), ('t.buzz.alerts', 1, 30), ('t.buzz.acks', 1, -1)]
    """
    if partitions < 1 or replication < 1:
        raise ValueError("partitions and replication must be >= 1")
    unknown = set(names or {}) - set(DEFAULT_NAMES)
    if unknown:
        raise ValueError(f"unknown topic roles {sorted(unknown)}; known: {sorted(DEFAULT_NAMES)}")
    n = {role: prefix + name for role, name in {**DEFAULT_NAMES, **(names or {})}.items()}

    def spec(role: str, parts: int, retention_days: int) -> TopicSpec:
        return TopicSpec(n[role], parts, replication,
                         {"cleanup.policy": "delete", "retention.ms": str(retention_days * DAY_MS)})

    return [
        spec("mentions", partitions, 7),
        spec("scored", partitions, 1),  # same P as mentions and the table: co-partitioned by brand
        spec("dlq", 1, 30),
        spec("alerts", 1, 30),  # one partition: one global order of lifecycle events
        TopicSpec(n["acks"], 1, replication, {"cleanup.policy": "compact", "retention.ms": "-1"}),
    ]


def _admin(bootstrap: str, security=None):
    """kafka-python's admin client with the process's TLS/SASL settings (None: PLAINTEXT)."""
    from kafka.admin import KafkaAdminClient

    from streams.kafka_security import KafkaSecurity

    return KafkaAdminClient(bootstrap_servers=bootstrap, client_id="buzzwatch-topics", request_timeout_ms=30_000,
                            **(security or KafkaSecurity()).kafka_python_kwargs())


def create_topics(bootstrap: str, specs: list[TopicSpec], security=None) -> list[str]:
    """Create the topics that do not exist yet (existing ones are left untouched, even if their
    settings differ: check with ``describe_topics``). Returns the names it created, once each
    is visible in metadata with a leader, so producers can use them right away."""
    from kafka.errors import TopicAlreadyExistsError, for_code

    admin = _admin(bootstrap, security)
    try:
        existing = set(admin.list_topics())
        todo = {s.name: {"num_partitions": s.partitions, "replication_factor": s.replication,
                         "configs": dict(s.config)} for s in specs if s.name not in existing}
        if not todo:
            return []
        # raise_errors=False: a topic created concurrently by someone else is not an error
        response = admin.create_topics(todo, raise_errors=False)
        created, failed = [], []
        for t in response["topics"]:
            error = for_code(t["error_code"])
            if t["error_code"] == 0:
                created.append(t["name"])
            elif error is not TopicAlreadyExistsError:
                failed.append(f"{t['name']}: {error.__name__} {t.get('error_message') or ''}".strip())
        if failed:
            raise RuntimeError("could not create topics: " + "; ".join(failed))
        if created:
            admin.wait_for_topics(created, timeout_ms=30_000)
        return [s.name for s in specs if s.name in created]
    finally:
        admin.close()


def describe_topics(bootstrap: str, names: list[str], security=None) -> list[dict]:
    """Partitions, replication factor, ``retention.ms`` and ``cleanup.policy`` of each topic
    (effective values, defaults included); a missing topic gives ``exists: False``."""
    from kafka.admin import ConfigResource, ConfigResourceType

    admin = _admin(bootstrap, security)
    try:
        existing = set(admin.list_topics())  # first: a metadata request for a missing topic could auto-create it
        present = [n for n in names if n in existing]
        meta = {t["name"]: t for t in admin.describe_topics(present)} if present else {}
        configs = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, n, configs={k: None for k in DESCRIBED_CONFIGS}) for n in present],
            config_filter="all",
        ).get("topic", {}) if present else {}
        rows = []
        for name in names:
            if name not in existing:
                rows.append({"name": name, "exists": False, "partitions": None, "replication": None})
                continue
            parts = meta[name]["partitions"]
            row = {"name": name, "exists": True, "partitions": len(parts),
                   "replication": min(len(p["replica_nodes"]) for p in parts) if parts else None}
            for key in DESCRIBED_CONFIGS:
                entry = configs.get(name, {}).get(key)
                row[key] = entry["value"] if entry else None
            rows.append(row)
        return rows
    finally:
        admin.close()


def worker_layout(settings) -> dict[str, tuple[int, str]]:
    """The partition count a worker of ``settings`` needs on each topic where another count makes
    it go wrong, with why and what to do (for :func:`layout_problems`)."""
    t, p = settings.topics, settings.partitions
    rebuild = "restore that value, or rebuild under a new app_id (docs/runbook-state-rebuild.md)"
    return {
        t.mentions: (p, f"event time is tracked per raw partition, and minutes close when all {p} have passed "
                        "them; set [topics] partitions to the topic's count (docs/runbook-state-rebuild.md to "
                        "change it)"),
        t.scored: (p, f"the scored mentions are co-partitioned with the brand state; it was made with another "
                      f"[topics] partitions: {rebuild}"),
        f"{settings.app_id}-brand_state-changelog": (p, "the brand state of this app_id was kept with another "
                                                        f"[topics] partitions: {rebuild}"),
        t.alerts: (1, "one partition keeps the one order of lifecycle events that notify and audits read"),
    }


class TopicLayoutError(ValueError):
    """A topic exists with a partition count the worker cannot work with (see :func:`layout_problems`)."""


def layout_problems(rows: list[dict], wanted: dict[str, tuple[int, str]]) -> list[str]:
    """One sentence per existing topic whose partition count is not ``wanted[name][0]``, with
    why it matters (``wanted[name][1]``); a missing topic is no problem (it gets created).

    Why a check: ``create_topics`` leaves an existing topic as it is, and a worker given the
    wrong count does not refuse to start, it goes wrong. A raw topic with more partitions than
    ``[topics] partitions`` has partitions whose event time no watermark waits for (a lagging
    one's mentions come after their minute closed); a brand-state changelog of another count
    crashed the worker mid-stream at its first state write to a partition the changelog lacks
    (``AssertionError: Unrecognized partition``, exit 1, after 9,920 mentions), at every restart.

    >>> layout_problems([{"name": "mentions", "exists": True, "partitions": 6},
    ...                  {"name": "buzz.alerts", "exists": False, "partitions": None}],
    ...                 {"mentions": (4, "why"), "buzz.alerts": (1, "order")})
    ["topic 'mentions' has 6 partitions where this worker needs 4: why"]
    """
    out = []
    for row in rows:
        want = wanted.get(row["name"])
        if want and row["exists"] and row["partitions"] != want[0]:
            out.append(f"topic {row['name']!r} has {row['partitions']} partitions where this worker needs {want[0]}: "
                       f"{want[1]}")
    return out


def check_layout(bootstrap: str, wanted: dict[str, tuple[int, str]], security=None) -> None:
    """Raise :class:`TopicLayoutError` naming every topic of :func:`layout_problems`."""
    problems = layout_problems(describe_topics(bootstrap, list(wanted), security), wanted)
    if problems:
        raise TopicLayoutError("; ".join(problems))
