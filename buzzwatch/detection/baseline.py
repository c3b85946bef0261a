"""A brand's usual rhythm, learnt online from closed intervals: level x hour of day x hour of week.

Why this shape: mention volume has a strong daily cycle (the evening peak) and a weekly one
(quiet weekends). The expectation is ``level * hour[h] * week[how]``: a deseasonalised level,
an hour-of-day profile learnt within a day or two, and an hour-of-week correction (168 bins,
starting at 1) that learns the weekly pattern over the following weeks. Every update target
carries a pseudo-count (``prior_count`` mentions at the current expectation), so a brand with
0.1 mentions/min does not swing its profile on a single mention.

Robust in two ways (river's ``anomaly.filter`` idea): an interval is clipped to its expectation
plus ``clip_sd`` standard deviations before it is learnt, and the caller (``detection.py``)
does not call :meth:`Baseline.learn` at all while an episode is open or when the interval is
itself anomalous, so a bad buzz is never learnt as the new normal.

Also learnt: the overdispersion of window counts for each window length (negative binomial
``var = mu + phi * mu**2``, estimated from normal windows, so the model's own seasonal misfit
counts as noise), the usual negative share (decayed Beta counts, shrunk to a prior when little
was scored) and the usual reach per minute.

>>> b = Baseline.new()
>>> for i in range(3 * 1440):  # three days of a flat 10/min with 2 negative of 10 scored
...     b = b.learn(i * 60_000, 60_000, count=10, negative=2, scored=10)
>>> round(b.expected_per_min(3 * 1440 * 60_000), 1), round(b.negative_share(), 2), b.minutes
(10.0, 0.2, 4320.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from buzzwatch.detection.rounding import round_to, rounded
from buzzwatch.timeutil import DAY_MS, HOUR_MS, MINUTE_MS


def hour_of_day(ms: int) -> int:
    return (ms // HOUR_MS) % 24


def hour_of_week(ms: int) -> int:
    """0 = Monday 00:00-01:00 UTC (1970-01-01 was a Thursday)."""
    return (((ms // DAY_MS) + 3) % 7) * 24 + hour_of_day(ms)


def _rate(alpha_per_minute: float, minutes: float) -> float:
    """Per-interval EW weight for a per-minute rate, so 1- and 5-minute intervals learn alike."""
    return 1.0 - (1.0 - alpha_per_minute) ** minutes


@dataclass(frozen=True)
class BaselineParams:
    """Learning rates are per minute of event time (memory ~ 1/alpha minutes)."""

    level_alpha: float = 1 / 1440  # deseasonalised level: about a day of memory
    hour_alpha: float = 1 / 180  # hour of day: each day's visit of an hour weighs ~28 %
    week_alpha: float = 1 / 120  # hour of week: each week's visit weighs ~40 %
    prior_count: float = 2.0  # pseudo-mentions shrinking a profile update towards "no change"
    clip_sd: float = 4.0  # intervals are learnt at most this many sd above/below expectation
    dispersion_alpha: float = 1 / 4320  # three days of memory for the noise level
    share_alpha: float = 1 / 2880  # two days of memory for the usual negative share
    share_prior: float = 0.15
    share_prior_weight: float = 20.0
    reach_alpha: float = 1 / 1440


@dataclass(frozen=True)
class Baseline:
    """State of the rhythm model: plain numbers, JSON-friendly via :meth:`to_dict`."""

    level: float = 0.0  # deseasonalised mentions per minute
    hour: tuple[float, ...] = field(default_factory=lambda: (1.0,) * 24)
    week: tuple[float, ...] = field(default_factory=lambda: (1.0,) * 168)
    minutes: float = 0.0  # minutes of history learnt
    neg: float = 0.0  # decayed negative count
    scored: float = 0.0  # decayed scored count
    reach: float = 0.0  # usual reach (followers) per minute
    disp: tuple[tuple[float, float], ...] = ()  # per window index: decayed (sum of excess variance, sum of mu^2)
    # the stored dict this state was read from (not state: ``replace`` and ``learn`` drop it), so
    # that an unchanged baseline is written back as read, without rounding 200 numbers again
    _stored: dict | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def new(cls) -> "Baseline":
        return cls()

    # -- reading -----------------------------------------------------------------------------
    def factor(self, ms: int) -> float:
        return self.hour[hour_of_day(ms)] * self.week[hour_of_week(ms)]

    def expected_per_min(self, ms: int) -> float:
        return self.level * self.factor(ms)

    def negative_share(self, prior: float = 0.15, prior_weight: float = 20.0) -> float:
        """Usual negative share, shrunk to ``prior`` when little has been scored."""
        return (self.neg + prior * prior_weight) / (self.scored + prior_weight)

    def share_weight(self) -> float:
        """How many scored mentions the usual share rests on (its uncertainty: ~ p(1-p)/weight)."""
        return self.scored

    def dispersion(self, window: int, floor: float = 0.0, ceiling: float = 4.0, prior: float = 0.25) -> float:
        """Negative-binomial ``phi`` of the ``window``-th window length (``prior`` until learnt)."""
        if window >= len(self.disp):
            return prior
        excess, mu2 = self.disp[window]
        # a prior worth one unit of mu^2 keeps early (and near-silent) estimates conservative
        est = (excess + prior) / (mu2 + 1.0)
        return min(max(est, floor), ceiling)

    # -- learning ----------------------------------------------------------------------------
    def learn(self, start_ms: int, length_ms: int, count: float, negative: float = 0.0, scored: float = 0.0,
              reach: float = 0.0, params: BaselineParams = BaselineParams()) -> "Baseline":
        """Learn one closed interval (``count`` mentions in ``length_ms``) of normal traffic."""
        p = params
        minutes = length_ms / MINUTE_MS
        rate = count / minutes
        a_share = _rate(p.share_alpha, minutes)
        neg = self.neg * (1 - a_share) + negative
        sc = self.scored * (1 - a_share) + scored
        if self.minutes == 0:
            return replace(self, level=rate, minutes=minutes, neg=neg, scored=sc, reach=reach / minutes)
        h, how = hour_of_day(start_ms), hour_of_week(start_ms)
        f = self.factor(start_ms)
        mu = max(self.level * f * minutes, 1e-9)  # expected count
        sd = math.sqrt(mu + self.dispersion(0) * mu * mu)
        x = min(max(count, mu - p.clip_sd * sd), mu + p.clip_sd * sd + 1.0)
        # level: a running mean at first (fast start), then an EW mean of the deseasonalised rate
        a_level = max(_rate(p.level_alpha, minutes), minutes / (self.minutes + minutes))
        level = self.level + a_level * (x / (f * minutes) - self.level)
        # profiles: the ratio observed / expected, with pseudo-counts so small counts barely move them
        k = p.prior_count
        ratio = (x + k) / (mu + k)
        hour = list(self.hour)
        # first days: a running mean over the days seen (fast start), then the EW rate
        a_hour = max(_rate(p.hour_alpha, minutes), minutes / (60.0 * (self.minutes // 1440 + 1)))
        hour[h] *= 1.0 + a_hour * (ratio - 1.0)
        mean = sum(hour) / 24
        hour = [v / mean for v in hour]  # mean 1 keeps the level interpretable
        week = self.week
        if self.minutes >= 2 * 1440:  # the weekly correction starts once the daily profile is learnt
            week = list(week)
            week[how] = round(week[how] * (1.0 + _rate(p.week_alpha, minutes) * (ratio - 1.0)), 5)
            week = tuple(week)
        a_reach = _rate(p.reach_alpha, minutes)
        return Baseline(level=level, hour=tuple(hour), week=week, minutes=self.minutes + minutes,
                        neg=neg, scored=sc, reach=self.reach + a_reach * (min(reach / minutes, 20 * self.reach + 1e4) - self.reach),
                        disp=self.disp)

    def learn_dispersion(self, window: int, count: float, expected: float, minutes: float,
                         params: BaselineParams = BaselineParams()) -> "Baseline":
        """Learn the noise of one normal window sum (``count`` vs ``expected``) of window index ``window``.

        Method of moments, weighted by ``mu**2``: ``phi = sum((x-mu)^2 - x) / sum(mu^2)``, so
        big expected counts dominate (where phi matters) and silent minutes add nothing. The
        squared residual is capped, so one odd window cannot blow it up.
        """
        mu = max(expected, 1e-9)
        phi = self.dispersion(window)
        cap = 36.0 * (mu + max(phi, 0.05) * mu * mu)
        excess = min((count - mu) ** 2, cap) - count
        a = _rate(params.dispersion_alpha, minutes)
        disp = list(self.disp) + [(0.0, 0.0)] * (window + 1 - len(self.disp))
        e, m2 = disp[window]
        disp[window] = (round(e * (1 - a) + excess, 6), round(m2 * (1 - a) + mu * mu, 6))
        return replace(self, disp=tuple(disp))

    def rebase(self, rate_per_min: float, ms: int) -> "Baseline":
        """Accept a lasting new level (an episode that never ended is the new normal)."""
        f = max(self.factor(ms), 1e-3)
        return replace(self, level=rate_per_min / f)

    def to_dict(self) -> dict:
        if self._stored is not None:  # read by from_dict and unchanged since: already rounded
            return self._stored
        return {"l": round_to(self.level, 6), "h": rounded(self.hour, 5), "w": list(self.week), "m": self.minutes,
                "ng": round_to(self.neg, 4), "sc": round_to(self.scored, 4), "r": round_to(self.reach, 2),
                "ds": [list(x) for x in self.disp]}

    @classmethod
    def from_dict(cls, d: dict) -> "Baseline":
        """The baseline :meth:`to_dict` wrote; its ``to_dict`` gives ``d`` back (same values:
        they are rounded already) until it learns."""
        b = cls(level=d["l"], hour=tuple(d["h"]), week=tuple(d["w"]), minutes=d["m"], neg=d["ng"], scored=d["sc"],
                reach=d["r"], disp=tuple((a, b) for a, b in d["ds"]))
        if d.keys() == _STORED_KEYS:
            object.__setattr__(b, "_stored", d)
        return b


_STORED_KEYS = Baseline().to_dict().keys()
