"""Compare two sets of alert lifecycle events (two replays, or a replay and live).

Events are matched by ``(alert_id, event)``: the alert id is (brand, episode onset), so the
same episode found by both runs matches even if it was detected at another minute.

>>> a = [{"alert_id": "acme:1", "event": "opened", "detected_at": "2026-01-01T10:05:00Z", "severity": "watch", "brand": "acme"}]
>>> b = [{"alert_id": "acme:1", "event": "opened", "detected_at": "2026-01-01T10:02:00Z", "severity": "warning", "brand": "acme"}]
>>> d = diff_alerts(a, b)
>>> [(x["alert_id"], x["delta_s"]) for x in d["earlier"]], len(d["severity_changed"]), d["identical"]
([('acme:1', -180)], 1, False)
"""

from __future__ import annotations

from buzzwatch.timeutil import parse_timestamp_ms

KEY_FIELDS = ("alert_id", "event", "detected_at", "severity")


def _index(events: list[dict]) -> dict[tuple[str, str], dict]:
    out = {}
    for e in events:
        out.setdefault((e["alert_id"], e["event"]), e)  # a redelivered duplicate is the same event
    return out


def diff_alerts(a: list[dict], b: list[dict]) -> dict:
    """What B has that A has not (added), what it lost (removed), what it found earlier/later."""
    ia, ib = _index(a), _index(b)
    added = [ib[k] for k in sorted(ib.keys() - ia.keys())]
    removed = [ia[k] for k in sorted(ia.keys() - ib.keys())]
    earlier, later, severity = [], [], []
    for k in sorted(ia.keys() & ib.keys()):
        ea, eb = ia[k], ib[k]
        ta, tb = parse_timestamp_ms(ea["detected_at"]), parse_timestamp_ms(eb["detected_at"])
        if ta is not None and tb is not None and ta != tb:
            row = {"alert_id": k[0], "event": k[1], "a": ea["detected_at"], "b": eb["detected_at"],
                   "delta_s": (tb - ta) // 1000}
            (earlier if tb < ta else later).append(row)
        if ea.get("severity") != eb.get("severity"):
            severity.append({"alert_id": k[0], "event": k[1], "a": ea.get("severity"), "b": eb.get("severity")})
    return {
        "a_events": len(ia), "b_events": len(ib),
        "added": added, "removed": removed, "earlier": earlier, "later": later,
        "severity_changed": severity,
        "identical": not (added or removed or earlier or later or severity),
    }


def alert_keys(events: list[dict]) -> set[tuple]:
    """The identity used by the determinism guarantees: (alert_id, event, detected_at, severity)."""
    return {tuple(e[f] for f in KEY_FIELDS) for e in events}
