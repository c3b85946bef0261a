"""Sequential evidence: CUSUMs of log-likelihood ratios, so a ramp is caught when the evidence
accumulated since its start (not the last window) crosses the bar.

Why: a fixed threshold per window is either slow (long windows) or blind to slow ramps and to
small brands (short windows). A CUSUM adds, every closed interval, the log-likelihood ratio of
"a bad buzz is under way" against "usual traffic", and forgets only what usual traffic takes
back (``S = max(0, S + llr)``). At 100 mentions/min one minute holds minutes' worth of
evidence; at 0.1/min each negative mention adds ~1.5 nats and silent minutes take back almost
nothing, so evidence builds over hours. This is Page's CUSUM, the optimal detector of a change
from one known rate to another (minimum delay for a given false-alarm rate).

What "a bad buzz" means here is two meaningful parameters, not a sweep:

* ``extra``: the buzz adds at least this many times the usual volume (1.0 = a doubling);
* ``buzz_negative_share``: the share of those extra mentions that are negative.

Three statistics, each in nats (``/ ln 10`` gives the log10 "score" the severities use):

* **negative volume** (``A``): negative mentions, negative binomial with the brand's learnt
  overdispersion ``phi``, mean ``m0 = expected x usual share`` against
  ``m1 = m0 + extra x expected x buzz_negative_share``;
* **negative share** (``B``): negatives among the scored mentions, binomial ``p0`` (usual share
  + one standard error) against ``p1 = (p0 + x q) / (1 + x)``, the share a buzz would have at
  the volume observed: ``x`` = the observed excess ``count / expected - 1``, at least
  ``extra`` (a 4x spike at a share just above usual is news, not a buzz), with an effective
  sample size ``n / (1 + (n - 1) rho)`` (labels within a minute are correlated: 300 of 400
  is strong evidence, not absolute proof); one interval adds at most ``share_step`` (log10),
  so the share has to stay up for a few intervals: a one-minute fluke during a neutral news
  spike (whose negative *volume* is up) is not a bad buzz;
* **volume** (``V``): all mentions, ``expected`` against ``(1 + extra) x expected``: the score
  is the "suspected, do not learn" guard, and without sentiment (counts files) the calm that
  resolves an episode.

The overdispersed likelihood ratio is what keeps a big brand quiet on its usual bursts: with
``phi = 0.2`` a minute of 120 mentions against 100 expected is no evidence at all.

>>> round(nb_llr(3, 0.015, 0.075, 0.0), 2)  # three negatives where 0.015 were expected: strong
4.77
>>> round(nb_llr(0, 0.015, 0.075, 0.0), 3)  # a silent minute takes back very little
-0.06
>>> nb_llr(120, 100, 200, 0.2) < 0 < nb_llr(250, 100, 200, 0.2)
True
>>> round(binomial_llr(8, 10, 0.15, 0.4, rho=0.0), 2), round(binomial_llr(1, 10, 0.15, 0.4, rho=0.0), 2)
(7.15, -2.15)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from buzzwatch.detection.rounding import rounded

LN10 = math.log(10.0)


@dataclass(frozen=True)
class SequentialParams:
    extra: float = 1.0  # the buzz adds at least this x the usual volume (1.0: volume doubles)
    buzz_negative_share: float = 0.6  # share of the extra mentions that are negative
    share_rho: float = 0.002  # intra-interval correlation of labels: caps the share test's sample size
    max_dispersion: float = 4.0  # bound on the learnt negative-binomial phi
    cap_score: float = 60.0  # evidence is capped (log10): a long episode must not take days to forget
    share_step: float = 0.7  # one interval adds at most this share evidence (log10): a shift, not a fluke


def nb_llr(x: float, m0: float, m1: float, phi: float) -> float:
    """log P(x | NB mean m1) - log P(x | NB mean m0), same ``phi`` (``phi = 0``: Poisson), in nats."""
    m0, m1 = max(m0, 1e-9), max(m1, 1e-9)
    if phi <= 1e-9:
        return x * math.log(m1 / m0) - (m1 - m0)
    r = 1.0 / phi
    return x * math.log(m1 / m0) + (x + r) * math.log((m0 + r) / (m1 + r))


def binomial_llr(k: float, n: float, p0: float, p1: float, rho: float) -> float:
    """log-likelihood ratio of ``k`` of ``n`` at ``p1`` against ``p0``, on an effective sample size."""
    if n <= 0:
        return 0.0
    n_eff = n / (1.0 + (n - 1.0) * rho)
    k_eff = k * n_eff / n
    return k_eff * math.log(p1 / p0) + (n_eff - k_eff) * math.log((1.0 - p1) / (1.0 - p0))


@dataclass(frozen=True)
class Step:
    """One interval's log-likelihood ratios (nats)."""

    negative: float  # A
    share: float  # B
    volume: float  # V

    def buzz(self, sentiment_known: bool) -> float:
        """The interval's evidence for a bad buzz: both halves when sentiment is known."""
        return min(self.negative, self.share) if sentiment_known else self.volume


def step_llr(p: SequentialParams, *, count: float, negative: float, scored: float, expected: float,
             usual_share: float, share_weight: float, phi: float, sentiment_known: bool = True) -> Step:
    """The log-likelihood ratios of one closed interval (``expected`` = its expected count).

    >>> p = SequentialParams()
    >>> calm = step_llr(p, count=10, negative=2, scored=10, expected=10, usual_share=0.15, share_weight=1e4, phi=0.1)
    >>> buzz = step_llr(p, count=25, negative=15, scored=25, expected=10, usual_share=0.15, share_weight=1e4, phi=0.1)
    >>> calm.buzz(True) < 0 < buzz.buzz(True)
    True
    """
    phi = min(max(phi, 0.0), p.max_dispersion)
    e = max(expected, 1e-6)
    vol = nb_llr(count, e, (1.0 + p.extra) * e, phi)
    if count > 0 and scored <= 0:  # mentions, none scored (unsupported language): no sentiment evidence
        return Step(0.0, 0.0, vol)
    frac = scored / count if count > 0 else 1.0  # a silent interval is evidence too: no negatives
    p0 = min(usual_share + math.sqrt(usual_share * (1.0 - usual_share) / (share_weight + 1.0)), 0.9)
    m0 = e * frac * p0
    neg = nb_llr(negative, m0, m0 + p.extra * e * frac * p.buzz_negative_share, phi)
    # the share a bad buzz would give at the volume observed: the usual mentions plus the extra
    # ones (at least ``extra``), ``buzz_negative_share`` of those negative; at 4x the volume a
    # buzz is mostly negative, so a share only a little above usual is no evidence of one
    extra = max(p.extra, count / e - 1.0)
    p1 = (p0 + extra * p.buzz_negative_share) / (1.0 + extra)
    p1 = min(max(p1, p0 + 0.1), 0.97)
    share = binomial_llr(negative, scored, p0, p1, p.share_rho)
    return Step(neg, share, vol)


@dataclass(frozen=True)
class Cusums:
    """The running evidence (nats) and where the current run started (its onset estimate).

    ``calm`` accumulates the opposite evidence (back to usual traffic): it resolves episodes.
    """

    negative: float = 0.0
    share: float = 0.0
    volume: float = 0.0
    calm: float = 0.0
    start_ms: int | None = None  # start of the run that leads the buzz evidence
    vstart_ms: int | None = None  # same for the volume run
    since_ms: int | None = None  # the evidence counts from here (the last reset): older intervals are spent

    def score(self, sentiment_known: bool, share_factor: float = 1.0) -> float:
        """Accumulated evidence of a bad buzz, log10 units (compare with the severity thresholds).

        With sentiment: the negative volume's evidence, as long as the negative share's evidence
        times ``share_factor`` keeps up (the share only has to show that the extra is negative,
        so it may need less evidence than the volume).
        """
        s = min(self.negative, share_factor * self.share) if sentiment_known else self.volume
        return s / LN10

    def update(self, p: SequentialParams, step: Step, sentiment_known: bool, start_ms: int,
               calm_cap: float = float("inf")) -> "Cusums":
        """Add one interval's evidence; ``calm`` is capped at ``calm_cap`` (nats) so one buzz
        interval is enough to stop it from counting as calm."""
        cap = p.cap_score * LN10
        b = min(max(0.0, self.share + min(step.share, p.share_step * LN10)), cap)
        # the negative volume's evidence counts within the share's run only: a buzz is both at
        # once, not negatives left over from yesterday's news plus a fluke of the share today
        a = min(max(0.0, self.negative + step.negative), cap) if b > 0 else 0.0
        v = min(max(0.0, self.volume + step.volume), cap)
        buzz = min(a, b) if sentiment_known else v
        start = self.start_ms if (self.start_ms is not None and buzz > 0) else (start_ms if buzz > 0 else None)
        vstart = self.vstart_ms if (self.vstart_ms is not None and v > 0) else (start_ms if v > 0 else None)
        calm = max(0.0, self.calm - step.buzz(sentiment_known))
        return Cusums(a, b, v, min(calm, calm_cap, cap), start, vstart, self.since_ms)

    def reset(self, at_ms: int | None = None) -> "Cusums":
        """Fresh evidence from ``at_ms`` on: nothing before it counts again (not even in a window)."""
        return Cusums(since_ms=at_ms)

    def to_list(self) -> list:
        return rounded((self.negative, self.share, self.volume, self.calm), 4) + [self.start_ms, self.vstart_ms] \
            + ([self.since_ms] if self.since_ms is not None else [])

    @classmethod
    def from_list(cls, x: list | None) -> "Cusums":
        return cls(*x) if x else cls()
