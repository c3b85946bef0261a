"""The detector as on-call staff need it: alerts on an emerging bad buzz, quiet on the daily
peak, on a happy launch, on neutral news and during warm-up; one alert per episode."""

import copy

import orjson
import pytest

from buzzwatch.offline.counts import backtest_summaries
from buzzwatch.detection.step import DetectionConfig, initial_state, observe
from buzzwatch.stages.summary import MinuteSummary, TopPost
from buzzwatch.offline.simulate import _diurnal
from buzzwatch.timeutil import format_timestamp

T0 = 1_794_000_000_000 - 1_794_000_000_000 % 86_400_000  # midnight UTC
CFG = DetectionConfig()


def minute(i: int, count: float, neg_share: float = 0.15, pos_share: float = 0.35, brand: str = "acme",
           reach_per_mention: int = 100, terms=()) -> MinuteSummary:
    count = int(round(count))
    neg = int(round(count * neg_share))
    pos = min(count - neg, int(round(count * pos_share)))
    top = tuple(TopPost(f"{i}-{k}", f"angry post {k}", -0.8, T0 + i * 60_000, None, f"a{k}", 10 * k) for k in range(min(neg, 2)))
    return MinuteSummary(brand=brand, start_ms=T0 + i * 60_000, mentions=count, negative=neg, neutral=count - neg - pos,
                         positive=pos, compound_sum=0.3 * pos - 0.6 * neg, reach=count * reach_per_mention,
                         top_negative=top, terms=terms)


def usual(i: int, rate: float = 20.0) -> float:
    """The brand's usual rhythm: a daily cycle with an evening peak (deterministic)."""
    return rate * _diurnal(i % 1440)


def history(days: int = 3, rate: float = 20.0):
    return [minute(i, usual(i, rate)) for i in range(days * 1440)]


def run(summaries):
    return backtest_summaries(CFG, summaries)


def with_event(days: int, start: int, length: int, factor: float, neg_share: float, pos_share: float = 0.35, rate: float = 20.0):
    out = history(days, rate)
    for i in range(days * 1440, days * 1440 + start + length + 300):
        in_event = start <= i - days * 1440 < start + length
        ramp = min(1.0, (i - days * 1440 - start + 1) / 10) if in_event else 0.0
        f = 1 + (factor - 1) * ramp
        out.append(minute(i, usual(i, rate) * f, neg_share if in_event else 0.15,
                          pos_share if in_event else 0.35, terms=(("leak", int(usual(i, rate) * f * 0.5)),) if in_event else ()))
    return out


def test_daily_evening_peak_does_not_alert():
    assert run(history(days=7)) == []


def test_negative_ramp_opens_one_alert_then_escalates_then_resolves():
    events = run(with_event(days=3, start=600, length=90, factor=8.0, neg_share=0.7))
    kinds = [e["event"] for e in events]
    assert kinds[0] == "opened" and kinds[-1] == "resolved"
    assert kinds.count("opened") == 1
    assert len({e["alert_id"] for e in events}) == 1
    severities = [e["severity"] for e in events if e["event"] != "resolved"]
    assert severities == sorted(severities, key=["watch", "warning", "critical"].index)


def test_detection_comes_within_minutes_of_the_onset():
    events = run(with_event(days=3, start=600, length=90, factor=8.0, neg_share=0.7))
    opened = events[0]
    from buzzwatch.timeutil import parse_timestamp_ms

    onset = T0 + (3 * 1440 + 600) * 60_000
    assert parse_timestamp_ms(opened["detected_at"]) - onset <= 5 * 60_000
    assert abs(parse_timestamp_ms(opened["onset_at"]) - onset) <= 2 * 60_000


def test_positive_launch_spike_does_not_alert():
    assert run(with_event(days=3, start=600, length=120, factor=10.0, neg_share=0.05, pos_share=0.8)) == []


def test_neutral_news_spike_does_not_alert():
    assert run(with_event(days=3, start=600, length=120, factor=6.0, neg_share=0.15, pos_share=0.2)) == []


def test_low_volume_brand_burst_is_detected():
    events = run(with_event(days=3, start=600, length=60, factor=20.0, neg_share=0.8, rate=0.2))
    assert [e["event"] for e in events][:1] == ["opened"]


def test_quiet_during_warm_up():
    # a bad buzz in the first hours, before the brand's rhythm is known, is not alerted
    early = [minute(i, 20 if i < 120 else 200, 0.15 if i < 120 else 0.8) for i in range(300)]
    assert run(early) == []


def test_alert_carries_evidence_the_on_call_needs():
    opened = run(with_event(days=3, start=600, length=90, factor=8.0, neg_share=0.7))[0]
    ev = opened["evidence"]
    for key in ("alert_id", "brand", "event", "severity", "detected_at", "onset_at", "score"):
        assert key in opened
    assert ev["observed_per_min"] > ev["expected_per_min"]  # caught early, on the ramp
    assert ev["negative_share"] > ev["expected_negative_share"]
    assert ev["top_negative"] and ev["top_negative"][0]["text"].startswith("angry post")
    assert ev["playbook"] and "private messages" in " ".join(ev["playbook"])
    assert "buzzwatch-brand" in ev["grafana_url"] and "var-brand=acme" in ev["grafana_url"]
    assert ev["response_deadline"] > opened["onset_at"]
    assert opened["alert_id"] == f"acme:{opened['onset_at']}"


def test_evidence_grows_with_the_episode_and_names_the_emerging_terms():
    events = run(with_event(days=3, start=600, length=90, factor=8.0, neg_share=0.7))
    last = [e for e in events if e["event"] != "opened"][-1]["evidence"]
    assert {t["term"] for t in last["emerging_terms"]} == {"leak"}
    assert last["episode_mentions"] > events[0]["evidence"]["episode_mentions"]


def test_replaying_same_summaries_gives_same_alert_ids():
    summaries = with_event(days=3, start=600, length=90, factor=8.0, neg_share=0.7)
    assert run(summaries) == run(summaries)


def test_state_roundtrips_through_json_and_input_not_mutated():
    state = initial_state()
    for s in history(days=1)[:500]:
        given = state
        before = copy.deepcopy(given)
        state, _, _ = observe(CFG, given, s)
        assert given == before  # the state handed in is not mutated
    snapshot = copy.deepcopy(state)
    again = orjson.loads(orjson.dumps(state))
    s = minute(500, 30)
    assert observe(CFG, again, s)[0] == observe(CFG, state, s)[0]
    assert state == snapshot


def test_baseline_does_not_learn_the_spike():
    summaries = with_event(days=3, start=600, length=180, factor=8.0, neg_share=0.7)
    state = initial_state()
    levels = []
    for s in summaries:
        state, a, _ = observe(CFG, state, s)
        levels.append(a.expected_per_min)
    before_event = levels[3 * 1440 + 599]
    during = levels[3 * 1440 + 600: 3 * 1440 + 780]
    assert max(during) < 1.5 * max(levels[2 * 1440 + 590: 2 * 1440 + 800])
    assert before_event > 0


@pytest.mark.parametrize("key", ["watch", "windows"])
def test_unknown_detector_keys_are_refused(key):
    with pytest.raises(ValueError, match=key):
        DetectionConfig.from_dict({key: 1})


def waves(days: int, starts: list[int], length: int, factor: float, neg_share: float, rate: float = 20.0, tail: int = 300):
    """History, then bad-buzz waves (10-minute ramp, ``length`` minutes) starting at each of ``starts``."""
    out = history(days, rate)
    for i in range(days * 1440, days * 1440 + max(starts) + length + tail):
        m = i - days * 1440
        start = next((s for s in starts if s <= m < s + length), None)
        f = 1 + (factor - 1) * min(1.0, (m - start + 1) / 10) if start is not None else 1.0
        out.append(minute(i, usual(i, rate) * f, neg_share if start is not None else 0.15))
    return out


def test_a_second_wave_8_hours_later_is_a_new_alert():
    events = run(waves(days=3, starts=[600, 600 + 8 * 60], length=60, factor=7.0, neg_share=0.7))
    opened = [e for e in events if e["event"] == "opened"]
    assert len(opened) == 2
    assert len({e["alert_id"] for e in opened}) == 2
    assert [e["event"] for e in events].index("resolved") < [e["event"] for e in events].index("opened", 1)


def test_an_episode_resolves_within_an_hour_of_the_signal_back_to_normal():
    from buzzwatch.timeutil import parse_timestamp_ms

    events = run(waves(days=3, starts=[600], length=60, factor=7.0, neg_share=0.7))
    resolved = next(e for e in events if e["event"] == "resolved")
    end = T0 + (3 * 1440 + 660) * 60_000
    assert parse_timestamp_ms(resolved["detected_at"]) - end <= 60 * 60_000


@pytest.mark.parametrize("rate, factor, length, within", [
    (0.2, 10.0, 240, 120),  # a 0.2/min brand: evidence accumulates over a couple of hours
    (1.0, 5.0, 180, 45),
    (200.0, 3.0, 60, 10),  # a big brand: minutes
])
def test_sustained_negative_excess_is_caught_by_accumulated_evidence(rate, factor, length, within):
    from buzzwatch.timeutil import parse_timestamp_ms

    events = run(waves(days=3, starts=[600], length=length, factor=factor, neg_share=0.8, rate=rate))
    opened = [e for e in events if e["event"] == "opened"]
    assert opened, (rate, factor)
    onset = T0 + (3 * 1440 + 600) * 60_000
    assert parse_timestamp_ms(opened[0]["detected_at"]) - onset <= within * 60_000


def test_a_suspected_episode_is_not_learnt_even_if_it_never_alerts():
    # a small brand whose volume doubles for six hours at about the usual negative share: no
    # alert (not negative), but not the usual rhythm either: the expectation must not follow it
    rate = 0.5
    state = initial_state()
    for s in history(3, rate):
        state, a, _ = observe(CFG, state, s)
    ratios, opened = [], []
    for i in range(3 * 1440, 3 * 1440 + 360):
        state, a, events = observe(CFG, state, minute(i, usual(i, rate) * 2.5, 0.15))
        ratios.append(a.expected_per_min / usual(i, rate))
        opened += [e for e in events if e["event"] == "opened"]
    assert opened == []
    assert max(ratios) < 1.3


def test_a_state_written_by_the_previous_detector_version_is_carried_on():
    # the table values of running deployments: 6-column ring rows, no evidence sums, old lifecycle
    state = initial_state()
    for s in history(days=1)[:300]:
        state, _, _ = observe(CFG, state, s)
    old = {k: v for k, v in state.items() if k not in ("cu", "sp")}
    old["r"] = [r[:6] for r in old["r"]]
    old["lc"] = {"ep": None, "cd": None}
    new_state, a, _ = observe(CFG, old, minute(300, 30))
    assert a.expected_per_min > 0 and len(new_state["r"][0]) == 7 and "cu" in new_state


def counts(rows: list[int], every_min: int = 5) -> list[MinuteSummary]:
    """A count series without sentiment (a NAB-style file): one row per ``every_min`` minutes."""
    return [MinuteSummary(brand="acme", start_ms=T0 + i * every_min * 60_000, mentions=c, length_ms=every_min * 60_000)
            for i, c in enumerate(rows)]


def test_an_echo_muted_by_the_cooldown_does_not_open_an_alert_once_the_cooldown_is_over():
    # counts only: a spike opens and resolves; a second spike of the same size comes inside the
    # cooldown (muted: an echo); when the cooldown ends, the echo is still inside the hour-long
    # window, but traffic is back to normal: no alert may open on it
    from buzzwatch.timeutil import parse_timestamp_ms

    quiet = [10 + i % 3 for i in range(2 * 288)]
    first = quiet + [300] + [10 + i % 3 for i in range(24)]
    events = run(counts(first))
    resolved = next(e for e in events if e["event"] == "resolved")
    cooldown_end = parse_timestamp_ms(resolved["detected_at"]) + CFG.lifecycle.cooldown_minutes * 60_000
    echo_row = (cooldown_end - T0) // 300_000 - 6  # half an hour before the cooldown ends
    rows = quiet + [300] + [10 + i % 3 for i in range(echo_row - len(quiet) - 1)] + [300] + [10 + i % 3 for i in range(48)]
    events = run(counts(rows))
    assert [e["event"] for e in events] == ["opened", "resolved"]


def test_a_count_series_spike_opens_one_alert_at_the_spike():
    rows = [10 + i % 3 for i in range(2 * 288)] + [300] + [10 + i % 3 for i in range(48)]
    opened = [e for e in run(counts(rows)) if e["event"] == "opened"]
    assert [e["detected_at"] for e in opened] == [format_timestamp(T0 + (2 * 288 + 1) * 300_000)]


def three_spikes(first: int, echo: int, last: int) -> tuple[list[int], list[str]]:
    """Quiet 5-minute counts with a spike on day 3, an echo 3 days later and a last spike a day
    after that; and when the first and the last spike would be detected."""
    quiet = lambda n: [10 + i % 3 for i in range(n)]  # noqa: E731
    rows = quiet(2 * 288) + [first] + quiet(3 * 288) + [echo] + quiet(288) + [last] + quiet(48)
    at_first, at_last = 2 * 288 + 1, 2 * 288 + 1 + 3 * 288 + 1 + 288 + 1
    return rows, [format_timestamp(T0 + at_first * 300_000), format_timestamp(T0 + at_last * 300_000)]


def test_without_sentiment_a_spike_no_bigger_than_one_of_the_last_two_weeks_does_not_alert():
    # heavy-tailed counts: a spike that is rare for its hour but that the series reached a few
    # days ago (alerted or not) is not news; a bigger one is
    rows, first_and_bigger = three_spikes(300, 280, 400)
    assert [e["detected_at"] for e in run(counts(rows)) if e["event"] == "opened"] == first_and_bigger


def test_with_sentiment_no_record_is_needed_a_second_wave_of_the_same_size_alerts():
    events = run(waves(days=3, starts=[600, 600 + 8 * 60], length=60, factor=7.0, neg_share=0.7))
    assert [e["event"] for e in events].count("opened") == 2


def test_without_sentiment_a_day_long_rise_never_held_that_long_alerts_without_any_spike():
    # a count file whose volume triples for a day, no single interval above the spikes of the
    # last days: the mean rate over the last hours is what has never been this high; the same
    # spike day after day is not news, neither as a spike nor through the mean it lifts
    quiet = lambda n: [10 + i % 3 for i in range(n)]  # noqa: E731
    spikes = []
    for _ in range(3):
        spikes += quiet(287) + [200]
    rows = quiet(288) + spikes + [33 + i % 3 for i in range(288)]
    from buzzwatch.timeutil import parse_timestamp_ms

    start = T0 + (4 * 288) * 300_000
    opened = [parse_timestamp_ms(e["detected_at"]) for e in run(counts(rows)) if e["event"] == "opened"]
    assert len(opened) == 2 and opened[0] < start  # the first spike (a record then), then the rise,
    assert start < opened[1] <= start + 12 * 3_600_000  # within half a day (a mean over hours)
    off = backtest_summaries(DetectionConfig.from_dict({"sustained_minutes": 0}), counts(rows))
    assert [e for e in off if e["event"] == "opened" and parse_timestamp_ms(e["detected_at"]) > start] == []


@pytest.mark.parametrize("key, value", [("record_days", -1), ("record_days", 1.5), ("sustained_minutes", "6h")])
def test_volume_only_record_keys_are_whole_numbers(key, value):
    with pytest.raises(ValueError, match=key):
        DetectionConfig.from_dict({key: value})


def test_without_sentiment_a_spike_that_tops_the_record_by_counting_noise_only_does_not_alert():
    # a spike of 300 mentions is known to within sqrt(300) = 17: 310 a few days later is the
    # same spike again (record_margin = 1 s.d.), 330 is a bigger one
    rows, first_and_bigger = three_spikes(300, 310, 330)
    assert [e["detected_at"] for e in run(counts(rows)) if e["event"] == "opened"] == first_and_bigger
    any_amount = DetectionConfig.from_dict({"record_margin": 0.0})
    assert len([e for e in backtest_summaries(any_amount, counts(rows)) if e["event"] == "opened"]) == 3
