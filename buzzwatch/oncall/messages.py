"""What an alert lifecycle event looks like where people read it: Slack, Teams, Alertmanager.

Pure functions from an event (``buzzwatch.detection.lifecycle.make_event`` or a clock event of
``buzzwatch.oncall.deadline``) to the JSON each receiver expects; the sinks (``streams.sinks``) only
post them. Every text that comes from a post (quoted posts, authors, terms) is user input and
is escaped for the receiver's markup, because a post saying ``<!channel>`` must not ping a whole
Slack channel and ``<http://evil|click>`` must not become a disguised link.

>>> escape_mrkdwn("<!channel> & <http://evil|click>")
'&lt;!channel&gt; &amp; &lt;http://evil|click&gt;'
>>> rebase_url("http://127.0.0.1:3000/d/buzzwatch-brand?var-brand=Acme", "https://grafana.example/")
'https://grafana.example/d/buzzwatch-brand?var-brand=Acme'
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

SECTION_LIMIT = 3000  # Slack: a section's text is at most 3,000 characters
HEADER_LIMIT = 150  # Slack: a header block's plain text is at most 150 characters
FIELD_LIMIT = 2000  # Slack: each section field is at most 2,000 characters
POSTS_SHOWN = 3
POST_CHARS = 280

EVENT_TITLES = {
    "opened": "Bad buzz",
    "escalated": "Bad buzz escalated",
    "resolved": "Bad buzz resolved",
    "reminder": "Bad buzz still unanswered",
    "deadline_missed": "Response deadline missed",
    "spam_flood": "Spam/troll flood (not a bad buzz: moderate, do not answer)",
    "spam_ended": "Spam/troll flood ended",
}


def escape_mrkdwn(text: object) -> str:
    """Slack's three control characters as entities (Slack's "escaping text" rule): nothing a
    user wrote can open a ``<...>`` mention, link or command."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_TEAMS_SPECIAL = str.maketrans({c: "\\" + c for c in "\\*_[]()`#>~-+!|"})


def escape_teams_markdown(text: object) -> str:
    r"""Adaptive Card TextBlocks render a Markdown subset: backslash-escape its markers so a
    post cannot inject ``[a link](http://evil)`` or bold text.

    >>> escape_teams_markdown("[click](http://evil) **now**")
    '\\[click\\]\\(http://evil\\) \\*\\*now\\*\\*'
    """
    return str(text).translate(_TEAMS_SPECIAL)


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, with an ellipsis when cut.

    >>> clip("abcdef", 4), clip("abc", 4)
    ('abc…', 'abc')
    """
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def rebase_url(url: str, base: str | None) -> str:
    """``url`` with its scheme/host/prefix replaced by ``base`` (the configured Grafana URL),
    keeping the path and query: the detector writes links with its own idea of Grafana's
    address, the deployment knows the real one (``$BUZZWATCH_GRAFANA_URL``)."""
    if not url or not base:
        return url
    parts = urlsplit(url)
    tail = parts.path + (f"?{parts.query}" if parts.query else "")
    return base.rstrip("/") + "/" + tail.lstrip("/")


def alert_page_url(base: str, alert_id: str) -> str:
    """The alert's page on the worker's web server.

    >>> alert_page_url("http://127.0.0.1:6066/", "Acme:2026-11-06T20:00:00Z")
    'http://127.0.0.1:6066/alerts/Acme%3A2026-11-06T20%3A00%3A00Z'
    """
    return f"{base.rstrip('/')}/alerts/{quote(alert_id, safe='')}"


def title_line(event: dict) -> str:
    title = EVENT_TITLES.get(event["event"], f"Bad buzz {event['event']}")
    extra = f" ({event['after_hours']:g} h)" if event.get("after_hours") is not None else ""
    return f"{title}{extra}: {event['brand']} [{str(event.get('severity', '')).upper()}]"


def why_line(event: dict) -> str:
    ev = event.get("evidence", {})
    if ev.get("why"):
        return str(ev["why"])
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


def _posts(event: dict) -> list[dict]:
    return list(event.get("evidence", {}).get("top_negative", []))[:POSTS_SHOWN]


def _post_line(p: dict, escape) -> str:
    text = clip(" ".join(str(p.get("text", "")).split()), POST_CHARS)
    who = clip(" ".join(str(p.get("author") or "?").split()), 80)
    return f"{escape(text)} ({escape(who)}, {int(p.get('followers') or 0):,} followers)"


def slack_payload(event: dict, *, page_url: str, grafana_url: str = "") -> dict:
    """Slack Block Kit message: header, fields, the worst posts quoted and escaped, the
    playbook, a button to the alert page; ``text`` is the notification fallback."""
    ev = event.get("evidence", {})
    header = clip(title_line(event), HEADER_LIMIT)
    fields = [
        ("Brand", event["brand"]),
        ("Severity", str(event.get("severity", "?"))),
        ("Onset", event.get("onset_at", "?")),
        ("Respond before", ev.get("response_deadline", "?")),
        ("Buzz score", event.get("score", "?")),
        ("Alert", event["alert_id"]),
    ]
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": False}},
        {"type": "section", "text": {"type": "mrkdwn", "text": clip("*Why:* " + escape_mrkdwn(why_line(event)), SECTION_LIMIT)},
         "fields": [{"type": "mrkdwn", "text": clip(f"*{k}*\n{escape_mrkdwn(v)}", FIELD_LIMIT)} for k, v in fields]},
    ]
    posts = _posts(event)
    if posts:
        quoted = "\n".join("> " + _post_line(p, escape_mrkdwn) for p in posts)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": clip("*Worst posts*\n" + quoted, SECTION_LIMIT)}})
    playbook = ev.get("playbook") or []
    if playbook:
        steps = "\n".join(f"{i}. {escape_mrkdwn(s)}" for i, s in enumerate(playbook, start=1))
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": clip("*Playbook*\n" + steps, SECTION_LIMIT)}})
    buttons = [{"type": "button", "text": {"type": "plain_text", "text": "Open alert"}, "url": page_url,
                "style": "danger" if event["event"] in ("deadline_missed", "reminder") else "primary",
                "action_id": "open_alert"}]
    if grafana_url:
        buttons.append({"type": "button", "text": {"type": "plain_text", "text": "Dashboard"}, "url": grafana_url,
                        "action_id": "open_dashboard"})
    blocks.append({"type": "actions", "elements": buttons})
    return {"text": escape_mrkdwn(header), "blocks": blocks}


def teams_payload(event: dict, *, page_url: str, grafana_url: str = "") -> dict:
    """A Microsoft Teams Adaptive Card, in the envelope Teams Workflows webhooks accept
    (``type: message`` with one adaptive-card attachment)."""
    ev = event.get("evidence", {})
    facts = [
        {"title": "Brand", "value": escape_teams_markdown(event["brand"])},
        {"title": "Severity", "value": escape_teams_markdown(event.get("severity", "?"))},
        {"title": "Onset", "value": escape_teams_markdown(event.get("onset_at", "?"))},
        {"title": "Respond before", "value": escape_teams_markdown(ev.get("response_deadline", "?"))},
        {"title": "Alert", "value": escape_teams_markdown(event["alert_id"])},
    ]
    body: list[dict] = [
        {"type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": True,
         "text": escape_teams_markdown(title_line(event)), "color": "Attention"},
        {"type": "TextBlock", "wrap": True, "text": escape_teams_markdown(why_line(event))},
        {"type": "FactSet", "facts": facts},
    ]
    for p in _posts(event):
        body.append({"type": "TextBlock", "wrap": True, "isSubtle": True, "text": _post_line(p, escape_teams_markdown)})
    for i, step in enumerate(ev.get("playbook") or [], start=1):
        body.append({"type": "TextBlock", "wrap": True, "spacing": "Small", "text": f"{i}\\. {escape_teams_markdown(step)}"})
    actions = [{"type": "Action.OpenUrl", "title": "Open alert", "url": page_url}]
    if grafana_url:
        actions.append({"type": "Action.OpenUrl", "title": "Dashboard", "url": grafana_url})
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "body": body, "actions": actions}
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]}


def alertmanager_alerts(event: dict, *, now_iso: str, page_url: str, grafana_url: str = "",
                        team: str = "", escalation_team: str = "", acknowledged: bool = False) -> list[dict]:
    """Alertmanager API v2 alerts for one event.

    Labels identify the episode (``alertname``, ``brand``, ``alert_id``, plus the brand's
    ``team``), never its severity: an escalation updates the same alert in place (severity is an
    annotation) instead of leaving a stale "warning" beside a new "critical". No ``endsAt`` while
    the episode is open (the sender re-posts it every minute; Alertmanager resolves it after its
    ``resolve_timeout`` only if the sender is gone); ``endsAt`` = now on resolve. A reminder past
    the escalation point or a missed deadline adds a second alert, ``BadBuzzUnanswered``, labelled
    with the escalation team, which Alertmanager can route to a second receiver.
    """
    ev = event.get("evidence", {})
    labels = {"alertname": "BadBuzz", "brand": event["brand"], "alert_id": event["alert_id"], "source": "buzzwatch"}
    if team:
        labels["team"] = team
    annotations = {
        "summary": title_line(event),
        "description": why_line(event),
        "severity": str(event.get("severity", "")),
        "event": event["event"],
        "onset_at": event.get("onset_at", ""),
        "detected_at": event.get("detected_at", ""),
        "response_deadline": str(ev.get("response_deadline", "")),
        "acknowledged": "yes" if acknowledged else "no",
        "worst_posts": "\n".join(f"- {clip(str(p.get('text', '')), POST_CHARS)} ({p.get('url') or 'no url'})"
                                 for p in _posts(event)),
        "playbook": "\n".join(f"- {step}" for step in ev.get("playbook", [])),
        "dashboard": grafana_url,
        "alert_page": page_url,
        "buzz_score": str(event.get("score", "")),
    }
    alert = {"labels": labels, "annotations": annotations,
             "startsAt": event.get("onset_at") or event["detected_at"], "generatorURL": page_url}
    if event["event"] == "resolved":
        alert["endsAt"] = now_iso
    out = [alert]
    if event.get("route") == "escalation" and event["event"] in ("reminder", "deadline_missed"):
        esc_labels = dict(labels, alertname="BadBuzzUnanswered")
        if escalation_team:
            esc_labels["team"] = escalation_team
        out.append({"labels": esc_labels, "annotations": dict(annotations), "startsAt": alert["startsAt"],
                    "generatorURL": page_url})
    return out
