"""Signals -> buzz score -> severity, for one brand and one closed interval.

The bad-buzz question is a conjunction: *more mentions than the brand's usual rhythm* **and**
*more negative than usual*. Each half is a count-aware tail test over short windows (1, 5 and
15 minutes, so a low-volume brand accumulates evidence and a fast ramp is caught early):

* negative volume: negative mentions in the window vs ``expected mentions x usual negative
  share``, negative binomial (the brand's own overdispersion);
* negative shift: negative mentions among scored ones vs the usual share plus a margin,
  binomial, so 3 of 4 is weak evidence and 300 of 400 is strong.

The **buzz score** of a window is the weaker of the two surprises (``-log10 p``), the score of
the interval is the best window. A launch (volume up, share normal or lower) or a neutral news
spike scores ~0 however big it is; a bad buzz scores high on both. Without sentiment (count
files, NAB) the score is the volume surprise alone. Severity: watch / warning / critical at
score thresholds; a reach far above usual (big accounts piling in) raises it one level.
"""

from __future__ import annotations

from dataclasses import dataclass

from buzzwatch.tails import binomial_surprise, negbin_surprise

SEVERITIES = ("none", "watch", "warning", "critical")


@dataclass(frozen=True)
class DetectorParams:
    windows_min: tuple[int, ...] = (1, 5, 15)  # window lengths, minutes
    watch_score: float = 5.0  # -log10 p of the weaker test
    warning_score: float = 10.0
    critical_score: float = 16.0
    min_ratio: float = 2.0  # window volume must be at least this x expected ...
    min_excess: float = 4.0  # ... and at least this many mentions above it
    share_margin: float = 0.10  # negative share must beat the usual share + this margin
    min_dispersion: float = 0.02  # floor for the overdispersion estimate
    max_dispersion: float = 1.0
    reach_factor: float = 10.0  # window reach this x usual ...
    reach_min: int = 100_000  # ... and at least this many followers: severity + 1
    # Without sentiment (count files) a bare volume surprise must be this many times stronger
    # to score the same: volume alone is weaker evidence of a *bad* buzz than volume + negativity.
    volume_only_scale: float = 12.0

    def severity(self, score: float, reach_boost: bool = False) -> int:
        level = 0
        if score >= self.critical_score:
            level = 3
        elif score >= self.warning_score:
            level = 2
        elif score >= self.watch_score:
            level = 1
        if level and reach_boost:
            level = min(3, level + 1)
        return level


@dataclass(frozen=True)
class WindowStats:
    """Sums over the last ``intervals`` closed intervals (the current one included)."""

    minutes: float
    count: float
    expected: float
    negative: float
    scored: float
    reach: float


@dataclass(frozen=True)
class Signals:
    score: float
    volume_surprise: float
    negative_surprise: float
    share_surprise: float
    window_min: float
    ratio: float


def window_signals(p: DetectorParams, w: WindowStats, usual_share: float, dispersion: float,
                   sentiment_known: bool) -> Signals:
    phi = min(max(dispersion, p.min_dispersion), p.max_dispersion)
    intervals = max(w.minutes, 1.0)
    phi_w = phi / intervals  # the sum of k overdispersed intervals is relatively less overdispersed
    ratio = w.count / w.expected if w.expected > 0 else float("inf")
    big_enough = w.count >= p.min_ratio * w.expected and w.count - w.expected >= p.min_excess
    vol = negbin_surprise(w.count, w.expected, phi_w) if big_enough else 0.0
    if not sentiment_known:
        return Signals(vol / p.volume_only_scale, vol, 0.0, 0.0, w.minutes, ratio)
    neg = share = 0.0
    if big_enough and w.scored > 0:
        expected_neg = max(w.expected * (w.scored / max(w.count, 1)) * usual_share, 1e-3)
        neg = negbin_surprise(w.negative, expected_neg, phi_w)
        share = binomial_surprise(w.negative, w.scored, min(usual_share + p.share_margin, 0.95))
    return Signals(min(neg, share), vol, neg, share, w.minutes, ratio)


def best_signals(p: DetectorParams, windows: list[WindowStats], usual_share: float, dispersion: float,
                 sentiment_known: bool) -> Signals:
    best = None
    for w in windows:
        s = window_signals(p, w, usual_share, dispersion, sentiment_known)
        if best is None or s.score > best.score:
            best = s
    return best or Signals(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
