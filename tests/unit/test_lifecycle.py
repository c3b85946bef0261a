"""Episodes: one alert per episode, escalations only upwards, hysteresis and cooldown."""

import pytest

from buzzwatch.detection.lifecycle import Lifecycle, LifecycleParams, alert_id, make_event

LP = LifecycleParams(resolve_score=2.0, resolve_minutes=3, cooldown_minutes=5, max_episode_minutes=60)


def run(steps):
    """steps: list of (severity, score), one per minute."""
    st, out = Lifecycle.new(), []
    for minute, (sev, score) in enumerate(steps):
        st, kinds = st.step(LP, brand="acme", severity=sev, score=score, end_ms=(minute + 1) * 60_000,
                            length_ms=60_000, onset_ms=minute * 60_000)
        out += [(minute, k, s) for k, s in kinds]
    return out, st


@pytest.mark.parametrize("name, steps, expected", [
    ("calm", [(0, 0.0)] * 10, []),
    ("open, escalate, resolve after 3 calm minutes",
     [(1, 6), (2, 10), (3, 20), (0, 1), (0, 1), (0, 1)],
     [(0, "opened", 1), (1, "escalated", 2), (2, "escalated", 3), (5, "resolved", 3)]),
    ("a dip and a return is not an escalation", [(2, 10), (1, 6), (2, 10), (0, 0), (0, 0), (0, 0)],
     [(0, "opened", 2), (5, "resolved", 2)]),
    ("hysteresis: a score hovering above resolve_score keeps the episode open",
     [(1, 6)] + [(0, 3.0)] * 6 + [(0, 0)] * 3, [(0, "opened", 1), (9, "resolved", 1)]),
    ("cooldown: no new episode right after one resolved",
     [(1, 6), (0, 0), (0, 0), (0, 0), (1, 6), (1, 6), (0, 0)], [(0, "opened", 1), (3, "resolved", 1)]),
    ("after the cooldown a new episode opens",
     [(1, 6), (0, 0), (0, 0), (0, 0)] + [(0, 0)] * 5 + [(1, 6)],
     [(0, "opened", 1), (3, "resolved", 1), (9, "opened", 1)]),
    ("a rise above the resolved severity opens at once, even within the cooldown",
     [(1, 6), (0, 0), (0, 0), (0, 0), (2, 10)], [(0, "opened", 1), (3, "resolved", 1), (4, "opened", 2)]),
    ("a repeat below the resolved severity is muted by the cooldown",
     [(3, 20), (0, 0), (0, 0), (0, 0), (2, 10), (1, 6)], [(0, "opened", 3), (3, "resolved", 3)]),
    ("severity can rise at any time within an episode",
     [(1, 6)] + [(1, 6)] * 20 + [(3, 20)], [(0, "opened", 1), (21, "escalated", 3)]),
])
def test_lifecycle_table(name, steps, expected):
    assert run(steps)[0] == expected, name


def test_an_endless_episode_is_resolved_after_max_episode_minutes():
    out, st = run([(2, 10)] * 61)
    assert [k for _, k, _ in out] == ["opened", "resolved"]
    assert out[-1][0] == 59


def test_alert_id_is_deterministic_from_brand_and_onset_minute():
    assert alert_id("acme", 1_795_000_000_000) == alert_id("acme", 1_795_000_000_000) == "acme:2026-11-18T11:06:40Z"
    assert alert_id("acme", 0) != alert_id("other", 0)


def test_event_record_shape():
    e = make_event("opened", {"id": "acme:x", "onset": 0}, brand="acme", severity=2, end_ms=120_000, score=9.5,
                   evidence={"k": 1})
    assert e == {"alert_id": "acme:x", "brand": "acme", "event": "opened", "severity": "warning",
                 "detected_at": "1970-01-01T00:02:00Z", "onset_at": "1970-01-01T00:00:00Z", "score": 9.5,
                 "evidence": {"k": 1}}


def test_state_roundtrips():
    _, st = run([(1, 6), (2, 10)])
    assert Lifecycle.from_dict(st.to_dict()) == st


def test_the_caller_decides_what_calm_means():
    st, out = Lifecycle.new(), []
    for minute, (sev, calm) in enumerate([(1, False), (0, False), (0, True), (0, True), (0, True)]):
        st, kinds = st.step(LP, brand="acme", severity=sev, score=0.0, end_ms=(minute + 1) * 60_000,
                            length_ms=60_000, onset_ms=0, calm=calm)
        out += [(minute, k) for k, _ in kinds]
    assert out == [(0, "opened"), (4, "resolved")]


def test_a_state_from_before_the_severity_aware_cooldown_mutes_everything_in_its_cooldown():
    old = Lifecycle.from_dict({"ep": None, "cd": 600_000})
    assert old.cooldown_severity == 3
