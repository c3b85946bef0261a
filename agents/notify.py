"""Notify agent: ``buzz.alerts`` -> Alertmanager / webhook, idempotent by (sink, alert_id, event).

Delivery happens in background tasks bounded by a semaphore, so a slow or dead receiver never
blocks the stream (nor the aggregate stage, which only writes to the topic). What was delivered
is remembered in a changelogged table: a replayed or redelivered lifecycle event is not sent
twice.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
import orjson

from buzzwatch.mention import parse_timestamp_ms
from streams import metrics as M
from streams.sinks import Sink

MAX_IN_FLIGHT = 16


def register(app, *, alerts, delivered, settings) -> None:
    """The notify agent on ``alerts``; ``delivered`` remembers what each sink got."""
    sinks = []
    if settings.alertmanager_url:
        sinks.append(Sink("alertmanager", settings.alertmanager_url, settings.delivery_retries, settings.delivery_timeout_s))
    if settings.webhook_url:
        sinks.append(Sink("webhook", settings.webhook_url.get_secret_value(), settings.delivery_retries, settings.delivery_timeout_s))
    if not sinks:
        return
    slots = asyncio.Semaphore(MAX_IN_FLIGHT)
    in_flight: set[bytes] = set()

    async def deliver(session, sink: Sink, key: bytes, event: dict) -> None:
        async with slots:
            try:
                if await sink.deliver(session, event):
                    delivered[key] = b"1"
            finally:
                in_flight.discard(key)

    @app.agent(alerts, name="notify")
    async def notify(stream):
        async with aiohttp.ClientSession() as session:
            tasks: set[asyncio.Task] = set()
            async for value in stream:
                try:
                    event = orjson.loads(value)
                    alert_key = f"{event['alert_id']}|{event['event']}"
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    app.log.warning("notify: skipping unreadable alert record")
                    continue
                detected = parse_timestamp_ms(event.get("detected_at"))
                if detected is not None and time.time() - detected / 1000 > settings.notify_max_age_s:
                    # A historical event (a rebuilt or new app reading the topic from the start):
                    # paging now would be noise, and its response window has passed.
                    M.ALERT_DELIVERIES.labels("all", "too_old").inc()
                    continue
                for sink in sinks:
                    key = f"{sink.name}|{alert_key}".encode("utf-8")
                    if delivered.get(key) or key in in_flight:
                        M.ALERT_DELIVERIES.labels(sink.name, "duplicate").inc()
                        continue
                    in_flight.add(key)
                    task = asyncio.create_task(deliver(session, sink, key, event))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
