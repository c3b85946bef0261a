"""Per-brand state in bounded key/values: what the changelogged table holds, and in what order.

One table value per brand grew with the brand's traffic until Kafka refused it (1 MB) in a
crisis or a backlog. Here a brand's state is split by what grows:

=========================================  ==================================================
key                                        value
=========================================  ==================================================
``<brand>``                                index: rings of closed minutes, clocks, detector
                                           state, which open minutes and id logs exist (fixed
                                           size: open minutes as runs)
``<brand>\\0m\\0<minute>``                   one open minute: sums, sketches, top posts, and
                                           ``n``, how many ids its sums count (bounded)
``<brand>\\0i\\0<minute>\\0<k>``              chunk ``k`` of that minute's ids (4,096 x 8 bytes)
``<brand>\\0j\\0<minute>\\0<k>``              chunk ``k`` of the ids seen late for that minute
``\\0w\\0<scored partition>``                 that partition's aligned watermark: how far each
                                           raw partition got (not a brand: no brand name is
                                           empty)
=========================================  ==================================================

Every value is bounded (:data:`MAX_VALUE_BYTES`) whatever the brand's rate, backlog or
partition skew; a save writes only what changed. The part before the first ``\\0`` is the
brand, and the live table places every key on the brand's partition (co-partitioning).

A crash can cut a save anywhere, so the writes go in an order that a reader can always make
sense of: id chunks, then open minutes, then the index, then deletions. A minute's sums count
exactly the first ``n`` ids of its log: ids stored beyond ``n`` by a cut save are ignored, so
their mentions, redelivered, are counted once. Deletions come last: a cut save leaves at worst
an orphan value that no index names.

>>> from buzzwatch.contract.scored import ScoredMention
>>> kv = DictKV()
>>> store = BrandStore(kv)
>>> st = BrandState.new("acme")
>>> _ = st.buckets.add(ScoredMention(id="1", brand="acme", created_at_ms=60_000, lang="en",
...                                  compound=-0.5, label="negative"))
>>> store.save(st)
>>> sorted(kv.data)
[b'acme', b'acme\\x00i\\x0060000\\x000', b'acme\\x00m\\x0060000']
>>> store.load("acme").buckets.add(ScoredMention(id="1", brand="acme", created_at_ms=60_000,
...                                               lang="en", compound=-0.5, label="negative"))
'duplicate'
"""

from __future__ import annotations

from buzzwatch.errors import BuzzwatchError

from dataclasses import dataclass
from typing import Any, Iterable, Protocol

import orjson

from buzzwatch.detection.evidence import StoredJSON, stored_json_fragment
from buzzwatch.stages.buckets import BrandBuckets, IdLog, OpenMinute, ID_CHUNK

STATE_VERSION = 2
_TERMS_OPEN, _TERMS_CLOSE = b',"tb":{"c":{', b'},"sk":'  # the detector state's term baseline
MAX_VALUE_BYTES = 64 * 1024
SEP = b"\x00"


class StateError(BuzzwatchError, ValueError):
    """Stored state this version cannot read, or a value over the size bound."""


class KV(Protocol):
    """Bytes to bytes: a Faust table live, a dict offline."""

    def get(self, key: bytes) -> bytes | None: ...
    def set(self, key: bytes, value: bytes) -> None: ...
    def delete(self, key: bytes) -> None: ...


class DictKV:
    """An in-memory :class:`KV` (backtests, benches, tests) that also reports the largest value."""

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}
        self.largest = 0

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def set(self, key: bytes, value: bytes) -> None:
        self.largest = max(self.largest, len(value))
        self.data[key] = value

    def delete(self, key: bytes) -> None:
        self.data.pop(key, None)


def brand_of_key(key: bytes) -> bytes:
    """The partitioning part of a key: the brand (what the live table hashes)."""
    return key.split(SEP, 1)[0]


_WATERMARK_PREFIX = SEP + b"w" + SEP


def watermark_key(partition: int) -> bytes:
    """The key of a scored partition's aligned watermark (the live table places it on that partition).

    >>> watermark_key(3), watermark_partition(watermark_key(3)), watermark_partition(b"acme")
    (b'\\x00w\\x003', 3, None)
    """
    return _WATERMARK_PREFIX + str(partition).encode()


def watermark_partition(key: bytes) -> int | None:
    """The scored partition a :func:`watermark_key` is for; ``None`` for a brand's key."""
    return int(key[len(_WATERMARK_PREFIX):]) if key.startswith(_WATERMARK_PREFIX) else None


def _minute_key(brand: bytes, minute: int) -> bytes:
    return brand + SEP + b"m" + SEP + str(minute).encode()


def _chunk_key(brand: bytes, kind: str, minute: int, idx: int) -> bytes:
    return brand + SEP + kind.encode() + SEP + str(minute).encode() + SEP + str(idx).encode()


def compact_bytes(value: bytes) -> bytes:
    """``value`` in a block of its own size, for what is kept (table values, parsed state).

    orjson's ``dumps`` returns bytes that keep its growth buffer: a 7.8 KB document holds ~65 KB
    (``sys.getsizeof`` does not show it; tracemalloc does). Kept for every brand a worker owns,
    that buffer was most of the worker's memory. The copy costs one memcpy."""
    return bytes(memoryview(value))


@dataclass(init=False)
class BrandState:
    """Everything the pipeline remembers about one brand: buckets, detector state, and the last
    assessment (for the gauges a new owner shows at once after a rebalance).

    The detector state is held as its compact JSON (``detector_json``, ~8 KB with a week of
    history) and parsed by ``detector`` when read: parsed, it is ~55 KB of Python objects, and a
    worker holds every brand it owns (10,000 brands: ~550 MB). Detection reads and writes it
    once per closed minute; the save embeds the bytes as they are."""

    buckets: BrandBuckets
    detector_json: bytes
    last: dict[str, Any]

    def __init__(self, buckets: BrandBuckets, detector: dict | None = None, last: dict | None = None):
        self.buckets = buckets
        self.detector = detector or {}
        self.last = dict(last or {})

    @property
    def detector(self) -> dict[str, Any]:
        """A fresh parse of the detector state (changing it changes nothing: assign it back)."""
        return orjson.loads(self.detector_json)

    @detector.setter
    def detector(self, value: dict[str, Any]) -> None:
        self.detector_json = compact_bytes(orjson.dumps(value, default=stored_json_fragment))

    def detector_for_step(self) -> dict[str, Any]:
        """The detector state for detection steps (assign the result back), its term baseline
        left as its JSON (:class:`~buzzwatch.detection.evidence.StoredJSON`): half of a warm
        brand's state, parsed only if the step reads or learns it (a silent minute does not).

        The term baseline's value is found in the bytes: ``,"tb":{"c":{`` opens it and
        ``},"sk":`` closes it, and neither can occur elsewhere (a quote inside a JSON string is
        escaped; no other object has a key ``tb`` holding an object). A state of another layout
        is parsed whole."""
        raw = self.detector_json
        start = raw.find(_TERMS_OPEN)
        end = raw.find(_TERMS_CLOSE, start) if start >= 0 else -1
        if end < 0:
            return orjson.loads(raw)
        start += len(_TERMS_OPEN) - len(b'{"c":{')
        d = orjson.loads(raw[:start] + b"null" + raw[end + 1:])
        d["tb"] = StoredJSON(raw[start:end + 1])
        return d

    @classmethod
    def new(cls, brand: str, dedupe_horizon_minutes: int = 2, detector: dict | None = None) -> "BrandState":
        return cls(BrandBuckets.new(brand, dedupe_horizon_minutes), dict(detector or {}))


class BrandStore:
    """Load and save :class:`BrandState` s in a :class:`KV`, bounded and crash-ordered."""

    def __init__(self, kv: KV, max_value_bytes: int = MAX_VALUE_BYTES):
        self.kv = kv
        self.max_value_bytes = max_value_bytes
        self.bytes_written = 0
        self.largest_value = 0

    def _set(self, key: bytes, value: bytes) -> None:
        if len(value) > self.max_value_bytes:
            raise StateError(f"state value {key[:80]!r} is {len(value)} bytes (bound {self.max_value_bytes})")
        self.bytes_written += len(value)
        self.largest_value = max(self.largest_value, len(value))
        self.kv.set(key, compact_bytes(value))

    def save(self, st: BrandState) -> None:
        b = st.buckets
        brand = b.brand.encode("utf-8")
        ch = b.changes()
        for kind, minute, idx, raw in ch.id_chunks:
            self._set(_chunk_key(brand, kind, minute, idx), raw)
        for minute, om in ch.minutes.items():
            self._set(_minute_key(brand, minute), orjson.dumps({**om.to_dict(), "n": len(b.ids[minute])}))
        index = {"v": STATE_VERSION, **b.index(), "det": orjson.Fragment(st.detector_json), "last": st.last}
        self._set(brand, orjson.dumps(index))
        for minute in ch.dropped_minutes:
            self.kv.delete(_minute_key(brand, minute))
        for kind, minute, chunks in ch.dropped_logs:
            for idx in range(chunks):
                self.kv.delete(_chunk_key(brand, kind, minute, idx))
        b.mark_saved()

    def save_watermark(self, partition: int, value: dict) -> None:
        """Write a scored partition's aligned watermark (``AlignedWatermark.to_dict``). Written
        after the brands of the same batch: a stored watermark never runs ahead of the minutes
        it closed."""
        self._set(watermark_key(partition), orjson.dumps(value))

    def load_watermark(self, partition: int) -> dict | None:
        raw = self.kv.get(watermark_key(partition))
        return orjson.loads(raw) if raw is not None else None

    def _log(self, brand: bytes, kind: str, minute: int, n: int) -> IdLog:
        chunks = []
        for idx in range(-(-n // ID_CHUNK)):
            raw = self.kv.get(_chunk_key(brand, kind, minute, idx))
            if raw is None:
                raise StateError(f"id chunk {idx} of {kind}/{minute} for {brand!r} is missing")
            chunks.append(raw)
        return IdLog.from_chunks(chunks, n)

    def _index(self, brand_name: str) -> dict | None:
        """The brand's index (None: no state), refused if another version wrote it."""
        raw = self.kv.get(brand_name.encode("utf-8"))
        if raw is None:
            return None
        index = orjson.loads(raw)
        if index.get("v") != STATE_VERSION:
            raise StateError(f"state of {brand_name!r} has version {index.get('v')}, this build reads "
                             f"{STATE_VERSION}: rebuild state (docs/runbook-state-rebuild.md)")
        return index

    def load(self, brand_name: str) -> BrandState | None:
        index = self._index(brand_name)
        if index is None:
            return None
        brand = brand_name.encode("utf-8")
        minutes = {}
        for minute in BrandBuckets.open_minutes_of(index):
            mraw = self.kv.get(_minute_key(brand, minute))
            if mraw is None:
                raise StateError(f"open minute {minute} of {brand_name!r} is missing")
            d = orjson.loads(mraw)
            minutes[minute] = (OpenMinute.from_dict(d), self._log(brand, "i", minute, d["n"]))
        closed = {int(m): self._log(brand, "i", int(m), n) for m, n in index["i"].items()}
        late = {int(m): self._log(brand, "j", int(m), n) for m, n in index["j"].items()}
        buckets = BrandBuckets.from_parts(index, minutes, closed, late)
        return BrandState(buckets, index.get("det") or {}, index.get("last") or {})

    def load_closed(self, brand_name: str) -> BrandState | None:
        """The brand's closed minutes and hours and its last assessment, read from its index
        alone: what its gauges show (``aggregate.brand_gauges``), for a brand whose partition
        this worker just gained. No open minute, id log or detector state is read, so the
        result must never be cached nor saved.

        Why: a worker that gains a partition shows every brand on it at once, then reads each
        brand whole again when its minutes close; with 10,000 brands the first read was a full
        load too (id logs, open minutes, the detector's 8 KB), doubling a start's reads."""
        index = self._index(brand_name)
        if index is None:
            return None
        return BrandState(BrandBuckets.from_parts(index, {}, {}, {}), None, index.get("last") or {})


def states_from_items(items: Iterable[tuple[bytes, bytes]]) -> dict[str, BrandState]:
    """Every brand's state from a table's (key, value) pairs, e.g. a changelog read to its end."""
    kv = DictKV()
    for k, v in items:
        kv.data[k] = v
    store = BrandStore(kv)
    return {k.decode("utf-8"): store.load(k.decode("utf-8")) for k in kv.data if SEP not in k}
