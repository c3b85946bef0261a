"""Acknowledge from the CLI: the ack is durable in the compacted acks topic, the worker's metrics
and Alertmanager show it, and a person's resolve ends the alert in Alertmanager; the alert stays
in Alertmanager while open because the worker re-sends it."""

from __future__ import annotations

import json
import urllib.request

import orjson
import pytest

from .harness import (
    buzzwatch, free_port, latest_by_key, metric, produce, read_topic, running_worker, scrape, unique, wait_for,
    worker_env,
)
from .oncall_helpers import lifecycle
from .test_delivery_outage import oncall_config

pytestmark = [pytest.mark.kafka, pytest.mark.prometheus]


def am_alerts(alertmanager: str, alert_id: str) -> list[dict]:
    with urllib.request.urlopen(alertmanager + "/api/v2/alerts?active=true", timeout=3) as resp:
        return [a for a in json.load(resp) if a["labels"].get("alert_id") == alert_id]


def test_ack_from_the_cli_shows_in_metrics_and_alertmanager(tmp_path, kafka_bootstrap, alertmanager):
    prefix = unique("acks") + "."
    env = worker_env(oncall_config(tmp_path), kafka_bootstrap, unique("acks-app"), prefix, free_port(),
                     tmp_path / "data", BUZZWATCH_ALERTMANAGER_URL=alertmanager)
    buzzwatch("topics", "create", env=env)
    opened = lifecycle("opened", detected="2026-11-06T20:05:00Z")
    escalated = lifecycle("escalated", detected="2026-11-06T20:30:00Z", severity="critical")
    other = lifecycle("opened", brand="Lavéria", onset="2026-11-06T21:00:00Z", detected="2026-11-06T21:02:00Z")
    produce(kafka_bootstrap, prefix + "buzz.alerts",
            [(0, e["brand"].encode(), orjson.dumps(e)) for e in (opened, escalated, other)])
    aid = opened["alert_id"]
    port = int(env["BUZZWATCH_WEB_PORT"])
    log = tmp_path / "worker.log"
    with running_worker(env, log) as proc:
        wait_for(lambda: am_alerts(alertmanager, aid), timeout=60, what="alert in Alertmanager", proc=proc, log_path=log)
        [alert] = am_alerts(alertmanager, aid)
        assert alert["annotations"]["severity"] == "critical"  # escalated in place, one alert
        listed = buzzwatch("alerts", "list", "--json", env=env).stdout.splitlines()
        assert [json.loads(line)["alert_id"] for line in listed] == [aid, other["alert_id"]]
        assert all(json.loads(line)["status"] == "open" for line in listed)

        out = buzzwatch("alerts", "ack", aid, "--by", "ana", "--note", "press office called", env=env).stdout
        assert "acknowledged by ana" in out
        bad = buzzwatch("alerts", "ack", "Acme:nope", "--by", "ana", env=env, check=False)
        assert bad.returncode == 2 and "no alert" in bad.stderr

        def acked_in_metrics():
            s = scrape(port)
            return s if metric(s, "buzzwatch_alert_acknowledged", brand="Acme") == 1 else None

        samples = wait_for(acked_in_metrics, timeout=30, what="ack in metrics", proc=proc, log_path=log)
        assert metric(samples, "buzzwatch_alerts_open", brand="Acme") == 1
        assert metric(samples, "buzzwatch_alert_acknowledged", brand="Lavéria") == 0
        wait_for(lambda: am_alerts(alertmanager, aid)[0]["annotations"]["acknowledged"] == "yes", timeout=30,
                 what="ack annotation in Alertmanager", proc=proc, log_path=log)
        shown = buzzwatch("alerts", "show", aid, env=env).stdout
        assert "acknowledged by ana" in shown and "press office called" in shown

        buzzwatch("alerts", "resolve", aid, "--by", "ana", env=env)
        wait_for(lambda: not am_alerts(alertmanager, aid), timeout=30, what="resolved by a person ends the alert",
                 proc=proc, log_path=log)
        assert am_alerts(alertmanager, other["alert_id"]), "the other alert stays while open (re-sent)"
    listed = [json.loads(line) for line in buzzwatch("alerts", "list", "--json", env=env).stdout.splitlines()]
    assert [r["alert_id"] for r in listed] == [other["alert_id"]]
    [record] = latest_by_key(read_topic(kafka_bootstrap, prefix + "buzz.acks")).values()
    rec = orjson.loads(record)
    assert (rec["acked_by"], rec["resolved_by"], [n["text"] for n in rec["notes"]]) == ("ana", "ana", ["press office called"])
