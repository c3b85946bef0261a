"""`buzzwatch state rebuild`: rebuild the live tables from the topics under a new app id.

Safe by construction: the live workers keep running untouched while a catch-up worker with a
NEW app id (new consumer group, new changelog topics) reads the mentions topic from the
beginning, with notifications off and its alerts on a side topic. When its consumer group has
no lag left, the new state is complete: switch the live workers to the new app id (see
docs/runbook-state-rebuild.md); their notify agents skip events older than
``notify_max_age_s``, so historical episodes are not paged again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from streams.kafka_security import KafkaSecurity
from streams.settings import Settings


def group_lag(bootstrap: str, group: str, topics: list[str], security: KafkaSecurity | None = None) -> int | None:
    """Total lag of ``group`` on ``topics`` (None while it has committed nothing)."""
    auth = (security or KafkaSecurity()).kafka_python_kwargs()
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, **auth)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, **auth)
    try:
        # kafka-python 3.x: list_group_offsets({group: None}) -> {group: {tp: OffsetAndMetadata}}
        committed = {tp: om for tp, om in admin.list_group_offsets({group: None}).get(group, {}).items()
                     if om.offset >= 0}
        tps = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or ())]
        if not tps:
            return None
        end = consumer.end_offsets(tps)
        if not any(tp in committed for tp in tps):
            return None
        return sum(max(0, end[tp] - (committed[tp].offset if tp in committed else 0)) for tp in tps)
    finally:
        admin.close()
        consumer.close()


def rebuild(settings: Settings, new_app_id: str, *, timeout_s: float, web_port: int, log_path: Path, echo=print) -> bool:
    if new_app_id == settings.app_id:
        raise ValueError("the new app id must differ from the live one")
    bootstrap = settings.kafka_bootstrap()
    env = dict(os.environ)
    env.update(
        BUZZWATCH_APP_ID=new_app_id,
        BUZZWATCH_KAFKA=bootstrap,
        BUZZWATCH_WEB_PORT=str(web_port),
        BUZZWATCH_ALERTS_TOPIC=f"rebuild.{new_app_id}.buzz.alerts",
        BUZZWATCH_ALERTMANAGER_URL="",
        BUZZWATCH_WEBHOOK_URL="",
    )
    env.pop("BUZZWATCH_ALERTMANAGER_URL")
    env.pop("BUZZWATCH_WEBHOOK_URL")
    env.pop("BUZZWATCH_WEBHOOK_URL_FILE", None)  # notifications off: the file form too
    if settings.config_path:
        env["BUZZWATCH_CONFIG"] = str(settings.config_path)
    log = log_path.open("ab")
    proc = subprocess.Popen([sys.executable, "-m", "streams.cli", "worker"], env=env, stdout=log, stderr=subprocess.STDOUT)
    echo(f"catch-up worker pid {proc.pid} (app id {new_app_id}, log {log_path})")
    topics = [settings.topics.mentions, settings.topics.scored]
    deadline = time.monotonic() + timeout_s
    zero_since = None
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                echo(f"catch-up worker exited with {proc.returncode}; see {log_path}")
                return False
            lag = group_lag(bootstrap, new_app_id, topics, settings.kafka_security)
            echo(f"lag of {new_app_id}: {'(starting)' if lag is None else lag}")
            if lag == 0:
                zero_since = zero_since or time.monotonic()
                if time.monotonic() - zero_since >= 5:
                    return True
            else:
                zero_since = None
            time.sleep(2)
        echo(f"not caught up after {timeout_s:.0f}s; the catch-up worker is stopped, its progress is kept "
             f"(run the same command again to continue)")
        return False
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()
