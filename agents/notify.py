"""Notify agent: ``buzz.alerts`` + ``buzz.acks`` -> the book of alerts -> every sink, in order, never lost.

* One agent reads both topics and folds them into two changelogged tables: the book
  (alert_id -> entry, ``buzzwatch.oncall.book``) and the acks (alert_id -> cumulative ack record).
* Each lifecycle event a sink wants goes into a changelogged **outbox** keyed by
  ``sink|offset`` before the agent moves on, so a committed offset never means a lost event; a
  per-sink task delivers the outbox in offset order (one global order, hence per alert too),
  retrying forever with capped exponential backoff. A receiver down for an hour gets every
  event when it comes back, each once (the ``delivered`` table remembers (sink, alert, event)).
  The outbox size per sink is ``buzzwatch_alert_delivery_backlog``.
* A timer runs the response clock (``buzzwatch.oncall.deadline``) on the event time of the closed
  minutes (the aggregate stage's aligned watermark minus the allowed lateness, never the wall
  clock) and sends due reminders / ``deadline_missed`` to ``buzz.alerts``; reading them back
  is what marks them done, so a restart or a second worker does not lose or double them.
* Another timer re-posts open alerts to Alertmanager (it forgets alerts not re-sent for
  ``resolve_timeout``), and exports open / acknowledged counts per brand.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Callable

import aiohttp
import faust
import orjson
from faust.types import TP

from buzzwatch.oncall.deadline import due_events
from buzzwatch.timeutil import parse_timestamp_ms
from buzzwatch.oncall.book import CLOCK_EVENTS, SPAM_EVENTS, answered_ms, escalated, fold_event, status_of, with_brand_settings
from streams import metrics as M
from streams.sinks import Sink, configured_sinks, delivery_key

BOOK_KEEP_MS = 7 * 86_400_000  # resolved alerts stay in the book (and on the page) this long, in event time
RAW = dict(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")


@dataclass
class NotifyDeps:
    """What the notify agent and the alert pages use of the worker (``streams.worker`` builds it)."""

    app: faust.App
    settings: object  # streams.settings.Settings
    alerts: object  # the alerts topic
    delivered: object  # faust.Table: (sink, alert, event) already delivered
    aggregator: object  # buzzwatch.stages.aggregate.AggregateStage: its watermarks tell the event time
    brand_state: Callable[[str], object]  # a brand's state if this worker holds it, else None
    oncall: "OnCallDesk | None" = None


@dataclass
class OnCallDesk:
    """What the notify agent, its timers, the alert page and the tests share in one worker."""

    pipe: object
    sinks: list[Sink]
    book: object  # faust.Table: alert_id -> entry (JSON)
    acks: object  # faust.Table: alert_id -> ack record (JSON)
    outbox: object  # faust.Table: b"sink|offset" -> event (JSON)
    acks_topic: object
    wake: dict[str, asyncio.Event] = field(default_factory=dict)
    clock_sent: set[str] = field(default_factory=set)
    clock_seen_ms: int | None = None  # the event time the clock saw at its previous tick
    alerts_position: int = 0  # next offset of the alerts topic the book has not folded

    # --- reading --------------------------------------------------------------------------------
    def entry(self, alert_id: str) -> dict | None:
        raw = self.book.get(alert_id.encode("utf-8"))
        return orjson.loads(raw) if raw else None

    def ack(self, alert_id: str) -> dict | None:
        raw = self.acks.get(alert_id.encode("utf-8"))
        return orjson.loads(raw) if raw else None

    def entries(self) -> list[dict]:
        return [orjson.loads(v) for v in self.book.values()]

    def event_time_ms(self) -> int | None:
        """The closed-minute clock: the furthest aligned watermark of the aggregate's partitions
        in this worker, minus the allowed lateness (every scored partition receives the markers
        of every raw partition, so any of them tells the pipeline's event time)."""
        agg = self.pipe.aggregator
        marks = [w.get() for w in agg.watermarks.values()]
        marks = [m for m in marks if m is not None]
        if not marks:
            return None
        top = max(marks)
        if agg.sent_watermark_ms is not None:
            # not past the minutes whose events the aggregate is still sending: a reminder due
            # then would miss an escalation detected before it (live and replay would differ)
            top = min(top, agg.sent_watermark_ms)
        return top - agg.lateness_ms

    # --- writing ----------------------------------------------------------------------------------
    async def record_action(self, alert_id: str, action: dict) -> dict:
        """Merge one ack/note/resolve into the alert's ack record and send it to ``buzz.acks``
        (the agent folds it into the table when it reads it back)."""
        from buzzwatch.oncall.book import merge_ack

        rec = merge_ack(self.ack(alert_id), action)
        rec["alert_id"] = alert_id
        await self.acks_topic.send(key=alert_id.encode("utf-8"), value=orjson.dumps(rec))
        return rec


def holds(consumer, tp) -> bool:
    """Whether ``consumer`` is assigned ``tp`` now. With two workers only one holds the alerts
    topic's single partition: the other one's clock asked Kafka for its end and logged an error
    with a traceback every tick (measured: 10 in 50 s on the second worker of the scale-out bench)."""
    try:
        return consumer is not None and tp in consumer.assignment()
    except Exception:  # noqa: BLE001 - no assignment yet (starting, rebalancing): not held
        return False


def register(pipe: NotifyDeps) -> OnCallDesk:
    app, settings = pipe.app, pipe.settings
    oncall = settings.core.oncall
    sinks = configured_sinks(settings)
    t = settings.topics
    acks_topic = app.topic(t.acks, partitions=1, **RAW)
    inbox = app.topic(t.alerts, t.acks, **RAW)
    from streams.app import bytes_table  # raw bytes both ways, one partition

    desk = OnCallDesk(pipe, sinks, bytes_table(app, "alert_book", 1), bytes_table(app, "alert_acks", 1),
                      bytes_table(app, "alert_outbox", 1), acks_topic,
                      wake={s.name: asyncio.Event() for s in sinks})
    configured = set(settings.core.brand_names)
    alerts_tp = TP(t.alerts, 0)

    def enqueue(offset: int, event: dict, entry: dict) -> None:
        detected = parse_timestamp_ms(event.get("detected_at"))
        if detected is not None and time.time() - detected / 1000 > settings.notify_max_age_s:
            # A historical event (a rebuilt or new app reading the topic from the start):
            # paging now would be noise, and its response window has passed.
            M.ALERT_DELIVERIES.labels("all", "too_old").inc()
            return
        message = event if entry is None else with_brand_settings(event, entry, oncall.for_brand(event["brand"]))
        for sink in sinks:
            if not sink.wants(event):
                continue
            key = f"{sink.name}|{delivery_key(event)}".encode("utf-8")
            if pipe.delivered.get(key):
                M.ALERT_DELIVERIES.labels(sink.name, "duplicate").inc()
                continue
            pipe.delivered[key] = b"queued"
            desk.outbox[f"{sink.name}|{offset:020d}".encode("utf-8")] = orjson.dumps(message)
            desk.wake[sink.name].set()

    @app.agent(inbox, name="notify")
    async def notify(stream):
        async for e in stream.events():
            topic, value = e.message.topic, e.value
            if topic == t.alerts:  # (no await until the record is folded: the clock sees both or neither)
                desk.alerts_position = e.message.offset + 1
            if not value:
                continue
            try:
                record = orjson.loads(value)
                if topic == t.acks:
                    alert_id = e.message.key.decode("utf-8")
                    desk.acks[alert_id.encode("utf-8")] = value
                    continue
                alert_id = record["alert_id"]
                if record["event"] in SPAM_EVENTS:  # a troll report: told, not booked (no clock)
                    enqueue(e.message.offset, record, None)
                    continue
                book = {alert_id: desk.entry(alert_id)} if desk.entry(alert_id) else {}
                entry = fold_event(book, record, oncall)
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
                app.log.warning("notify: skipping unreadable record %s/%s", topic, e.message.offset)
                continue
            desk.book[alert_id.encode("utf-8")] = orjson.dumps(entry)
            if record["event"] in CLOCK_EVENTS and record["brand"] in configured:
                M.ALERT_CLOCK_EVENTS.labels(record["brand"], record["event"]).inc()
            enqueue(e.message.offset, record, entry)

    async def run_sink(sink: Sink) -> None:
        prefix = f"{sink.name}|".encode("utf-8")
        backoff = settings.retry_backoff_s
        async with aiohttp.ClientSession() as session:
            while True:
                pending = sorted(k for k in list(desk.outbox.keys()) if k.startswith(prefix))
                M.ALERT_DELIVERY_BACKLOG.labels(sink.name).set(len(pending))
                if not pending:
                    desk.wake[sink.name].clear()
                    try:
                        await asyncio.wait_for(desk.wake[sink.name].wait(), timeout=1.0)
                    except asyncio.TimeoutError:
                        pass
                    continue
                key = pending[0]
                try:
                    event = orjson.loads(desk.outbox[key])
                    outcome = await sink.attempt(session, event)
                except Exception:  # noqa: BLE001 - a bug or a bad URL must not stop delivery to the others
                    app.log.exception("notify: %s delivery attempt failed unexpectedly; retrying", sink.name)
                    outcome = "retry"
                if outcome == "retry":
                    M.ALERT_DELIVERIES.labels(sink.name, "retried").inc()
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, settings.retry_max_backoff_s)
                    continue
                backoff = settings.retry_backoff_s
                done = f"{sink.name}|{delivery_key(event)}".encode("utf-8")
                if outcome == "ok":
                    pipe.delivered[done] = b"1"
                    M.ALERT_DELIVERIES.labels(sink.name, "ok").inc()
                else:  # refused by the receiver (4xx): retrying cannot help; say it loudly
                    pipe.delivered[done] = b"rejected"
                    M.ALERT_DELIVERIES.labels(sink.name, "rejected").inc()
                    app.log.error("notify: %s refused %s (4xx); not retried", sink.name, delivery_key(event))
                del desk.outbox[key]

    if sinks:
        @app.task
        async def deliver_outboxes() -> None:
            await asyncio.gather(*(run_sink(sink) for sink in sinks))

    @app.timer(settings.clock_interval_s)
    async def response_clock() -> None:
        try:
            await run_clock()
        except Exception:  # noqa: BLE001 - a timer that raises stops the worker: log and try next tick
            app.log.exception("notify: response clock tick failed")

    async def run_clock() -> None:
        # The clock may only look at a time once every lifecycle event up to it is in the book.
        # The aggregate stage sends a minute's events right after closing it, so: take the event
        # time seen one tick ago, and use it only if the book has caught up with the end of the
        # alerts topic as it is now (one tick later).
        if not holds(app.consumer, alerts_tp):
            return  # the alerts topic's one partition, its book and its clock are another worker's
        now_ms, desk.clock_seen_ms = desk.clock_seen_ms, desk.event_time_ms()
        if now_ms is None:
            return
        end = app.consumer.highwater(alerts_tp) if app.consumer else None
        position = desk.alerts_position
        if not position and end is not None:
            # nothing read since this worker started: the book (restored from its changelog) is
            # as far as the committed offset, where the consumer resumed
            try:
                position = await app.consumer.position(alerts_tp) or 0
            except Exception:  # noqa: BLE001 - not assigned here (another worker owns the alerts)
                position = 0
        if end is None or position < end:
            desk.clock_seen_ms = now_ms if desk.clock_seen_ms is None else min(now_ms, desk.clock_seen_ms)
            return
        for entry in desk.entries():
            if entry["status"] != "open":
                if (entry.get("resolved_ms") or now_ms) < now_ms - BOOK_KEEP_MS:
                    del desk.book[entry["alert_id"].encode("utf-8")]  # the book stays small; the topics keep history
                continue
            for event in due_events(entry, desk.ack(entry["alert_id"]), now_ms, oncall.for_brand(entry["brand"])):
                key = delivery_key(event)
                if key in desk.clock_sent:
                    continue  # sent, not read back yet
                desk.clock_sent.add(key)
                await pipe.alerts.send(key=entry["brand"].encode("utf-8"), value=orjson.dumps(event))

    @app.timer(settings.resend_interval_s)
    async def refresh() -> None:
        try:
            await refresh_alertmanager_and_gauges()
        except Exception:  # noqa: BLE001 - as above
            app.log.exception("notify: refresh failed")

    async def refresh_alertmanager_and_gauges() -> None:
        counts: dict[str, list[int]] = {b: [0, 0] for b in configured}
        am = [s for s in sinks if s.name == "alertmanager"]
        alerts = []
        for entry in desk.entries():
            ack = desk.ack(entry["alert_id"])
            status = status_of(entry, ack)
            if entry["brand"] in counts and status != "resolved":
                counts[entry["brand"]][0] += 1
                counts[entry["brand"]][1] += status == "acknowledged"
            last = entry.get("last")
            if not am or not last or entry["status"] != "open":
                continue
            if pipe.delivered.get(f"alertmanager|{delivery_key(last)}".encode("utf-8")) != b"1":
                continue  # not delivered yet: the outbox keeps the order, do not overtake it
            message = with_brand_settings(last, entry, oncall.for_brand(entry["brand"]))
            alerts += am[0].refresh_body(message, escalated=escalated(entry, oncall.for_brand(entry["brand"])),
                                         answered=answered_ms(entry, ack) is not None, resolved_by_person=status == "resolved")
        for brand, (n_open, n_acked) in counts.items():
            M.ALERTS_OPEN.labels(brand).set(n_open)
            M.ALERTS_ACKNOWLEDGED.labels(brand).set(n_acked)
        if alerts:
            async with aiohttp.ClientSession() as session:
                url = am[0].url.rstrip("/") + "/api/v2/alerts"
                outcome = await am[0].post(session, url, orjson.dumps(alerts), {"content-type": "application/json"})
                M.ALERT_DELIVERIES.labels("alertmanager", "refreshed" if outcome == "ok" else "refresh_failed").inc()

    pipe.oncall = desk
    return desk

