"""Alert episodes: opened -> escalated (severity rises) -> resolved, one alert per episode.

An episode **opens** when a warmed-up brand reaches severity *watch* or more outside a
cooldown; it **escalates** each time its severity rises above the highest so far (never on a
dip and a return); it **resolves** after ``resolve_minutes`` in a row with a score below
``resolve_score`` (hysteresis: lower than the opening threshold, so a score hovering around
the threshold does not flap) or after ``max_episode_minutes`` (a lasting shift is the new
normal). After that, ``cooldown_minutes`` without a new episode: never a flood.

``alert_id`` is ``"<brand>:<onset ISO-8601>"``: the same episode found again (replay,
redelivery) has the same id, so notification is idempotent. State is a small JSON dict.

>>> lp = LifecycleParams(resolve_minutes=2, cooldown_minutes=10)
>>> st, out = Lifecycle.new(), []
>>> for minute, sev, score in [(0, 0, 0.0), (1, 1, 6.0), (2, 3, 20.0), (3, 1, 6.0), (4, 0, 0.5), (5, 0, 0.1), (6, 1, 6.0)]:
...     st, kinds = st.step(lp, brand="acme", severity=sev, score=score, end_ms=(minute + 1) * 60_000,
...                         length_ms=60_000, onset_ms=minute * 60_000)
...     out += [(minute, k, s) for k, s in kinds]
>>> out
[(1, 'opened', 1), (2, 'escalated', 3), (5, 'resolved', 3)]
>>> st.cooldown_until_ms  # resolved at 6 min + 10 min: minute 6 fell in the cooldown
960000
"""

from __future__ import annotations

from dataclasses import dataclass

from buzzwatch.mention import format_timestamp

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
    resolve_minutes: int = 120  # calm this long resolves the episode
    cooldown_minutes: int = 1440  # no new episode this long after one resolved (the response window)
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

    @classmethod
    def new(cls) -> "Lifecycle":
        return cls()

    @property
    def open(self) -> bool:
        return self.episode is not None

    def step(self, params: LifecycleParams, *, brand: str, severity: int, score: float, end_ms: int,
             length_ms: int, onset_ms: int) -> tuple["Lifecycle", list[tuple[str, int]]]:
        """Advance by one closed interval ending at ``end_ms``; returns transitions ``(event, severity)``.

        ``onset_ms`` is the caller's estimate of when the episode started, used only on opening.
        """
        ep = dict(self.episode) if self.episode else None
        cooldown = self.cooldown_until_ms
        if ep is None:
            if severity >= 1 and (cooldown is None or end_ms > cooldown):
                ep = {"id": alert_id(brand, onset_ms), "onset": onset_ms, "start": end_ms - length_ms,
                      "sev": severity, "calm": 0}
                return Lifecycle(ep, cooldown), [("opened", severity)]
            return self, []
        out: list[tuple[str, int]] = []
        if severity > ep["sev"]:
            ep["sev"] = severity
            out.append(("escalated", severity))
        ep["calm"] = ep["calm"] + length_ms // 60_000 if score < params.resolve_score and severity == 0 else 0
        too_long = end_ms - ep["start"] >= params.max_episode_minutes * 60_000
        if ep["calm"] >= params.resolve_minutes or too_long:
            out.append(("resolved", ep["sev"]))
            return Lifecycle(None, end_ms + params.cooldown_minutes * 60_000), out
        return Lifecycle(ep, cooldown), out

    def to_dict(self) -> dict:
        return {"ep": self.episode, "cd": self.cooldown_until_ms}

    @classmethod
    def from_dict(cls, d: dict) -> "Lifecycle":
        return cls(d["ep"], d["cd"])


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
