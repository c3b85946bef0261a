"""The response clock, as a specification: which reminders fire when, to which route, and that
event time alone decides (same lifecycle events and acks -> same clock events)."""

from __future__ import annotations

import pytest

from buzzwatch.oncall.deadline import due_events, replay_clock
from buzzwatch.timeutil import format_timestamp, parse_timestamp_ms
from buzzwatch.oncall.book import (
    HOUR_MS, BrandOnCall, OnCallConfig, OnCallError, fold_event, merge_ack, open_alerts, status_of,
)

T0 = 1_795_000_000_000 - 1_795_000_000_000 % 60_000
CFG = BrandOnCall(response_hours=24, reminder_hours=(1, 12, 20, 23), escalate_at_hours=20)


def opened(brand="Acme", onset=T0, detected_after_min=5):
    return {"alert_id": f"{brand}:{format_timestamp(onset)}", "brand": brand, "event": "opened", "severity": "warning",
            "onset_at": format_timestamp(onset), "detected_at": format_timestamp(onset + detected_after_min * 60_000),
            "score": 5.0, "evidence": {"why": "x"}}


def entry_for(event=None, config=OnCallConfig(CFG)):
    book = {}
    return fold_event(book, event or opened(), config)


def ack_at(hours):
    return merge_ack(None, {"action": "ack", "by": "ana", "at_ms": T0 + int(hours * HOUR_MS)})


def kinds(events):
    return [(e["event"], e["after_hours"], e["route"]) for e in events]


@pytest.mark.parametrize("now_h,ack,expected", [
    (0.5, None, []),
    (1.0, None, [("reminder", 1.0, "primary")]),  # due exactly at the point
    (12.5, None, [("reminder", 1.0, "primary"), ("reminder", 12.0, "primary")]),
    (21, None, [("reminder", 1.0, "primary"), ("reminder", 12.0, "primary"), ("reminder", 20.0, "escalation")]),
    (24, None, [("reminder", 1.0, "primary"), ("reminder", 12.0, "primary"), ("reminder", 20.0, "escalation"),
                ("reminder", 23.0, "escalation"), ("deadline_missed", 24.0, "escalation")]),
    (30, ack_at(0.5), []),  # acknowledged within the hour: silence
    (30, ack_at(1.0), []),  # acknowledged at the point itself counts as answered
    (30, ack_at(5), [("reminder", 1.0, "primary")]),  # only what fell due before the ack
    (30, ack_at(23.5), [("reminder", 1.0, "primary"), ("reminder", 12.0, "primary"), ("reminder", 20.0, "escalation"),
                        ("reminder", 23.0, "escalation")]),
])
def test_reminders_fire_at_their_points_until_someone_answers(now_h, ack, expected):
    assert kinds(due_events(entry_for(), ack, T0 + int(now_h * HOUR_MS), CFG)) == expected


def test_clock_events_carry_their_due_time_not_the_time_the_clock_noticed():
    late = due_events(entry_for(), None, T0 + 50 * HOUR_MS, CFG)
    assert [e["detected_at"] for e in late] == [format_timestamp(T0 + h * HOUR_MS) for h in (1, 12, 20, 23, 24)]


def test_a_point_already_read_back_is_not_due_again():
    config = OnCallConfig(CFG)
    book = {}
    fold_event(book, opened(), config)
    [first] = due_events(book[opened()["alert_id"]], None, T0 + HOUR_MS, CFG)
    entry = fold_event(book, first, config)
    assert due_events(entry, None, T0 + 2 * HOUR_MS, CFG) == []


def test_an_episode_the_detector_resolved_gets_no_later_reminders():
    config = OnCallConfig(CFG)
    book = {}
    fold_event(book, opened(), config)
    resolved = dict(opened(), event="resolved", detected_at=format_timestamp(T0 + 3 * HOUR_MS))
    entry = fold_event(book, resolved, config)
    assert kinds(due_events(entry, None, T0 + 30 * HOUR_MS, CFG)) == [("reminder", 1.0, "primary")]


def test_per_brand_settings_change_deadline_points_and_routes():
    config = OnCallConfig.from_dict({"oncall": {"team": "social", "escalation_team": "comms"},
                                     "brands": [{"name": "Fast", "response_hours": 3, "reminder_hours": [1, 2],
                                                 "escalate_at_hours": 2}]})
    entry = fold_event({}, opened("Fast"), config)
    assert entry["deadline_ms"] == T0 + 3 * HOUR_MS
    got = kinds(due_events(entry, None, T0 + 4 * HOUR_MS, config.for_brand("Fast")))
    assert got == [("reminder", 1.0, "primary"), ("reminder", 2.0, "escalation"), ("deadline_missed", 3.0, "escalation")]
    assert config.for_brand("Fast").team == "social" and config.for_brand("Other").reminder_hours == (1, 12, 20, 23)


def test_replay_gives_the_same_clock_however_the_ticks_fall():
    config = OnCallConfig(CFG)
    events = [opened(), opened("Lavéria", T0 + 2 * HOUR_MS)]
    acks = {events[1]["alert_id"]: merge_ack(None, {"action": "ack", "by": "bo", "at_ms": T0 + 4 * HOUR_MS})}
    minutes = [T0 + m * 60_000 for m in range(0, 30 * 60, 1)]
    hours = [T0 + h * HOUR_MS for h in range(0, 31)]
    every_minute = replay_clock(events, acks, config, minutes)
    every_hour = replay_clock(events, acks, config, hours)
    assert every_minute == every_hour
    assert [(e["brand"], e["event"], e.get("after_hours")) for e in every_minute] == [
        ("Acme", "opened", None), ("Acme", "reminder", 1.0), ("Lavéria", "opened", None), ("Lavéria", "reminder", 1.0),
        ("Acme", "reminder", 12.0), ("Acme", "reminder", 20.0), ("Acme", "reminder", 23.0), ("Acme", "deadline_missed", 24.0),
    ]


@pytest.mark.parametrize("bad,message", [
    ({"oncall": {"reminder_hours": [12, 1]}}, "increasing"),
    ({"oncall": {"response_hours": 0}}, "response_hours"),
    ({"oncall": {"remind": [1]}}, "unknown key"),
    ({"brands": [{"name": "A", "reminder_hours": "1h"}]}, "must be a list"),
])
def test_bad_oncall_settings_are_clear_errors(bad, message):
    with pytest.raises(OnCallError, match=message):
        OnCallConfig.from_dict(bad)


def test_open_alerts_leave_out_resolved_ones_and_sort_by_deadline():
    config = OnCallConfig(CFG)
    book = {}
    fold_event(book, opened("B", T0 + HOUR_MS), config)
    fold_event(book, opened("A", T0 + 2 * HOUR_MS), config)
    fold_event(book, opened("C", T0), config)
    acks = {opened("C", T0)["alert_id"]: merge_ack(None, {"action": "resolve", "by": "x", "at_ms": T0})}
    assert [e["brand"] for e in open_alerts(book, acks)] == ["B", "A"]
    assert status_of(book[opened("C", T0)["alert_id"]], acks[opened("C", T0)["alert_id"]]) == "resolved"


def test_backtest_with_the_clock_reminds_an_unanswered_episode_in_event_time(tmp_path):
    from buzzwatch.config import CoreConfig
    from streams.batch import run_backtest

    from .test_backtest import five_minute_series

    csv = tmp_path / "s.csv"
    csv.write_text(five_minute_series(spike_at=3 * 288))
    core = CoreConfig.from_dict({"detector": {"warmup_minutes": 360}, "oncall": {"reminder_hours": [0.5, 2]}})
    plain = run_backtest(core, str(csv), tmp_path / "a.jsonl", "counts", "nab")
    timed = run_backtest(core, str(csv), tmp_path / "b.jsonl", "counts", "nab", clock=True)
    assert [e for e in timed if e["event"] not in ("reminder", "deadline_missed")] == plain
    opened = next(e for e in plain if e["event"] == "opened")
    reminders = [e for e in timed if e["event"] == "reminder" and e["alert_id"] == opened["alert_id"]]
    assert reminders and reminders[0]["after_hours"] == 0.5
    assert reminders[0]["detected_at"] == format_timestamp(parse_timestamp_ms(opened["onset_at"]) + HOUR_MS // 2)


def test_the_brands_public_answer_stops_the_reminders_like_an_ack():
    from buzzwatch.oncall.deadline import due_events
    from buzzwatch.oncall.book import BrandOnCall, OnCallConfig, fold_event, status_of

    book: dict = {}
    opened = {"alert_id": "A:0", "brand": "A", "event": "opened", "severity": "warning",
              "onset_at": "1970-01-01T00:00:00Z", "detected_at": "1970-01-01T00:01:00Z", "evidence": {}}
    fold_event(book, opened, OnCallConfig())
    answer = {"alert_id": "A:0", "brand": "A", "event": "responded", "severity": "warning",
              "detected_at": "1970-01-01T00:31:00Z", "response": {"at": "1970-01-01T00:30:00Z", "url": "https://x"}}
    entry = fold_event(book, answer, OnCallConfig())
    assert status_of(entry, None) == "responded" and entry["responded"]["at_ms"] == 1_800_000
    assert due_events(entry, None, 30 * 3_600_000, BrandOnCall()) == []  # answered at 0:30, before the 1 h reminder


def test_a_spam_report_is_no_alert_to_answer_no_reminders():
    from buzzwatch.oncall.deadline import replay_clock
    from buzzwatch.oncall.book import OnCallConfig

    flood = {"alert_id": "A:spam:0", "brand": "A", "event": "spam_flood", "severity": "watch",
             "onset_at": "1970-01-01T00:00:00Z", "detected_at": "1970-01-01T00:01:00Z", "evidence": {}}
    assert [e["event"] for e in replay_clock([flood], {}, OnCallConfig(), [30 * 3_600_000])] == ["spam_flood"]
