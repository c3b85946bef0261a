"""The detection step the aggregate stage and the backtest call once per brand per closed interval.

``observe(config, state, summary) -> (new_state, assessment, events)``: state in, state out
(quix-streams style), JSON-serialisable, never mutated in place; deterministic in event time
(the interval's end is the only clock). It ties together the baseline (``baseline.py``), the
signals and score (``detector.py``), the evidence (``evidence.py``) and the alert lifecycle:

* **opened** when a warmed-up brand reaches severity *watch* or more, outside a cooldown;
* **escalated** each time the episode's severity rises;
* **resolved** after ``resolve_minutes`` of calm (score below ``resolve_score``), or after
  ``max_episode_minutes`` (a lasting level shift becomes the new normal);
* then ``cooldown_minutes`` without a new episode: one alert per episode, never a flood.

``alert_id`` is ``"<brand>:<onset ISO>"``: the same episode found again (replay, redelivery)
has the same id, so notification is idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from buzzwatch.baseline import Baseline
from buzzwatch.detector import SEVERITIES, DetectorParams, WindowStats, best_signals
from buzzwatch.evidence import Evidence, TermBaseline
from buzzwatch.mention import format_timestamp
from buzzwatch.summary import MinuteSummary

DEFAULT_PLAYBOOK = (
    "Acknowledge publicly and fast (within the hour): you have seen it and you are on it.",
    "Move each angry customer to private messages to solve their case.",
    "Do not delete legitimate criticism; remove only insults, spam and trolls.",
    "Have leadership speak publicly if it grows; keep one voice and one message.",
)
RING = 15  # intervals kept for the windows (the longest window, in intervals)


@dataclass(frozen=True)
class DetectionConfig:
    """All detection parameters ([detector] and [alerting] in the TOML), documented defaults."""

    params: DetectorParams = field(default_factory=DetectorParams)
    warmup_minutes: int = 360  # no alert before this much history has been learnt
    resolve_score: float = 2.0
    resolve_minutes: int = 120  # calm this long resolves the episode
    cooldown_minutes: int = 1440  # then no new episode for a day (the response window)
    max_episode_minutes: int = 24 * 60
    onset_ratio: float = 1.5  # onset = start of the run of intervals above this x expected
    learn_guard: float = 3.0  # an interval whose volume surprise reaches this is not learnt ...
    relearn_minutes: int = 360  # ... unless it lasts this long without an episode (a new normal)
    response_hours: float = 24.0
    grafana_url: str = "http://127.0.0.1:3000"
    playbook: tuple[str, ...] = DEFAULT_PLAYBOOK

    @classmethod
    def from_dict(cls, detector: dict | None = None, alerting: dict | None = None) -> "DetectionConfig":
        detector = dict(detector or {})
        alerting = dict(alerting or {})
        param_names = {f.name for f in fields(DetectorParams)}
        own = {"warmup_minutes", "resolve_score", "resolve_minutes", "cooldown_minutes", "max_episode_minutes",
               "onset_ratio", "learn_guard", "relearn_minutes"}
        unknown = set(detector) - param_names - own
        if unknown:
            raise ValueError(f"[detector]: unknown key(s) {', '.join(sorted(unknown))}")
        p = {k: (tuple(v) if isinstance(v, list) else v) for k, v in detector.items() if k in param_names}
        kw = {k: v for k, v in detector.items() if k in own}
        alert_keys = {"response_hours", "grafana_url", "playbook"}
        deployment = {"alertmanager_url", "webhook_url"}  # read by streams.settings
        unknown = set(alerting) - alert_keys - deployment
        if unknown:
            raise ValueError(f"[alerting]: unknown key(s) {', '.join(sorted(unknown))}")
        for k in alert_keys & set(alerting):
            kw[k] = tuple(alerting[k]) if k == "playbook" else alerting[k]
        return cls(params=DetectorParams(**p), **kw)


@dataclass(frozen=True)
class Assessment:
    """What the metrics show for one closed interval."""

    brand: str
    end_ms: int
    observed_per_min: float
    expected_per_min: float
    negative_share: float
    expected_negative_share: float
    score: float
    severity: int
    reach: int = 0


def initial_state() -> dict:
    return {"b": Baseline.new().to_dict(), "w": [], "ep": None, "cd": None, "tb": TermBaseline.new().to_dict(),
            "rb": 0.0, "sk": False, "ux": 0}


def _windows(ring: list[list], minutes_per_interval: float, windows_min) -> list[WindowStats]:
    out = []
    seen = set()
    for w in windows_min:
        k = max(1, round(w / minutes_per_interval))
        if k in seen or k > len(ring):
            continue
        seen.add(k)
        rows = ring[-k:]
        out.append(WindowStats(
            minutes=k * minutes_per_interval,
            count=sum(r[1] for r in rows), expected=sum(r[4] for r in rows),
            negative=sum(r[2] for r in rows), scored=sum(r[3] for r in rows), reach=sum(r[5] for r in rows),
        ))
    return out


def _onset(ring: list[list], ratio: float) -> int:
    """Start of the run of intervals above ``ratio`` x expected that ends now."""
    onset = ring[-1][0]
    for row in reversed(ring):
        if row[1] > ratio * row[4] and row[1] > 0:
            onset = row[0]
        else:
            break
    return onset


def observe(config: DetectionConfig, state: dict, summary: MinuteSummary) -> tuple[dict, Assessment, list[dict]]:
    p = config.params
    base = Baseline.from_dict(state["b"])
    minutes = summary.length_ms / 60_000
    expected_count = base.expected_per_min(summary.start_ms) * minutes
    sentiment_known = bool(state.get("sk")) or summary.scored > 0
    ring = [list(r) for r in state["w"]] + [[summary.start_ms, summary.mentions, summary.negative, summary.scored,
                                              expected_count, summary.reach]]
    ring = ring[-RING:]
    warm = base.n * minutes >= config.warmup_minutes
    usual_share = base.negative_share()
    signals = best_signals(p, _windows(ring, minutes, p.windows_min), usual_share, base.dispersion, sentiment_known) if warm else None
    score = signals.score if signals else 0.0
    usual_reach = state.get("rb", 0.0)
    window_reach = sum(r[5] for r in ring[-max(1, round(5 / minutes)):])
    reach_boost = window_reach >= p.reach_min and window_reach >= p.reach_factor * usual_reach * max(1, round(5 / minutes))
    severity = p.severity(score, reach_boost) if warm else 0
    end = summary.end_ms

    episode = dict(state["ep"]) if state["ep"] else None
    cooldown = state["cd"]
    events: list[dict] = []
    if episode is None:
        if severity >= 1 and (cooldown is None or end >= cooldown):
            onset = _onset(ring, config.onset_ratio)
            episode = {"id": f"{summary.brand}:{format_timestamp(onset)}", "onset": onset, "sev": severity,
                       "calm": 0, "start": summary.start_ms, "ev": Evidence.new().to_dict()}
            episode["ev"] = Evidence.from_dict(episode["ev"]).add(summary).to_dict()
            events.append(_event(config, "opened", episode, summary, signals, base, ring, state, severity))
    else:
        episode["ev"] = Evidence.from_dict(episode["ev"]).add(summary).to_dict()
        if severity > episode["sev"]:
            episode["sev"] = severity
            episode["calm"] = 0
            events.append(_event(config, "escalated", episode, summary, signals, base, ring, state, severity))
        elif score < config.resolve_score:
            episode["calm"] += 1
        else:
            episode["calm"] = 0
        too_long = end - episode["start"] >= config.max_episode_minutes * 60_000
        if episode["calm"] * minutes >= config.resolve_minutes or too_long:
            events.append(_event(config, "resolved", episode, summary, signals, base, ring, state, episode["sev"]))
            episode = None
            cooldown = end + config.cooldown_minutes * 60_000

    terms = TermBaseline.from_dict(state["tb"])
    rb = usual_reach
    unusual = signals is not None and signals.volume_surprise >= config.learn_guard
    unusual_run = state.get("ux", 0) + 1 if unusual else 0
    if unusual_run * minutes >= config.relearn_minutes:
        unusual, unusual_run = False, 0
    if episode is None and not events and not unusual:
        # learn only from normal intervals: the spike never becomes the baseline
        base = base.update(summary.start_ms, summary.length_ms, summary.mentions, summary.negative, summary.scored)
        if summary.terms or summary.mentions:
            terms = terms.learn(summary.terms, summary.mentions)
        rb = 0.99 * usual_reach + 0.01 * summary.reach if usual_reach else float(summary.reach)
    new_state = {"b": base.to_dict(), "w": ring, "ep": episode, "cd": cooldown, "tb": terms.to_dict(), "rb": rb,
                 "sk": sentiment_known, "ux": unusual_run}
    assessment = Assessment(
        brand=summary.brand, end_ms=end,
        observed_per_min=summary.mentions / minutes, expected_per_min=expected_count / minutes,
        negative_share=summary.negative_share, expected_negative_share=usual_share,
        score=round(score, 3), severity=max(severity, episode["sev"] if episode else 0), reach=summary.reach,
    )
    return new_state, assessment, events


def _event(config: DetectionConfig, kind: str, episode: dict, summary: MinuteSummary, signals, base: Baseline,
           ring: list[list], state: dict, severity: int) -> dict:
    minutes = summary.length_ms / 60_000
    k = max(1, round(5 / minutes))
    recent = ring[-k:]
    span = len(recent) * minutes
    observed = sum(r[1] for r in recent) / span
    expected = sum(r[4] for r in recent) / span
    neg = sum(r[2] for r in recent)
    scored = sum(r[3] for r in recent)
    ev = Evidence.from_dict(episode["ev"])
    terms = TermBaseline.from_dict(state["tb"])
    onset = episode["onset"]
    frm, to = onset - 3_600_000, summary.end_ms + 3_600_000
    return {
        "alert_id": episode["id"],
        "brand": summary.brand,
        "event": kind,
        "severity": SEVERITIES[max(severity, 1)],
        "detected_at": format_timestamp(summary.end_ms),
        "onset_at": format_timestamp(onset),
        "score": round(signals.score if signals else 0.0, 3),
        "evidence": {
            "why": (f"{observed:.1f} mentions/min vs {expected:.1f} expected "
                    f"({observed / expected if expected else float('inf'):.1f}x); negative share "
                    f"{(neg / scored if scored else 0):.0%} vs usual {base.negative_share():.0%}"),
            "observed_per_min": round(observed, 2),
            "expected_per_min": round(expected, 2),
            "negative_share": round(neg / scored, 4) if scored else None,
            "expected_negative_share": round(base.negative_share(), 4),
            "reach": int(sum(r[5] for r in recent)),
            "episode_mentions": ev.mentions,
            "episode_reach": ev.reach,
            "volume_surprise": round(signals.volume_surprise, 2) if signals else None,
            "negative_surprise": round(signals.negative_surprise, 2) if signals else None,
            "share_surprise": round(signals.share_surprise, 2) if signals else None,
            "window_minutes": signals.window_min if signals else None,
            "top_negative": list(ev.posts),
            "emerging_terms": [{"term": t, "lift": lift} for t, lift in ev.emerging(terms)],
            "top_authors": [{"author": a, "followers": f} for a, f in ev.authors.items()],
            "duplicate_share": round(ev.duplicates / ev.mentions, 4) if ev.mentions else 0.0,
            "grafana_url": (f"{config.grafana_url.rstrip('/')}/d/buzzwatch-brand?var-brand={summary.brand}"
                            f"&from={frm}&to={to}"),
            "response_deadline": format_timestamp(onset + int(config.response_hours * 3_600_000)),
            "playbook": list(config.playbook),
        },
    }
