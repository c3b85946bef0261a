"""A brand's usual rhythm, learnt online from closed intervals: level x hour-of-day x weekday.

Why this shape: mention volume has a strong daily cycle (the evening peak) and a weekly one
(quiet weekends). A multiplicative model ``rate = level * hour_factor[h] * day_factor[d]``
learns both from a few days of data, with three small EWMAs, and extrapolates to hours not yet
seen (factor 1). Updates are *robust*: an interval far above the expectation is clipped before
it is learnt, and the caller skips updates while an episode is open, so a bad buzz is never
learnt as the new normal (river's ``anomaly.filter`` idea).

The usual negative share is a Beta-like pair of decayed counts (negative, scored), so its
uncertainty is known for small brands.

>>> b = Baseline.new()
>>> for i in range(3 * 1440):  # three days of a flat 10/min
...     b = b.update(i * 60_000, 60_000, count=10, negative=2, scored=10)
>>> round(b.expected_per_min(3 * 1440 * 60_000), 1), round(b.negative_share(), 2)
(10.0, 0.2)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


def hour_of_day(ms: int) -> int:
    return (ms // HOUR_MS) % 24


def weekday(ms: int) -> int:
    return ((ms // DAY_MS) + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday


@dataclass(frozen=True)
class Baseline:
    """State of the rhythm model. Plain numbers, JSON-friendly via :meth:`to_dict`."""

    level: float = 0.0  # deseasonalised mentions per minute
    hour: tuple[float, ...] = field(default_factory=lambda: (1.0,) * 24)
    day: tuple[float, ...] = field(default_factory=lambda: (1.0,) * 7)
    n: int = 0  # intervals learnt
    neg: float = 0.0  # decayed negative count
    scored: float = 0.0  # decayed scored count
    disp: float = 0.0  # overdispersion estimate: E[(x-mu)^2 - mu] / mu^2, decayed

    @classmethod
    def new(cls) -> "Baseline":
        return cls()

    # -- reading -----------------------------------------------------------------------------
    def factor(self, ms: int) -> float:
        return self.hour[hour_of_day(ms)] * self.day[weekday(ms)]

    def expected_per_min(self, ms: int) -> float:
        return self.level * self.factor(ms)

    def negative_share(self, prior: float = 0.15, prior_weight: float = 20.0) -> float:
        """Usual negative share, shrunk to ``prior`` when little has been scored."""
        return (self.neg + prior * prior_weight) / (self.scored + prior_weight)

    @property
    def dispersion(self) -> float:
        return max(0.0, self.disp)

    # -- learning ----------------------------------------------------------------------------
    def update(
        self,
        start_ms: int,
        length_ms: int,
        count: float,
        negative: float = 0.0,
        scored: float = 0.0,
        *,
        alpha_level: float = 0.02,
        alpha_season: float = 0.05,
        share_halflife: float = 2000.0,
    ) -> "Baseline":
        """Learn one closed interval (``count`` mentions in ``length_ms``)."""
        minutes = length_ms / 60_000
        rate = count / minutes
        if self.n == 0:
            return replace(self, level=rate, n=1, neg=negative, scored=scored)
        f = self.factor(start_ms)
        mu = max(self.level * f, 1e-6)
        # robust: a spike is learnt as at most mu + 4 sd (Poisson-ish), never as itself
        clipped = min(rate, mu + 4.0 * (mu / minutes) ** 0.5 + 1.0 / minutes)
        level = (1 - alpha_level) * self.level + alpha_level * clipped / max(f, 1e-3)
        h, d = hour_of_day(start_ms), weekday(start_ms)
        # pseudo-counts keep a near-silent brand's factors from jumping on a single mention
        ratio = min((clipped + 0.5) / (self.level + 0.5), 10.0)
        hour = list(self.hour)
        day = list(self.day)
        # split the observed ratio between the two factors (each learns the residual of the other)
        hour[h] = (1 - alpha_season) * hour[h] + alpha_season * ratio / max(day[d], 1e-3)
        day[d] = (1 - alpha_season / 24) * day[d] + (alpha_season / 24) * ratio / max(hour[h], 1e-3)
        # keep factors normalised to mean 1 so the level stays interpretable
        hm = sum(hour) / 24
        dm = sum(day) / 7
        hour = [x / hm for x in hour]
        day = [x / dm for x in day]
        mu_count = mu * minutes
        resid = ((count - mu_count) ** 2 - mu_count) / max(mu_count, 1.0) ** 2
        disp = 0.99 * self.disp + 0.01 * min(max(resid, -1.0), 4.0)
        decay = 0.5 ** (1.0 / share_halflife)
        return Baseline(
            level=level,
            hour=tuple(hour),
            day=tuple(day),
            n=self.n + 1,
            neg=self.neg * decay + negative,
            scored=self.scored * decay + scored,
            disp=disp,
        )

    def to_dict(self) -> dict:
        return {"l": self.level, "h": [round(x, 5) for x in self.hour], "d": [round(x, 5) for x in self.day],
                "n": self.n, "ng": self.neg, "sc": self.scored, "ds": self.disp}

    @classmethod
    def from_dict(cls, d: dict) -> "Baseline":
        return cls(level=d["l"], hour=tuple(d["h"]), day=tuple(d["d"]), n=d["n"], neg=d["ng"], scored=d["sc"], disp=d["ds"])
