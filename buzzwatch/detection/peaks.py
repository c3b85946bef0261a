"""The highest volumes a brand reached in each of its last days: "has it ever been this loud lately?"

Why: without sentiment (count files such as NAB's), volume is the only evidence, and real
counts are heavy-tailed: a spike that is astronomically unlikely for its hour under any count
model happens dozens of times a month (a bot, a link shared once). What stands out of a series
is a volume its own recent past never reached. So a volume-only alert also needs a new record
over the last ``record_days`` days: either the interval's rate (a spike) or the brand's mean
rate over the last hours (a sustained rise: a day of traffic at a level never held that long).
The threshold is learnt from the series' own past only, and an alerted spike raises it too:
the same spike again tomorrow is not news, a bigger one is. "Bigger" means by more than
counting noise (``record_margin`` standard deviations, Poisson, of the past days' record): a
spike of 208 mentions after one of 207 is the same spike again.

Kept as one maximum per UTC day and kind of rate (at most ``days + 1`` short rows), so the
state stays small.

>>> pk = VolumePeaks.new()
>>> for day, rates in [(0, (30.0, 10.0)), (1, (80.0, 12.0)), (2, (20.0, 15.0))]:
...     pk = pk.add(day * 86_400_000 + 3_600_000, rates, days=14)
>>> pk.record(3 * 86_400_000, days=14), pk.record(3 * 86_400_000, days=1)
((80.0, 15.0), (20.0, 15.0))
>>> pk.records((90.0, 5.0), 3 * 86_400_000, days=14)  # a spike above any of the last two weeks
(True, False)
>>> pk.records((50.0, 16.0), 3 * 86_400_000, days=14)  # a mean rate above any
(False, True)
>>> pk.records((82.0, 16.0), 3 * 86_400_000, days=14, margin_sd=1.0, spans=(5.0, 720.0))  # 80 +- 4 (5-min rates)
(False, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from buzzwatch.timeutil import DAY_MS


@dataclass(frozen=True)
class VolumePeaks:
    """``(UTC day number, (highest rate of each kind that day))``, oldest first (rates per minute)."""

    days: tuple[tuple[int, tuple[float, ...]], ...] = ()

    @classmethod
    def new(cls) -> "VolumePeaks":
        return cls()

    def record(self, now_ms: int, days: int) -> tuple[float, ...]:
        """Highest rate of each kind over the last ``days`` days before ``now_ms``'s day and that
        day so far (empty before anything was learnt)."""
        today = now_ms // DAY_MS
        rows = [rates for day, rates in self.days if today - days <= day <= today]
        return tuple(max(col) for col in zip(*rows)) if rows else ()

    def records(self, rates: tuple[float, ...], now_ms: int, days: int, margin_sd: float = 0.0,
                spans: tuple[float, ...] = ()) -> tuple[bool, ...]:
        """For each rate: is it above all of its kind in the last ``days`` days (``days = 0``: yes)?

        Above the day in progress by any amount, and above the ``days`` days before it by more
        than ``margin_sd`` standard deviations of counting noise: a rate measured over ``span``
        minutes (``spans``, one per kind; none: no margin) holds ``rate x span`` mentions, so a
        record ``R`` is known to within ``sqrt(R / span)`` (Poisson). A rate that tops the
        record by less than that is the same volume again, not news. The day in progress needs
        no margin: a mean rate over hours rises by small steps, each one above the last.
        """
        if days <= 0:
            return tuple(True for _ in rates)
        best = self.record(now_ms, days)
        past = self._before_today(now_ms, days) if margin_sd > 0 and spans else ()
        out = []
        for i, r in enumerate(rates):
            bar = best[i] if i < len(best) else 0.0
            if margin_sd > 0 and i < len(spans) and spans[i] > 0 and i < len(past):
                bar = max(bar, past[i] + margin_sd * math.sqrt(max(past[i], 0.0) / spans[i]))
            out.append(r > bar)
        return tuple(out)

    def _before_today(self, now_ms: int, days: int) -> tuple[float, ...]:
        """The record of the ``days`` days before the one in progress."""
        today = now_ms // DAY_MS
        return VolumePeaks(tuple(row for row in self.days if row[0] < today)).record(now_ms - DAY_MS, days - 1)

    def add(self, ms: int, rates: tuple[float, ...], days: int) -> "VolumePeaks":
        """Learn one interval's rates; days older than ``days`` are forgotten."""
        today = ms // DAY_MS
        kept = [(d, r) for d, r in self.days if d >= today - days]
        if kept and kept[-1][0] == today and len(kept[-1][1]) == len(rates):
            kept[-1] = (today, tuple(max(a, b) for a, b in zip(kept[-1][1], rates)))
        else:
            kept = [(d, r) for d, r in kept if d != today] + [(today, tuple(rates))]
        return VolumePeaks(tuple(kept))

    def to_list(self) -> list:
        return [[d, [round(x, 4) for x in r]] for d, r in self.days]

    @classmethod
    def from_list(cls, x: list | None) -> "VolumePeaks":
        return cls(tuple((int(d), tuple(float(v) for v in r)) for d, r in x)) if x else cls()
