"""The response clock: reminders while an alert is unanswered, escalation, ``deadline_missed``.

Agencies' first rule is to react within 24 hours. The clock looks at an open alert (a book entry
of ``buzzwatch.oncall.book``), the person's acknowledgement if any, and the event time ``now_ms``
(the pipeline's closed-minute clock: the watermark live, the rows in a backtest, never the wall
clock), and says which reminder points have passed unanswered. A point counts as answered when
the alert was acknowledged (or resolved by a person) at or before it; an alert the detector
resolved before a point gets no reminder there (there is nothing left to answer).

Each clock event is stamped with its due time, not with the time the clock noticed it, so a
replay that reads the same lifecycle events and acks gives the same reminders at the same
event times, however fast it runs. Reminders from ``escalate_at_hours`` on, and the missed
deadline, go to the ``escalation`` route.

>>> from buzzwatch.oncall.book import BrandOnCall
>>> cfg = BrandOnCall(response_hours=24, reminder_hours=(1, 12, 20, 23), escalate_at_hours=20)
>>> entry = {"alert_id": "Acme:t0", "brand": "Acme", "status": "open", "onset_ms": 0, "deadline_ms": 24 * HOUR_MS,
...          "resolved_ms": None, "severity": "warning", "seen": ["opened"],
...          "last": {"alert_id": "Acme:t0", "brand": "Acme", "event": "opened", "severity": "warning",
...                   "onset_at": "1970-01-01T00:00:00Z", "detected_at": "1970-01-01T00:05:00Z", "evidence": {}}}
>>> [(e["event"], e.get("after_hours"), e["route"], e["detected_at"]) for e in due_events(entry, None, 13 * HOUR_MS, cfg)]
[('reminder', 1.0, 'primary', '1970-01-01T01:00:00Z'), ('reminder', 12.0, 'primary', '1970-01-01T12:00:00Z')]
>>> [e["event"] for e in due_events(entry, {"acked_at_ms": 30 * 60_000}, 25 * HOUR_MS, cfg)]
[]
>>> [(e["event"], e["route"]) for e in due_events(entry, None, 25 * HOUR_MS, cfg)][-2:]
[('reminder', 'escalation'), ('deadline_missed', 'escalation')]
"""

from __future__ import annotations

from buzzwatch.timeutil import format_timestamp
from buzzwatch.oncall.book import HOUR_MS, BrandOnCall, answered_ms, clock_key


def due_points(entry: dict, cfg: BrandOnCall) -> list[tuple[int, dict]]:
    """Every clock point of the alert, ``(due_ms, fields)`` in time order."""
    onset = entry["onset_ms"]
    points = [(onset + int(h * HOUR_MS), {"event": "reminder", "after_hours": float(h),
                                          "route": "escalation" if h >= cfg.escalate_at_hours else "primary"})
              for h in cfg.reminder_hours if onset + int(h * HOUR_MS) < entry["deadline_ms"]]
    points.append((entry["deadline_ms"], {"event": "deadline_missed", "route": "escalation",
                                          "after_hours": round((entry["deadline_ms"] - onset) / HOUR_MS, 3)}))
    return points


def due_events(entry: dict, ack: dict | None, now_ms: int, cfg: BrandOnCall) -> list[dict]:
    """Clock events that are due at or before ``now_ms`` and not yet in the entry's ``seen``."""
    answered = answered_ms(entry, ack)  # a person's ack, or the brand's own public answer
    resolved = entry.get("resolved_ms")
    out = []
    for due_ms, fields in due_points(entry, cfg):
        if due_ms > now_ms:
            break
        if answered is not None and answered <= due_ms:
            break
        if resolved is not None and resolved <= due_ms:
            break
        event = clock_event(entry, due_ms, fields)
        if clock_key(event) not in entry["seen"]:
            out.append(event)
    return out


def as_of(entry: dict, at_ms: int) -> dict:
    """The alert's latest lifecycle event detected at or before ``at_ms`` (its first one if
    none): what a reminder due at ``at_ms`` reports, whether the worker noticed the point before
    or after reading later escalations.

    >>> e = {"history": [{"severity": "watch", "detected_at": "1970-01-01T00:01:00Z"},
    ...                  {"severity": "critical", "detected_at": "1970-01-01T02:00:00Z"}], "last": None}
    >>> as_of(e, HOUR_MS)["severity"], as_of(e, 3 * HOUR_MS)["severity"]
    ('watch', 'critical')
    """
    from buzzwatch.timeutil import parse_timestamp_ms

    history = entry.get("history") or ([entry["last"]] if entry.get("last") else [])
    chosen = history[0] if history else {}
    for event in history:
        if (parse_timestamp_ms(event.get("detected_at")) or 0) <= at_ms:
            chosen = event
    return chosen


def clock_event(entry: dict, due_ms: int, fields: dict) -> dict:
    """A ``buzz.alerts`` record for one clock point: the alert's latest lifecycle event with the
    point's kind, time and route (its evidence travels along, so a reminder is self-contained)."""
    last = as_of(entry, due_ms)
    return {
        "alert_id": entry["alert_id"],
        "brand": entry["brand"],
        "event": fields["event"],
        "severity": last.get("severity") or entry.get("severity"),
        "detected_at": format_timestamp(due_ms),
        "onset_at": format_timestamp(entry["onset_ms"]),
        "score": last.get("score"),
        "evidence": last.get("evidence", {}),
        "after_hours": fields["after_hours"],
        "route": fields["route"],
    }


def replay_clock(events: list[dict], acks: dict, config, closed_until_ms: list[int] | None = None) -> list[dict]:
    """Lifecycle events interleaved with the clock's, as a backtest or an audit computes them:
    the clock ticks at every lifecycle event's ``detected_at`` and at each ``closed_until_ms``
    (e.g. the end of every closed minute); the result is in event-time order.

    >>> from buzzwatch.oncall.book import OnCallConfig
    >>> opened = {"alert_id": "A:0", "brand": "A", "event": "opened", "severity": "watch",
    ...           "onset_at": "1970-01-01T00:00:00Z", "detected_at": "1970-01-01T00:01:00Z", "evidence": {}}
    >>> [e["event"] for e in replay_clock([opened], {}, OnCallConfig(), [2 * HOUR_MS])]
    ['opened', 'reminder']
    """
    from buzzwatch.timeutil import parse_timestamp_ms
    from buzzwatch.oncall.book import fold_event

    ticks = sorted([(parse_timestamp_ms(e["detected_at"]), 0, i, e) for i, e in enumerate(events)]
                   + [(t, 1, i, None) for i, t in enumerate(closed_until_ms or [])], key=lambda x: x[:3])
    book: dict = {}
    out: list[dict] = []
    for t, _, _, event in ticks:
        for entry in list(book.values()):  # first what fell due up to t, then the event at t
            for clock in due_events(entry, acks.get(entry["alert_id"]), t, config.for_brand(entry["brand"])):
                fold_event(book, clock, config)
                out.append(clock)
        if event is not None:
            fold_event(book, event, config)
            out.append(event)
    return out
