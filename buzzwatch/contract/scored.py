"""Records that travel on ``mentions.scored``: one scored mention per matched brand, and
watermark markers.

The ingest stage does all the per-mention CPU work (matching, language, sentiment, terms) and
hands the aggregate stage a compact record with nothing left to compute but sums. Markers carry
the event-time progress of one *raw* partition to every scored partition (DESIGN.md, aligned
watermarks), so the aggregate can close a minute only when every raw partition has moved past
it — which makes the decision independent of how fast each partition is read.

The wire form is a JSON array (not an object): field names would triple the bytes on a topic
that carries every mention.

>>> s = ScoredMention(id="t1", brand="acme", created_at_ms=60_000, lang="en", compound=-0.6,
...                   label="negative", text="Acme lost my bag", author="bob", followers=10)
>>> decode_scored(s.to_wire()) == [s]
True
>>> old = orjson.loads(s.to_wire())[:16]  # written before ``from_brand`` existed
>>> decode_scored(orjson.dumps(old)) == [s]
True
>>> decode_scored(Watermark(raw_partition=2, raw_partitions=4, event_time_ms=120_000).to_wire())
Watermark(raw_partition=2, raw_partitions=4, event_time_ms=120000, idle=False)
"""

from __future__ import annotations

from buzzwatch.errors import BuzzwatchError

from dataclasses import dataclass

import orjson

_MENTION = 0
_WATERMARK = 1
_BATCH = 2


@dataclass(frozen=True, slots=True)
class ScoredMention:
    """One mention as seen by one brand (a mention matching two brands gives two of these)."""

    id: str
    brand: str
    created_at_ms: int
    lang: str
    compound: float
    label: str
    text: str = ""  # kept for evidence only (top negative posts); truncated by ingest
    url: str | None = None
    author: str | None = None
    followers: int = 0
    shares: int = 0
    author_key: int = 0  # hash of the author id, for distinct-author counts
    fingerprint: int = 0  # duplicate-text fingerprint (terms.text_fingerprint)
    terms: tuple[str, ...] = ()
    late: bool = False  # already late by its own raw partition's watermark (see watermark.py)
    from_brand: bool = False  # written by one of the brand's own accounts: a response, not a complaint

    def to_wire(self) -> bytes:
        return orjson.dumps(
            [
                _MENTION,
                self.id,
                self.brand,
                self.created_at_ms,
                self.lang,
                round(self.compound, 4),
                self.label,
                self.text,
                self.url,
                self.author,
                self.followers,
                self.shares,
                self.author_key,
                self.fingerprint,
                list(self.terms),
                self.late,
                self.from_brand,  # appended last: readers of the 16-field form still decode
            ]
        )


@dataclass(frozen=True, slots=True)
class Watermark:
    """Raw partition ``raw_partition`` (of ``raw_partitions``) has seen event time up to
    ``event_time_ms``; ``idle`` says it is caught up and silent, so it must not hold others back."""

    raw_partition: int
    raw_partitions: int
    event_time_ms: int
    idle: bool = False

    def to_wire(self) -> bytes:
        return orjson.dumps(
            [_WATERMARK, self.raw_partition, self.raw_partitions, self.event_time_ms, self.idle]
        )


class WireError(BuzzwatchError, ValueError):
    """A record on mentions.scored that this version cannot read."""


MAX_BATCH_BYTES = 60_000  # a batch record stays far below the broker's message limit


def encode_batches(rows: list[bytes], max_bytes: int = MAX_BATCH_BYTES) -> list[bytes]:
    """Pack encoded mentions (``ScoredMention.to_wire()``, all of one brand) into as few
    ``[2, [row, ...]]`` records as fit in ``max_bytes`` each, in order.

    One Kafka record per scored mention cost more than scoring it; one per brand per batch
    (split by size) keeps the order within the brand and every message small.

    >>> a = ScoredMention(id="1", brand="acme", created_at_ms=60_000, lang="en", compound=0.1, label="neutral")
    >>> [len(decode_scored(r)) for r in encode_batches([a.to_wire()] * 5, max_bytes=200)]
    [2, 2, 1]
    """
    out: list[bytes] = []
    current: list[bytes] = []
    size = 0
    for row in rows:
        if current and size + len(row) + 1 > max_bytes - 8:
            out.append(b"[2,[" + b",".join(current) + b"]]")
            current, size = [], 0
        current.append(row)
        size += len(row) + 1
    if current:
        out.append(b"[2,[" + b",".join(current) + b"]]")
    return out


def _mention(row: list) -> ScoredMention:
    # 16 fields before ``from_brand`` was added (records written by an older version)
    (_, mid, brand, ts, lang, comp, label, text, url, author, foll, shares, akey, fp, terms, late, *rest) = row
    if len(rest) > 1:
        raise ValueError(f"{len(row)} fields, at most 17 known")
    return ScoredMention(
        id=mid, brand=brand, created_at_ms=ts, lang=lang, compound=comp, label=label,
        text=text, url=url, author=author, followers=foll, shares=shares,
        author_key=akey, fingerprint=fp, terms=tuple(terms), late=late,
        from_brand=bool(rest[0]) if rest else False,
    )


def decode_scored(raw: bytes) -> list[ScoredMention] | Watermark:
    """A marker, or the scored mentions of one record (a batch, or a single one)."""
    try:
        row = orjson.loads(raw)
        if row[0] == _BATCH:
            return [_mention(r) for r in row[1]]
        if row[0] == _MENTION:
            return [_mention(row)]
        if row[0] == _WATERMARK:
            _, part, parts, ts, idle = row
            return Watermark(raw_partition=part, raw_partitions=parts, event_time_ms=ts, idle=idle)
    except (orjson.JSONDecodeError, TypeError, ValueError, IndexError, KeyError) as exc:
        raise WireError(f"unreadable mentions.scored record: {exc}") from exc
    raise WireError(f"unknown mentions.scored record kind {row[0]!r}")
