"""On-call settings per brand, acknowledgements, and the book of alerts (what is open, who acked).

The book is a fold over two streams that both live in Kafka: the lifecycle events of
``buzz.alerts`` (opened / escalated / resolved from the detector, reminder / deadline_missed from
the clock) and the acknowledgement records of the compacted ``buzz.acks`` (one cumulative record
per alert_id: who acked and when, notes, resolved by a person). Folding the same records gives
the same book in every worker, in the CLI and in a replay. Everything here is plain data (JSON
dicts), so a Faust table can store an entry as it is.

>>> book = {}
>>> fold_event(book, {"alert_id": "Acme:t0", "brand": "Acme", "event": "opened", "severity": "warning",
...                   "detected_at": "2026-11-06T20:07:00Z", "onset_at": "2026-11-06T20:00:00Z", "evidence": {}},
...            OnCallConfig())["status"]
'open'
>>> ack = merge_ack(None, {"action": "ack", "by": "ana", "at_ms": 1_794_000_000_000, "note": "on it"})
>>> (ack["acked_by"], [n["text"] for n in ack["notes"]])
('ana', ['on it'])
>>> open_alerts(book, {"Acme:t0": ack})[0]["alert_id"]
'Acme:t0'
"""

from __future__ import annotations

from buzzwatch.errors import BuzzwatchError

from dataclasses import dataclass, field, fields, replace
from typing import Any

from buzzwatch.timeutil import HOUR_MS, parse_timestamp_ms

DEFAULT_REMINDER_HOURS = (1.0, 12.0, 20.0, 23.0)
LIFECYCLE_EVENTS = ("opened", "escalated", "resolved")
CLOCK_EVENTS = ("reminder", "deadline_missed")
# spam/troll episodes (buzzwatch.detection.spam): reported to the chat sinks, never an alert to answer
SPAM_EVENTS = ("spam_flood", "spam_ended")
ACK_ACTIONS = ("ack", "note", "resolve")
MAX_NOTES = 50  # an ack record is one compacted value: keep it small
MAX_NOTE_CHARS = 1000
MAX_HISTORY = 8  # lifecycle events kept per alert (opened, escalations, resolved)
MAX_POINTS = 50  # lifecycle points kept per alert for the chart when the brand's minutes are not at hand


class OnCallError(BuzzwatchError, ValueError):
    """A bad on-call setting or acknowledgement."""


@dataclass(frozen=True)
class BrandOnCall:
    """How one brand's alerts are watched: deadline, reminder points, routes, playbook."""

    response_hours: float = 24.0  # an alert should be answered within this many hours of onset
    reminder_hours: tuple[float, ...] = DEFAULT_REMINDER_HOURS  # hours after onset to remind if unanswered
    escalate_at_hours: float = 20.0  # reminders from this point on go to the escalation route
    team: str = ""  # Alertmanager label of the first route
    escalation_team: str = ""  # Alertmanager label of the second route
    playbook: tuple[str, ...] = ()  # empty: the detector's playbook (``[alerting] playbook``)

    def validate(self, where: str) -> "BrandOnCall":
        if self.response_hours <= 0:
            raise OnCallError(f"{where}: response_hours must be > 0")
        if any(h <= 0 for h in self.reminder_hours) or list(self.reminder_hours) != sorted(set(self.reminder_hours)):
            raise OnCallError(f"{where}: reminder_hours must be increasing positive hours, got {list(self.reminder_hours)}")
        return self


BRAND_KEYS = tuple(f.name for f in fields(BrandOnCall))


def _brand_oncall(base: BrandOnCall, data: dict, where: str) -> BrandOnCall:
    unknown = sorted(set(data) - set(BRAND_KEYS))
    if unknown:
        raise OnCallError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(BRAND_KEYS)}")
    kw: dict[str, Any] = {}
    for k, v in data.items():
        if k in ("reminder_hours", "playbook"):
            if not isinstance(v, (list, tuple)):
                raise OnCallError(f"{where}: {k} must be a list")
            kw[k] = tuple(float(x) for x in v) if k == "reminder_hours" else tuple(str(x) for x in v)
        elif k in ("team", "escalation_team"):
            kw[k] = str(v)
        else:
            try:
                kw[k] = float(v)
            except (TypeError, ValueError) as exc:
                raise OnCallError(f"{where}: {k}: {exc}") from exc
    return replace(base, **kw).validate(where)


@dataclass(frozen=True)
class OnCallConfig:
    """The ``[oncall]`` table (defaults for every brand) and per-brand overrides, given in the
    brand's own ``[[brands]]`` table (``response_hours``, ``reminder_hours``, ``team``, ...).

    >>> cfg = OnCallConfig.from_dict({"oncall": {"team": "social"},
    ...                               "brands": [{"name": "Acme", "response_hours": 4, "reminder_hours": [1, 3]}]})
    >>> cfg.for_brand("Acme").reminder_hours, cfg.for_brand("Acme").team, cfg.for_brand("Other").response_hours
    ((1.0, 3.0), 'social', 24.0)
    """

    default: BrandOnCall = field(default_factory=BrandOnCall)
    brands: dict[str, BrandOnCall] = field(default_factory=dict)

    def for_brand(self, brand: str) -> BrandOnCall:
        return self.brands.get(brand, self.default)

    @classmethod
    def from_dict(cls, data: dict, deployment_keys: tuple[str, ...] = ()) -> "OnCallConfig":
        """From the whole TOML document; ``deployment_keys`` of ``[oncall]`` belong to the worker
        settings (URLs, intervals) and are skipped here."""
        section = {k: v for k, v in dict(data.get("oncall", {})).items() if k not in deployment_keys}
        base = BrandOnCall()
        alerting = data.get("alerting", {})
        if "response_hours" in alerting:
            base = replace(base, response_hours=float(alerting["response_hours"]))
        base = _brand_oncall(base, section, "[oncall]")
        brands = {}
        for i, raw in enumerate(data.get("brands", [])):
            own = {k: v for k, v in dict(raw).items() if k in BRAND_KEYS}
            if own:
                brands[str(raw.get("name", "")).strip()] = _brand_oncall(base, own, f"[[brands]] #{i + 1}")
        return cls(base, brands)


def split_brand_table(raw: dict) -> tuple[dict, dict]:
    """A ``[[brands]]`` table split into the brand's matching keys and its on-call keys.

    >>> split_brand_table({"name": "Acme", "team": "social"})
    ({'name': 'Acme'}, {'team': 'social'})
    """
    if not isinstance(raw, dict):
        return raw, {}
    return ({k: v for k, v in raw.items() if k not in BRAND_KEYS}, {k: v for k, v in raw.items() if k in BRAND_KEYS})


# --- acknowledgements --------------------------------------------------------------------------
def merge_ack(current: dict | None, action: dict) -> dict:
    """The cumulative ack record after one action (``ack``, ``note`` or ``resolve``).

    The acks topic is compacted by alert_id, so each record carries everything known: the first
    acknowledgement (who, when), the notes (bounded), and a person's resolution.

    >>> r = merge_ack(None, {"action": "note", "by": "bo", "at_ms": 5, "note": "called the press office"})
    >>> r["acked_by"] is None, r["notes"][0]["by"]
    (True, 'bo')
    >>> merge_ack(r, {"action": "resolve", "by": "ana", "at_ms": 9})["resolved_at_ms"]
    9
    >>> merge_ack(None, {"action": "ack", "by": "", "at_ms": 1})
    Traceback (most recent call last):
    ...
    buzzwatch.oncall.book.OnCallError: an acknowledgement needs a name (--by)
    """
    kind = action.get("action")
    if kind not in ACK_ACTIONS:
        raise OnCallError(f"unknown action {kind!r}; known: {', '.join(ACK_ACTIONS)}")
    by = str(action.get("by") or "").strip()
    if not by:
        raise OnCallError("an acknowledgement needs a name (--by)")
    at_ms = int(action["at_ms"])
    rec = dict(current or {"acked_by": None, "acked_at_ms": None, "resolved_by": None, "resolved_at_ms": None,
                           "notes": []})
    rec["notes"] = list(rec.get("notes") or [])
    if kind in ("ack", "resolve") and rec.get("acked_at_ms") is None:
        rec["acked_by"], rec["acked_at_ms"] = by, at_ms
    if kind == "resolve" and rec.get("resolved_at_ms") is None:
        rec["resolved_by"], rec["resolved_at_ms"] = by, at_ms
    note = str(action.get("note") or "").strip()
    if note:
        rec["notes"] = (rec["notes"] + [{"by": by, "at_ms": at_ms, "text": note[:MAX_NOTE_CHARS]}])[-MAX_NOTES:]
    elif kind == "note":
        raise OnCallError("a note needs text (--note)")
    return rec


def answered_at_ms(ack: dict | None) -> int | None:
    """When a person first took the alert in hand (ack or resolve), or None."""
    if not ack:
        return None
    times = [t for t in (ack.get("acked_at_ms"), ack.get("resolved_at_ms")) if t is not None]
    return min(times) if times else None


# --- the book ------------------------------------------------------------------------------------
def clock_key(event: dict) -> str:
    """The identity of an event within its alert: ``opened``, ``reminder:1h``, ...

    >>> clock_key({"event": "reminder", "after_hours": 12.0}), clock_key({"event": "opened"})
    ('reminder:12h', 'opened')
    """
    if event.get("event") == "reminder":
        return f"reminder:{float(event['after_hours']):g}h"
    return str(event.get("event"))


def fold_event(book: dict, event: dict, config: OnCallConfig) -> dict:
    """Apply one ``buzz.alerts`` record to ``book`` (alert_id -> entry); returns the entry.

    Spam/troll reports are not alerts to answer: they stay out of the book (no deadline, no
    reminders) and the existing entry, if any, is returned unchanged."""
    aid = event["alert_id"]
    if event.get("event") in SPAM_EVENTS:
        return book.get(aid)
    entry = book.get(aid)
    if entry is None:
        onset = parse_timestamp_ms(event.get("onset_at")) or parse_timestamp_ms(event["detected_at"])
        cfg = config.for_brand(event["brand"])
        entry = {"alert_id": aid, "brand": event["brand"], "status": "open", "onset_ms": onset,
                 "deadline_ms": onset + int(cfg.response_hours * HOUR_MS), "resolved_ms": None,
                 "severity": event.get("severity"), "last": None, "seen": []}
    entry = dict(entry, seen=list(entry["seen"]))
    key = clock_key(event)
    if key not in entry["seen"]:
        entry["seen"].append(key)
    kind = event["event"]
    if kind in LIFECYCLE_EVENTS:
        entry["last"] = event
        entry["severity"] = event.get("severity", entry["severity"])
        # the clock stamps a reminder with the alert as it was at the reminder's due time
        entry["history"] = (list(entry.get("history") or []) + [event])[-MAX_HISTORY:]
        ev = event.get("evidence") or {}
        if ev.get("observed_per_min") is not None:  # a few points for the page's chart (bounded)
            point = [parse_timestamp_ms(event["detected_at"]), ev.get("observed_per_min"), ev.get("expected_per_min"),
                     ev.get("negative_share"), ev.get("expected_negative_share")]
            entry["points"] = (list(entry.get("points") or []) + [point])[-MAX_POINTS:]
    if kind == "responded" and not entry.get("responded"):
        # the brand's own accounts answered publicly (buzzwatch.stages.aggregate.follow_answer)
        response = dict(event.get("response") or {})
        response["at_ms"] = parse_timestamp_ms(response.get("at")) or parse_timestamp_ms(event["detected_at"])
        entry["responded"] = response
    if kind == "resolved":
        entry["status"] = "resolved"
        entry["resolved_ms"] = parse_timestamp_ms(event["detected_at"])
    if entry["last"] is None:  # a clock event read before its opening (should not happen): keep it
        entry["last"] = event
    book[aid] = entry
    return entry


def open_alerts(book: dict, acks: dict) -> list[dict]:
    """Entries still open (not resolved by the detector nor by a person), oldest deadline first,
    each with its ``ack`` record (or None)."""
    out = []
    for aid, entry in book.items():
        ack = acks.get(aid)
        if entry["status"] == "open" and not (ack and ack.get("resolved_at_ms") is not None):
            out.append(dict(entry, ack=ack))
    return sorted(out, key=lambda e: (e["deadline_ms"], e["alert_id"]))


def status_of(entry: dict, ack: dict | None) -> str:
    """``resolved``, ``acknowledged``, ``responded`` (the brand answered publicly, nobody
    acknowledged yet) or ``open``.

    >>> status_of({"status": "open"}, {"acked_at_ms": 3, "resolved_at_ms": None})
    'acknowledged'
    >>> status_of({"status": "open", "responded": {"at_ms": 5}}, None)
    'responded'
    """
    if entry["status"] == "resolved" or (ack and ack.get("resolved_at_ms") is not None):
        return "resolved"
    if ack and ack.get("acked_at_ms") is not None:
        return "acknowledged"
    if entry.get("responded"):
        return "responded"
    return "open"


def answered_ms(entry: dict, ack: dict | None) -> int | None:
    """When the alert was first answered: a person took it in hand, or the brand replied publicly.

    >>> answered_ms({"responded": {"at_ms": 50}}, {"acked_at_ms": 70}), answered_ms({}, None)
    (50, None)
    """
    times = [t for t in (answered_at_ms(ack), (entry.get("responded") or {}).get("at_ms")) if t is not None]
    return min(times) if times else None


def escalated(entry: dict, cfg: BrandOnCall) -> bool:
    """Whether the clock already sent this alert to the escalation route.

    >>> escalated({"seen": ["opened", "reminder:1h"]}, BrandOnCall()), escalated({"seen": ["reminder:20h"]}, BrandOnCall())
    (False, True)
    """
    for key in entry.get("seen", []):
        if key == "deadline_missed":
            return True
        if key.startswith("reminder:") and float(key.removeprefix("reminder:").removesuffix("h")) >= cfg.escalate_at_hours:
            return True
    return False


def with_brand_settings(event: dict, entry: dict, cfg: BrandOnCall) -> dict:
    """``event`` with the brand's own deadline and playbook in its evidence (the detector writes
    the global ones)."""
    from buzzwatch.timeutil import format_timestamp

    ev = dict(event.get("evidence") or {})
    ev["response_deadline"] = format_timestamp(entry["deadline_ms"])
    if cfg.playbook:
        ev["playbook"] = list(cfg.playbook)
    return dict(event, evidence=ev)
