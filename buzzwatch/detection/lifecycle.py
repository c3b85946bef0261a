"""Alert episodes: opened -> escalated (severity rises) -> resolved, one alert per episode.

An episode **opens** when a warmed-up brand reaches severity *watch* or more; it **escalates**
each time its severity rises above the highest so far (never on a dip and a return), at any
time; it **resolves** once the signal is back to normal for a while: ``resolve_minutes`` in a
row that the caller calls calm (``calm=``: the detector's own evidence of usual traffic), or by
default with a score below ``resolve_score`` and no severity (hysteresis: lower than the
opening threshold, so a score hovering around the threshold does not flap), or after
``max_episode_minutes`` (a lasting shift is the new normal).

After a resolution, ``cooldown_minutes`` mute a *repeat at the same or a lower severity*
(an echo of the episode just closed); a rise above it is a new alert at once, and any new
wave after the cooldown is a new alert: a second wave hours later is never slept through.

``alert_id`` is ``"<brand>:<onset ISO-8601>"``: the same episode found again (replay,
redelivery) has the same id, so notification is idempotent. State is a small JSON dict.

>>> lp = LifecycleParams(resolve_minutes=2, cooldown_minutes=10)
>>> st, out = Lifecycle.new(), []
>>> for minute, sev, score in [(0, 0, 0.0), (1, 1, 6.0), (2, 3, 20.0), (3, 1, 6.0), (4, 0, 0.5), (5, 0, 0.1),
...                            (6, 1, 6.0), (7, 0, 0.0), (8, 0, 0.0), (9, 0, 0.0), (10, 0, 0.0)]:
...     st, kinds = st.step(lp, brand="acme", severity=sev, score=score, end_ms=(minute + 1) * 60_000,
...                         length_ms=60_000, onset_ms=minute * 60_000)
...     out += [(minute, k, s) for k, s in kinds]
>>> out  # minute 6 is a repeat at watch within the cooldown of a critical episode: muted
[(1, 'opened', 1), (2, 'escalated', 3), (5, 'resolved', 3)]
>>> st.cooldown_until_ms  # resolved at 6 min + 10 min
960000
"""

from __future__ import annotations

from dataclasses import dataclass

from buzzwatch.timeutil import format_timestamp

SEVERITY_NAMES = ("none", "watch", "warning", "critical")
DEFAULT_PLAYBOOK = (
    "Acknowledge publicly and fast (within the hour): you have seen it and you are on it.",
    "Move the conversation to private messages to solve each customer's case.",
    "Do not delete legitimate criticism; remove only insults, spam and trolls.",
    "Have leadership speak publicly if it grows; keep one voice and one message.",
)


@dataclass(frozen=True)
class LifecycleParams:
    resolve_score: float = 2.0  # calm = score below this (hysteresis: below the opening threshold)
    resolve_minutes: int = 30  # calm this long resolves the episode
    cooldown_minutes: int = 240  # after a resolution, a repeat at the same or a lower severity is muted this long
    max_episode_minutes: int = 24 * 60  # an episode that lasts this long is resolved (new normal)


def alert_id(brand: str, onset_ms: int) -> str:
    """Deterministic id of an episode: same brand and onset minute, same id.

    >>> alert_id("acme", 1_795_000_000_000)
    'acme:2026-11-18T11:06:40Z'
    """
    return f"{brand}:{format_timestamp(onset_ms)}"


@dataclass(frozen=True)
class Lifecycle:
    """The open episode (``None`` when calm) and the cooldown's end."""

    episode: dict | None = None  # {"id", "onset", "start", "sev", "calm"} (+ "ev": evidence, kept by the caller)
    cooldown_until_ms: int | None = None
    cooldown_severity: int = 0  # the resolved episode's severity: only a rise above it opens during the cooldown

    @classmethod
    def new(cls) -> "Lifecycle":
        return cls()

    @property
    def open(self) -> bool:
        return self.episode is not None

    def step(self, params: LifecycleParams, *, brand: str, severity: int, score: float, end_ms: int,
             length_ms: int, onset_ms: int, calm: bool | None = None) -> tuple["Lifecycle", list[tuple[str, int]]]:
        """Advance by one closed interval ending at ``end_ms``; returns transitions ``(event, severity)``.

        ``onset_ms`` is the caller's estimate of when the episode started, used only on opening;
        ``calm`` says whether this interval looks like usual traffic (default: score below
        ``resolve_score`` and no severity).
        """
        ep = dict(self.episode) if self.episode else None
        cooldown = self.cooldown_until_ms
        if ep is None:
            muted = cooldown is not None and end_ms <= cooldown and severity <= self.cooldown_severity
            if severity >= 1 and not muted:
                ep = {"id": alert_id(brand, onset_ms), "onset": onset_ms, "start": end_ms - length_ms,
                      "sev": severity, "calm": 0}
                return Lifecycle(ep, None, 0), [("opened", severity)]
            return self, []
        out: list[tuple[str, int]] = []
        if severity > ep["sev"]:
            ep["sev"] = severity
            out.append(("escalated", severity))
        if calm is None:
            calm = score < params.resolve_score and severity == 0
        ep["calm"] = ep["calm"] + length_ms // 60_000 if calm else 0
        too_long = end_ms - ep["start"] >= params.max_episode_minutes * 60_000
        if ep["calm"] >= params.resolve_minutes or too_long:
            out.append(("resolved", ep["sev"]))
            return Lifecycle(None, end_ms + params.cooldown_minutes * 60_000, ep["sev"]), out
        return Lifecycle(ep, cooldown, self.cooldown_severity), out

    def to_dict(self) -> dict:
        return {"ep": self.episode, "cd": self.cooldown_until_ms, "cs": self.cooldown_severity}

    @classmethod
    def from_dict(cls, d: dict) -> "Lifecycle":
        return cls(d["ep"], d["cd"], d.get("cs", 3 if d["cd"] is not None else 0))


def make_event(kind: str, episode: dict, *, brand: str, severity: int, end_ms: int, score: float,
               evidence: dict) -> dict:
    """The JSON record notify delivers (``detected_at`` = end of the interval whose data triggered it)."""
    return {
        "alert_id": episode["id"],
        "brand": brand,
        "event": kind,
        "severity": SEVERITY_NAMES[max(1, min(3, severity))],
        "detected_at": format_timestamp(end_ms),
        "onset_at": format_timestamp(episode["onset"]),
        "score": round(score, 3),
        "evidence": evidence,
    }
