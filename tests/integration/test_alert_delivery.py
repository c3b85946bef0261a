"""Alert delivery against a real Alertmanager (Debian's binary on loopback) and a webhook that
fails before it succeeds: alerts arrive with their labels and evidence, retries work, and a dead
receiver costs a counted failure, never an exception into the stream."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

import aiohttp
import pytest

from streams import metrics as M
from streams.sinks import Sink

from .harness import free_port

pytestmark = pytest.mark.prometheus

EVENT = {
    "alert_id": "Acme:2026-11-06T20:00:00Z",
    "brand": "Acme",
    "event": "opened",
    "severity": "warning",
    "detected_at": "2026-11-06T20:07:00Z",
    "onset_at": "2026-11-06T20:00:00Z",
    "score": 4.2,
    "evidence": {
        "observed_per_min": 61.0, "expected_per_min": 6.5, "negative_share": 0.82, "expected_negative_share": 0.2,
        "reach": 120000,
        "top_negative": [{"text": "Acme lost my parcel again, never again", "url": "https://x/1", "author": "bob", "followers": 90000}],
        "playbook": ["Acknowledge publicly, fast", "Move the conversation to private messages"],
        "response_deadline": "2099-11-07T20:00:00Z",
        "grafana_url": "http://127.0.0.1:3000/d/buzzwatch-brand?var-brand=Acme",
    },
}


def deliver(sink: Sink, event: dict) -> bool:
    async def go():
        async with aiohttp.ClientSession() as session:
            return await sink.deliver(session, event)

    return asyncio.run(go())


def test_alertmanager_receives_the_alert_with_labels_and_evidence(alertmanager):
    before = M.ALERT_DELIVERIES.labels("alertmanager", "ok")._value.get()
    assert deliver(Sink("alertmanager", alertmanager, retries=2, backoff_s=0.1), EVENT)
    assert M.ALERT_DELIVERIES.labels("alertmanager", "ok")._value.get() == before + 1
    with urllib.request.urlopen(alertmanager + "/api/v2/alerts", timeout=5) as resp:
        alerts = json.load(resp)
    [alert] = [a for a in alerts if a["labels"].get("alert_id") == EVENT["alert_id"]]
    assert alert["labels"]["alertname"] == "BadBuzz"
    assert alert["labels"]["brand"] == "Acme" and "severity" not in alert["labels"]  # the episode, not its severity
    assert alert["annotations"]["severity"] == "warning"
    assert "61.0 mentions/min vs 6.5 expected" in alert["annotations"]["description"]
    assert "Acme lost my parcel" in alert["annotations"]["worst_posts"]
    assert alert["annotations"]["response_deadline"] == "2099-11-07T20:00:00Z"
    assert alert["status"]["state"] == "active"


def test_resolved_event_ends_the_alert(alertmanager):
    sink = Sink("alertmanager", alertmanager, retries=1, backoff_s=0.1)
    assert deliver(sink, EVENT)
    resolved = dict(EVENT, event="resolved", severity="warning", detected_at="2026-11-06T21:30:00Z")
    assert deliver(sink, resolved)
    with urllib.request.urlopen(alertmanager + "/api/v2/alerts?active=true&inhibited=true&silenced=true&unprocessed=true", timeout=5) as resp:
        active = [a for a in json.load(resp) if a["labels"].get("alert_id") == EVENT["alert_id"]]
    assert active == []


class FlakyWebhook(BaseHTTPRequestHandler):
    failures_left = 2
    bodies: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if FlakyWebhook.failures_left > 0:
            FlakyWebhook.failures_left -= 1
            self.send_response(503)
            self.end_headers()
            return
        FlakyWebhook.bodies.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_webhook_retries_with_backoff_until_it_is_accepted():
    server = HTTPServer(("127.0.0.1", 0), FlakyWebhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        assert deliver(Sink("webhook", url, retries=3, backoff_s=0.05), EVENT)
        [body] = FlakyWebhook.bodies
        assert "Bad buzz: Acme" in body["text"]
        assert "Acme lost my parcel again" in json.dumps(body["blocks"])
        assert body["blocks"][0]["type"] == "header"
    finally:
        server.shutdown()


def test_dead_receiver_is_a_counted_failure_not_an_exception():
    url = f"http://127.0.0.1:{free_port()}/nobody-listens"
    before = M.ALERT_DELIVERIES.labels("webhook", "failed")._value.get()
    assert deliver(Sink("webhook", url, retries=2, backoff_s=0.01, timeout_s=0.5), EVENT) is False
    assert M.ALERT_DELIVERIES.labels("webhook", "failed")._value.get() == before + 1
