"""The response clock in a live worker runs on event time (the closed minutes of the pipeline):
mentions move it, not the wall clock. Reminders stop once someone acknowledges, an unanswered
alert escalates and misses its deadline, each clock event is on the alerts topic once, and the
pure computation over the same lifecycle events and acks (what a backtest does) gives the same."""

from __future__ import annotations

import time

import orjson
import pytest

from buzzwatch.config import CoreConfig, read_toml
from buzzwatch.oncall.deadline import replay_clock
from buzzwatch.timeutil import HOUR_MS, format_timestamp
from streams.settings import ONCALL_KEYS

from .harness import (
    buzzwatch, free_port, latest_by_key, metric, produce, scrape, read_topic, running_worker, unique, wait_for, worker_env, write_config,
)
from .oncall_helpers import lifecycle
from .test_oncall_acks import am_alerts
from .test_delivery_outage import FAST_ONCALL

pytestmark = [pytest.mark.kafka, pytest.mark.prometheus]

BRANDS = """
[[brands]]
name = "Acme"
handles = ["@acme"]

[[brands]]
name = "Lavéria"
handles = ["@laveria"]
response_hours = 3
reminder_hours = [1, 2]
escalate_at_hours = 2
escalation_team = "comms-lead"
"""


def mention(mid: str, at_ms: int) -> bytes:
    return orjson.dumps({"id": mid, "text": "@acme where is my parcel", "created_at": format_timestamp(at_ms),
                         "author": {"id": "u1", "name": "u", "followers": 10}})


def clock_events(bootstrap: str, topic: str) -> list[dict]:
    events = [orjson.loads(r.value) for r in read_topic(bootstrap, topic)]
    return [e for e in events if e["event"] in ("reminder", "deadline_missed")]


def test_reminders_escalation_and_deadline_missed_run_on_event_time(tmp_path, kafka_bootstrap, alertmanager):
    now = int(time.time() * 1000)
    t0 = now - now % 60_000 - 90 * 60_000  # onset 1.5 h ago: the first tick passes the 1 h point only
    config = write_config(tmp_path / "buzzwatch.toml", partitions=1, brands=BRANDS,
                          extra=FAST_ONCALL.replace("[oncall]", "[oncall]\nteam = \"social\"")
                          + "\n")
    text = config.read_text().replace("[worker]\n", "[worker]\nnotify_max_age_s = 1e12\n")
    config.write_text(text.replace("[pipeline]\n", "[pipeline]\nmax_future_s = 200000\n"))
    prefix = unique("clock") + "."
    env = worker_env(config, kafka_bootstrap, unique("clock-app"), prefix, free_port(), tmp_path / "data",
                     BUZZWATCH_ALERTMANAGER_URL=alertmanager)
    buzzwatch("topics", "create", env=env)
    alerts_topic = prefix + "buzz.alerts"
    acme = lifecycle("opened", onset=format_timestamp(t0), detected=format_timestamp(t0 + 5 * 60_000))
    laveria = lifecycle("opened", brand="Lavéria", onset=format_timestamp(t0 + 10 * 60_000),
                        detected=format_timestamp(t0 + 12 * 60_000))
    produce(kafka_bootstrap, alerts_topic, [(0, e["brand"].encode(), orjson.dumps(e)) for e in (acme, laveria)])
    log = tmp_path / "worker.log"
    with running_worker(env, log) as proc:
        port = int(env["BUZZWATCH_WEB_PORT"])
        wait_for(lambda: metric(scrape(port), "buzzwatch_alerts_open", brand="Lavéria") == 1, timeout=60,
                 what="the worker read the alerts", proc=proc, log_path=log)
        time.sleep(2)
        assert clock_events(kafka_bootstrap, alerts_topic) == [], "no event time yet: the wall clock does not count"
        # (three mentions: a partition's event-time clock moves where most of its recent records agree)
        produce(kafka_bootstrap, prefix + "mentions", [(0, b"Acme", mention(f"m1{i}", t0 + 92 * 60_000)) for i in range(3)])
        first = wait_for(lambda: (lambda c: c if len(c) >= 2 else None)(clock_events(kafka_bootstrap, alerts_topic)), timeout=60,
                         what="the 1 h reminders", proc=proc, log_path=log)
        buzzwatch("alerts", "ack", acme["alert_id"], "--by", "ana", env=env)
        time.sleep(2)  # the worker reads the ack back
        produce(kafka_bootstrap, prefix + "mentions", [(0, b"Acme", mention(f"m2{i}", t0 + 30 * HOUR_MS)) for i in range(3)])
        wait_for(lambda: len(clock_events(kafka_bootstrap, alerts_topic)) >= 4 or None, timeout=60,
                 what="escalation and deadline_missed", proc=proc, log_path=log)
        # the unanswered alert went to the second route in Alertmanager; the acknowledged one did not
        unanswered = wait_for(lambda: [a for a in am_alerts(alertmanager, laveria["alert_id"])
                                       if a["labels"]["alertname"] == "BadBuzzUnanswered"], timeout=30,
                              what="BadBuzzUnanswered in Alertmanager", proc=proc, log_path=log)
        assert unanswered[0]["labels"]["team"] == "comms-lead"
        assert [a["labels"]["team"] for a in am_alerts(alertmanager, laveria["alert_id"])
                if a["labels"]["alertname"] == "BadBuzz"] == ["social"]
        assert not [a for a in am_alerts(alertmanager, acme["alert_id"]) if a["labels"]["alertname"] != "BadBuzz"]
        time.sleep(2)  # and nothing else
    got = clock_events(kafka_bootstrap, alerts_topic)
    assert [(e["brand"], e["after_hours"]) for e in first] == [("Acme", 1.0), ("Lavéria", 1.0)]
    assert [(e["brand"], e["event"], e["after_hours"], e["route"], e["detected_at"]) for e in got] == [
        ("Acme", "reminder", 1.0, "primary", format_timestamp(t0 + HOUR_MS)),
        ("Lavéria", "reminder", 1.0, "primary", format_timestamp(t0 + 70 * 60_000)),
        ("Lavéria", "reminder", 2.0, "escalation", format_timestamp(t0 + 130 * 60_000)),
        ("Lavéria", "deadline_missed", 3.0, "escalation", format_timestamp(t0 + 190 * 60_000)),
    ]
    # the same computation offline, over the same lifecycle events and acks
    acks = {k.decode(): orjson.loads(v) for k, v in latest_by_key(read_topic(kafka_bootstrap, prefix + "buzz.acks")).items()}
    core = CoreConfig.from_dict(read_toml(config), ONCALL_KEYS)
    offline = replay_clock([acme, laveria], acks, core.oncall, [t0 + 30 * HOUR_MS - 60_000])
    assert [e for e in offline if e["event"] in ("reminder", "deadline_missed")] == got
