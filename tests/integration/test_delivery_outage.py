"""Delivery never loses an event: a receiver that is down (and a worker restarted meanwhile) gets
every lifecycle event when it comes back, in topic order, each exactly once; the backlog is a
metric while it waits."""

from __future__ import annotations

import time

import orjson
import pytest

from .harness import buzzwatch, free_port, metric, produce, running_worker, scrape, unique, wait_for, worker_env, write_config
from .oncall_helpers import SECRET, Receiver, lifecycle

pytestmark = pytest.mark.kafka

FAST_ONCALL = """
[oncall]
retry_backoff_s = 0.05
retry_max_backoff_s = 0.3
resend_interval_s = 1
clock_interval_s = 0.5
"""


def oncall_config(tmp_path, partitions: int = 1):
    config = write_config(tmp_path / "buzzwatch.toml", partitions=partitions, extra=FAST_ONCALL)
    config.write_text(config.read_text().replace("[worker]\n", "[worker]\nnotify_max_age_s = 1e12\n"))
    return config


def test_receiver_down_then_up_gets_every_event_once_in_order(tmp_path, kafka_bootstrap):
    prefix = unique("outage") + "."
    with Receiver(down=True) as receiver:
        env = worker_env(oncall_config(tmp_path), kafka_bootstrap, unique("outage-app"), prefix, free_port(),
                         tmp_path / "data", BUZZWATCH_JSON_WEBHOOK_URL=receiver.url, BUZZWATCH_WEBHOOK_SECRET=SECRET)
        buzzwatch("topics", "create", env=env)
        a_open = lifecycle("opened", detected="2026-11-06T20:05:00Z")
        events = [
            a_open,
            lifecycle("opened", brand="Lavéria", onset="2026-11-06T20:10:00Z", detected="2026-11-06T20:12:00Z"),
            a_open,  # redelivered: not sent twice
            lifecycle("escalated", detected="2026-11-06T20:30:00Z", severity="critical"),
            lifecycle("resolved", detected="2026-11-06T23:00:00Z", severity="critical"),
        ]
        produce(kafka_bootstrap, prefix + "buzz.alerts", [(0, e["brand"].encode(), orjson.dumps(e)) for e in events])
        port = int(env["BUZZWATCH_WEB_PORT"])
        log = tmp_path / "worker.log"
        with running_worker(env, log) as proc:
            def backlog_of_four():
                s = scrape(port)
                return s if metric(s, "buzzwatch_alert_delivery_backlog", sink="json") == 4 else None

            wait_for(backlog_of_four, timeout=60, what="four events waiting", proc=proc, log_path=log)
            wait_for(lambda: receiver.refused >= 3, timeout=20, what="retries while down", proc=proc, log_path=log)
        assert receiver.received == []
        # the worker is gone; the outbox is in its changelog. A new worker, then the receiver comes back.
        with running_worker(env, tmp_path / "worker2.log") as proc:
            wait_for(lambda: receiver.refused >= 6, timeout=60, what="retries after restart", proc=proc,
                     log_path=tmp_path / "worker2.log")
            receiver.down = False

            def all_delivered():
                s = scrape(port)
                done = len(receiver.received) >= 4 and metric(s, "buzzwatch_alert_delivery_backlog", sink="json") == 0
                return s if done else None

            wait_for(all_delivered, timeout=60, what="the backlog delivered", proc=proc, log_path=tmp_path / "worker2.log")
            time.sleep(2)  # nothing more may arrive
    got = [(e["alert_id"], e["event"]) for e in receiver.events()]
    assert got == [(e["alert_id"], e["event"]) for e in (events[0], events[1], events[3], events[4])]
    ids = [h["webhook-id"] for h, _ in receiver.received]
    assert len(set(ids)) == len(ids) == 4
