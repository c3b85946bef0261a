"""Buzzwatch's topics, with partitions, retention and cleanup set deliberately.

=================  ==========  ===========  ========  ==================================================
topic              partitions  retention    cleanup   why
=================  ==========  ===========  ========  ==================================================
mentions           P (4)       7 days       delete    raw input; replays and state rebuilds read it back,
                                                      so it keeps a week (raise it to rebuild further back)
<app>.mentions.  P (4)       1 day        delete    ingest -> aggregate, keyed by brand; co-partitioned
scored                                                with the brand-state table (same P); internal to one
                                                      app id, like a Kafka Streams repartition topic
mentions.dlq       1           30 days      delete    dead letters: original bytes + reason headers, kept
                                                      long enough for someone to look at them
buzz.alerts        1           30 days      delete    alert lifecycle events keyed by brand; one partition
                                                      keeps the global order notify and audits read
=================  ==========  ===========  ========  ==================================================

Faust creates its own changelog topics (compacted) for the tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DAY_MS = 86_400_000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication: int = 1
    config: dict[str, str] = field(default_factory=dict)


def topic_specs(partitions: int = 4, names: dict | None = None, replication: int = 1) -> list[TopicSpec]:
    n = {"mentions": "mentions", "scored": "mentions.scored", "dlq": "mentions.dlq", "alerts": "buzz.alerts"}
    n.update(names or {})
    delete = {"cleanup.policy": "delete"}
    return [
        TopicSpec(n["mentions"], partitions, replication, {**delete, "retention.ms": str(7 * DAY_MS)}),
        TopicSpec(n["scored"], partitions, replication, {**delete, "retention.ms": str(1 * DAY_MS)}),
        TopicSpec(n["dlq"], 1, replication, {**delete, "retention.ms": str(30 * DAY_MS)}),
        TopicSpec(n["alerts"], 1, replication, {**delete, "retention.ms": str(30 * DAY_MS)}),
    ]


def create_topics(bootstrap: str, specs: list[TopicSpec]) -> list[str]:
    """Create the missing topics; existing ones are left as they are. Returns those created."""
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="buzzwatch-topics")
    try:
        existing = set(admin.list_topics())
        todo = [s for s in specs if s.name not in existing]
        created = []
        for s in todo:
            try:
                admin.create_topics([NewTopic(s.name, s.partitions, s.replication, topic_configs=dict(s.config))])
                created.append(s.name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        admin.close()


def describe_topics(bootstrap: str, names: list[str]) -> list[dict]:
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="buzzwatch-topics")
    try:
        existing = set(admin.list_topics())
        out = []
        for name in names:
            if name not in existing:
                out.append({"name": name, "exists": False, "partitions": None, "replication": None})
                continue
            [t] = admin.describe_topics([name])
            parts = t["partitions"]
            row = {"name": name, "exists": True, "partitions": len(parts),
                   "replication": len(parts[0]["replica_nodes"]) if parts else None}
            configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
            entries = configs.get("topic", {}).get(name, {}) if isinstance(configs, dict) else {}
            for key in ("retention.ms", "cleanup.policy"):
                if key in entries:
                    row[key] = entries[key]["value"]
            out.append(row)
        return out
    finally:
        admin.close()
