"""The highest volume a brand reached in each of its last days: "has it ever been this loud lately?"

Why: without sentiment (count files such as NAB's), volume is the only evidence, and real
counts are heavy-tailed: a spike that is astronomically unlikely for its hour under any count
model happens dozens of times a month (a bot, a link shared once). What stands out of a series
is a volume its own recent past never reached. So a volume-only alert also needs a new record:
a rate above every interval of the last ``record_days`` days. The threshold is learnt from the
series' own past only, and an alerted spike raises it too: the same spike again tomorrow is
not news, a bigger one is.

Kept as one maximum per UTC day (at most ``days + 1`` small pairs), so the state stays small.

>>> pk = VolumePeaks.new()
>>> for day, rate in [(0, 30.0), (1, 80.0), (2, 20.0)]:
...     pk = pk.add(day * 86_400_000 + 3_600_000, rate, days=14)
>>> pk.record(3 * 86_400_000, days=14), pk.record(3 * 86_400_000, days=1)
(80.0, 20.0)
>>> pk.is_record(90.0, 3 * 86_400_000, days=14), pk.is_record(50.0, 3 * 86_400_000, days=14)
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass

from buzzwatch.timeutil import DAY_MS


@dataclass(frozen=True)
class VolumePeaks:
    """``(UTC day number, highest rate per minute that day)``, oldest first."""

    days: tuple[tuple[int, float], ...] = ()

    @classmethod
    def new(cls) -> "VolumePeaks":
        return cls()

    def record(self, now_ms: int, days: int) -> float:
        """Highest rate of the last ``days`` days before ``now_ms``'s day, and of that day so far."""
        today = now_ms // DAY_MS
        return max((peak for day, peak in self.days if today - days <= day <= today), default=0.0)

    def is_record(self, rate: float, now_ms: int, days: int) -> bool:
        """A rate above everything seen in the last ``days`` days (``days = 0``: always)."""
        return days <= 0 or rate > self.record(now_ms, days)

    def add(self, ms: int, rate: float, days: int) -> "VolumePeaks":
        """Learn one interval's rate (per minute); days older than ``days`` are forgotten."""
        today = ms // DAY_MS
        kept = [(d, p) for d, p in self.days if d >= today - days]
        if kept and kept[-1][0] == today:
            kept[-1] = (today, max(kept[-1][1], rate))
        else:
            kept.append((today, rate))
        return VolumePeaks(tuple(kept))

    def to_list(self) -> list:
        return [[d, round(p, 4)] for d, p in self.days]

    @classmethod
    def from_list(cls, x: list | None) -> "VolumePeaks":
        return cls(tuple((int(d), float(p)) for d, p in x)) if x else cls()
