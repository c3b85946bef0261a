"""Signals -> buzz score -> severity, for one brand and one closed interval.

A bad buzz is a conjunction: *more mentions than the brand's usual rhythm* **and** *more
negative than usual*. Each half is a count-aware tail test, run over several short windows
(1, 5, 15 and 60 minutes by default: the short ones catch a fast ramp at once, the long ones
let a brand with 0.1 mention/min accumulate evidence):

* **negative volume**: negative mentions in the window against ``expected mentions x usual
  negative share``, negative binomial with the brand's own learnt overdispersion for that
  window length (so 3 mentions is a lot at 0.1/min and nothing at 200/min);
* **negative shift**: negative mentions among the scored ones against the usual share plus
  ``share_margin`` plus one standard error of the usual share, binomial with an effective
  sample size (beta-binomial style, ``share_rho``) so 3 of 4 is weak evidence, 300 of 400
  strong, and natural swings of the share are not news.

**The buzz score** (one number, ``-log10`` of a tail probability): for each window, the weaker
of the two surprises, ``min(negative volume, negative shift)``; the interval's score is the
best window. A launch (volume up, share normal or lower) or a neutral news spike scores ~0
however big it is, a bad buzz scores on both. A window must also hold at least ``min_ratio``
x its expected volume and ``min_excess`` more mentions than expected.

**Volume-only mode** (sentiment unknown, e.g. NAB count files: no scored mention ever seen):
the score is the volume surprise divided by ``volume_only_scale`` (volume alone is weaker
evidence of a *bad* buzz); the detector (``step.py``) also asks for a volume the brand has not
reached in ``record_days`` days before it gives a severity (``peaks.py``: real counts are
heavy-tailed, and only what tops the series' own recent past stands out).

**Severity**: 1 watch, 2 warning, 3 critical at score thresholds; one level more when the
reach of the last 5 minutes is far above usual (big accounts piling in) and one more when the
volume is still accelerating fast (velocity: the last 5 minutes hold ``growth_factor`` x the
previous 5), capped at critical.

>>> p = DetectorParams()
>>> calm = Window(minutes=15, count=160, expected=150, negative=25, scored=160, reach=0, dispersion=0.02)
>>> launch = Window(minutes=15, count=900, expected=150, negative=20, scored=900, reach=0, dispersion=0.02)
>>> buzz = Window(minutes=15, count=600, expected=150, negative=300, scored=600, reach=0, dispersion=0.02)
>>> [round(window_signals(p, w, usual_share=0.15).score, 1) for w in (calm, launch, buzz)]
[0.0, 0.0, 25.2]
>>> p.severity(25.2), p.severity(6.0), p.severity(6.0, reach_boost=True), p.severity(1.0)
(3, 1, 2, 0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from buzzwatch.detection.tails import binomial_surprise, negbin_surprise



@dataclass(frozen=True)
class DetectorParams:
    windows_min: tuple[int, ...] = (1, 5, 15, 60)  # window lengths, minutes
    watch_score: float = 5.0  # -log10 p of the weaker test
    warning_score: float = 9.0
    critical_score: float = 15.0
    min_ratio: float = 1.5  # window volume must be at least this x expected ...
    min_excess: float = 3.0  # ... and at least this many mentions above it
    share_margin: float = 0.05  # negative share must beat the usual share + this margin (+ 1 s.e.)
    share_rho: float = 0.002  # intra-window correlation of labels: caps the share test's sample size ~ 1/rho
    min_dispersion: float = 0.0  # bounds on the learnt negative-binomial phi
    max_dispersion: float = 4.0
    volume_only_scale: float = 4.0  # without sentiment, volume surprise / this = score
    record_days: int = 14  # without sentiment, an alert also needs a rate not reached in this many days (0: off) ...
    sustained_minutes: int = 360  # ... the interval's, or the mean rate over about this long (0: the interval's only)
    record_margin: float = 1.0  # ... above the past days' record by this many s.d. of its counting noise (0: any amount)
    reach_factor: float = 10.0  # 5-min reach this x usual ...
    reach_min: int = 100_000  # ... and at least this many followers: severity + 1
    growth_factor: float = 3.0  # last 5 min >= this x the previous 5 (and >= 10 mentions): severity + 1
    # sequential evidence (``sequential.py``): what a bad buzz is, in two meaningful numbers
    extra: float = 1.0  # the buzz adds at least this x the usual volume (1.0: the volume doubles)
    buzz_negative_share: float = 0.6  # share of the extra mentions that are negative
    share_score: float = 3.0  # evidence (log10) the negative share must show, next to watch_score for the volume
    share_step: float = 0.7  # one interval adds at most this share evidence (log10): a shift, not a fluke
    cap_score: float = 60.0  # accumulated evidence is capped (log10)

    def severity(self, score: float, reach_boost: bool = False, fast: bool = False) -> int:
        level = 0
        if score >= self.critical_score:
            level = 3
        elif score >= self.warning_score:
            level = 2
        elif score >= self.watch_score:
            level = 1
        if level:
            level = min(3, level + int(reach_boost) + int(fast))
        return level


@dataclass(frozen=True)
class Window:
    """Sums over the last closed intervals of one window length (the current one included)."""

    minutes: float
    count: float
    expected: float
    negative: float
    scored: float
    reach: float
    dispersion: float  # learnt negative-binomial phi of this window length


@dataclass(frozen=True)
class Signals:
    score: float
    volume: float  # -log10 p of the window count
    negative_volume: float  # -log10 p of the negative count
    negative_shift: float  # -log10 p of the negative share
    window_minutes: float
    ratio: float  # observed / expected volume in that window

    @classmethod
    def none(cls) -> "Signals":
        return cls(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


def share_surprise(negative: float, scored: float, usual_share: float, usual_weight: float, margin: float,
                   rho: float) -> float:
    """-log10 p that ``negative`` of ``scored`` comes from the usual share (plus margin and 1 s.e.).

    >>> round(share_surprise(3, 4, 0.15, 1000, 0.05, 0.002), 1), round(share_surprise(300, 400, 0.15, 1000, 0.05, 0.002), 1)
    (1.5, 65.2)
    """
    if scored <= 0 or negative <= 0:
        return 0.0
    p = usual_share + margin + math.sqrt(usual_share * (1 - usual_share) / (usual_weight + 1.0))
    n_eff = scored / (1.0 + (scored - 1.0) * rho)
    k_eff = negative * n_eff / scored
    return binomial_surprise(k_eff, n_eff, min(p, 0.97))


def window_signals(p: DetectorParams, w: Window, usual_share: float, sentiment_known: bool = True,
                   usual_weight: float = 1000.0) -> Signals:
    phi = min(max(w.dispersion, p.min_dispersion), p.max_dispersion)
    ratio = w.count / w.expected if w.expected > 0 else float("inf")
    if not (w.count >= p.min_ratio * w.expected and w.count - w.expected >= p.min_excess):
        return Signals(0.0, 0.0, 0.0, 0.0, w.minutes, ratio)
    if w.count < w.expected + 1.5 * math.sqrt(w.expected + phi * w.expected ** 2):
        return Signals(0.0, 0.0, 0.0, 0.0, w.minutes, ratio)  # < 1.5 sd: not worth a tail computation
    vol = negbin_surprise(w.count, w.expected, phi)
    if not sentiment_known:
        return Signals(vol / p.volume_only_scale, vol, 0.0, 0.0, w.minutes, ratio)
    if w.scored <= 0:
        return Signals(0.0, vol, 0.0, 0.0, w.minutes, ratio)
    expected_neg = max(w.expected * (w.scored / max(w.count, 1.0)) * usual_share, 1e-3)
    neg = negbin_surprise(w.negative, expected_neg, phi)
    shift = share_surprise(w.negative, w.scored, usual_share, usual_weight, p.share_margin, p.share_rho)
    return Signals(min(neg, shift), vol, neg, shift, w.minutes, ratio)


def growth(recent: float, previous: float) -> float:
    """Velocity as a ratio: mentions in the last 5 minutes over the 5 before (pseudo-count 1).

    >>> round(growth(40, 10), 2), growth(0, 0)
    (3.73, 1.0)
    """
    return (recent + 1.0) / (previous + 1.0)


