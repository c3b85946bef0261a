"""Alert delivery: Prometheus Alertmanager (API v2) and a Slack-compatible webhook.

Teams already route, silence and inhibit with Alertmanager, so Buzzwatch speaks its API rather
than reinventing paging. Each lifecycle event becomes one Alertmanager alert with a fixed label
set (``alertname=BadBuzz``, ``brand``, ``severity``, ``alert_id``): the same alert_id on
escalation updates the same alert; ``resolved`` sets ``endsAt``. An open alert is sent with
``endsAt`` at its response deadline so Alertmanager does not auto-resolve it after its
``resolve_timeout`` while the episode is still open.

Delivery retries with exponential backoff, bounded; a failure is counted, never raised into the
stream.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import aiohttp

from streams import metrics as M


def alertmanager_payload(event: dict) -> list[dict]:
    ev = event.get("evidence", {})
    labels = {
        "alertname": "BadBuzz",
        "brand": event["brand"],
        "severity": event["severity"],
        "alert_id": event["alert_id"],
        "source": "buzzwatch",
    }
    worst = ev.get("top_negative", [])[:3]
    annotations = {
        "summary": summary_line(event),
        "description": why_line(event),
        "onset_at": event.get("onset_at", ""),
        "detected_at": event.get("detected_at", ""),
        "response_deadline": str(ev.get("response_deadline", "")),
        "worst_posts": "\n".join(f"- {p.get('text', '')} ({p.get('url') or 'no url'})" for p in worst),
        "playbook": "\n".join(f"- {step}" for step in ev.get("playbook", [])),
        "dashboard": str(ev.get("grafana_url", "")),
        "buzz_score": str(event.get("score", "")),
    }
    alert = {
        "labels": labels,
        "annotations": annotations,
        "startsAt": event.get("onset_at") or event["detected_at"],
        "generatorURL": str(ev.get("grafana_url", "")) or "http://buzzwatch/",
    }
    if event["event"] == "resolved":
        alert["endsAt"] = event["detected_at"]
    elif ev.get("response_deadline"):
        alert["endsAt"] = ev["response_deadline"]
    return [alert]


def summary_line(event: dict) -> str:
    return f"[{event['severity'].upper()}] bad buzz {event['event']} for {event['brand']}"


def why_line(event: dict) -> str:
    ev = event.get("evidence", {})
    parts = []
    obs, exp = ev.get("observed_per_min"), ev.get("expected_per_min")
    if obs is not None and exp is not None:
        parts.append(f"{obs:.1f} mentions/min vs {exp:.1f} expected")
    neg, base = ev.get("negative_share"), ev.get("expected_negative_share")
    if neg is not None and base is not None:
        parts.append(f"negative share {neg:.0%} vs usual {base:.0%}")
    if ev.get("reach") is not None:
        parts.append(f"reach {ev['reach']:,} followers")
    return "; ".join(parts) or "see evidence"


def webhook_payload(event: dict) -> dict:
    """Slack-compatible message: a ``text`` fallback plus mrkdwn blocks."""
    ev = event.get("evidence", {})
    lines = [
        f"*{summary_line(event)}*",
        f"Why: {why_line(event)}",
        f"Onset: {event.get('onset_at', '?')} - detected: {event.get('detected_at', '?')}"
        f" - respond before: {ev.get('response_deadline', '?')}",
    ]
    for p in ev.get("top_negative", [])[:3]:
        lines.append(f"> {p.get('text', '')[:200]} - {p.get('author') or '?'} ({p.get('followers', 0):,} followers)")
    if ev.get("playbook"):
        lines.append("Playbook: " + " / ".join(ev["playbook"]))
    if ev.get("grafana_url"):
        lines.append(f"Dashboard: {ev['grafana_url']}")
    text = "\n".join(lines)
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


@dataclass
class Sink:
    name: str
    url: str = field(repr=False)  # a webhook URL carries its token: never in a repr or a log
    retries: int = 5
    timeout_s: float = 5.0
    backoff_s: float = 0.5

    def request(self, event: dict) -> tuple[str, object]:
        if self.name == "alertmanager":
            return self.url.rstrip("/") + "/api/v2/alerts", alertmanager_payload(event)
        return self.url, webhook_payload(event)

    async def deliver(self, session: aiohttp.ClientSession, event: dict) -> bool:
        """Try up to ``retries + 1`` times; True when the receiver accepted the event."""
        url, body = self.request(event)
        started = time.monotonic()
        try:
            for attempt in range(self.retries + 1):
                try:
                    async with session.post(url, json=body, timeout=aiohttp.ClientTimeout(total=self.timeout_s)) as resp:
                        if resp.status < 300:
                            M.ALERT_DELIVERIES.labels(self.name, "ok").inc()
                            return True
                        if 400 <= resp.status < 500 and resp.status != 429:
                            break  # the receiver refuses this payload: retrying will not help
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    pass
                if attempt < self.retries:
                    await asyncio.sleep(self.backoff_s * (2**attempt))
            M.ALERT_DELIVERIES.labels(self.name, "failed").inc()
            return False
        finally:
            M.ALERT_DELIVERY_SECONDS.labels(self.name).observe(time.monotonic() - started)
