"""The mention contract: raw bytes in, a validated :class:`Mention` or a :class:`Rejection` out.

Bad input is a value, not an exception: the rejection's ``reason`` is at once the DLQ reason
and the metric label, so ``consumed = accepted + dead_lettered`` holds by construction. The
reasons form a small fixed set (:data:`REASONS`). Unknown fields are kept in ``extra``, never
rejected, because upstream collectors add fields faster than we release.

"Absurdly far in the future" is judged against a *reference* time handed in by the caller
(the Kafka record timestamp in the agents, the file's own clock in a backtest), never against
the wall clock here, so a replay rejects exactly what live rejected.

>>> m = parse_mention(b'{"id": "t1", "text": "Acme is down again", "created_at": "2026-11-23T10:15:00Z"}')
>>> m.id, m.created_at_ms
('t1', 1795428900000)
>>> parse_mention(b'{"id": "t2"}').reason
'missing_field'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from buzzwatch.timeutil import EPOCH_MS_THRESHOLD, format_timestamp, parse_timestamp_ms  # noqa: F401 (re-exported)

MAX_TEXT_CHARS = 10_000
MAX_FUTURE_MS = 10 * 60 * 1000  # a source clock more than 10 min ahead of Kafka's is wrong
MIN_EVENT_TIME_MS = 946_684_800_000  # 2000-01-01: older is a unit error, not a mention
MAX_EVENT_TIME_MS = 4_102_444_800_000  # 2100-01-01: later is a unit error (or a joke)
# Counts (followers, likes, shares, replies) are exact in a float64 and in JSON readers of every
# language up to 2**53; larger values are refused (``out_of_range``), never wrapped or clamped.
MAX_COUNT = 2**53

REASONS = (
    "not_utf8",
    "not_json",
    "not_object",
    "missing_field",
    "bad_type",
    "empty_text",
    "text_too_long",
    "bad_timestamp",
    "future_timestamp",
    "out_of_range",
    "internal_error",
)

_KNOWN = {"id", "text", "created_at", "brand", "lang", "source", "url", "author", "engagement"}


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a record was refused; ``reason`` is one of :data:`REASONS`."""

    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class Mention:
    """A validated social mention. ``created_at_ms`` is its event time (epoch ms, UTC)."""

    id: str
    text: str
    created_at_ms: int
    brand: str | None = None
    lang: str | None = None
    source: str | None = None
    url: str | None = None
    author_id: str | None = None
    author_name: str | None = None
    followers: int = 0
    verified: bool = False
    likes: int = 0
    shares: int = 0
    replies: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _opt_str(obj: dict, key: str) -> str | None | Rejection:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    return Rejection("bad_type", f"{key} must be a string")


def _opt_int(obj: dict, key: str, where: str) -> int | Rejection:
    value = obj.get(key)
    if value is None:
        return 0
    if type(value) is int and 0 <= value <= MAX_COUNT:  # the usual case, decided at once
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value < 0:
        return Rejection("bad_type", f"{where}.{key} must be a non-negative number")
    if value > MAX_COUNT:  # inf included
        return Rejection("out_of_range", f"{where}.{key} is {value!r}, above the limit 2**53")
    return int(value)


def validate_mention(
    obj: Any,
    *,
    reference_ms: int | None = None,
    max_text_chars: int = MAX_TEXT_CHARS,
    max_future_ms: int = MAX_FUTURE_MS,
) -> Mention | Rejection:
    """Check a decoded JSON value against the contract."""
    if not isinstance(obj, dict):
        return Rejection("not_object", f"expected a JSON object, got {type(obj).__name__}")
    for key in ("id", "text", "created_at"):
        if key not in obj or obj[key] is None:
            return Rejection("missing_field", f"{key} is required")
    mid = obj["id"]
    if isinstance(mid, int) and not isinstance(mid, bool):
        mid = str(mid)  # numeric ids (tweet ids) are common and unambiguous
    if not isinstance(mid, str) or not mid.strip():
        return Rejection("bad_type", "id must be a non-empty string")
    text = obj["text"]
    if not isinstance(text, str):
        return Rejection("bad_type", "text must be a string")
    if not text.strip():
        return Rejection("empty_text", "text is empty")
    if len(text) > max_text_chars:
        return Rejection("text_too_long", f"text has {len(text)} characters (limit {max_text_chars})")
    created_at_ms = parse_timestamp_ms(obj["created_at"])
    if created_at_ms is None:
        return Rejection("bad_timestamp", f"created_at {obj['created_at']!r} is not a valid time")
    if not MIN_EVENT_TIME_MS <= created_at_ms < MAX_EVENT_TIME_MS:
        return Rejection(
            "out_of_range",
            f"created_at {str(obj['created_at'])[:40]!r} is outside 2000-01-01..2100-01-01 "
            "(numbers are epoch seconds, or epoch milliseconds from 1e11 up)",
        )
    if reference_ms is not None and created_at_ms > reference_ms + max_future_ms:
        return Rejection(
            "future_timestamp",
            f"created_at {format_timestamp(created_at_ms)} is more than {max_future_ms // 1000}s "
            f"after the record time {format_timestamp(reference_ms)}",
        )
    strings = {}
    for key in ("brand", "lang", "source", "url"):
        value = obj.get(key)
        if isinstance(value, str):
            strings[key] = value.strip() or None  # blank: absent
        elif value is None:
            strings[key] = None
        else:
            return Rejection("bad_type", f"{key} must be a string")

    author = obj.get("author") or {}
    engagement = obj.get("engagement") or {}
    if not isinstance(author, dict):
        return Rejection("bad_type", "author must be an object")
    if not isinstance(engagement, dict):
        return Rejection("bad_type", "engagement must be an object")
    author_id = author.get("id")
    if isinstance(author_id, int) and not isinstance(author_id, bool):
        author_id = str(author_id)
    if author_id is not None and not isinstance(author_id, str):
        return Rejection("bad_type", "author.id must be a string")
    author_name = _opt_str(author, "name")
    if isinstance(author_name, Rejection):
        return Rejection("bad_type", "author.name must be a string")
    numbers = {}
    for where, src, key in (
        ("author", author, "followers"),
        ("engagement", engagement, "likes"),
        ("engagement", engagement, "shares"),
        ("engagement", engagement, "replies"),
    ):
        value = _opt_int(src, key, where)
        if isinstance(value, Rejection):
            return value
        numbers[key] = value
    return Mention(
        id=mid,
        text=text,
        created_at_ms=created_at_ms,
        brand=strings["brand"],
        lang=strings["lang"],
        source=strings["source"],
        url=strings["url"],
        author_id=author_id,
        author_name=author_name,
        followers=numbers["followers"],
        verified=bool(author.get("verified", False)),
        likes=numbers["likes"],
        shares=numbers["shares"],
        replies=numbers["replies"],
        extra={k: v for k, v in obj.items() if k not in _KNOWN},
    )


def parse_mention(
    raw: bytes,
    *,
    reference_ms: int | None = None,
    max_text_chars: int = MAX_TEXT_CHARS,
    max_future_ms: int = MAX_FUTURE_MS,
) -> Mention | Rejection:
    """Decode one Kafka message value (UTF-8 JSON) and validate it."""
    if raw is None:
        return Rejection("not_json", "empty message (tombstone)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejection("not_utf8", f"invalid UTF-8 at byte {exc.start}")
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return Rejection("not_json", f"invalid JSON: {exc}")
    return validate_mention(
        obj, reference_ms=reference_ms, max_text_chars=max_text_chars, max_future_ms=max_future_ms
    )
