"""The alert page's HTML, rendered from plain data: user text is escaped, the essentials show."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from buzzwatch.oncall.book import OnCallConfig, fold_event, merge_ack
from streams.alert_page import chart_svg, render_alert, render_index

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "\"'><b>bold</b>",
    "<!channel> & <http://evil|click>",
    "x" * 5000,
]


def entry_with(text: str, author: str = "bob"):
    event = {"alert_id": "Acme:2026-11-06T20:00:00Z", "brand": "Acme", "event": "opened", "severity": "warning",
             "onset_at": "2026-11-06T20:00:00Z", "detected_at": "2026-11-06T20:05:00Z", "score": 5.0,
             "evidence": {"why": f"why {text}", "observed_per_min": 60.0, "expected_per_min": 6.0, "negative_share": 0.8,
                          "top_negative": [{"text": text, "author": author, "followers": 10,
                                            "url": "javascript:alert(1)"}],
                          "emerging_terms": [{"term": text[:50], "lift": 9.0}],
                          "top_authors": [{"author": author, "followers": 10}], "duplicate_share": 0.25}}
    return fold_event({}, event, OnCallConfig())


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_user_text_is_escaped_everywhere(text):
    entry = entry_with(text, author=text[:60])
    ack = merge_ack(None, {"action": "ack", "by": text[:60], "at_ms": 0, "note": text})
    for html in (render_alert(entry, ack, 0, series=[], playbook=[text]),
                 render_index([entry], {entry["alert_id"]: ack}, 0)):
        parser = Tags()
        parser.feed(html)
        assert "script" not in parser.tags and "img" not in parser.tags
        assert not any(name.startswith("on") for name, _ in parser.attrs)
        assert "javascript:" not in html  # a post's link is shown only when it is http(s)


def test_alert_page_shows_time_left_why_posts_playbook_and_the_ack_form():
    entry = entry_with("Acme lost my parcel again")
    html = render_alert(entry, None, entry["deadline_ms"] - (5 * 60 + 12) * 60_000,
                        series=[[0, 1, 1, 0.1], [60_000, 2, 1, 0.2]], playbook=["Acknowledge publicly"])
    assert "5h12m left" in html and "Acme lost my parcel again" in html and "Acknowledge publicly" in html
    assert re.search(r"<form method=post action='/alerts/Acme%3A2026-11-06T20%3A00%3A00Z/ack'>", html)
    assert "<svg" in html and "25%" in html  # chart, duplicate share


def test_overdue_and_acknowledged_are_visible_in_the_index():
    entry = entry_with("x")
    ack = merge_ack(None, {"action": "ack", "by": "ana", "at_ms": 0})
    html = render_index([entry], {entry["alert_id"]: ack}, entry["deadline_ms"] + 61 * 60_000)
    assert "1h01m overdue" in html and "acknowledged" in html and "ana" in html


def test_chart_needs_two_points():
    assert "<svg" not in chart_svg([[0, 1, 1, None]])
    assert chart_svg([[0, 1, 1, None], [60_000, 3, 1, None]]).count("<polyline") == 2


def test_the_brands_public_answer_shows_on_the_page_escaped():
    from streams.alert_page import render_alert

    entry = {"alert_id": "Acme:1", "brand": "Acme", "status": "open", "onset_ms": 0, "deadline_ms": 86_400_000,
             "resolved_ms": None, "severity": "warning", "seen": ["opened", "responded"],
             "last": {"event": "opened", "severity": "warning", "evidence": {}, "detected_at": "1970-01-01T00:01:00Z"},
             "responded": {"at_ms": 1_800_000, "url": "javascript:alert(1)", "author": "AcmeSupport",
                           "text": "<script>x</script> Sorry, we are on it"}}
    html = render_alert(entry, None, 3_600_000, series=[], playbook=[], grafana_base="http://g", message="")
    assert "The brand answered publicly at 1970-01-01T00:30:00Z" in html
    assert "<script>x</script>" not in html and "javascript:" not in html
