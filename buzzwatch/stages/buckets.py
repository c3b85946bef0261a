"""Per-brand event-time minute buckets: add scored mentions, close minutes, keep rolling windows.

A bucket is (brand, minute of ``created_at``). Its content depends only on which mentions
fall in it, never on when they arrived: mentions are deduplicated by id, mentions already late
by their own raw partition (``ScoredMention.late``) or for a minute already closed are counted
as ``late`` and never folded into a closed decision.

State is bounded whatever the brand's rate (DESIGN.md, "state shape"): an open minute keeps
sums, a few top negative posts, capped term counts and fixed-size distinct-count sketches
(authors, texts); the ids seen for dedupe live in :class:`IdLog` s, one per minute, that
``buzzwatch.stages.brandstore`` persists in fixed-size chunks under their own keys (only while the
minute is open and for ``dedupe_horizon_minutes`` after). Closed minutes survive only as small
rows in a 60-minute ring and a 24-hour ring, from which the 5 min / 1 h / 24 h rolling figures
are read. The buckets record what changed since the last save (``changes()``), so a batch
writes only the keys it touched.

>>> st = BrandBuckets.new("acme")
>>> st.add(ScoredMention(id="a", brand="acme", created_at_ms=60_000, lang="en",
...                      compound=-0.5, label="negative"))
'counted'
>>> st.add(ScoredMention(id="a", brand="acme", created_at_ms=60_000, lang="en",
...                      compound=-0.5, label="negative"))
'duplicate'
>>> [s.mentions for s in st.close_until(120_000)]
[1]
>>> st.add(ScoredMention(id="b", brand="acme", created_at_ms=61_000, lang="en",
...                      compound=0.5, label="positive"))
'late'
"""

from __future__ import annotations

import base64
from array import array
from dataclasses import dataclass, field
from buzzwatch.hashing import hash64

from buzzwatch.timeutil import HOUR_MS

from buzzwatch.contract.scored import ScoredMention
from buzzwatch.stages.sketches import DistinctCounter, capped_counts, top_items
from buzzwatch.stages.summary import MINUTE_MS, MinuteSummary, TopPost

TOP_POSTS = 5
TOP_AUTHORS = 5
TOP_TERMS = 30
TERMS_CAP, TERMS_KEEP = 400, 200  # per open minute: exact below 400 distinct terms, top 200 past it
POSTERS_CAP, POSTERS_KEEP = 400, 200  # posts per author (spam/troll evidence), bounded the same way
COPIES_CAP, COPIES_KEEP = 64, 32  # repeated texts (fingerprint -> copies, a sample text), bounded
COPY_TEXT_CHARS = 140
TOP_POSTERS, TOP_COPIES = 5, 3
ID_CHUNK = 4096  # ids per persisted chunk (32 KiB): no stored value grows with a brand's rate
MINUTE_RING = 60
HOUR_RING = 25  # 24 full hours + the current one


MAX_SUM = 2**53  # sums saturate here: exact below, never wrapped, always serialisable


def sat_add(a: int, b: int) -> int:
    """``a + b`` saturated at :data:`MAX_SUM` (reach sums of huge accounts cannot overflow).

    >>> sat_add(2**53 - 1, 5), sat_add(2, 3)
    (9007199254740992, 5)
    """
    s = a + b
    return s if s < MAX_SUM else MAX_SUM


def id_hash(mention_id: str) -> int:
    return hash64(mention_id)


def _pack(ids: set[int]) -> str:
    return base64.b64encode(array("Q", sorted(ids)).tobytes()).decode("ascii")


def _unpack(text: str) -> set[int]:
    arr = array("Q")
    arr.frombytes(base64.b64decode(text))
    return set(arr)


class IdLog:
    """The ids (64-bit hashes) counted in one minute: a set to ask, an arrival-ordered array to
    persist in :data:`ID_CHUNK` -sized chunks. ``saved`` is how many are persisted; only the
    chunks from ``saved // ID_CHUNK`` on are rewritten at the next save.

    >>> log = IdLog([3, 1])
    >>> log.add(7); 7 in log, len(log), [i for i, _ in log.unsaved_chunks()]
    (True, 3, [0])
    """

    __slots__ = ("order", "members", "saved")

    def __init__(self, ids=(), saved: int | None = None):
        self.order = array("Q", ids)
        self.members = set(self.order)
        self.saved = len(self.order) if saved is None else saved

    def __contains__(self, h: int) -> bool:
        return h in self.members

    def __len__(self) -> int:
        return len(self.order)

    def add(self, h: int) -> None:
        self.order.append(h)
        self.members.add(h)

    def unsaved_chunks(self) -> list[tuple[int, bytes]]:
        if self.saved >= len(self.order):
            return []
        first = self.saved // ID_CHUNK
        last = (len(self.order) - 1) // ID_CHUNK
        return [(i, self.order[i * ID_CHUNK:(i + 1) * ID_CHUNK].tobytes()) for i in range(first, last + 1)]

    def chunks(self) -> int:
        return -(-len(self.order) // ID_CHUNK)

    @classmethod
    def from_chunks(cls, chunks: list[bytes], n: int) -> "IdLog":
        """The first ``n`` ids of the stored chunks (a crash may have stored a few more ids than
        the minute's sums counted: those are dropped, and their mentions counted on redelivery)."""
        arr = array("Q")
        for raw in chunks:
            arr.frombytes(raw)
        return cls(arr[:n])


@dataclass
class OpenMinute:
    """Running sums of one not-yet-closed minute."""

    start_ms: int
    mentions: int = 0
    negative: int = 0
    neutral: int = 0
    positive: int = 0
    unscored: int = 0
    compound_e4: int = 0  # sum of compounds in 1e-4 units: exact, so arrival order cannot matter
    reach: int = 0
    shares: int = 0
    late: int = 0
    authors: DistinctCounter = field(default_factory=DistinctCounter)
    texts: DistinctCounter = field(default_factory=DistinctCounter)  # distinct text fingerprints
    fingerprinted: int = 0  # mentions with a text fingerprint
    top: list[TopPost] = field(default_factory=list)
    terms: dict[str, int] = field(default_factory=dict)
    author_reach: dict[str, int] = field(default_factory=dict)
    responses: int = 0  # posts by the brand's own accounts: counted apart, never as mentions
    first_response: TopPost | None = None  # the earliest of them (event time, then id): the answer
    posters: dict[str, int] = field(default_factory=dict)  # author -> posts (capped, see POSTERS_CAP)
    copies: dict[int, list] = field(default_factory=dict)  # fingerprint -> [copies, text, id of that text, followers]

    def add(self, m: ScoredMention) -> None:
        if m.from_brand:
            self.responses += 1
            post = TopPost(m.id, m.text, m.compound, m.created_at_ms, m.url, m.author, m.followers)
            if self.first_response is None or (post.created_at_ms, post.id) < (
                    self.first_response.created_at_ms, self.first_response.id):
                self.first_response = post
            return
        self.mentions += 1
        if m.label == "negative":
            self.negative += 1
        elif m.label == "neutral":
            self.neutral += 1
        elif m.label == "positive":
            self.positive += 1
        else:
            self.unscored += 1
        if m.label != "unscored":
            self.compound_e4 += round(m.compound * 10_000)
        self.reach = sat_add(self.reach, m.followers)
        self.shares = sat_add(self.shares, m.shares)
        if m.author_key:
            self.authors.add(m.author_key)
        if m.fingerprint:
            self.fingerprinted += 1
            self.texts.add(m.fingerprint)
            copy = self.copies.get(m.fingerprint)
            if copy is None:
                self.copies[m.fingerprint] = [1, m.text[:COPY_TEXT_CHARS], m.id, m.followers]
                if len(self.copies) > COPIES_CAP:
                    self.copies = dict(sorted(self.copies.items(), key=lambda kv: (-kv[1][0], kv[0]))[:COPIES_KEEP])
            else:
                copy[0] += 1
                if copy[3] is not None:  # None: restored from a minute saved before followers were kept
                    copy[3] = sat_add(copy[3], m.followers)
                if m.id < copy[2]:  # the sample text: the copy with the smallest id (order-independent)
                    copy[1], copy[2] = m.text[:COPY_TEXT_CHARS], m.id
        if m.author:
            self.posters[m.author] = self.posters.get(m.author, 0) + 1
            if len(self.posters) > POSTERS_CAP:
                self.posters = capped_counts(self.posters, POSTERS_CAP, POSTERS_KEEP)
        for term in m.terms:
            self.terms[term] = self.terms.get(term, 0) + 1
        if len(self.terms) > TERMS_CAP:
            self.terms = capped_counts(self.terms, TERMS_CAP, TERMS_KEEP)
        if m.author and m.followers > self.author_reach.get(m.author, -1):
            self.author_reach[m.author] = m.followers
            if len(self.author_reach) > 4 * TOP_AUTHORS:
                self.author_reach = dict(_top_items(self.author_reach, TOP_AUTHORS))
        if m.label == "negative":
            post = TopPost(m.id, m.text, m.compound, m.created_at_ms, m.url, m.author, m.followers)
            self.top.append(post)
            if len(self.top) > TOP_POSTS:
                # most negative first, then most followed: what on-call staff must read first
                self.top.sort(key=lambda p: (p.compound, -p.followers, p.id))
                del self.top[TOP_POSTS:]

    @property
    def duplicate_texts(self) -> int:
        """Mentions repeating a text already seen this minute (exact up to 256 distinct texts)."""
        return max(0, self.fingerprinted - self.texts.count())

    def summary(self, brand: str) -> MinuteSummary:
        return MinuteSummary(
            brand=brand,
            start_ms=self.start_ms,
            mentions=self.mentions,
            negative=self.negative,
            neutral=self.neutral,
            positive=self.positive,
            unscored=self.unscored,
            compound_sum=self.compound_e4 / 10_000,
            reach=self.reach,
            shares=self.shares,
            distinct_authors=self.authors.count(),
            duplicate_texts=self.duplicate_texts,
            late=self.late,
            top_negative=tuple(sorted(self.top, key=lambda p: (p.compound, -p.followers, p.id))[:TOP_POSTS]),
            terms=tuple(_top_items(self.terms, TOP_TERMS)),
            authors=tuple(_top_items(self.author_reach, TOP_AUTHORS)),
            responses=self.responses,
            first_response=self.first_response,
            top_posters=tuple((a, n) for a, n in _top_items(self.posters, TOP_POSTERS) if n >= 2),
            top_copies=tuple((c[1], c[0]) for c in self._top_copies()),
            copy_reach=tuple((c[1], c[3]) for c in self._top_copies() if c[3] is not None),
        )

    def _top_copies(self) -> list[list]:
        return [c for _, c in sorted(self.copies.items(), key=lambda kv: (-kv[1][0], kv[1][1])) if c[0] >= 2][:TOP_COPIES]

    def to_dict(self) -> dict:
        return {
            "s": self.start_ms,
            "c": [self.mentions, self.negative, self.neutral, self.positive, self.unscored,
                  self.compound_e4, self.reach, self.shares, self.late, self.fingerprinted, self.responses],
            # sketches and sorted lists: the serialised state must not depend on arrival order
            "a": base64.b64encode(self.authors.to_bytes()).decode("ascii"),
            "f": base64.b64encode(self.texts.to_bytes()).decode("ascii"),
            "t": [p.to_dict() for p in sorted(self.top, key=lambda p: (p.compound, -p.followers, p.id))],
            "w": dict(sorted(self.terms.items())),
            "r": dict(sorted(_top_items(self.author_reach, TOP_AUTHORS))),
            "p": self.first_response.to_dict() if self.first_response else None,
            "q": dict(sorted(self.posters.items())),
            "k": sorted([fp, *c] for fp, c in self.copies.items()),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "OpenMinute":
        (n, neg, neu, pos, uns, csum, reach, shares, late, fped, *rest) = d["c"]
        responses = rest[0] if rest else 0  # (a minute written before responses were counted)
        return cls(
            start_ms=d["s"], mentions=n, negative=neg, neutral=neu, positive=pos, unscored=uns,
            compound_e4=csum, reach=reach, shares=shares, late=late, fingerprinted=fped, responses=responses,
            authors=DistinctCounter.from_bytes(base64.b64decode(d["a"])),
            texts=DistinctCounter.from_bytes(base64.b64decode(d["f"])),
            top=[TopPost.from_dict(p) for p in d["t"]], terms=dict(d["w"]), author_reach=dict(d["r"]),
            first_response=TopPost.from_dict(d["p"]) if d.get("p") else None,
            posters=dict(d.get("q") or {}), copies={fp: [n, text, mid, rest[0] if rest else None]  # None: saved before followers were kept
                    for fp, n, text, mid, *rest in d.get("k") or []},
        )


_top_items = top_items  # the k largest counts, ties by key


@dataclass(frozen=True, slots=True)
class Rolling:
    """Rolling figures over one window of closed minutes."""

    mentions: int
    scored: int
    negative: int
    compound_sum: float

    @property
    def negative_share(self) -> float:
        return self.negative / self.scored if self.scored else 0.0

    @property
    def sentiment(self) -> float:
        return self.compound_sum / self.scored if self.scored else 0.0


# ring rows: [start_ms, mentions, negative, neutral, positive, compound_sum, reach]
@dataclass
class Changes:
    """What a save must write since the previous one (``BrandBuckets.changes``)."""

    minutes: dict[int, OpenMinute]  # open minutes to (re)write
    id_chunks: list[tuple[str, int, int, bytes]]  # (kind "i"|"j", minute, chunk index, bytes)
    dropped_minutes: list[int]  # closed since: their open-minute values go
    dropped_logs: list[tuple[str, int, int]]  # (kind, minute, chunks): expired id logs go

    @property
    def empty(self) -> bool:
        return not (self.minutes or self.id_chunks or self.dropped_minutes or self.dropped_logs)


@dataclass
class BrandBuckets:
    """All bucket state of one brand. ``closed_until_ms`` is the end of the last closed minute
    (``None`` until the brand's first minute is closed: its timeline starts there)."""

    brand: str
    closed_until_ms: int | None = None
    open: dict[int, OpenMinute] = field(default_factory=dict)
    ids: dict[int, IdLog] = field(default_factory=dict)  # minute start -> id hashes counted
    late_ids: dict[int, IdLog] = field(default_factory=dict)  # minute start -> id hashes seen late
    minutes: list[list] = field(default_factory=list)
    hours: list[list] = field(default_factory=list)
    late_total: int = 0
    dedupe_horizon_minutes: int = 2
    # not state: what changed since the last save (see changes())
    _touched: set[int] = field(default_factory=set, repr=False, compare=False)
    _dropped_minutes: list[int] = field(default_factory=list, repr=False, compare=False)
    _dropped_logs: list[tuple[str, int, int]] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def new(cls, brand: str, dedupe_horizon_minutes: int = 2) -> "BrandBuckets":
        return cls(brand=brand, dedupe_horizon_minutes=dedupe_horizon_minutes)

    # -- adding ----------------------------------------------------------------------------
    def add(self, m: ScoredMention) -> str:
        """Fold one scored mention in; return ``counted``, ``duplicate`` or ``late``.

        A late copy never shadows an on-time copy of the same id (kept apart in ``late_ids``):
        with a redelivered mention on two partitions, which copy arrives first depends on the
        reading order, and the bucket must not."""
        start = m.created_at_ms - m.created_at_ms % MINUTE_MS
        h = id_hash(m.id)
        seen = self.ids.get(start)
        if seen is not None and h in seen:
            return "duplicate"
        if m.late or (self.closed_until_ms is not None and start < self.closed_until_ms):
            late_seen = self.late_ids.get(start)
            if late_seen is None:
                late_seen = self.late_ids[start] = IdLog()
            if h in late_seen:
                return "duplicate"
            late_seen.add(h)
            self.late_total += 1
            bucket = self.open.get(start)
            if bucket is not None:
                bucket.late += 1
                self._touched.add(start)
            return "late"
        bucket = self.open.get(start)
        if bucket is None:
            bucket = self.open[start] = OpenMinute(start)
        bucket.add(m)
        log = self.ids.get(start)
        if log is None:
            log = self.ids[start] = IdLog()
        log.add(h)
        self._touched.add(start)
        return "counted"

    # -- closing ---------------------------------------------------------------------------
    def close_until(self, until_ms: int) -> list[MinuteSummary]:
        """Close every minute that ends at or before ``until_ms``, silent minutes included,
        in order, and return their summaries (the detector's input)."""
        until_ms -= until_ms % MINUTE_MS
        if self.closed_until_ms is None:
            # The timeline starts at the brand's earliest on-time minute, and only once that
            # minute can be closed: by then every on-time mention of it has arrived, so the
            # start does not depend on which partition was read first.
            first = min(self.open, default=None)
            if first is None or first + MINUTE_MS > until_ms:
                return []
            self.closed_until_ms = first
        out: list[MinuteSummary] = []
        start = self.closed_until_ms
        while start + MINUTE_MS <= until_ms:
            bucket = self.open.pop(start, None)
            if bucket is None:  # a silent minute: what an empty OpenMinute sums up to
                summary = MinuteSummary(self.brand, start, 0)
            else:
                self._dropped_minutes.append(start)
                self._touched.discard(start)
                summary = bucket.summary(self.brand)
            self._remember(summary)
            out.append(summary)
            start += MINUTE_MS
        self.closed_until_ms = max(self.closed_until_ms, start)
        horizon = self.closed_until_ms - self.dedupe_horizon_minutes * MINUTE_MS
        for kind, logs in (("i", self.ids), ("j", self.late_ids)):
            for minute in [k for k in logs if k < horizon]:
                log = logs.pop(minute)
                if log.saved:
                    self._dropped_logs.append((kind, minute, -(-log.saved // ID_CHUNK)))
        return out

    def _remember(self, s: MinuteSummary) -> None:
        row = [s.start_ms, s.mentions, s.negative, s.neutral, s.positive, s.compound_sum, s.reach]
        self.minutes.append(row)
        if len(self.minutes) > MINUTE_RING:
            del self.minutes[: len(self.minutes) - MINUTE_RING]
        hour = s.start_ms - s.start_ms % HOUR_MS
        if self.hours and self.hours[-1][0] == hour:
            acc = self.hours[-1]
            for i in range(1, 7):
                acc[i] = acc[i] + row[i] if i == 5 else sat_add(acc[i], row[i])
        else:
            self.hours.append([hour] + row[1:])
            if len(self.hours) > HOUR_RING:
                del self.hours[: len(self.hours) - HOUR_RING]

    # -- reading ---------------------------------------------------------------------------
    def rolling(self, window_ms: int) -> Rolling:
        """Sums over the closed minutes in the last ``window_ms`` before ``closed_until_ms``.

        Windows up to an hour are exact (minute ring); longer ones are read from the hour ring
        and so are exact to the hour (the current partial hour plus the 23 full ones before)."""
        if self.closed_until_ms is None:
            return Rolling(0, 0, 0, 0.0)
        since = self.closed_until_ms - window_ms
        rows = self.minutes if window_ms <= MINUTE_RING * MINUTE_MS else self.hours
        if rows is self.hours:
            since -= since % HOUR_MS
        n = scored = neg = 0
        csum = 0.0
        for row in rows:
            if row[0] >= since:
                n += row[1]
                neg += row[2]
                scored += row[2] + row[3] + row[4]
                csum += row[5]
        return Rolling(n, scored, neg, csum)

    def counted(self) -> tuple[int, int]:
        """(mentions, negative) counted so far: the closed hours kept plus the open minutes."""
        return (sum(h[1] for h in self.hours) + sum(o.mentions for o in self.open.values()),
                sum(h[2] for h in self.hours) + sum(o.negative for o in self.open.values()))

    # -- persistence -----------------------------------------------------------------------
    def changes(self) -> Changes:
        """What changed since the last :meth:`mark_saved` (the store writes exactly this)."""
        chunks = []
        for kind, logs in (("i", self.ids), ("j", self.late_ids)):
            for minute, log in logs.items():
                chunks.extend((kind, minute, idx, raw) for idx, raw in log.unsaved_chunks())
        return Changes(
            minutes={m: self.open[m] for m in sorted(self._touched) if m in self.open},
            id_chunks=chunks,
            dropped_minutes=list(self._dropped_minutes),
            dropped_logs=list(self._dropped_logs),
        )

    def mark_saved(self) -> None:
        for logs in (self.ids, self.late_ids):
            for log in logs.values():
                log.saved = len(log)
        self._touched.clear()
        self._dropped_minutes.clear()
        self._dropped_logs.clear()

    def index(self) -> dict:
        """The brand's small, fixed-size part: rings, clocks, and which minutes and id logs exist
        (open minutes as runs ``[first, count]``: a long backlog of open minutes is one pair)."""
        runs: list[list[int]] = []
        for m in sorted(self.open):
            if runs and runs[-1][0] + runs[-1][1] * MINUTE_MS == m:
                runs[-1][1] += 1
            else:
                runs.append([m, 1])
        return {
            "b": self.brand,
            "u": self.closed_until_ms,
            "o": runs,
            # sizes of the id logs of closed minutes (open minutes carry theirs) and late logs
            "i": {str(k): len(v) for k, v in sorted(self.ids.items()) if k not in self.open},
            "j": {str(k): len(v) for k, v in sorted(self.late_ids.items())},
            "m": self.minutes,
            "h": self.hours,
            "l": self.late_total,
            "d": self.dedupe_horizon_minutes,
        }

    @staticmethod
    def open_minutes_of(index: dict) -> list[int]:
        return [first + i * MINUTE_MS for first, count in index["o"] for i in range(count)]

    @classmethod
    def from_parts(cls, index: dict, minutes: dict[int, tuple[OpenMinute, IdLog]],
                   closed_logs: dict[int, IdLog], late_logs: dict[int, IdLog]) -> "BrandBuckets":
        ids = {m: log for m, (_, log) in minutes.items()}
        ids.update(closed_logs)
        return cls(
            brand=index["b"], closed_until_ms=index["u"],
            open={m: om for m, (om, _) in minutes.items()},
            ids=ids, late_ids=dict(late_logs),
            minutes=[list(r) for r in index["m"]], hours=[list(r) for r in index["h"]],
            late_total=index["l"], dedupe_horizon_minutes=index["d"],
        )

    def to_dict(self) -> dict:
        """The whole logical state in one dict (tests and tools; the store splits it by key)."""
        return {
            **self.index(),
            "o": [self.open[k].to_dict() for k in sorted(self.open)],
            "i": {str(k): _pack(set(v.members)) for k, v in sorted(self.ids.items())},
            "j": {str(k): _pack(set(v.members)) for k, v in sorted(self.late_ids.items())},
        }

    @classmethod
    def from_dict(cls, d: dict) -> "BrandBuckets":
        return cls(
            brand=d["b"],
            closed_until_ms=d["u"],
            open={b["s"]: OpenMinute.from_dict(b) for b in d["o"]},
            ids={int(k): IdLog(sorted(_unpack(v))) for k, v in d["i"].items()},
            late_ids={int(k): IdLog(sorted(_unpack(v))) for k, v in d["j"].items()},
            minutes=[list(r) for r in d["m"]],
            hours=[list(r) for r in d["h"]],
            late_total=d["l"],
            dedupe_horizon_minutes=d["d"],
        )
