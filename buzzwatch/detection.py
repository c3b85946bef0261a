"""The detection step the aggregate stage and the backtest call once per brand per closed interval.

``observe(config, state, summary) -> (new_state, assessment, events)``: state in, state out
(quix-streams style), JSON-serialisable and compact (it is the per-brand table value), never
mutated in place; deterministic in event time (the interval's end is the only clock). It ties
together the baseline (``baseline.py``), the signals and score (``detector.py``), the alert
lifecycle (``lifecycle.py``) and the evidence (``evidence.py``):

1. expectation for this interval from the seasonal baseline; window sums over a short ring
   of recent intervals;
2. buzz score and severity (quiet until ``warmup_minutes`` of history are learnt);
3. lifecycle transitions, each one a JSON event with its evidence;
4. learning, only from normal intervals: not while an episode is open, not when the interval
   is itself unusual (volume surprise >= ``learn_guard``), unless "unusual" has lasted
   ``relearn_minutes`` without an episode (a new normal); so the spike is never learnt.

>>> from buzzwatch.summary import MinuteSummary
>>> cfg = DetectionConfig.from_dict({"warmup_minutes": 60})
>>> state = initial_state()
>>> for i in range(180):
...     state, a, events = observe(cfg, state, MinuteSummary("acme", i * 60_000, 10, negative=1, neutral=9))
>>> round(a.expected_per_min, 1), a.severity, events
(10.0, 0, [])
>>> state, a, events = observe(cfg, state, MinuteSummary("acme", 180 * 60_000, 90, negative=80, neutral=10))
>>> a.severity >= 1, [e["event"] for e in events], events[0]["alert_id"]
(True, ['opened'], 'acme:1970-01-01T03:00:00Z')
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from urllib.parse import quote

from buzzwatch.baseline import Baseline, BaselineParams
from buzzwatch.detector import DetectorParams, Signals, Window, growth, window_signals
from buzzwatch.evidence import Evidence, TermBaseline, recent_posts
from buzzwatch.lifecycle import DEFAULT_PLAYBOOK, Lifecycle, LifecycleParams, make_event
from buzzwatch.mention import format_timestamp
from buzzwatch.summary import MinuteSummary

MINUTE_MS = 60_000


@dataclass(frozen=True)
class DetectionConfig:
    """All detection parameters, with documented defaults.

    In the TOML file, ``[detector]`` holds the keys of :class:`DetectorParams`,
    :class:`~buzzwatch.baseline.BaselineParams`, :class:`~buzzwatch.lifecycle.LifecycleParams`
    and the fields below (flat); ``[alerting]`` holds ``response_hours``, ``grafana_url`` and
    ``playbook`` (plus the delivery settings read by ``streams.settings``).
    """

    detector: DetectorParams = field(default_factory=DetectorParams)
    baseline: BaselineParams = field(default_factory=BaselineParams)
    lifecycle: LifecycleParams = field(default_factory=LifecycleParams)
    warmup_minutes: int = 1440  # no alert before a day of history (the daily cycle) is learnt
    onset_ratio: float = 1.5  # onset = start of the run of intervals above this x expected
    learn_guard: float = 3.0  # an interval whose best window volume surprise reaches this is not learnt ...
    relearn_minutes: int = 360  # ... unless it lasts this long without an episode (a new normal)
    response_hours: float = 24.0  # response deadline = onset + this
    grafana_url: str = "http://127.0.0.1:3000"
    playbook: tuple[str, ...] = DEFAULT_PLAYBOOK

    @classmethod
    def from_dict(cls, detector: dict | None = None, alerting: dict | None = None) -> "DetectionConfig":
        """From the TOML tables; an unknown key is a ``ValueError`` naming it and the known ones.

        >>> DetectionConfig.from_dict({"watch_score": 6, "warmup_minutes": 60}).detector.watch_score
        6
        >>> DetectionConfig.from_dict({"watch": 6})
        Traceback (most recent call last):
        ...
        ValueError: [detector]: unknown key(s) watch; known: ...
        """
        detector = dict(detector or {})
        alerting = dict(alerting or {})
        groups = {name: {f.name for f in fields(kind)}
                  for name, kind in (("detector", DetectorParams), ("baseline", BaselineParams),
                                     ("lifecycle", LifecycleParams))}
        own = {f.name for f in fields(cls)} - set(groups) - {"response_hours", "grafana_url", "playbook"}
        known = set().union(*groups.values()) | own
        unknown = set(detector) - known
        if unknown:
            raise ValueError(f"[detector]: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
        alert_keys = {"response_hours", "grafana_url", "playbook"}
        deployment = {"alertmanager_url", "webhook_url"}  # read by streams.settings
        unknown = set(alerting) - alert_keys - deployment
        if unknown:
            raise ValueError(f"[alerting]: unknown key(s) {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(sorted(alert_keys | deployment))}")

        def pick(group: str) -> dict:
            return {k: (tuple(v) if isinstance(v, list) else v) for k, v in detector.items() if k in groups[group]}

        kw = {k: v for k, v in detector.items() if k in own}
        for k in alert_keys & set(alerting):
            kw[k] = tuple(alerting[k]) if k == "playbook" else alerting[k]
        return cls(detector=DetectorParams(**pick("detector")), baseline=BaselineParams(**pick("baseline")),
                   lifecycle=LifecycleParams(**pick("lifecycle")), **kw)


@dataclass(frozen=True)
class Assessment:
    """What the metrics show for one closed interval (rates per minute)."""

    brand: str
    end_ms: int
    observed_per_min: float
    expected_per_min: float
    negative_share: float
    expected_negative_share: float
    score: float
    severity: int  # 0 none, 1 watch, 2 warning, 3 critical (the open episode's, if higher)
    reach: int = 0
    volume_surprise: float = 0.0
    window_minutes: float = 0.0
    growth: float = 1.0  # velocity: last 5 min / previous 5 min
    warm: bool = False
    alert_id: str | None = None


def initial_state() -> dict:
    """A brand's detection state before its first interval (JSON-serialisable)."""
    return {"b": Baseline.new().to_dict(), "r": [], "lc": Lifecycle.new().to_dict(), "ev": None, "rp": [],
            "tb": TermBaseline.new().to_dict(), "sk": False, "ux": 0}


# ring row: [start_ms, mentions, negative, scored, expected count, reach]
def _ring_size(config: DetectionConfig, minutes: float) -> int:
    return max(max(1, round(w / minutes)) for w in (*config.detector.windows_min, 10))


def _window_lengths(config: DetectionConfig, minutes: float) -> list[int]:
    """Distinct window lengths in intervals (1- and 5-minute windows coincide on 5-minute rows)."""
    out: list[int] = []
    for w in config.detector.windows_min:
        k = max(1, round(w / minutes))
        if k not in out:
            out.append(k)
    return out


def _sums(rows: list[list]) -> tuple[float, float, float, float, float]:
    c = e = n = s = r = 0.0
    for row in rows:
        c += row[1]
        n += row[2]
        s += row[3]
        e += row[4]
        r += row[5]
    return c, e, n, s, r


def _tail_sums(ring: list[list]) -> list[tuple[float, float, float, float, float]]:
    """``out[k]`` = sums over the last ``k`` rows (one pass over the ring)."""
    out = [(0.0, 0.0, 0.0, 0.0, 0.0)]
    c = e = n = s = r = 0.0
    for row in reversed(ring):
        c += row[1]
        n += row[2]
        s += row[3]
        e += row[4]
        r += row[5]
        out.append((c, e, n, s, r))
    return out


def _onset(ring: list[list], first: int, ratio: float) -> int:
    """Start of the run of intervals above ``ratio`` x expected that leads into the triggering window."""
    i = next((j for j in range(first, len(ring)) if ring[j][1] > ratio * ring[j][4] and ring[j][1] > 0), len(ring) - 1)
    while i > 0 and ring[i - 1][1] > ratio * ring[i - 1][4] and ring[i - 1][1] > 0:
        i -= 1
    return ring[i][0]


def observe(config: DetectionConfig, state: dict, summary: MinuteSummary) -> tuple[dict, Assessment, list[dict]]:
    """Run detection on one closed interval of one brand; see the module docstring."""
    p = config.detector
    base = Baseline.from_dict(state["b"])
    minutes = summary.length_ms / MINUTE_MS
    expected = base.expected_per_min(summary.start_ms) * minutes
    sentiment_known = bool(state["sk"]) or summary.scored > 0
    row = [summary.start_ms, summary.mentions, summary.negative, summary.scored, round(expected, 4), summary.reach]
    ring = ([list(r) for r in state["r"]] + [row])[-_ring_size(config, minutes):]
    warm = base.minutes >= config.warmup_minutes

    # -- signals over the windows ----------------------------------------------------------
    usual_share = base.negative_share(config.baseline.share_prior, config.baseline.share_prior_weight)
    windows: list[tuple[int, Window]] = []
    tail = _tail_sums(ring)
    for idx, k in enumerate(_window_lengths(config, minutes)):
        if k <= len(ring):
            c, e, n, s, r = tail[k]
            windows.append((idx, Window(k * minutes, c, e, n, s, r, base.dispersion(idx))))
    best, best_k, max_volume = Signals.none(), 1, 0.0
    if base.minutes > 0:
        for idx, w in windows:
            sig = window_signals(p, w, usual_share, sentiment_known, base.share_weight())
            max_volume = max(max_volume, sig.volume)
            if sig.score > best.score:
                best, best_k = sig, round(w.minutes / minutes)
    score = best.score if warm else 0.0
    k5 = max(1, round(5 / minutes))
    last5 = tail[min(k5, len(ring))]
    prev5 = tuple(a - b for a, b in zip(tail[2 * k5], last5)) if len(ring) >= 2 * k5 else last5
    velocity = growth(last5[0], prev5[0])
    fast = velocity >= p.growth_factor and last5[0] >= 10
    reach_boost = last5[4] >= p.reach_min and last5[4] >= p.reach_factor * base.reach * k5 * minutes
    severity = p.severity(score, reach_boost, fast) if warm else 0

    # -- lifecycle and evidence ------------------------------------------------------------
    life = Lifecycle.from_dict(state["lc"])
    onset = _onset(ring, len(ring) - best_k, config.onset_ratio) if severity and not life.open else summary.start_ms
    life, transitions = life.step(config.lifecycle, brand=summary.brand, severity=severity, score=score,
                                  end_ms=summary.end_ms, length_ms=summary.length_ms, onset_ms=onset)
    rp = recent_posts(state["rp"], summary)
    ev = Evidence.from_dict(state["ev"]) if state["ev"] else None
    if any(kind == "opened" for kind, _ in transitions):
        ev = Evidence.new(rp)
        for r in ring[-best_k:-1]:  # the triggering window's earlier intervals, counts only
            ev = Evidence(ev.mentions + r[1], ev.negative + r[2], ev.scored + r[3], ev.duplicates, ev.reach + r[5],
                          ev.posts, ev.terms, ev.authors)
    if ev is not None:
        ev = ev.add(summary)
    terms = TermBaseline.from_dict(state["tb"])
    events = []
    for kind, sev in transitions:
        episode = life.episode if life.episode else {**(Lifecycle.from_dict(state["lc"]).episode or {}), "sev": sev}
        events.append(make_event(kind, episode, brand=summary.brand, severity=sev, end_ms=summary.end_ms, score=score,
                                 evidence=_evidence(config, summary, ring, base, usual_share, best, velocity, ev, terms,
                                                    episode)))
    resolved = any(kind == "resolved" for kind, _ in transitions)
    if resolved:
        ev = None

    # -- learning, from normal intervals only ----------------------------------------------
    unusual = warm and max_volume >= config.learn_guard
    unusual_run = state["ux"] + summary.length_ms // MINUTE_MS if unusual else 0
    if unusual_run >= config.relearn_minutes:
        unusual, unusual_run = False, 0
    if resolved and summary.end_ms - (Lifecycle.from_dict(state["lc"]).episode or {}).get("start", summary.end_ms) \
            >= config.lifecycle.max_episode_minutes * MINUTE_MS:
        c, e, *_ = _sums(ring)
        base = base.rebase(c / (len(ring) * minutes), summary.start_ms)  # the episode was the new normal
    elif not life.open and not transitions and not unusual:
        base = base.learn(summary.start_ms, summary.length_ms, summary.mentions, summary.negative, summary.scored,
                          summary.reach, config.baseline)
        if base.minutes > config.warmup_minutes / 2:  # the noise level is learnt once the rhythm roughly is
            for idx, w in windows:
                base = base.learn_dispersion(idx, w.count, w.expected, minutes, config.baseline)
        terms = terms.learn(summary.terms, summary.mentions)
    new_state = {"b": base.to_dict(), "r": ring, "lc": life.to_dict(), "ev": ev.to_dict() if ev else None, "rp": rp,
                 "tb": terms.to_dict(), "sk": sentiment_known, "ux": unusual_run}
    assessment = Assessment(
        brand=summary.brand, end_ms=summary.end_ms,
        observed_per_min=summary.mentions / minutes, expected_per_min=expected / minutes,
        negative_share=summary.negative_share, expected_negative_share=usual_share,
        score=round(score, 3), severity=max(severity, life.episode["sev"] if life.episode else 0),
        reach=summary.reach, volume_surprise=round(best.volume, 3), window_minutes=best.window_minutes,
        growth=round(velocity, 3), warm=warm, alert_id=life.episode["id"] if life.episode else None,
    )
    return new_state, assessment, events


def _evidence(config: DetectionConfig, summary: MinuteSummary, ring: list[list], base: Baseline, usual_share: float,
              signals: Signals, velocity: float, ev: Evidence | None, terms: TermBaseline, episode: dict) -> dict:
    minutes = summary.length_ms / MINUTE_MS
    k = max(1, round(max(signals.window_minutes, 5) / minutes))
    c, e, n, s, r = _sums(ring[-k:])
    span = min(k, len(ring)) * minutes
    observed, expected = c / span, e / span
    share = n / s if s else None
    onset = episode["onset"]
    frm, to = onset - 3_600_000, summary.end_ms + 3_600_000
    why = (f"{observed:.1f} mentions/min vs {expected:.1f} expected "
           f"({observed / expected if expected else float('inf'):.1f}x) over {span:g} min")
    if share is not None:
        why += f"; negative share {share:.0%} vs usual {usual_share:.0%}"
    return {
        "why": why,
        "window_minutes": span,
        "observed_per_min": round(observed, 3),
        "expected_per_min": round(expected, 3),
        "negative_share": round(share, 4) if share is not None else None,
        "expected_negative_share": round(usual_share, 4) if s else None,
        "reach": int(r),
        "usual_reach": int(base.reach * span),
        "growth_5min": round(velocity, 2),
        "volume_surprise": round(signals.volume, 2),
        "negative_volume_surprise": round(signals.negative_volume, 2),
        "negative_shift_surprise": round(signals.negative_shift, 2),
        **(ev.report(terms) if ev else Evidence.new().report(terms)),
        "grafana_url": (f"{config.grafana_url.rstrip('/')}/d/buzzwatch-brand?var-brand={quote(summary.brand)}"
                        f"&from={frm}&to={to}"),
        "response_deadline": format_timestamp(onset + int(config.response_hours * 3_600_000)),
        "playbook": list(config.playbook),
    }
