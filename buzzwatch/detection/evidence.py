"""What on-call staff read first: the worst posts, the words that are new, who amplifies it.

Accumulated over an episode from the closed-minute summaries (never from raw text streams), and
compared with a small decayed per-brand term baseline learnt from normal minutes, so that
"emerging terms" are the ones unusual *for this brand* (a bank's "account" is not news,
"frozen" is). Everything is bounded (top 5 posts, top 5 authors, 200 terms) so the state
stays small.

>>> ev = Evidence.new()
>>> ev = ev.add_terms((("refund", 9), ("#acmefail", 6), ("order", 3)))
>>> base = TermBaseline.new().learn((("order", 300),), mentions=1000)
>>> [t for t, _ in ev.emerging(base, mentions=20)]
['refund', '#acmefail']
"""

from __future__ import annotations

import math
from operator import itemgetter
from dataclasses import dataclass, field

import orjson

from buzzwatch.detection.rounding import round_to, rounded
from buzzwatch.stages.summary import MinuteSummary

TOP_POSTS = 5
TOP_AUTHORS = 5
MAX_TERMS = 200
BASELINE_TERMS = 200
RECENT_MS = 15 * 60_000  # posts kept from before an episode opens (its first minutes)


class StoredJSON:
    """A part of a stored state kept as its JSON bytes, not parsed (see :meth:`TermBaseline.from_dict`).

    Only the aggregate stage makes these (``BrandState.detector_for_step``), and it serialises
    the state with :func:`stored_json_fragment` as orjson's ``default``: the bytes go back as
    they were read."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes):
        self.raw = raw


def stored_json_fragment(obj):
    """orjson ``default`` for :class:`StoredJSON`: its bytes, verbatim."""
    if isinstance(obj, StoredJSON):
        return orjson.Fragment(obj.raw)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


@dataclass(frozen=True)
class TermBaseline:
    """Decayed per-brand term counts from normal minutes (the top ``BASELINE_TERMS`` only)."""

    counts: dict[str, float] = field(default_factory=dict)
    mentions: float = 0.0
    # the stored dict this was read from (not state; ``learn`` drops it): unchanged, it is
    # written back as read instead of rounding every count again
    _stored: dict | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def new(cls) -> "TermBaseline":
        return cls()

    def learn(self, terms, mentions: float, decay: float = 0.999) -> "TermBaseline":
        if not terms and not mentions:
            return self
        counts = {t: c * decay for t, c in self.counts.items()}
        for term, n in terms:
            counts[term] = counts.get(term, 0.0) + n
        if len(counts) > BASELINE_TERMS * 5 // 4:
            counts = dict(_largest(counts, BASELINE_TERMS))
        return TermBaseline(counts, self.mentions * decay + mentions)

    def share(self, term: str) -> float:
        """Usual share of mentions carrying ``term`` (half a mention for an unknown one)."""
        return (self.counts.get(term, 0.0) + 0.5) / (self.mentions + 50.0)

    def to_dict(self) -> dict:
        if self._stored is not None:  # read by from_dict and unchanged since: already rounded
            return self._stored
        return {"c": dict(zip(self.counts, rounded(self.counts.values(), 2))), "m": round_to(self.mentions, 2)}

    @classmethod
    def from_dict(cls, d: "dict | StoredJSON") -> "TermBaseline":
        """What :meth:`to_dict` wrote; its ``to_dict`` gives ``d`` back until it learns.

        ``d`` may be the stored JSON itself (:class:`StoredJSON`): the counts (a week of a
        brand's vocabulary, half of its detector state) are then parsed only if read or learnt,
        which a silent minute does not do.

        >>> raw = orjson.dumps(TermBaseline.new().learn((("refund", 2),), mentions=4).to_dict())
        >>> lazy = TermBaseline.from_dict(StoredJSON(raw))
        >>> lazy.learn((), 0).to_dict().raw == raw, lazy.mentions, lazy.share("refund") > lazy.share("order")
        (True, 4.0, True)
        >>> lazy == TermBaseline.from_dict(orjson.loads(raw))
        True
        """
        if isinstance(d, StoredJSON):
            tb = object.__new__(cls)  # counts: parsed on first use (__getattr__)
            object.__setattr__(tb, "_stored", d)
            # ``{"c":{...},"m":<number>}``: the last ``,"m":`` is the total's (keys are quoted)
            object.__setattr__(tb, "mentions", orjson.loads(d.raw[d.raw.rfind(b',"m":') + 5:-1]))
            return tb
        tb = cls(dict(d["c"]), d["m"])
        if len(d) == 2:
            object.__setattr__(tb, "_stored", d)
        return tb

    def __getattr__(self, name: str):
        """The ``counts`` of a baseline read from its :class:`StoredJSON`, parsed on first use."""
        stored = self.__dict__.get("_stored")
        if name == "counts" and isinstance(stored, StoredJSON):
            counts = dict(orjson.loads(stored.raw)["c"])
            object.__setattr__(self, "counts", counts)
            return counts
        raise AttributeError(name)


def _largest(counts: dict, k: int) -> list[tuple]:
    """The ``k`` largest counts, ties by term: ``sorted(key=lambda kv: (-kv[1], kv[0]))[:k]``
    without a Python call per term (by term, then a stable sort by count, largest first)."""
    items = sorted(counts.items())
    items.sort(key=itemgetter(1), reverse=True)
    return items[:k]


def _best_posts(posts: list[dict]) -> tuple[dict, ...]:
    """Most negative first, then most followed; unique by id; ``TOP_POSTS`` at most."""
    posts = sorted(posts, key=lambda p: (p["compound"], -p["followers"], p["id"]))
    seen, unique = set(), []
    for p in posts:
        if p["id"] not in seen:
            seen.add(p["id"])
            unique.append(p)
    return tuple(unique[:TOP_POSTS])


def recent_posts(posts: list[dict], summary: MinuteSummary) -> list[dict]:
    """The worst negative posts of the last ``RECENT_MS``: seeds an episode's evidence at opening.

    >>> from buzzwatch.stages.summary import TopPost
    >>> s = MinuteSummary("acme", 0, 1, negative=1, top_negative=(TopPost("p1", "awful", -0.9, 10),))
    >>> [p["id"] for p in recent_posts([], s)]
    ['p1']
    """
    keep = [p for p in posts if p["created_at_ms"] >= summary.end_ms - RECENT_MS]
    return list(_best_posts(keep + [p.to_dict() for p in summary.top_negative]))


@dataclass(frozen=True)
class Evidence:
    """Totals and top lists over one episode."""

    mentions: int = 0
    negative: int = 0
    scored: int = 0
    duplicates: int = 0
    reach: int = 0
    posts: tuple[dict, ...] = ()
    terms: dict[str, int] = field(default_factory=dict)
    authors: dict[str, int] = field(default_factory=dict)

    @classmethod
    def new(cls, posts=()) -> "Evidence":
        return cls(posts=tuple(posts))

    def add_terms(self, terms) -> "Evidence":
        merged = dict(self.terms)
        for t, n in terms:
            merged[t] = merged.get(t, 0) + n
        if len(merged) > MAX_TERMS:
            merged = dict(_largest(merged, MAX_TERMS))
        return Evidence(self.mentions, self.negative, self.scored, self.duplicates, self.reach, self.posts, merged,
                        self.authors)

    def add(self, s: MinuteSummary) -> "Evidence":
        posts = _best_posts(list(self.posts) + [p.to_dict() for p in s.top_negative])
        authors = dict(self.authors)
        for a, f in s.authors:
            authors[a] = max(authors.get(a, 0), f)
        for p in s.top_negative:
            if p.author:
                authors[p.author] = max(authors.get(p.author, 0), p.followers)
        authors = dict(sorted(authors.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_AUTHORS])
        ev = Evidence(
            self.mentions + s.mentions, self.negative + s.negative, self.scored + s.scored,
            self.duplicates + s.duplicate_texts, self.reach + s.reach, posts, self.terms, authors,
        )
        return ev.add_terms(s.terms)

    def emerging(self, baseline: TermBaseline, mentions: int | None = None, k: int = 10) -> list[tuple[str, float]]:
        """Terms much more frequent in the episode than usual for the brand (lift >= 3), by evidence weight."""
        n = max(mentions if mentions is not None else self.mentions, 1)
        out = []
        for term, c in self.terms.items():
            if c < 3:
                continue
            lift = (c / n) / baseline.share(term)
            if lift >= 3.0:
                out.append((term, round(lift, 1), c * math.log(lift)))
        out.sort(key=lambda x: (-x[2], x[0]))
        return [(t, lift) for t, lift, _ in out[:k]]

    def report(self, baseline: TermBaseline) -> dict:
        """The episode part of an alert's ``evidence``."""
        return {
            "episode_mentions": self.mentions,
            "episode_negative_share": round(self.negative / self.scored, 4) if self.scored else None,
            "episode_reach": self.reach,
            "top_negative": [{"text": p["text"], "url": p.get("url"), "author": p.get("author"),
                              "followers": p.get("followers", 0), "compound": p["compound"],
                              "created_at_ms": p["created_at_ms"], "id": p["id"]} for p in self.posts],
            "emerging_terms": [{"term": t, "lift": lift, "hashtag": t.startswith("#")} for t, lift in self.emerging(baseline)],
            "top_authors": [{"author": a, "followers": f} for a, f in self.authors.items()],
            "duplicate_share": round(self.duplicates / self.mentions, 4) if self.mentions else 0.0,
        }

    def to_dict(self) -> dict:
        return {"m": self.mentions, "n": self.negative, "s": self.scored, "d": self.duplicates, "r": self.reach,
                "p": list(self.posts), "t": self.terms, "a": self.authors}

    @classmethod
    def from_dict(cls, d: dict) -> "Evidence":
        return cls(d["m"], d["n"], d["s"], d["d"], d["r"], tuple(d["p"]), dict(d["t"]), dict(d["a"]))
