"""Alert messages: hostile post texts never become mentions, links or markup; limits hold;
Alertmanager labels identify the episode; signatures verify the Standard Webhooks way."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re

import pytest

from buzzwatch.oncall.messages import alertmanager_alerts, slack_payload, teams_payload
from streams.sinks import Sink, sign_webhook, webhook_message_id

HOSTILE = [
    ("channel ping", "<!channel> Acme is a scam"),
    ("here ping", "<!here> look at this"),
    ("user mention", "<@U024BE7LH> says hi"),
    ("disguised link", "<http://evil.example|click here for a refund>"),
    ("ampersand", "Tom & Jerry & co &amp; friends"),
    ("bare angle brackets", "a < b > c"),
    ("markdown link", "[refund](http://evil.example) **now**"),
    ("very long post", "Acme " + "x" * 20_000 + " <!channel>"),
    ("many lines", "\n".join(["<!everyone> line"] * 500)),
]


def event(text: str, *, author: str = "bob", kind: str = "opened") -> dict:
    return {
        "alert_id": "Acme:2026-11-06T20:00:00Z", "brand": "Acme", "event": kind, "severity": "warning",
        "detected_at": "2026-11-06T20:07:00Z", "onset_at": "2026-11-06T20:00:00Z", "score": 4.2,
        "evidence": {
            "why": "61.0 mentions/min vs 6.5 expected", "observed_per_min": 61.0, "expected_per_min": 6.5,
            "top_negative": [{"text": text, "url": "https://x/1", "author": author, "followers": 90000}] * 3,
            "playbook": ["Acknowledge <publicly> & fast", "Move to DMs"],
            "response_deadline": "2026-11-07T20:00:00Z",
            "grafana_url": "http://127.0.0.1:3000/d/buzzwatch-brand?var-brand=Acme",
        },
    }


def slack_texts(payload: dict) -> list[str]:
    out = [payload["text"]]
    for block in payload["blocks"]:
        if "text" in block and block["type"] != "header":
            out.append(block["text"]["text"])
        out.extend(f["text"] for f in block.get("fields", []))
    return out


# Slack's control sequences are <...>; after escaping, the only '<' or '>' left would be ours (none).
@pytest.mark.parametrize("name,text", HOSTILE, ids=[n for n, _ in HOSTILE])
def test_slack_message_escapes_every_user_text(name, text):
    payload = slack_payload(event(text, author=text[:40]), page_url="http://page/alerts/x")
    for t in slack_texts(payload):
        unquoted = re.sub(r"(?m)^> ", "", t)  # our own blockquote markers are the only '>' allowed
        assert "<" not in unquoted and ">" not in unquoted, unquoted[:200]
        assert not re.search(r"&(?!amp;|lt;|gt;)", t), "a bare & would start an entity"
    posts = [b for b in payload["blocks"] if b["type"] == "section" and "Worst posts" in b["text"]["text"]]
    assert posts, "the worst posts are quoted"
    quoted = [line for line in posts[0]["text"]["text"].splitlines()[1:]]
    assert all(line.startswith("> ") and "<" not in line[2:] and ">" not in line[2:] for line in quoted)


@pytest.mark.parametrize("name,text", HOSTILE, ids=[n for n, _ in HOSTILE])
def test_slack_blocks_stay_within_limits(name, text):
    payload = slack_payload(event(text), page_url="http://page/alerts/x")
    for block in payload["blocks"]:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        elif block["type"] == "section":
            assert len(block["text"]["text"]) < 3000
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
            assert len(block.get("fields", [])) <= 10
    assert len(payload["blocks"]) <= 50


def test_slack_message_has_header_fields_and_a_button_to_the_alert_page():
    payload = slack_payload(event("Acme lost my parcel"), page_url="http://page/alerts/Acme%3At",
                            grafana_url="https://grafana.example/d/x")
    kinds = [b["type"] for b in payload["blocks"]]
    assert kinds[0] == "header" and "actions" in kinds
    fields = {f["text"].split("\n")[0] for b in payload["blocks"] for f in b.get("fields", [])}
    assert {"*Brand*", "*Severity*", "*Respond before*"} <= fields
    [actions] = [b for b in payload["blocks"] if b["type"] == "actions"]
    urls = [e["url"] for e in actions["elements"]]
    assert urls == ["http://page/alerts/Acme%3At", "https://grafana.example/d/x"]
    assert "&gt;" not in json.dumps(payload["blocks"][0])  # the header is plain text: no entities


@pytest.mark.parametrize("name,text", HOSTILE, ids=[n for n, _ in HOSTILE])
def test_teams_card_escapes_markdown_and_keeps_the_text(name, text):
    payload = teams_payload(event(text), page_url="http://page/alerts/x")
    [attachment] = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["actions"][0]["url"] == "http://page/alerts/x"
    for block in card["body"]:
        body = block.get("text", "")
        assert not re.search(r"(?<!\\)\[[^\]]*(?<!\\)\]\(", body), "no unescaped markdown link"


def test_alertmanager_labels_identify_the_episode_not_its_severity():
    warning = alertmanager_alerts(event("x"), now_iso="2026-11-06T21:00:00Z", page_url="p")
    critical = alertmanager_alerts(dict(event("x"), event="escalated", severity="critical"),
                                   now_iso="2026-11-06T21:00:00Z", page_url="p")
    assert warning[0]["labels"] == critical[0]["labels"]
    assert set(warning[0]["labels"]) == {"alertname", "brand", "alert_id", "source"}
    assert critical[0]["annotations"]["severity"] == "critical"
    assert "endsAt" not in warning[0], "open alerts are re-sent, not given an end"


def test_alertmanager_resolve_ends_now_not_at_the_deadline():
    [alert] = alertmanager_alerts(dict(event("x"), event="resolved"), now_iso="2026-11-06T21:30:05Z", page_url="p")
    assert alert["endsAt"] == "2026-11-06T21:30:05Z"


def test_escalated_reminder_adds_an_unanswered_alert_for_the_second_team():
    reminder = dict(event("x"), event="reminder", after_hours=20.0, route="escalation")
    alerts = alertmanager_alerts(reminder, now_iso="t", page_url="p", team="social", escalation_team="comms-lead")
    assert [(a["labels"]["alertname"], a["labels"]["team"]) for a in alerts] == [
        ("BadBuzz", "social"), ("BadBuzzUnanswered", "comms-lead")]


def test_grafana_link_honours_the_configured_grafana_url():
    sink = Sink("webhook", "http://hook", grafana_base="https://grafana.example/g")
    _, body, _ = sink.request(event("x"))
    assert "https://grafana.example/g/d/buzzwatch-brand?var-brand=Acme" in body.decode()
    assert "127.0.0.1:3000" not in body.decode()


@pytest.mark.parametrize("secret,key", [
    ("whsec_" + base64.b64encode(b"0123456789abcdef").decode(), b"0123456789abcdef"),
    ("plain-secret", b"plain-secret"),
])
def test_json_webhook_is_signed_the_standard_webhooks_way(secret, key):
    sink = Sink("json", "http://hook", secret=secret)
    ev = event("<!channel>")
    url, body, headers = sink.request(ev)
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == "v1," + expected
    assert headers["webhook-id"] == webhook_message_id(ev)  # stable: receivers dedupe redeliveries
    assert json.loads(body)["data"]["evidence"]["top_negative"][0]["text"] == "<!channel>"  # JSON: raw, not markup


def test_signature_changes_with_the_body():
    a = sign_webhook("s", "msg_1", 1, b"{}")["webhook-signature"]
    b = sign_webhook("s", "msg_1", 1, b"{ }")["webhook-signature"]
    assert a != b and a.startswith("v1,")


def test_resolving_ends_both_alertmanager_alerts():
    from buzzwatch.oncall.book import BrandOnCall, OnCallConfig

    sink = Sink("alertmanager", "http://am", oncall=OnCallConfig(BrandOnCall(team="social", escalation_team="lead")))
    _, body, _ = sink.request(dict(event("x"), event="resolved"))
    alerts = json.loads(body)
    assert [(a["labels"]["alertname"], a["labels"]["team"], "endsAt" in a) for a in alerts] == [
        ("BadBuzz", "social", True), ("BadBuzzUnanswered", "lead", True)]


def test_a_spam_report_says_it_is_not_a_bad_buzz_and_never_pages():
    from buzzwatch.oncall.messages import title_line

    flood = {"alert_id": "Acme:spam:1", "brand": "Acme", "event": "spam_flood", "severity": "watch", "evidence": {}}
    assert title_line(flood).startswith("Spam/troll flood (not a bad buzz")


@pytest.mark.parametrize("event, sinks", [
    ({"event": "spam_flood"}, {"webhook", "teams", "json"}),
    ({"event": "responded"}, set()),
    ({"event": "opened"}, {"alertmanager", "webhook", "teams", "json"}),
])
def test_which_sinks_get_which_events(event, sinks):
    from streams.sinks import Sink

    got = {name for name in ("alertmanager", "webhook", "teams", "json")
           if Sink(name, "http://hook", secret="s" if name == "json" else None).wants({"brand": "Acme", **event})}
    assert got == sinks
