"""The aggregate stage: scored mentions and watermark markers in, closed minutes and lifecycle
events out. One object owns the whole per-batch loop, and every driver uses it: the Faust
agent, the offline backtest, replay and the benches.

Cheap arithmetic only (during a bad buzz one brand's partition gets everything): dedupe by id,
add to the brand's event-time minute bucket, and when the aligned watermark of a scored
partition passes a minute's end plus the allowed lateness, close it and run the pure detector
step on it. Per batch (:meth:`AggregateStage.process`):

1. fold every record: a mention into its brand's open minute, a marker into its partition's
   aligned watermark; a record that fails is set aside (returned in ``failed``), the others go on;
2. for each scored partition of the batch, close the minutes its watermark passed, for every
   brand that lives on it (silent brands too: their episodes move on with the watermark);
3. return what happened as plain values. The caller sends the events, *then* calls
   :meth:`AggregateStage.save` with ``touched`` (events before the state that says they were
   emitted: a crash in between re-emits, never loses).

>>> from buzzwatch.config import CoreConfig
>>> from buzzwatch.contract.scored import ScoredMention, Watermark
>>> stage = AggregateStage(CoreConfig.from_dict({"brands": [{"name": "acme"}]}))
>>> m = ScoredMention(id="1", brand="acme", created_at_ms=60_000, lang="en", compound=-0.5, label="negative")
>>> out = stage.process([(0, m), (0, Watermark(0, 1, 300_000))])
>>> out.outcomes, [s.summary.mentions for s in out.closed["acme"]], sorted(out.touched)
([('acme', 'counted')], [1, 0], ['acme'])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Generator, Iterable

from buzzwatch.stages.brandstore import KV, BrandState, BrandStore
from buzzwatch.config import CoreConfig
from buzzwatch.contract.scored import ScoredMention, Watermark
from buzzwatch.stages.summary import MinuteSummary
from buzzwatch.stages.watermark import AlignedWatermark

# Brands closed between two pauses of :meth:`AggregateStage.process_in_steps`: 200 cold brands
# with 7 days of state are tens of milliseconds of CPU (bench/aggregate_cpu.py).
BRANDS_PER_STEP = 200
def finish(steps: Generator[None, None, Any]) -> Any:
    """Run a stepped stage call (``process_in_steps``, ``save_in_steps``) to its result in one go:
    what a driver without an event loop (backtest, replay, bench) does."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


ROLLING_WINDOWS_MS = {"5m": 5 * 60_000, "1h": 3_600_000, "24h": 86_400_000}


@dataclass(frozen=True, slots=True)
class BrandGauges:
    """One brand's exported figures (see streams/metrics.py), as of its last closed minute."""

    last_minute_start_ms: int
    mentions: int
    reach: int
    score: float
    severity: int
    expected_per_min: float
    expected_negative_share: float
    windows: dict  # window name -> buckets.Rolling


def brand_gauges(st: BrandState) -> BrandGauges | None:
    """A brand's current figures as plain values, or ``None`` before its first closed minute.
    Read from the state alone, so a worker that takes over a brand after a rebalance shows the
    same figures as the one that had it."""
    b = st.buckets
    if b.closed_until_ms is None or not b.minutes:
        return None
    row = b.minutes[-1]
    last = st.last or {}
    return BrandGauges(
        last_minute_start_ms=row[0], mentions=row[1], reach=row[6],
        score=last.get("score", 0.0), severity=last.get("severity", 0),
        expected_per_min=last.get("expected_per_min", 0.0),
        expected_negative_share=last.get("expected_negative_share", 0.0),
        windows={name: b.rolling(ms) for name, ms in ROLLING_WINDOWS_MS.items()},
    )


@dataclass(frozen=True, slots=True)
class ClosedMinute:
    """One closed minute of one brand, with what the detector made of it."""

    summary: MinuteSummary
    assessment: Any  # buzzwatch.detection.step.Assessment
    events: list[dict]


@dataclass
class AggregateBatch:
    """What one batch did, as plain values for the caller to send, save and export."""

    outcomes: list[tuple[str, str]] = field(default_factory=list)  # (brand, counted|duplicate|late)
    closed: dict[str, list[ClosedMinute]] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)  # brands whose state changed: save them
    failed: list[tuple[int, Exception]] = field(default_factory=list)  # (index in the batch, error)
    failed_brands: list[tuple[str, Exception]] = field(default_factory=list)  # detection errors
    watermarks: dict[int, int] = field(default_factory=dict)  # scored partition -> aligned watermark

    @property
    def events(self) -> list[tuple[str, dict]]:
        """(brand, lifecycle event), brands in name order, minutes in event-time order."""
        return [(brand, e) for brand in sorted(self.closed) for cm in self.closed[brand] for e in cm.events]


def follow_answer(last: dict, summary: MinuteSummary, events: list[dict]) -> dict | None:
    """Follow the brand's open alert through its lifecycle events, and return a ``responded``
    event the first time the brand's own accounts answer publicly while it is open (the
    agencies' rule: answer within 24 hours; the on-call clock stops reminding once answered).

    ``last["open_alert"]`` (kept in the brand's state) is ``{"id", "severity", "onset_at",
    "responded"}`` or None; only the lifecycle events' contract is read (``opened`` /
    ``escalated`` / ``resolved`` with ``alert_id``), not the detector's internals.
    """
    open_alert = last.get("open_alert")
    for e in events:
        if e.get("event") == "opened":
            open_alert = {"id": e["alert_id"], "severity": e.get("severity"), "onset_at": e.get("onset_at"),
                          "responded": False}
        elif e.get("event") == "escalated" and open_alert and open_alert["id"] == e["alert_id"]:
            open_alert = {**open_alert, "severity": e.get("severity")}
        elif e.get("event") == "resolved" and open_alert and open_alert["id"] == e["alert_id"]:
            open_alert = None
    answer = None
    post = summary.first_response
    if open_alert and not open_alert["responded"] and post is not None:
        from buzzwatch.timeutil import format_timestamp

        answer = {
            "alert_id": open_alert["id"], "brand": summary.brand, "event": "responded",
            "severity": open_alert["severity"], "detected_at": format_timestamp(summary.end_ms),
            "onset_at": open_alert["onset_at"],
            "response": {"at": format_timestamp(post.created_at_ms), "url": post.url, "author": post.author,
                         "text": post.text},
        }
        open_alert = {**open_alert, "responded": True}
    last["open_alert"] = open_alert
    return answer


class AggregateStage:
    """Per-brand state (cached, loaded from and saved to a :class:`~buzzwatch.stages.brandstore.KV`),
    aligned watermarks per scored partition, and the per-batch loop.

    ``partition_of(brand)`` says which scored partition a brand lives on (live: the producer's
    partitioner on the brand key; offline: everything on 0). ``kv=None`` keeps state in memory
    only (backtests). ``on_load(brand, state)`` is called when a stored brand is read (after a
    start or a rebalance: the worker shows its gauges again at once).
    """

    def __init__(self, config: CoreConfig, kv: KV | None = None,
                 partition_of: Callable[[str], int] = lambda brand: 0,
                 on_load: Callable[[str, BrandState], None] | None = None):
        from buzzwatch.detection.step import initial_state, observe

        self._observe = observe
        self.config = config
        self.detection = config.detection()
        self._initial_detector = initial_state
        self.lateness_ms = config.pipeline.allowed_lateness_ms
        self.store = BrandStore(kv) if kv is not None else None
        self.partition_of = partition_of
        self.on_load = on_load
        self.watermarks: dict[int, AlignedWatermark] = {}
        self._stored_watermarks: dict[int, dict] = {}  # as last read from or written to the store
        self._reread_watermarks: set[int] = set()  # given away since: merge the stored copy in on next use
        self.cache: dict[str, BrandState] = {}
        # scored partitions this stage owns now (None: all, offline): only their brands' gauges
        # are exported. Records and saves are never withheld on this view of the assignment (a
        # wrong view must not lose a mention); Faust itself stops the agents and flushes the
        # producer before a partition moves, and does not commit offsets of revoked partitions.
        self.owned: set[int] | None = None
        # The watermark up to which the lifecycle events of closed minutes have been delivered
        # (set by the live agent once its sends are acknowledged): the on-call clock must not
        # run ahead of events still on their way to the broker.
        self.sent_watermark_ms: int | None = None
        self.configured = frozenset(config.brand_names)
        self.partitions: dict[str, int] = {b: partition_of(b) for b in config.brand_names}

    # -- state -----------------------------------------------------------------------------
    def state(self, brand: str) -> BrandState:
        st = self.cache.get(brand)
        if st is None:
            st = self.store.load(brand) if self.store is not None else None
            if st is None:
                st = BrandState.new(brand, self.config.pipeline.dedupe_horizon_minutes, self._initial_detector())
            elif self.on_load is not None and self.owned_brand(brand):
                self.on_load(brand, st)
            self.cache[brand] = st
        return st

    def save(self, brands: Iterable[str]) -> None:
        """Write the brands' changes, then the aligned watermarks that moved (in memory only
        without a store). Brands first: a crash in between leaves a stored watermark behind the
        minutes it closed (they are closed again, idempotently), never ahead of them."""
        finish(self.save_in_steps(brands))

    def save_in_steps(self, brands: Iterable[str], brands_per_step: int = BRANDS_PER_STEP) -> Generator[None, None, None]:
        """:meth:`save` as a generator that pauses after every ``brands_per_step`` brands written
        (the same writes in the same order; see :meth:`process_in_steps`). Writing 10,000 brands
        whose minute closed is about a second of CPU."""
        if self.store is None:
            return
        for n, brand in enumerate(sorted(brands), 1):
            st = self.cache.get(brand)
            if st is not None:  # None: given up meanwhile (revoked); its owner has the saved state
                self.store.save(st)
            if n % brands_per_step == 0:
                yield
        for partition, w in sorted(self.watermarks.items()):
            value = w.to_dict()
            if w.raw_partitions and value != self._stored_watermarks.get(partition):
                self.store.save_watermark(partition, value)
                self._stored_watermarks[partition] = value

    def forget(self, partitions: Iterable[int] | None = None) -> list[str]:
        """Drop cached brands (of ``partitions``, or all) after a rebalance and return them;
        their aligned watermarks take in the table's copy when next used. Both come from the
        table if the partitions come back (another owner may have moved them on).

        A watermark is merged, not dropped: Faust's revoke signal can run after the new
        assignment's first batch (see agents.aggregate), and dropping what that batch learnt
        for a partition still owned could lose a marker that will not come again."""
        parts = None if partitions is None else set(partitions)
        gone = [b for b in self.cache if parts is None or self.partition(b) in parts]
        for b in gone:
            del self.cache[b]
        self._reread_watermarks.update(p for p in self.watermarks if parts is None or p in parts)
        return gone

    def aligned_watermark(self, partition: int) -> AlignedWatermark:
        """A scored partition's aligned watermark, with the table's copy taken in the first time
        (and again after the partition was given away).

        Kept in the table because the markers that built it are gone once their offsets are
        committed: a restarted worker (or the partition's next owner) would otherwise wait for
        a fresh marker from every raw partition, and a raw partition with nothing new to read
        has no clock to send (its reader's clock starts empty), so no minute closed again."""
        w = self.watermarks.get(partition)
        if w is None or partition in self._reread_watermarks:
            self._reread_watermarks.discard(partition)
            stored = self.store.load_watermark(partition) if self.store is not None else None
            if w is None:
                w = AlignedWatermark.from_dict(stored) if stored else AlignedWatermark()
            elif stored:
                w.merge(AlignedWatermark.from_dict(stored))
            self._stored_watermarks.pop(partition, None)
            if stored:
                self._stored_watermarks[partition] = stored
            self.watermarks[partition] = w
        return w

    def partition(self, brand: str) -> int:
        """The scored partition a brand lives on (as seen in its records, else the partitioner)."""
        return self.partitions.get(brand, self.partition_of(brand))

    def owns(self, partition: int) -> bool:
        return self.owned is None or partition in self.owned

    def owned_brand(self, brand: str) -> bool:
        return self.owns(self.partition(brand))

    def brands_on(self, partition: int) -> list[str]:
        return sorted(b for b, p in self.partitions.items() if p == partition)

    def watermark(self, partition: int) -> int | None:
        return self.aligned_watermark(partition).get()

    # -- the per-batch loop ------------------------------------------------------------------
    def process(self, items: Iterable[tuple[int, ScoredMention | Watermark]]) -> AggregateBatch:
        """Fold a batch of (scored partition, record) and close what the watermarks passed."""
        return finish(self.process_in_steps(items))

    def process_in_steps(self, items: Iterable[tuple[int, ScoredMention | Watermark]],
                         brands_per_step: int = BRANDS_PER_STEP) -> Generator[None, None, AggregateBatch]:
        """:meth:`process` as a generator that pauses after every ``brands_per_step`` records
        folded and every ``brands_per_step`` brands whose minutes it closed, and returns the batch: what a driver on an event loop runs, letting
        the loop's other tasks (the /metrics page, the timers, the other agents) run between
        steps. Closing a minute of 10,000 brands with 7 days of state is seconds of CPU in one
        batch; in one piece it held the worker's event loop that long. The result is the same
        however it is stepped (nothing else writes the stage's brands meanwhile: a rebalance
        waits for the batch in hand before the revoke handler forgets anything)."""
        out = AggregateBatch()
        closing = 0
        seen_partitions: list[int] = []
        for i, (partition, item) in enumerate(items):
            if i and i % brands_per_step == 0:
                yield  # each mention of a brand not in memory yet loads its state (10,000 brands: seconds)
            if partition not in seen_partitions:
                seen_partitions.append(partition)
            try:
                if isinstance(item, ScoredMention):
                    if item.brand not in self.configured:
                        # a record of another version or app: no state grows for names nobody configured
                        raise ValueError(f"brand {item.brand[:80]!r} is not configured")
                    self.partitions.setdefault(item.brand, partition)
                    out.outcomes.append((item.brand, self.state(item.brand).buckets.add(item)))
                    out.touched.add(item.brand)
                else:
                    self.aligned_watermark(partition).update(
                        item.raw_partition, item.raw_partitions, item.event_time_ms, item.idle)
            except Exception as exc:  # noqa: BLE001 - one record must not take the batch down
                out.failed.append((i, exc))
        for partition in sorted(seen_partitions):
            wm = self.watermark(partition)
            if wm is None:
                continue
            out.watermarks[partition] = wm
            for brand in self.brands_on(partition):
                closing += 1
                if closing % brands_per_step == 0:
                    yield
                st = self.state(brand)
                before = st.buckets.closed_until_ms
                try:
                    closed = self.close(st, wm)
                except Exception as exc:  # noqa: BLE001 - one brand's failure must not blind the others
                    out.failed_brands.append((brand, exc))
                    out.touched.add(brand)  # what was folded in is kept and saved
                    continue
                if closed or st.buckets.closed_until_ms != before:
                    out.touched.add(brand)
                if closed:
                    out.closed[brand] = closed
        return out

    def close(self, state: BrandState, watermark_ms: int | None) -> list[ClosedMinute]:
        """Close the brand's minutes that end at or before ``watermark - allowed lateness`` and
        run detection on each, in event-time order."""
        if watermark_ms is None:
            return []
        summaries = state.buckets.close_until(watermark_ms - self.lateness_ms)
        if not summaries:
            return []
        observe = self._observe
        out = []
        # The detector state is parsed once and serialised once however many minutes close (a
        # backlog, a replay, a batch spanning minutes): ``observe`` returns a JSON-ready dict of
        # already rounded values, which the next minute reads as it would read its JSON.
        detector = state.detector_for_step()
        observed = False
        try:
            for summary in summaries:
                detector, assessment, events = observe(self.detection, detector, summary)
                observed = True
                events = list(events)
                answer = follow_answer(state.last, summary, events)
                if answer is not None:
                    events.append(answer)
                out.append(ClosedMinute(summary, assessment, events))
        finally:  # a failing minute keeps what the minutes before it learnt, as one by one would
            if observed:
                state.detector = detector
        if out:
            a = out[-1].assessment
            state.last = {
                "open_alert": state.last.get("open_alert"),
                "end_ms": a.end_ms,
                "score": a.score,
                "severity": a.severity,
                "expected_per_min": a.expected_per_min,
                "expected_negative_share": a.expected_negative_share,
            }
        return out
