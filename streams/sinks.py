"""Alert delivery: Prometheus Alertmanager (API v2), Slack (Block Kit), Microsoft Teams
(Adaptive Card through a Workflows webhook) and a generic JSON webhook signed the Standard
Webhooks way.

Teams already route, silence and inhibit with Alertmanager, so Buzzwatch speaks its API rather
than reinventing paging: labels identify the episode, severity is an annotation, the notify
agent re-posts open alerts every ``resend_interval_s`` and posts ``endsAt`` = now on resolve
(``buzzwatch.oncall.messages.alertmanager_alerts``). Chat messages are built, escaped and clipped in
``buzzwatch.oncall.messages``; this module only renders them for a sink and posts them.

One call of :meth:`Sink.attempt` is one HTTP attempt with an outcome (``ok``, ``retry`` or
``rejected``); the notify agent's outbox retries forever with capped backoff, in order
(``agents/notify.py``). :meth:`Sink.deliver` keeps a bounded retry loop for one-off use.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from dataclasses import dataclass, field

import aiohttp
import orjson

from buzzwatch.timeutil import format_timestamp
from buzzwatch.oncall.messages import alert_page_url, alertmanager_alerts, rebase_url, slack_payload, teams_payload
from buzzwatch.oncall.book import OnCallConfig, clock_key
from streams import metrics as M

SINK_KINDS = ("alertmanager", "webhook", "teams", "json")  # webhook = Slack-compatible


def delivery_key(event: dict) -> str:
    """What makes a delivery unique for one sink: the alert and the event within it.

    >>> delivery_key({"alert_id": "Acme:t", "event": "reminder", "after_hours": 1})
    'Acme:t|reminder:1h'
    """
    return f"{event['alert_id']}|{clock_key(event)}"


def webhook_signing_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret: ``whsec_`` + base64 is decoded, anything else
    is used as its UTF-8 bytes.

    >>> webhook_signing_key("whsec_" + base64.b64encode(b"k3y").decode())
    b'k3y'
    >>> webhook_signing_key("plain")
    b'plain'
    """
    if secret.startswith("whsec_"):
        return base64.b64decode(secret.removeprefix("whsec_"))
    return secret.encode("utf-8")


def sign_webhook(secret: str, msg_id: str, timestamp_s: int, body: bytes) -> dict[str, str]:
    """Standard Webhooks headers: ``webhook-signature`` = ``v1,`` + base64(HMAC-SHA256(key,
    ``"{id}.{timestamp}.{body}"``)); receivers verify with the same secret and reject old
    timestamps (replay protection).

    >>> sign_webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
    ...              b'{"test": 2432232314}')["webhook-signature"]
    'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
    """
    signed = f"{msg_id}.{timestamp_s}.".encode("utf-8") + body
    digest = hmac.new(webhook_signing_key(secret), signed, hashlib.sha256).digest()
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp_s),
            "webhook-signature": "v1," + base64.b64encode(digest).decode("ascii")}


def webhook_message_id(event: dict) -> str:
    """Stable per event, so a receiver can drop a redelivery (Standard Webhooks idempotency)."""
    return "msg_" + hashlib.sha256(delivery_key(event).encode("utf-8")).hexdigest()[:32]


@dataclass
class Sink:
    """One receiver. ``name`` is its kind (see :data:`SINK_KINDS`) and its metrics label."""

    name: str
    url: str = field(repr=False)  # a webhook URL carries its token: never in a repr or a log
    retries: int = 5
    timeout_s: float = 5.0
    backoff_s: float = 0.5
    page_base: str = "http://127.0.0.1:6066"
    grafana_base: str | None = None
    secret: str | None = None  # json: Standard Webhooks signing secret
    oncall: OnCallConfig = field(default_factory=OnCallConfig)
    routes: tuple[str, ...] = ("primary", "escalation")  # which clock routes this sink receives

    def wants(self, event: dict) -> bool:
        """Lifecycle events go everywhere; clock events only to sinks of their route; the
        brand's public answer (``responded``) only updates the book, the page and the clock."""
        if event.get("event") == "responded":
            return False
        if str(event.get("event", "")).startswith("spam_"):  # a troll report: to people, never a page
            return self.name != "alertmanager"
        return event.get("route") is None or event["route"] in self.routes

    def links(self, event: dict) -> tuple[str, str]:
        grafana = rebase_url(str(event.get("evidence", {}).get("grafana_url") or ""), self.grafana_base)
        return alert_page_url(self.page_base, event["alert_id"]), grafana

    def alertmanager_body(self, event: dict, *, acknowledged: bool = False, now_s: float | None = None) -> list[dict]:
        page, grafana = self.links(event)
        cfg = self.oncall.for_brand(event["brand"])
        return alertmanager_alerts(event, now_iso=format_timestamp(int((now_s or time.time()) * 1000)), page_url=page,
                                   grafana_url=grafana, team=cfg.team, escalation_team=cfg.escalation_team,
                                   acknowledged=acknowledged)

    def refresh_body(self, event: dict, *, escalated: bool, answered: bool, resolved_by_person: bool) -> list[dict]:
        """The Alertmanager alerts of an open episode, re-posted every ``resend_interval_s``:
        ``BadBuzz`` (ended now when a person resolved it) and, once the clock escalated it,
        ``BadBuzzUnanswered`` for the second team until someone acknowledges."""
        now_iso = format_timestamp(int(time.time() * 1000))
        alerts = self.alertmanager_body(event, acknowledged=answered)
        if resolved_by_person:
            alerts[0]["endsAt"] = now_iso
        if escalated:
            cfg = self.oncall.for_brand(event["brand"])
            unanswered = {**alerts[0], "labels": dict(alerts[0]["labels"], alertname="BadBuzzUnanswered")}
            unanswered.pop("endsAt", None)
            if cfg.escalation_team:
                unanswered["labels"]["team"] = cfg.escalation_team
            if answered or resolved_by_person:
                unanswered["endsAt"] = now_iso
            alerts.append(unanswered)
        return alerts

    def request(self, event: dict) -> tuple[str, bytes, dict[str, str]]:
        """URL, body and headers of the POST for ``event``."""
        headers = {"content-type": "application/json"}
        page, grafana = self.links(event)
        if self.name == "alertmanager":
            body = self.alertmanager_body(event)
            if event["event"] == "resolved":  # end the second-route alert too, if the clock raised one
                body += [a for a in self.refresh_body(event, escalated=True, answered=True, resolved_by_person=True)
                         if a["labels"]["alertname"] == "BadBuzzUnanswered"]
            return self.url.rstrip("/") + "/api/v2/alerts", orjson.dumps(body), headers
        if self.name == "teams":
            return self.url, orjson.dumps(teams_payload(event, page_url=page, grafana_url=grafana)), headers
        if self.name == "json":
            body = orjson.dumps({"type": f"buzzwatch.alert.{event['event']}", "page_url": page,
                                 "dashboard_url": grafana, "data": event})
            headers.update(sign_webhook(self.secret or "", webhook_message_id(event), int(time.time()), body))
            return self.url, body, headers
        return self.url, orjson.dumps(slack_payload(event, page_url=page, grafana_url=grafana)), headers

    async def post(self, session: aiohttp.ClientSession, url: str, body: bytes, headers: dict) -> str:
        """One POST: ``ok``, ``retry`` (down, timeout, 5xx, 429) or ``rejected`` (other 4xx)."""
        try:
            async with session.post(url, data=body, headers=headers,
                                    timeout=aiohttp.ClientTimeout(total=self.timeout_s)) as resp:
                if resp.status < 300:
                    return "ok"
                if 400 <= resp.status < 500 and resp.status not in (408, 429):
                    return "rejected"  # the receiver refuses this payload: retrying will not help
                return "retry"
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
            return "retry"

    async def attempt(self, session: aiohttp.ClientSession, event: dict) -> str:
        started = time.monotonic()
        try:
            return await self.post(session, *self.request(event))
        finally:
            M.ALERT_DELIVERY_SECONDS.labels(self.name).observe(time.monotonic() - started)

    async def deliver(self, session: aiohttp.ClientSession, event: dict) -> bool:
        """Try up to ``retries + 1`` times; True when the receiver accepted the event."""
        for attempt in range(self.retries + 1):
            outcome = await self.attempt(session, event)
            if outcome == "ok":
                M.ALERT_DELIVERIES.labels(self.name, "ok").inc()
                return True
            if outcome == "rejected":
                break
            if attempt < self.retries:
                await asyncio.sleep(self.backoff_s * (2**attempt))
        M.ALERT_DELIVERIES.labels(self.name, "failed").inc()
        return False


def configured_sinks(settings) -> list[Sink]:
    """The sinks the settings turn on (none when no URL is set)."""
    common = dict(retries=settings.delivery_retries, timeout_s=settings.delivery_timeout_s,
                  backoff_s=settings.retry_backoff_s, page_base=settings.alert_page_base,
                  grafana_base=settings.grafana_url, oncall=settings.core.oncall)
    sinks = []
    if settings.alertmanager_url:
        sinks.append(Sink("alertmanager", settings.alertmanager_url, **common))
    if settings.webhook_url:
        sinks.append(Sink("webhook", settings.webhook_url.get_secret_value(), **common))
    if settings.teams_url:
        sinks.append(Sink("teams", settings.teams_url.get_secret_value(), **common))
    if settings.json_webhook_url:
        sinks.append(Sink("json", settings.json_webhook_url, secret=settings.webhook_secret.get_secret_value(), **common))
    return sinks
