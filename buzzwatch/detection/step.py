"""The detection step the aggregate stage and the backtest call once per brand per closed interval.

``observe(config, state, summary) -> (new_state, assessment, events)``: state in, state out
(quix-streams style), JSON-serialisable and compact (it is the per-brand table value, ~3-4 KB),
never mutated in place; deterministic in event time (the interval's end is the only clock). It
ties together the spam split (``spam.py``), the baseline (``baseline.py``), the sequential
evidence (``sequential.py``), the alert lifecycle (``lifecycle.py``) and the evidence
(``evidence.py``):

1. people, not posts: repeated posts by the same authors and copy-paste campaigns are taken
   out of the counts (``spam.split``) and reported on their own as ``spam_flood`` /
   ``spam_ended`` events naming the accounts, never as a bad buzz;
2. expectation for this interval from the seasonal baseline;
3. sequential evidence: CUSUMs of the negative-volume and negative-share likelihood ratios,
   so a ramp is caught when the evidence accumulated since it started crosses the bar (hours
   at 0.1 mention/min, minutes at 100/min); the buzz score is that evidence in log10 units
   (without sentiment, counts files: volume only, scaled down, and only when the volume tops
   what the series reached in its last ``record_days``: ``peaks.py``);
   quiet until ``warmup_minutes`` of history are learnt;
4. lifecycle transitions, each one a JSON event with its evidence; an episode resolves once
   the evidence of usual traffic is back (``resolve_score``) for ``resolve_minutes``; the
   evidence then starts afresh, so a new wave is a new alert as soon as it crosses the bar;
5. learning, only from normal intervals: not while an episode is open, and not while the
   volume or negative evidence is building up (>= ``learn_guard``), alerted or not, unless
   that lasts ``relearn_minutes`` (a new normal); so a spike is never learnt.

>>> from buzzwatch.stages.summary import MinuteSummary
>>> cfg = DetectionConfig.from_dict({"warmup_minutes": 60})
>>> state = initial_state()
>>> for i in range(180):
...     state, a, events = observe(cfg, state, MinuteSummary("acme", i * 60_000, 10, negative=1, neutral=9))
>>> round(a.expected_per_min, 1), a.severity, events
(10.0, 0, [])
>>> for i in range(180, 190):  # a surge of negative mentions: alerted within a few minutes
...     state, a, events = observe(cfg, state, MinuteSummary("acme", i * 60_000, 90, negative=80, neutral=10))
...     if events:
...         break
>>> i - 180, a.severity >= 1, [e["event"] for e in events], events[0]["alert_id"]
(4, True, ['opened'], 'acme:1970-01-01T03:00:00Z')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from urllib.parse import quote

from buzzwatch.detection.baseline import Baseline, BaselineParams
from buzzwatch.detection.score import DetectorParams, Window, growth, window_signals
from buzzwatch.detection.evidence import Evidence, TermBaseline, recent_posts
from buzzwatch.detection.peaks import VolumePeaks
from buzzwatch.detection.rounding import round_to
from buzzwatch.detection.lifecycle import DEFAULT_PLAYBOOK, Lifecycle, LifecycleParams, make_event
from buzzwatch.timeutil import MINUTE_MS, format_timestamp
from buzzwatch.detection.sequential import LN10, Cusums, step_llr
from buzzwatch.detection.spam import SpamEpisode, SpamParams, Split, organic, split
from buzzwatch.stages.summary import MinuteSummary


@dataclass(frozen=True)
class DetectionConfig:
    """All detection parameters, with documented defaults.

    In the TOML file, ``[detector]`` holds the keys of :class:`DetectorParams`,
    :class:`~buzzwatch.detection.baseline.BaselineParams`, :class:`~buzzwatch.detection.lifecycle.LifecycleParams`
    and the fields below (flat); ``[alerting]`` holds ``response_hours``, ``grafana_url`` and
    ``playbook`` (plus the delivery settings read by ``streams.settings``).
    """

    detector: DetectorParams = field(default_factory=DetectorParams)
    baseline: BaselineParams = field(default_factory=BaselineParams)
    lifecycle: LifecycleParams = field(default_factory=LifecycleParams)
    spam: SpamParams = field(default_factory=SpamParams)
    warmup_minutes: int = 1440  # no alert before a day of history (the daily cycle) is learnt
    learn_guard: float = 3.0  # an interval is not learnt while the volume or negative evidence is >= this (log10) ...
    relearn_minutes: int = 360  # ... unless it lasts this long (a new normal)
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
        >>> DetectionConfig.from_dict({"record_days": 1.5})
        Traceback (most recent call last):
        ...
        ValueError: [detector]: record_days must be a whole number >= 0 (0: off), got 1.5
        """
        detector = dict(detector or {})
        alerting = dict(alerting or {})
        groups = {name: {f.name for f in fields(kind)}
                  for name, kind in (("detector", DetectorParams), ("baseline", BaselineParams),
                                     ("lifecycle", LifecycleParams), ("spam", SpamParams))}
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
        for key in ("record_days", "sustained_minutes"):
            n = detector.get(key, 0)
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise ValueError(f"[detector]: {key} must be a whole number >= 0 (0: off), got {n!r}")
        return cls(detector=DetectorParams(**pick("detector")), baseline=BaselineParams(**pick("baseline")),
                   lifecycle=LifecycleParams(**pick("lifecycle")), spam=SpamParams(**pick("spam")), **kw)


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
    spam: int = 0  # posts left out of the counts as spam/troll (``spam.py``)


@dataclass
class DetectorState:
    """One brand's detection state, typed (what ``observe`` reads and writes); stored as the
    compact JSON of :meth:`to_dict` inside the brand's index (a few KB)."""

    baseline: Baseline
    ring: list[list]  # the last hour of intervals, rows as RING_COLUMNS (organic counts: people)
    lifecycle: Lifecycle
    evidence: Evidence | None  # of the open episode
    recent_posts: list[dict]  # the worst recent posts, kept for a new episode's evidence
    terms: TermBaseline
    sentiment_known: bool  # any interval had scored mentions (False for count files)
    unusual_run: int  # minutes the evidence has been building up without an alert
    cusums: Cusums
    spam: dict | None  # the running spam/troll episode (SpamEpisode dict)
    peaks: VolumePeaks = field(default_factory=VolumePeaks)  # daily highest rates (kept without sentiment only)
    mean_rate: float = 0.0  # mentions/min, EW over ``sustained_minutes`` (kept without sentiment only)

    @classmethod
    def new(cls) -> "DetectorState":
        return cls(Baseline.new(), [], Lifecycle.new(), None, [], TermBaseline.new(), False, 0, Cusums(), None)

    @classmethod
    def from_dict(cls, d: dict) -> "DetectorState":
        return cls(
            # ring rows are never changed in place (each interval makes a new ring)
            baseline=Baseline.from_dict(d["b"]), ring=d["r"], lifecycle=Lifecycle.from_dict(d["lc"]),
            evidence=Evidence.from_dict(d["ev"]) if d["ev"] else None, recent_posts=d["rp"],
            terms=TermBaseline.from_dict(d["tb"]), sentiment_known=bool(d["sk"]), unusual_run=d["ux"],
            cusums=Cusums.from_list(d.get("cu")), spam=d.get("sp"), peaks=VolumePeaks.from_list(d.get("pk")),
            mean_rate=d.get("mr", 0.0),
        )

    def to_dict(self) -> dict:
        return {"b": self.baseline.to_dict(), "r": self.ring, "lc": self.lifecycle.to_dict(),
                "ev": self.evidence.to_dict() if self.evidence else None, "rp": self.recent_posts,
                "tb": self.terms.to_dict(), "sk": self.sentiment_known, "ux": self.unusual_run,
                "cu": self.cusums.to_list(), "sp": self.spam, "pk": self.peaks.to_list(), "mr": round_to(self.mean_rate, 4)}


def initial_state() -> dict:
    """A brand's detection state before its first interval (JSON-serialisable)."""
    return DetectorState.new().to_dict()


# ring row: [start_ms, mentions, negative, scored, expected count, reach, spam] (organic counts: people)
RING_COLUMNS = ("start_ms", "mentions", "negative", "scored", "expected", "reach", "spam")
R_START, R_MENTIONS, R_NEGATIVE, R_SCORED, R_EXPECTED, R_REACH, R_SPAM = range(len(RING_COLUMNS))
RING_MINUTES = 60


def _ring_size(minutes: float) -> int:
    return max(1, round(RING_MINUTES / minutes))


def _sums(rows: list[list]) -> tuple[float, float, float, float, float]:
    """(mentions, expected, negative, scored, reach) summed over ring rows."""
    c = e = n = s = r = 0.0
    for row in rows:
        c += row[R_MENTIONS]
        n += row[R_NEGATIVE]
        s += row[R_SCORED]
        e += row[R_EXPECTED]
        r += row[R_REACH]
    return c, e, n, s, r


def _last(ring: list[list], k: int, col: int) -> float:
    if k <= 0:
        return 0.0
    total = 0  # summed in ring order, as sum() would
    for r in ring[-k:]:
        total += r[col]
    return total


@dataclass(slots=True)  # private to one observe call: not frozen (a frozen init costs a call per field)
class _Interval:
    """This interval as the detector counts it: people, not posts, against the expectation."""

    summary: MinuteSummary
    minutes: float
    expected: float
    org: Split
    reach: int
    ring: list[list]  # the state's ring with this interval appended
    warm: bool
    sentiment_known: bool
    usual_share: float


@dataclass(slots=True)
class _Signals:
    cusums: Cusums
    score: float
    severity: int
    velocity: float


def observe(config: DetectionConfig, state: dict, summary: MinuteSummary) -> tuple[dict, Assessment, list[dict]]:
    """Run detection on one closed interval of one brand; see the module docstring. The steps
    below read in the docstring's order: count, signals, lifecycle (and evidence), spam, learning."""
    st = DetectorState.from_dict(state)
    iv = _count(config, st, summary)
    sig = _signals(config, st, iv)
    clean = organic(summary, iv.org)
    rp = recent_posts(st.recent_posts, clean)
    life, transitions, ev, cus, events = _lifecycle(config, st, iv, sig, clean, rp)
    spam_state, spam_events = _spam_step(config, st.spam, summary, iv.ring, iv.org, iv.minutes)
    base, terms, unusual_run, cus = _learn(config, st, iv, life, transitions, cus)
    new = DetectorState(base, iv.ring, life, ev, rp, terms,
                        iv.sentiment_known, unusual_run, cus, spam_state, *_volume_records(config, st, iv))
    onset = sig.cusums.start_ms if sig.cusums.start_ms is not None else summary.start_ms
    assessment = Assessment(
        brand=summary.brand, end_ms=summary.end_ms,
        observed_per_min=summary.mentions / iv.minutes, expected_per_min=iv.expected / iv.minutes,
        negative_share=summary.negative_share, expected_negative_share=iv.usual_share,
        score=round(sig.score, 3), severity=max(sig.severity, life.episode["sev"] if life.episode else 0),
        reach=summary.reach, volume_surprise=round(cus.volume / LN10, 3),  # after a reset, if any
        window_minutes=(summary.end_ms - onset) / MINUTE_MS if cus.start_ms is not None else 0.0,
        growth=round(sig.velocity, 3), warm=iv.warm, alert_id=life.episode["id"] if life.episode else None,
        spam=iv.org.spam,
    )
    return new.to_dict(), assessment, events + spam_events


def _count(config: DetectionConfig, st: DetectorState, summary: MinuteSummary) -> _Interval:
    """Steps 1-2: people, not posts (the spam split), and the expectation from the baseline."""
    base = st.baseline
    minutes = summary.length_ms / MINUTE_MS
    expected = base.expected_per_min(summary.start_ms) * minutes
    usual_rpm = base.reach / base.level if base.level > 0 else 0.0
    running_spam = SpamEpisode.from_dict(st.spam)
    org = split(summary, usual_rpm, config.spam, running_spam.texts if running_spam else ())
    reach = summary.reach if not org.spam else int(summary.reach * org.mentions / max(summary.mentions, 1))
    row = [summary.start_ms, org.mentions, org.negative, org.scored, round(expected, 4), reach, org.spam]
    ring = st.ring[-(_ring_size(minutes) - 1):] if _ring_size(minutes) > 1 else []
    ring = [r if len(r) == len(row) else r + [0] * (len(row) - len(r)) for r in ring]  # older rows: no spam column
    ring.append(row)
    return _Interval(summary, minutes, expected, org, reach, ring, warm=base.minutes >= config.warmup_minutes,
                     sentiment_known=st.sentiment_known or org.scored > 0,
                     usual_share=base.negative_share(config.baseline.share_prior, config.baseline.share_prior_weight))


def _signals(config: DetectionConfig, st: DetectorState, iv: _Interval) -> _Signals:
    """Step 3: the sequential evidence, the buzz score and the severity it gives."""
    p, base, org = config.detector, st.baseline, iv.org
    cus = st.cusums
    if base.minutes > 0:
        step = step_llr(p, count=org.mentions, negative=org.negative, scored=org.scored, expected=iv.expected,
                        usual_share=iv.usual_share, share_weight=base.share_weight(),
                        phi=base.dispersion(0, p.min_dispersion, p.max_dispersion), sentiment_known=iv.sentiment_known)
        cus = cus.update(p, step, iv.sentiment_known, iv.summary.start_ms,
                         calm_cap=2 * config.lifecycle.resolve_score * LN10)
    score = (cus.score(iv.sentiment_known, p.watch_score / p.share_score) if iv.sentiment_known
             else _volume_only_score(config, st, iv, cus))
    score = score if iv.warm else 0.0
    k5 = max(1, round(5 / iv.minutes))
    last5, prev5 = _last(iv.ring, k5, R_MENTIONS), _last(iv.ring[:-k5], k5, R_MENTIONS)
    velocity = growth(last5, prev5) if len(iv.ring) >= 2 * k5 else growth(last5, last5)
    fast = velocity >= p.growth_factor and last5 >= 10
    reach_last5 = _last(iv.ring, k5, R_REACH)
    reach_boost = reach_last5 >= p.reach_min and reach_last5 >= p.reach_factor * base.reach * k5 * iv.minutes
    severity = p.severity(score, reach_boost, fast) if iv.warm else 0
    return _Signals(cus, score, severity, velocity)


def _volume_only_score(config: DetectionConfig, st: DetectorState, iv: _Interval, cus: Cusums) -> float:
    """Without sentiment (counts files) volume is the only evidence, and only a volume the
    series has not reached in ``record_days`` is news (``peaks.py``): a spike above every
    interval of those days scores the most surprising recent window (``_volume_scan``); a
    sustained rise, whose mean rate over ``sustained_minutes`` tops every such mean, scores the
    accumulated volume evidence (the volume CUSUM); both scaled down by ``volume_only_scale``.
    """
    p = config.detector
    rates = _rates(config, st, iv)
    # counting noise of each rate: an interval holds ``minutes`` of mentions, an exponentially
    # weighted mean over T minutes about 2T
    spans = (iv.minutes, 2.0 * p.sustained_minutes)
    spike, sustained = st.peaks.records(rates, iv.summary.start_ms, p.record_days, p.record_margin, spans)
    score = _volume_scan(p, st.baseline, _fresh(iv.ring, cus.since_ms), iv.minutes) if spike else 0.0
    # a sustained rise is a mean rate that tops the record *and* the buzz looked for (the usual
    # level times 1 + extra): a record by a hair, from the echo of a spike, is not a rise
    if sustained and p.sustained_minutes > 0 and rates[1] >= (1.0 + p.extra) * st.baseline.level:
        score = max(score, cus.volume / LN10 / p.volume_only_scale)
    return score


def _rates(config: DetectionConfig, st: DetectorState, iv: _Interval) -> tuple[float, float]:
    """(this interval's rate, the mean rate over ``sustained_minutes``), mentions per minute.

    The mean is of intervals clipped at ``clip_sd`` standard deviations above their expectation
    (as the baseline learns them): a sustained level, not the echo of the spikes in it, so that
    short spikes do not lift the bar a day-long rise has to top.
    """
    p = config.detector
    rate = iv.org.mentions / iv.minutes
    if st.baseline.minutes == 0 or p.sustained_minutes <= 0:
        return rate, rate
    mu = iv.expected
    sd = math.sqrt(mu + st.baseline.dispersion(0, p.min_dispersion, p.max_dispersion) * mu * mu)
    clipped = min(iv.org.mentions, mu + config.baseline.clip_sd * sd + 1.0) / iv.minutes
    a = 1.0 - (1.0 - 1.0 / p.sustained_minutes) ** iv.minutes
    return rate, st.mean_rate + a * (clipped - st.mean_rate)


def _volume_records(config: DetectionConfig, st: DetectorState, iv: _Interval) -> tuple[VolumePeaks, float]:
    """Without sentiment, every interval's rates (alerted or not) go into the daily peaks."""
    if iv.sentiment_known:
        return VolumePeaks(), 0.0
    rates = _rates(config, st, iv)
    return st.peaks.add(iv.summary.start_ms, rates, config.detector.record_days), rates[1]


def _lifecycle(config: DetectionConfig, st: DetectorState, iv: _Interval, sig: _Signals, clean: MinuteSummary,
               rp: list[dict]):
    """Step 4: lifecycle transitions, each a JSON event with its evidence; a resolved episode
    starts the evidence afresh (``clean``: the interval without its spam; ``rp``: the recent
    worst posts, this interval's included)."""
    summary, cus = iv.summary, sig.cusums
    onset = cus.start_ms if cus.start_ms is not None else summary.start_ms
    calm = cus.calm / LN10 >= config.lifecycle.resolve_score * 0.999
    life, transitions = st.lifecycle.step(config.lifecycle, brand=summary.brand, severity=sig.severity,
                                          score=sig.score, end_ms=summary.end_ms, length_ms=summary.length_ms,
                                          onset_ms=onset, calm=calm)
    ev = st.evidence
    if any(kind == "opened" for kind, _ in transitions):
        ev = Evidence.new(rp)
        k = min(len(iv.ring), max(1, int((summary.start_ms - onset) // summary.length_ms) + 1))
        for r in iv.ring[-k:-1]:  # the run's earlier intervals, counts only
            ev = Evidence(ev.mentions + r[R_MENTIONS], ev.negative + r[R_NEGATIVE], ev.scored + r[R_SCORED],
                          ev.duplicates, ev.reach + r[R_REACH], ev.posts, ev.terms, ev.authors)
    if ev is not None:
        ev = ev.add(clean)
    events = []
    for kind, sev in transitions:
        episode = life.episode if life.episode else {**(st.lifecycle.episode or {}), "sev": sev}
        events.append(make_event(kind, episode, brand=summary.brand, severity=sev, end_ms=summary.end_ms,
                                 score=sig.score,
                                 evidence=_evidence(config, summary, iv.ring, st.baseline, iv.usual_share, cus,
                                                    sig.velocity, ev, st.terms, episode)))
    if any(kind == "resolved" for kind, _ in transitions):
        ev = None
        cus = cus.reset(summary.end_ms)  # a new wave starts from fresh evidence: alerted as soon as it crosses the bar
    elif not life.open and sig.severity >= 1:
        # muted by the cooldown (an echo of the episode just closed): its intervals are spent, so
        # the echo cannot open an alert later through a long window once the cooldown is over
        cus = replace(cus, since_ms=summary.end_ms)
    return life, transitions, ev, cus, events


def _learn(config: DetectionConfig, st: DetectorState, iv: _Interval, life: Lifecycle, transitions, cus: Cusums):
    """Step 5: learning, from normal intervals only: not while an episode is open, and not
    while the volume or negative evidence is building up, alerted or not."""
    summary, base, terms = iv.summary, st.baseline, st.terms
    suspected = iv.warm and max(cus.volume, cus.negative) / LN10 >= config.learn_guard
    unusual_run = st.unusual_run + summary.length_ms // MINUTE_MS if suspected else 0
    if unusual_run >= config.relearn_minutes and not life.open:
        suspected, unusual_run = False, 0
        cus = cus.reset(summary.end_ms)  # a lasting change without an alert: the new normal, learnt from here
    resolved = any(kind == "resolved" for kind, _ in transitions)
    if resolved and summary.end_ms - (st.lifecycle.episode or {}).get("start", summary.end_ms) \
            >= config.lifecycle.max_episode_minutes * MINUTE_MS:
        c, *_ = _sums(iv.ring)
        base = base.rebase(c / (len(iv.ring) * iv.minutes), summary.start_ms)  # the episode was the new normal
    elif not life.open and not transitions and not suspected:
        org = iv.org
        base = base.learn(summary.start_ms, summary.length_ms, org.mentions, org.negative, org.scored,
                          iv.reach, config.baseline)
        if base.minutes > config.warmup_minutes / 2:  # the noise level is learnt once the rhythm roughly is
            base = base.learn_dispersion(0, org.mentions, iv.expected, iv.minutes, config.baseline)
        terms = terms.learn(summary.terms, summary.mentions)
    return base, terms, unusual_run, cus


def _fresh(ring: list[list], since_ms: int | None) -> list[list]:
    """The ring's intervals that still count as evidence: those after the last reset (a resolved
    episode's intervals must not open it again through a long window)."""
    return ring if since_ms is None else [r for r in ring if r[R_START] >= since_ms]


def _volume_scan(p: DetectorParams, base: Baseline, ring: list[list], minutes: float) -> float:
    """Without sentiment (counts files): the most surprising recent window's volume, scaled down.

    Volume alone is weak evidence of a *bad* buzz and real counts have heavy-tailed spikes, so
    only an extreme window counts (``volume_only_scale``); windows of ``windows_min``.
    """
    best = 0.0
    phi = base.dispersion(0, p.min_dispersion, p.max_dispersion)
    for k in sorted({max(1, round(w / minutes)) for w in p.windows_min}):
        if k > len(ring):
            break
        w = Window(k * minutes, _last(ring, k, 1), _last(ring, k, 4), 0, 0, 0, phi)
        best = max(best, window_signals(p, w, 0.0, sentiment_known=False).score)
    return best


def _spam_step(config: DetectionConfig, current: dict | None, summary: MinuteSummary, ring: list[list], org: Split,
               minutes: float) -> tuple[dict | None, list[dict]]:
    """Open, extend and end spam/troll episodes; their events are ``spam_flood`` and ``spam_ended``."""
    sp = config.spam
    episode = SpamEpisode.from_dict(current)
    k10 = max(1, round(10 / minutes))
    spam10 = _last(ring, k10, 6)
    posts10 = spam10 + _last(ring, k10, 1)
    events: list[dict] = []
    if episode is None:
        if org.spam and spam10 >= max(sp.spam_report_posts, sp.spam_report_share * posts10):
            onset = next((r[0] for r in ring[-k10:] if r[6] > 0), summary.start_ms)
            episode = SpamEpisode(f"{summary.brand}:spam:{format_timestamp(onset)}", onset, int(spam10 - org.spam),
                                  org.kind or "flood", summary.end_ms, {}).add(summary, org.spam, org.kind)
            events.append(_spam_event("spam_flood", summary, episode))
        return (episode.to_dict() if episode else None), events
    if org.spam:
        episode = episode.add(summary, org.spam, org.kind)
    elif summary.end_ms - episode.last_ms >= sp.spam_quiet_minutes * MINUTE_MS:
        events.append(_spam_event("spam_ended", summary, episode))
        return None, events
    return episode.to_dict(), events


def _spam_event(kind: str, summary: MinuteSummary, episode: SpamEpisode) -> dict:
    report = episode.report()
    who = ", ".join(f"{a['author']} ({a['posts']} posts)" for a in report["top_accounts"][:3]) or "unknown accounts"
    what = "one text copied by many low-reach accounts" if episode.kind == "copy" else "a flood from a handful of accounts"
    return {
        "alert_id": episode.id,
        "brand": summary.brand,
        "event": kind,
        "severity": "watch",
        "detected_at": format_timestamp(summary.end_ms),
        "onset_at": format_timestamp(episode.start_ms),
        "score": 0.0,
        "evidence": {"why": f"spam/troll: {episode.posts} posts from {what}: {who}; not counted as a bad buzz",
                     "spam": report},
    }


def _evidence(config: DetectionConfig, summary: MinuteSummary, ring: list[list], base: Baseline, usual_share: float,
              cus: Cusums, velocity: float, ev: Evidence | None, terms: TermBaseline, episode: dict) -> dict:
    minutes = summary.length_ms / MINUTE_MS
    onset = episode["onset"]
    k = min(len(ring), max(round(5 / minutes), int((summary.end_ms - onset) // summary.length_ms)))
    c, e, n, s, r = _sums(ring[-k:])
    span = k * minutes
    observed, expected = c / span, e / span
    share = n / s if s else None
    frm, to = onset - 3_600_000, summary.end_ms + 3_600_000
    why = (f"{observed:.1f} mentions/min vs {expected:.1f} expected "
           f"({observed / expected if expected else float('inf'):.1f}x) over {span:g} min")
    if share is not None:
        why += f"; negative share {share:.0%} vs usual {usual_share:.0%}"
    signals = window_signals(config.detector, Window(span, c, e, n, s, r, base.dispersion(0)), usual_share,
                             bool(s), base.share_weight())
    spam = sum(row[6] for row in ring[-k:])
    if spam:
        why += f"; {int(spam)} spam/troll posts left out"
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
        "evidence_negative_volume": round(cus.negative / LN10, 2),  # accumulated (log10 likelihood ratio)
        "evidence_negative_share": round(cus.share / LN10, 2),
        "evidence_volume": round(cus.volume / LN10, 2),
        "volume_surprise": round(signals.volume, 2),  # the window's own tail tests (-log10 p)
        "negative_volume_surprise": round(signals.negative_volume, 2),
        "negative_shift_surprise": round(signals.negative_shift, 2),
        "spam_posts_left_out": int(spam),
        **(ev.report(terms) if ev else Evidence.new().report(terms)),
        "grafana_url": (f"{config.grafana_url.rstrip('/')}/d/buzzwatch-brand?var-brand={quote(summary.brand)}"
                        f"&from={frm}&to={to}"),
        "response_deadline": format_timestamp(onset + int(config.response_hours * 3_600_000)),
        "playbook": list(config.playbook),
    }
