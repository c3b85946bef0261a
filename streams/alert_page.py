"""The alert pages the worker serves (Faust web views): ``/alerts`` and ``/alerts/<alert_id>``.

Plain server-rendered HTML, no script: one glance says which alerts are open and how long is
left, why each one fired (with a small inline SVG chart of mentions against the expected level
and the negative share), the worst posts, the emerging terms, the loudest authors, the share of
duplicate texts (spam, trolls, copy-paste campaigns), the playbook, and a form that acknowledges,
notes or resolves the alert (a POST that writes to the compacted acks topic). Every text that
comes from a post, a config or a person goes through :func:`html.escape`.

The renderers are pure functions of plain data (tested without a server); :func:`register`
wires them to the worker's web server.
"""

from __future__ import annotations

import asyncio
import html
import time
from urllib.parse import quote

from buzzwatch.timeutil import format_timestamp
from buzzwatch.oncall.messages import rebase_url
from buzzwatch.oncall.book import OnCallError, status_of

SEVERITY_COLOURS = {"watch": "#b7791f", "warning": "#dd6b20", "critical": "#c53030"}
STATUS_COLOURS = {"open": "#c53030", "acknowledged": "#2b6cb0", "responded": "#6b46c1", "resolved": "#2f855a"}

CSS = """
*{box-sizing:border-box}body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f4f5f7;color:#1a202c}
header.top{background:#1a202c;color:#fff;padding:10px 24px;display:flex;gap:16px;align-items:baseline}
header.top a{color:#fff;text-decoration:none;font-weight:600}header.top span{color:#a0aec0;font-size:13px}
main{max-width:1100px;margin:0 auto;padding:20px 24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:16px;margin:0 0 10px;color:#2d3748}
.card{background:#fff;border-radius:8px;box-shadow:0 1px 2px rgba(0,0,0,.08);padding:16px 18px;margin:0 0 16px}
.grid{display:grid;grid-template-columns:3fr 2fr;gap:16px}.grid>div>.card{height:auto}
.badge{display:inline-block;border-radius:10px;padding:1px 9px;color:#fff;font-size:12px;font-weight:600;text-transform:uppercase;letter-spacing:.03em}
.muted{color:#718096}.left{font-size:28px;font-weight:700}.overdue{color:#c53030}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:8px 10px;border-bottom:1px solid #edf2f7;vertical-align:top}
th{font-size:12px;text-transform:uppercase;color:#718096;letter-spacing:.04em}
blockquote{margin:0 0 10px;padding:6px 12px;border-left:3px solid #e53e3e;background:#fff5f5;border-radius:0 6px 6px 0;overflow-wrap:anywhere}
blockquote footer{font-size:12px;color:#718096;margin-top:2px}
.chip{display:inline-block;background:#edf2f7;border-radius:12px;padding:2px 10px;margin:0 6px 6px 0;font-size:13px}
ol{margin:0;padding-left:20px}li{margin:0 0 6px}
form{display:flex;flex-direction:column;gap:6px}form label{font-size:13px;font-weight:600;color:#4a5568}
form .row{display:flex;flex-wrap:wrap;gap:8px;margin-top:4px}button{white-space:nowrap}
input,textarea{font:inherit;padding:6px 8px;border:1px solid #cbd5e0;border-radius:6px;width:100%}
button{font:inherit;font-weight:600;border:0;border-radius:6px;padding:7px 14px;cursor:pointer;color:#fff;background:#2b6cb0}
button.note{background:#4a5568}button.resolve{background:#2f855a}
.facts{display:grid;grid-template-columns:repeat(4,1fr);gap:8px;margin-top:10px}.facts div{background:#f7fafc;border-radius:6px;padding:6px 10px}
.facts b{display:block;font-size:12px;color:#718096;font-weight:600;text-transform:uppercase}
svg text{font:11px system-ui,sans-serif;fill:#4a5568}
.nowrap{white-space:nowrap}
#message{background:#f0fff4;border-left:4px solid #2f855a;font-weight:600;color:#22543d;padding:10px 16px}
"""


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def time_left(deadline_ms: int, now_ms: int) -> tuple[str, bool]:
    """(``"5h12m left"`` or ``"1h04m overdue"``, overdue?)."""
    delta = deadline_ms - now_ms
    minutes = abs(delta) // 60_000
    text = f"{minutes // 60}h{minutes % 60:02d}m"
    return (f"{text} left", False) if delta >= 0 else (f"{text} overdue", True)


def short_time(ms: int) -> str:
    """``2026-11-24 03:53Z``: minute precision, compact enough for a table cell."""
    return format_timestamp(ms)[:16].replace("T", " ") + "Z"


def alert_href(alert_id: str) -> str:
    return "/alerts/" + quote(alert_id, safe="")


def page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{esc(title)}</title>"
            f"<meta name=viewport content='width=device-width,initial-scale=1'><style>{CSS}</style></head><body>"
            f"<header class=top><a href='/alerts'>Buzzwatch alerts</a><span>respond within the deadline: acknowledge, "
            f"answer publicly, take it to private messages</span></header><main>{body}</main></body></html>")


def badge(text: str, colour: str) -> str:
    return f"<span class=badge style='background:{colour}'>{esc(text)}</span>"


def render_index(entries: list[dict], acks: dict, now_ms: int) -> str:
    """All alerts, open ones first (oldest deadline first), then the last resolved ones."""
    rows = []
    ranked = sorted(entries, key=lambda e: (status_of(e, acks.get(e["alert_id"])) == "resolved", e["deadline_ms"]))
    for e in ranked[:200]:
        ack = acks.get(e["alert_id"])
        status = status_of(e, ack)
        left, overdue = time_left(e["deadline_ms"], now_ms)
        why = ((e.get("last") or {}).get("evidence") or {}).get("why", "")
        rows.append(
            f"<tr data-alert-id='{esc(e['alert_id'])}' data-status='{status}'><td><a href='{alert_href(e['alert_id'])}'>"
            f"<b>{esc(e['brand'])}</b></a><div class='muted nowrap'>onset {esc(short_time(e['onset_ms']))}</div></td>"
            f"<td>{badge(e.get('severity') or '?', SEVERITY_COLOURS.get(e.get('severity'), '#4a5568'))}</td>"
            f"<td>{badge(status, STATUS_COLOURS[status])}</td>"
            f"<td class='nowrap{' overdue' if overdue and status != 'resolved' else ''}'>{'-' if status == 'resolved' else esc(left)}</td>"
            f"<td>{esc(why)}</td><td>{esc((ack or {}).get('acked_by') or '-')}</td></tr>")
    n_open = sum(1 for e in entries if status_of(e, acks.get(e["alert_id"])) != "resolved")
    table = ("<table><thead><tr><th>Brand</th><th>Severity</th><th>Status</th><th>Time left</th><th>Why</th>"
             f"<th>Acknowledged by</th></tr></thead><tbody>{''.join(rows)}</tbody></table>") if rows else \
        "<p class=muted>No alert so far.</p>"
    return page(f"Buzzwatch: {n_open} open alert(s)",
                f"<h1>{n_open} open alert{'s' if n_open != 1 else ''}</h1><div class=card>{table}</div>")


def nice_ceiling(v: float) -> float:
    """The next 1, 2 or 5 x 10^k at or above ``v`` (readable axis maxima).

    >>> nice_ceiling(3.2), nice_ceiling(147), nice_ceiling(0.7)
    (4, 200, 1)
    """
    import math

    k = 10 ** math.floor(math.log10(max(v, 1e-9)))
    for m in (1, 2, 4, 5, 10):
        if m * k >= v:
            return m * k if m * k != int(m * k) else int(m * k)
    return 10 * k


def chart_svg(series: list[list], onset_ms: int | None = None, width: int = 620, height: int = 210) -> str:
    """Mentions per minute (red) against the expected level (grey, dashed) and the negative share
    (orange area, right axis), from rows ``[ms, observed, expected, negative_share]``."""
    pts = [r for r in series if r[0] is not None and r[1] is not None]
    if len(pts) < 2:
        return "<p class=muted>Not enough minutes to draw yet.</p>"
    left, right, top, bottom = 44, 44, 12, 28
    w, h = width - left - right, height - top - bottom
    t0, t1 = pts[0][0], pts[-1][0]
    ymax = nice_ceiling(max(max(p[1] for p in pts), max((p[2] or 0) for p in pts), 1.0) * 1.05)

    def x(t):
        return left + (t - t0) / max(t1 - t0, 1) * w

    def y(v):
        return top + h - v / ymax * h

    def y_share(s):
        return top + h - s * h

    observed = " ".join(f"{x(p[0]):.1f},{y(p[1]):.1f}" for p in pts)
    expected = " ".join(f"{x(p[0]):.1f},{y(p[2] or 0):.1f}" for p in pts)
    shares = [p for p in pts if len(p) > 3 and p[3] is not None]
    area = ""
    if shares:
        poly = " ".join(f"{x(p[0]):.1f},{y_share(p[3]):.1f}" for p in shares)
        area = (f"<polygon points='{x(shares[0][0]):.1f},{top + h} {poly} {x(shares[-1][0]):.1f},{top + h}' "
                f"fill='#f6ad55' fill-opacity='.28' stroke='#ed8936' stroke-width='1'/>")
    grid = "".join(f"<line x1='{left}' x2='{left + w}' y1='{y(ymax * f):.1f}' y2='{y(ymax * f):.1f}' stroke='#e2e8f0'></line>"
                   f"<text x='{left - 6}' y='{y(ymax * f) + 4:.1f}' text-anchor='end'>{ymax * f:g}</text>"
                   for f in (0, 0.5, 1.0))
    share_axis = "".join(f"<text x={left + w + 6} y={y_share(s) + 4:.1f}>{s:.0%}</text>" for s in (0, 0.5, 1.0)) if shares else ""
    ticks = "".join(f"<text x={x(t):.1f} y={height - 8} text-anchor=middle>{esc(format_timestamp(int(t))[11:16])}</text>"
                    for t in (t0, (t0 + t1) / 2, t1))
    onset = ""
    if onset_ms is not None and t0 <= onset_ms <= t1:
        onset = (f"<line x1={x(onset_ms):.1f} x2={x(onset_ms):.1f} y1={top} y2={top + h} stroke='#c53030' "
                 f"stroke-dasharray='2 3'/><text x={x(onset_ms) + 4:.1f} y={top + 10}>onset</text>")
    legend = (f"<g transform='translate({left + 8},{top + 4})'><rect width=10 height=3 y=4 fill='#e53e3e'/>"
              "<text x=14 y=9>mentions/min</text><rect x=100 width=10 height=3 y=4 fill='#a0aec0'/>"
              "<text x=114 y=9>expected</text>"
              + ("<rect x=180 width=10 height=8 y=1 fill='#f6ad55' fill-opacity='.5'/><text x=194 y=9>negative share</text>"
                 if shares else "") + "</g>")
    return (f"<svg role=img aria-label='mentions per minute against expected, negative share' width='100%' "
            f"viewBox='0 0 {width} {height}' xmlns='http://www.w3.org/2000/svg'>{grid}{area}{share_axis}"
            f"<polyline points='{expected}' fill='none' stroke='#a0aec0' stroke-width='2' stroke-dasharray='5 4'></polyline>"
            f"<polyline points='{observed}' fill='none' stroke='#e53e3e' stroke-width='2'></polyline>{onset}{ticks}{legend}</svg>")


def render_alert(entry: dict, ack: dict | None, now_ms: int, *, series: list[list], playbook: list[str],
                 grafana_base: str | None = None, message: str = "") -> str:
    ev = (entry.get("last") or {}).get("evidence") or {}
    status = status_of(entry, ack)
    left, overdue = time_left(entry["deadline_ms"], now_ms)
    sev = entry.get("severity") or "?"
    reach = f"{ev['reach']:,}" if isinstance(ev.get("reach"), int) else "-"
    dup = f"{ev['duplicate_share']:.0%}" if isinstance(ev.get("duplicate_share"), (int, float)) else "-"
    head = (f"<div class=card><div style='display:flex;justify-content:space-between;gap:16px;align-items:flex-start'>"
            f"<div><h1>{esc(entry['brand'])} {badge(sev, SEVERITY_COLOURS.get(sev, '#4a5568'))} "
            f"<span id=status>{badge(status, STATUS_COLOURS[status])}</span></h1>"
            f"<div class=muted>alert {esc(entry['alert_id'])}</div></div>"
            f"<div style='text-align:right'><div class='left{' overdue' if overdue and status != 'resolved' else ''}' "
            f"id=time-left>{'answered' if status == 'resolved' else esc(left)}</div>"
            f"<div class=muted>respond before {esc(format_timestamp(entry['deadline_ms']))}</div></div></div>"
            f"<p><b>Why:</b> {esc(ev.get('why') or '-')}</p><div class=facts>"
            f"<div><b>Onset</b>{esc(format_timestamp(entry['onset_ms']))}</div>"
            f"<div><b>Mentions in episode</b>{esc(ev.get('episode_mentions', '-'))}</div>"
            f"<div><b>Reach</b>{esc(reach)}</div>"
            f"<div><b>Duplicate texts (spam, trolls)</b>{esc(dup)}</div>"
            f"</div></div>")
    posts = "".join(
        f"<blockquote>{esc(p.get('text'))}<footer>{esc(p.get('author') or '?')} · {int(p.get('followers') or 0):,} followers"
        + (f" · <a href='{esc(p['url'])}' rel='noopener noreferrer nofollow'>open</a>"
           if str(p.get('url') or '').startswith(('https://', 'http://')) else "")
        + "</footer></blockquote>" for p in (ev.get("top_negative") or [])[:5]) or "<p class=muted>none</p>"
    terms = "".join(f"<span class=chip>{esc(t.get('term'))} <span class=muted>×{esc(t.get('lift'))}</span></span>"
                    for t in ev.get("emerging_terms") or []) or "<span class=muted>none</span>"
    authors = "".join(f"<tr><td>{esc(a.get('author'))}</td><td>{int(a.get('followers') or 0):,}</td></tr>"
                      for a in (ev.get("top_authors") or [])[:5])
    steps = "".join(f"<li>{esc(s)}</li>" for s in playbook)
    notes = "".join(f"<li><b>{esc(n.get('by'))}</b> <span class=muted>{esc(format_timestamp(n['at_ms']))}</span><br>"
                    f"{esc(n.get('text'))}</li>" for n in (ack or {}).get("notes", []))
    who = ""
    if ack and ack.get("acked_by"):
        who = (f"<p id=acked-by>Acknowledged by <b>{esc(ack['acked_by'])}</b> at "
               f"{esc(format_timestamp(ack['acked_at_ms']))}</p>")
    if ack and ack.get("resolved_by"):
        who += f"<p>Resolved by <b>{esc(ack['resolved_by'])}</b> at {esc(format_timestamp(ack['resolved_at_ms']))}</p>"
    answer = entry.get("responded")
    if answer:
        link = (f" <a href='{esc(answer['url'])}' rel=noopener>the post</a>"
                if str(answer.get("url") or "").startswith(("https://", "http://")) else "")
        who += (f"<p id=responded>The brand answered publicly at {esc(format_timestamp(answer['at_ms']))}"
                f" ({esc(answer.get('author') or 'own account')}){link}: <q>{esc(answer.get('text'))}</q></p>")
    action = alert_href(entry["alert_id"]) + "/ack"
    form = (f"<form method=post action='{esc(action)}'><label for=by>Your name</label>"
            f"<input id=by name=by required maxlength=80 autocomplete=name>"
            f"<label for=note>Note</label><textarea id=note name=note rows=2 maxlength=1000></textarea>"
            f"<div class=row><button name=action value=ack id=ack>Acknowledge</button>"
            f"<button name=action value=note class=note id=add-note>Add note</button>"
            f"<button name=action value=resolve class=resolve id=resolve>Answered, resolve</button></div></form>")
    dash = rebase_url(str(ev.get("grafana_url") or ""), grafana_base)
    dash_link = f" · <a href='{esc(dash)}'>Grafana</a>" if dash.startswith(("http://", "https://")) else ""
    timeline = ", ".join(esc(k) for k in entry.get("seen", []))
    body = (head + (f"<div class=card id=message>{esc(message)}</div>" if message else "")
            + "<div class=grid><div>"
            f"<div class=card><h2>Mentions per minute vs expected{dash_link}</h2>{chart_svg(series, entry['onset_ms'])}</div>"
            f"<div class=card><h2>Worst posts</h2>{posts}</div>"
            f"<div class=card><h2>Emerging terms</h2>{terms}</div>"
            "</div><div>"
            f"<div class=card><h2>Acknowledge</h2>{who}{form}"
            + (f"<h2 style='margin-top:14px'>Notes</h2><ol id=notes>{notes}</ol>" if notes else "") + "</div>"
            f"<div class=card><h2>Playbook</h2><ol>{steps}</ol></div>"
            f"<div class=card><h2>Top authors</h2><table><tbody>{authors or '<tr><td class=muted>none</td></tr>'}</tbody></table></div>"
            f"<div class=card><h2>Events</h2><p class=muted>{timeline}</p></div>"
            "</div></div>")
    return page(f"{entry['brand']}: {status}, {left}", body)


def brand_series(pipe, brand: str, from_ms: int) -> list[list]:
    """Closed minutes of the brand from its state, when this worker holds it: ``[ms, observed,
    expected, negative_share]`` per minute since ``from_ms`` (at most 360 points)."""
    try:
        st = pipe.brand_state(brand)
        if st is None:
            return []
        rows = st.detector.get("r") or []
        out = []
        for r in rows[-360:]:
            if r[0] >= from_ms:
                out.append([r[0], float(r[1]), float(r[4]), (r[2] / r[3]) if r[3] else None])
        return out
    except Exception:  # noqa: BLE001 - the state layout belongs to the detector: fall back to points
        return []


def register(pipe) -> None:
    """Mount ``/alerts`` and ``/alerts/{alert_id}`` (GET) and ``/alerts/{alert_id}/ack`` (POST)."""
    import faust

    app, desk, settings = pipe.app, pipe.oncall, pipe.settings
    oncall = settings.core.oncall

    def now_ms() -> int:
        return int(time.time() * 1000)  # people answer in wall-clock time; the clock itself runs on event time

    def acks_of(entries):
        return {e["alert_id"]: desk.ack(e["alert_id"]) for e in entries}

    @app.page("/alerts")
    class AlertIndex(faust.web.View):
        async def get(self, request):
            entries = desk.entries()
            return self.html(render_index(entries, {k: v for k, v in acks_of(entries).items() if v}, now_ms()))

    @app.page("/alerts/{alert_id}")
    class AlertPage(faust.web.View):
        async def get(self, request, alert_id):
            entry = desk.entry(alert_id)
            if entry is None:
                return self.html(page("not found", f"<h1>No alert {esc(alert_id)}</h1>"), status=404)
            series = brand_series(pipe, entry["brand"], entry["onset_ms"] - 3_600_000) or \
                [[p[0], p[1], p[2], p[3]] for p in entry.get("points", [])]
            ev = (entry.get("last") or {}).get("evidence") or {}
            playbook = list(oncall.for_brand(entry["brand"]).playbook or ev.get("playbook") or [])
            message = request.query.get("done", "")
            return self.html(render_alert(entry, desk.ack(alert_id), now_ms(), series=series, playbook=playbook,
                                          grafana_base=settings.grafana_url, message=message))

    @app.page("/alerts/{alert_id}/ack")
    class AlertAck(faust.web.View):
        async def post(self, request, alert_id):
            if desk.entry(alert_id) is None:
                return self.html(page("not found", f"<h1>No alert {esc(alert_id)}</h1>"), status=404)
            form = await request.post()
            action = form.get("action", "ack")
            try:
                rec = await desk.record_action(alert_id, {"action": action, "by": form.get("by", ""),
                                                          "note": form.get("note", ""), "at_ms": now_ms()})
            except OnCallError as exc:
                return self.html(page("refused", f"<h1>Not recorded</h1><p>{esc(exc)}</p>"
                                                 f"<p><a href='{alert_href(alert_id)}'>back</a></p>"), status=400)
            for _ in range(50):  # show the result once the agent has read it back (at most ~5 s)
                if desk.ack(alert_id) == rec:
                    break
                await asyncio.sleep(0.1)
            done = {"ack": "Acknowledged", "note": "Note added", "resolve": "Resolved"}.get(action, "Recorded")
            return self.html("", status=303, headers={"Location": alert_href(alert_id) + "?done=" + quote(done)})
