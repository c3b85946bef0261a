"""Event-time units and conversions, one place for the whole core.

Units live in names (``_ms``), event time is epoch milliseconds UTC everywhere, and nothing
here reads the wall clock.

>>> minute_start(125_000), MINUTE_MS * 60 == HOUR_MS, DAY_MS // HOUR_MS
(120000, True, 24)
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
# Numeric times at or above this are epoch *milliseconds*: as seconds they would be after
# year 5000, as milliseconds they are after 1973. Below it, epoch seconds.
EPOCH_MS_THRESHOLD = 100_000_000_000


def minute_start(ms: int) -> int:
    """The start of the event-time minute holding ``ms``."""
    return ms - ms % MINUTE_MS


def parse_timestamp_ms(value: Any) -> int | None:
    """Epoch ms from ISO-8601 (no zone = UTC), epoch seconds or epoch milliseconds (numbers at
    or above :data:`EPOCH_MS_THRESHOLD`); ``None`` when unparseable or not finite.

    >>> parse_timestamp_ms("2015-02-26T21:42:53"), parse_timestamp_ms(1424986973)
    (1424986973000, 1424986973000)
    >>> parse_timestamp_ms(1424986973000), parse_timestamp_ms(float("inf"))
    (1424986973000, None)
    >>> parse_timestamp_ms("2015-02-26 21:42:53 -0800"), parse_timestamp_ms("yesterday")
    (1425015773000, None)
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        if abs(value) >= EPOCH_MS_THRESHOLD:
            return int(round(value))
        return int(round(value * 1000))
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        dt = None
        for fmt in ("%Y-%m-%d %H:%M:%S %z", "%a %b %d %H:%M:%S %z %Y"):  # CSV / Twitter API forms
            try:
                dt = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if dt is None:
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    try:
        return int(dt.timestamp() * 1000)
    except (OverflowError, ValueError, OSError):  # year 1 or 9999 with an offset
        return None


def format_timestamp(ms: int) -> str:
    """ISO-8601 UTC with a ``Z``, to the second (the form alerts and reports use).

    >>> format_timestamp(1424986973000)
    '2015-02-26T21:42:53Z'
    """
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
