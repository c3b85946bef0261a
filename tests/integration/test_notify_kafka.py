"""The notify agent end to end: lifecycle events on buzz.alerts reach a real Alertmanager once,
even when the same event is on the topic twice (replay, redelivery)."""

from __future__ import annotations

import json
import urllib.request

import orjson
import pytest

from .harness import (
    buzzwatch, free_port, metric, produce, running_worker, scrape, unique, wait_for, worker_env, write_config,
)
from .test_alert_delivery import EVENT

pytestmark = [pytest.mark.kafka, pytest.mark.prometheus]


def test_each_lifecycle_event_is_delivered_once(tmp_path, kafka_bootstrap, alertmanager):
    config = write_config(tmp_path / "buzzwatch.toml", extra="")
    text = config.read_text().replace("[worker]\n", "[worker]\nnotify_max_age_s = 1e12\n")
    config.write_text(text)
    prefix = unique("notify") + "."
    env = worker_env(config, kafka_bootstrap, unique("notify-app"), prefix, free_port(), tmp_path / "data",
                     BUZZWATCH_ALERTMANAGER_URL=alertmanager)
    buzzwatch("topics", "create", env=env)
    resolved = dict(EVENT, event="resolved", detected_at="2026-11-06T21:30:00Z")
    opened = orjson.dumps(EVENT)
    produce(kafka_bootstrap, prefix + "buzz.alerts", [(0, b"Acme", opened), (0, b"Acme", opened)])
    log = tmp_path / "worker.log"
    port = int(env["BUZZWATCH_WEB_PORT"])
    with running_worker(env, log) as proc:
        def seen_in_alertmanager():
            with urllib.request.urlopen(alertmanager + "/api/v2/alerts", timeout=3) as resp:
                return [a for a in json.load(resp) if a["labels"].get("alert_id") == EVENT["alert_id"]]

        wait_for(seen_in_alertmanager, timeout=90, what="alert in Alertmanager", proc=proc, log_path=log)
        produce(kafka_bootstrap, prefix + "buzz.alerts", [(0, b"Acme", orjson.dumps(resolved))])

        def delivered_twice():
            s = scrape(port)
            return s if metric(s, "buzzwatch_alert_deliveries_total", sink="alertmanager", outcome="ok") == 2 else None

        samples = wait_for(delivered_twice, timeout=60, what="opened and resolved delivered", proc=proc, log_path=log)
    assert metric(samples, "buzzwatch_alert_deliveries_total", sink="alertmanager", outcome="duplicate") == 1
    assert not seen_in_alertmanager()  # resolved
