"""The closed-minute summary of one brand: what the detector sees, one per event-time minute.

It is the contract between the bucket arithmetic (``buckets.py``) and the detection code
(``baseline.py``, ``detector.py``, ``lifecycle.py``): plain numbers, no text, so that the
detector can run equally on live buckets, on a replay, or on a CSV of interval counts
(NAB files), where only ``mentions`` (and maybe ``negative``) are known.

>>> s = MinuteSummary(brand="acme", start_ms=60_000, mentions=10, negative=4, neutral=3,
...                   positive=3, unscored=0, compound_sum=-1.5, reach=1200)
>>> s.scored, s.negative_share, round(s.mean_compound, 2), s.end_ms
(10, 0.4, -0.15, 120000)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from buzzwatch.timeutil import MINUTE_MS


@dataclass(frozen=True, slots=True)
class TopPost:
    """One negative post kept as evidence for an alert (never used as a metric label)."""

    id: str
    text: str
    compound: float
    created_at_ms: int
    url: str | None = None
    author: str | None = None
    followers: int = 0

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "text": self.text,
            "compound": round(self.compound, 4),
            "created_at_ms": self.created_at_ms,
            "url": self.url,
            "author": self.author,
            "followers": self.followers,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "TopPost":
        return cls(
            id=d["id"],
            text=d["text"],
            compound=d["compound"],
            created_at_ms=d["created_at_ms"],
            url=d.get("url"),
            author=d.get("author"),
            followers=d.get("followers", 0),
        )


@dataclass(frozen=True, slots=True)
class MinuteSummary:
    """Everything known about one brand in one closed event-time interval.

    ``start_ms`` is the interval's start (epoch ms, UTC); ``length_ms`` is one minute for live
    buckets and the row spacing for interval-count files. Counts by label cover *accepted,
    deduplicated, on-time* mentions; ``late`` counts those that arrived after the interval had
    closed (reported, never folded back into a decision already taken).
    """

    brand: str
    start_ms: int
    mentions: int
    negative: int = 0
    neutral: int = 0
    positive: int = 0
    unscored: int = 0
    compound_sum: float = 0.0
    reach: int = 0
    shares: int = 0
    distinct_authors: int = 0
    duplicate_texts: int = 0
    late: int = 0
    length_ms: int = MINUTE_MS
    # Evidence, filled for live buckets only (empty for count files):
    top_negative: tuple[TopPost, ...] = field(default=())
    terms: tuple[tuple[str, int], ...] = field(default=())
    authors: tuple[tuple[str, int], ...] = field(default=())  # (author, followers) by reach
    responses: int = 0  # posts by the brand's own accounts (``from_brand``): not in ``mentions``
    first_response: TopPost | None = None  # the earliest of them: when and where the brand answered
    # Who posts how much (spam/troll evidence, ``spam.py``); empty when unknown:
    top_posters: tuple[tuple[str, int], ...] = field(default=())  # (author, posts in the interval), most first, >= 2 posts
    top_copies: tuple[tuple[str, int], ...] = field(default=())  # (text, copies), most copied first, >= 2 copies
    # (text, followers summed over all its copies) for the ``top_copies`` texts: who pasted it,
    # apart from the rest of the interval (a campaign diluted by ordinary traffic); empty when unknown
    copy_reach: tuple[tuple[str, int], ...] = field(default=())

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.length_ms

    @property
    def scored(self) -> int:
        """Mentions with a sentiment label (unscored languages excluded)."""
        return self.negative + self.neutral + self.positive

    @property
    def negative_share(self) -> float:
        return self.negative / self.scored if self.scored else 0.0

    @property
    def mean_compound(self) -> float:
        return self.compound_sum / self.scored if self.scored else 0.0
