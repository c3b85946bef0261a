"""Faust's Kafka consumer, fixed so that no record is committed unprocessed: a record that never
reached the streams is never marked read (below), a seek during a hand-over brings the records
handed over again (``_refetch_skipped``), the commit never passes a fetched head record nobody
acked (``_new_offset``) nor moves on an ack of an earlier generation (``ack``); and a fetch is
never parked 1.5 s while records wait (:class:`ShortFetchWaitThread`).

The defect (faust-streaming 0.15.3, ``Consumer._drain_messages``; issue 596 upstream describes
its effect). The fetch loop hands each fetched record to the streams and then sets the
partition's *read offset* to the record's offset; records at or below the read offset are
dropped as already seen. During a rebalance the flow is suspended: the hand-over is abandoned
(``wait_first`` returns on ``suspend_flow``), yet the read offset still moves, for this record
and for the rest of the batch in hand. The recovery seeks back to the committed offset and
resets the read offset, but the loop can still be walking that stale batch when the seek
lands, and moves the read offset forward again. The records between the committed offset and
that point are then fetched again and dropped: never processed, never acked. Measured here
with `kill -9` restarts (tests/integration/test_faults.py): the partition's commit stops at
the first dropped record for ever (``faust_active_messages`` > 0), or, when exactly one record
is missing at the head, Faust's gap check (``min(acked) - committed > 1``) commits past it and
the mention is lost.

The fix keeps Faust's loop and changes when the read offset moves: only after the record was
actually handed to the streams, and only if its partition was not sought since the batch was
fetched. A record of a partition sought since its batch was fetched is stale: it is skipped and
comes again from the offset the seek set (other partitions' records in the batch are not); a
seek counted after the batch it preceded is caught after the batch (``_refetch_skipped``). A record handed over twice is harmless (acks are idempotent in
Faust, state updates are idempotent by mention id here); a record never handed over was the
bug. ``streams.commit_watch`` stays as the crash-only net for anything else that stops commits.

Records can also be lost *after* the hand-over: Faust empties the streams' queues when it
resumes the flow at the end of a recovery (``FlowControlEvent.resume`` clears every queue made
with ``clear_on_resume``) and when partitions are revoked. The recovery's seek to the committed
offsets brings such records again, except for a partition this group never committed: aiokafka's
``seek_to_committed`` leaves it where the fetches got. Measured: ``bench/run_bench.py --only
memory`` lost one mention at a first start in 6 of 7 runs (the raw records were fetched while
the table recovery read 10,000 brands' changelog; offset 250 of one partition waited in a queue
when the resume cleared it, and Faust's head rule committed past that one missing record).
So every clear is watched (:func:`use_safe_consumer`): the records it drops are sought back
(:meth:`SafeConsumer.note_dropped`) and the commit never passes one of them until it was acked.
"""

from __future__ import annotations

import asyncio
import time
from typing import cast

from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types.tuples import ack_lock
from mode.utils.futures import notify
from mode import Service

# How long the broker may hold a fetch that has nothing to return yet (see ShortFetchWaitThread).
FETCH_MAX_WAIT_MS = 100
# A hand-over that takes this long waited for room in a full stream queue (back-pressure).
BACKPRESSURE_S = 0.1


class SafeConsumer(aiokafka_driver.Consumer):
    """``faust.transport.drivers.aiokafka.Consumer`` whose fetch loop never marks a record read
    unless the streams received it (see the module docstring)."""

    _sought: dict | None = None  # partition -> number of seeks done on it
    _head_fetched: dict | None = None  # partition -> its committed offset, once a fetch returned that record

    _first_fetched: dict | None = None  # partition never committed -> lowest offset fetched since its last seek
    _seek_target: dict | None = None  # partition -> the offset its last seek set (None: not known)
    _dropped: dict | None = None  # partition -> offsets cleared from the streams' queues, not acked since
    _refetch: dict | None = None  # partition -> lowest of those offsets, to seek back to (by the fetch loop)
    _acks: dict | None = None
    backpressured_at: float | None = None  # time.monotonic() of the last hand-over that waited for room

    def backpressured_within(self, seconds: float) -> bool:
        """Did the fetch loop wait for room in a full stream queue within ``seconds``? Then no
        partition gets records, whatever its own state: the stall rules (``streams.fetch_watch``,
        the ingest's) must not read that as a partition stalled; the agents' own progress is
        ``streams.commit_watch``'s to judge."""
        return self.backpressured_at is not None and time.monotonic() - self.backpressured_at < seconds

    @property
    def acks(self) -> dict:
        """Partition -> records acked so far by this process (what ``streams.commit_watch`` reads
        to tell a busy partition from a stuck one)."""
        if self._acks is None:
            self._acks = {}
        return self._acks

    def note_dropped(self, messages) -> None:
        """Records that Faust cleared from the streams' queues (never processed): fetch them again
        (the fetch loop seeks back after its batch, skipping the rest of it for their partitions)
        and commit nothing past them until acked."""
        for m in messages:
            if not self.app.topics.acks_enabled_for(m.topic):
                continue
            if self._dropped is None:
                self._dropped = {}
            if self._refetch is None:
                self._refetch = {}
            self._dropped.setdefault(m.tp, set()).add(m.offset)
            keep_lowest(self._refetch, m.tp, m.offset)
        # Counted as a seek: the rest of the batch in hand is stale for these partitions, so no
        # record after a dropped one reaches the agents before it does. Out of order, the ingest
        # would have moved its event-time clock past the dropped mentions, which then came late
        # (measured: tests/integration/test_faults.py, 52 mentions of 12,973 counted late).
        if self._sought is None:
            self._sought = {}
        for tp in {m.tp for m in messages}:
            self._sought[tp] = self._sought.get(tp, 0) + 1

    def _lowest_dropped(self, tp) -> int | None:
        """The lowest offset of ``tp`` cleared from a queue and not acked since (those below the
        commit are forgotten: another owner, or this one, processed them)."""
        dropped = (self._dropped or {}).get(tp)
        if not dropped:
            return None
        committed = self._committed_offset.get(tp)
        if committed is not None:
            dropped.difference_update([o for o in dropped if o < committed])
        return min(dropped) if dropped else None

    def _note_fetched(self, tp, offset: int) -> None:
        """Remember the partition's head record when a fetch returns it: the record at the
        committed offset, or, for a partition this group never committed (a first start), the
        lowest offset fetched since the partition's last seek."""
        committed = getattr(self, "_committed_offset", {}).get(tp)
        if committed is not None:
            if offset == committed:
                if self._head_fetched is None:
                    self._head_fetched = {}
                self._head_fetched[tp] = offset
            return
        if self._first_fetched is None:
            self._first_fetched = {}
        if offset < self._first_fetched.get(tp, offset + 1):
            self._first_fetched[tp] = offset

    def ack(self, message) -> bool:
        """Faust's ack, except that a message of an earlier consumer generation, or acked while
        the flow is suspended for a rebalance, never moves the commit.

        Faust's stream drops such a message unprocessed *and acks it* (faust-streaming 0.15.3,
        ``Stream._c_aiter``: "Skipping message ... because app generation_id is ..."), and the
        ack lets the commit pass it: the mention is lost unless a seek happens to fetch it again
        before that commit (found reading the code). Here the message is still
        released (nothing waits for it during the rebalance) but its offset is not marked done;
        the rebalance's seek to the committed offsets brings it again in the new generation. A
        message that *was* processed just before the rebalance comes again too: a duplicate,
        which the state dedupes by mention id (at-least-once)."""
        app = self.app
        current = getattr(message, "generation_id", app.consumer_generation_id) == app.consumer_generation_id
        if current and app.flow_control.is_active():
            (self._dropped or {}).get(message.tp, set()).discard(message.offset)
            counted = super().ack(message)
            if counted:
                acks = self.acks
                acks[message.tp] = acks.get(message.tp, 0) + 1
            return counted
        with ack_lock:
            if not message.acked:
                message.acked = True
                self._unacked_messages.discard(message)
                notify(self._waiting_for_ack)
        return False

    def _new_offset(self, tp):
        """Faust's next commit offset, except past a record that exists and was never acked.

        Faust commits past the *one* record at the head of a partition when it is missing from
        the acked offsets (``min(acked) - committed > 1`` allows a difference of one), which is
        right when that offset is absent from the log (a transaction marker) and loses a mention
        when the record was fetched and never processed (found reading Faust 0.15.3's
        ``_new_offset``: ``committed`` is the next offset to read, so a difference of one is
        exactly one record). A record this consumer fetched is in the log: the commit then
        waits, and ``streams.commit_watch`` restarts the worker, which reads it again from the
        last commit (crash-only, at-least-once)."""
        committed = self._committed_offset.get(tp)
        acked = self._acked.get(tp)
        dropped = self._lowest_dropped(tp)
        if acked and dropped is not None and min(acked) > dropped:
            return None  # a record cleared from a queue waits to be fetched and acked again
        if acked:
            head = committed if (self._head_fetched or {}).get(tp) == committed else None
            if committed is None:  # never committed: Faust has no head check at all
                head = (self._first_fetched or {}).get(tp)
            if head is not None and min(acked) > head:
                return None
        return super()._new_offset(tp)

    def _new_consumer_thread(self):
        return ShortFetchWaitThread(self, loop=self.loop, beacon=self.beacon)

    def _bump(self, partitions, targets=None) -> None:
        """Count a seek of ``partitions``; ``targets``: the offset each was sought to, where known."""
        if self._sought is None:
            self._sought = {}
        if self._seek_target is None:
            self._seek_target = {}
        for tp in partitions:
            self._sought[tp] = self._sought.get(tp, 0) + 1
            self._seek_target[tp] = (targets or {}).get(tp)
            (self._first_fetched or {}).pop(tp, None)  # the head is what the seek fetches next

    async def perform_seek(self) -> None:
        try:
            await super().perform_seek()
        finally:
            # it seeks every assigned partition to its commit (Faust sets the read offset to it)
            assigned = self.assignment()
            self._bump(assigned, {tp: self._read_offset.get(tp) for tp in assigned})

    async def _seek(self, partition, offset: int) -> None:
        """Seek in the consumer's own thread. Faust 0.15.3 calls aiokafka's ``seek`` directly from
        the worker's event loop, on a consumer that lives in another thread's loop: aiokafka then
        wakes its fetcher with a future of that other loop, which is not thread-safe (found with
        ``PYTHONASYNCIODEBUG=1`` on the memory bench: the fetch loop crashed with "Non-thread-safe
        operation invoked on an event loop other than the current one" at a seek back). Faust's
        other consumer calls (position, seek_to_committed, commit) already go through the thread."""
        thread = self._thread
        await thread.call_thread(thread._ensure_consumer().seek, partition, offset)

    async def seek(self, partition, offset: int) -> None:
        try:
            await super().seek(partition, offset)
        finally:
            self._bump([partition], {partition: offset})

    async def seek_wait(self, partitions) -> None:
        try:
            await super().seek_wait(partitions)
        finally:
            self._bump(partitions, partitions)

    async def _refetch_skipped(self, skipped: dict) -> dict:
        """Make sure records skipped as stale come again, and so do those the seek meant to
        deliver again.

        A seek is counted when its call returns, and the fetch loop may run first: a batch
        fetched *after* the seek landed can still see the old count and then be judged stale
        once the count moves. Its records do not come again by themselves (the consumer's
        position is already past them), and the partition stalled for good: measured with
        10,000 brands' state and a backlog (``bench/run_bench.py --only memory``, 2 runs of 2:
        1,000 of 10,000 records processed, then none for 120 s, exit 70). So after a batch,
        a partition whose position is past a skipped record is sought back.

        Back to the lowest of the first skipped record and the offset the seek itself set: the
        recovery seeks the stream partitions to their commits while a batch fetched before is
        still being handed over, then resumes the flow, which empties the streams' queues. The
        records handed over during that seek were in those queues; seeking back only to the
        first skipped record lost them (measured: ``test_a_second_worker_joins_and_leaves...``,
        5 of 38 runs alone under CPU load lost one mention: the record handed over while the seek
        landed was cleared, the next ones were read again and acked, and Faust's head rule
        committed past the one missing). Records that come twice are harmless (see the module).

        Returns the partitions that had no position yet (a rebalance under way), to try again
        after the next batch: for a partition never committed, no seek of the recovery brings
        them again."""
        unresolved = {}
        assigned = self.assignment()
        targets = self._seek_target or {}
        for tp, first_skipped in sorted(skipped.items()):
            if tp not in assigned:
                continue  # revoked meanwhile: its new owner reads from the commit
            target = targets.get(tp)
            offset = first_skipped if target is None else min(first_skipped, target)
            try:
                position = await self.position(tp)
            except Exception as exc:  # noqa: BLE001 - not positioned (a rebalance under way): after the next batch
                self.log.info("stale records of %r: no position (%r); tried again after the next batch", tp, exc)
                unresolved[tp] = first_skipped
                continue
            if position is not None and position > offset:
                self.log.info("stale records of %r from offset %d skipped past (position %d): sought back to %d",
                              tp, first_skipped, position, offset)
                await self.seek(tp, offset)
        return unresolved

    async def _drain_messages(self, fetcher) -> None:  # pragma: no cover - exercised on a real broker
        callback = self.callback
        consumer_should_stop = cast(Service, self)._stopped.is_set
        fetcher_should_stop = cast(Service, fetcher)._stopped.is_set
        read_offset = self._read_offset
        acks_enabled_for = self.app.topics.acks_enabled_for
        commit_every = self._commit_every
        since_yield = 0
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                self.diag.set_flag("FETCHING")
                batch = self.getmany(timeout=1.0)
                seen = None  # the seek counts when the batch arrived (see below)
                skipped: dict = {}  # partition -> lowest offset skipped as stale in this batch
                await self.sleep(0)  # getmany may return at once: let the loop breathe
                if self.should_stop:
                    continue
                async for tp, message in batch:
                    since_yield += 1
                    if since_yield > 100:
                        await asyncio.sleep(0)
                        since_yield = 0
                    sought = self._sought or {}
                    if seen is None:
                        # The consumer thread runs calls in order: a seek done before this fetch
                        # has already been counted; one done after it is counted later.
                        seen = dict(sought)
                    if sought.get(tp, 0) != seen.get(tp, 0):
                        # fetched before a seek of its partition: stale, it comes again (made
                        # sure of after the batch: see _refetch_skipped)
                        keep_lowest(skipped, tp, message.offset)
                        continue
                    self._note_fetched(tp, message.offset)  # not stale: fetched from where we stand
                    offset, last = message.offset, read_offset[tp]
                    if last is not None and offset < last:
                        continue  # already handed over (a refetch after a seek)
                    if last and offset - last > 1 and acks_enabled_for(message.topic):
                        await self._add_gap(tp, last + 1, offset)  # offsets absent from the log
                    if commit_every is not None and self._n_acked >= commit_every:
                        self._n_acked = 0
                        await self.commit()
                    # Raced against a suspended flow as Faust does: four tasks per record, a
                    # quarter of this loop's CPU. Running the hand-over's first step here instead
                    # doubled Faust's own rate but was reverted (stop 19): under CPU load the
                    # second-worker test then showed read holes and restarts, or minutes that
                    # stopped closing, in 5 of 36 runs; 1 in 54 with this race. The likely window: a
                    # seek is counted only when its call returns from the consumer thread, and a
                    # record handed over at once, with no yield, is marked read in between.
                    handing = callback(message)
                    started = time.monotonic()
                    result = await self.wait_first(handing, self.suspend_flow.wait())
                    ended = time.monotonic()
                    if ended - started >= BACKPRESSURE_S:
                        self.backpressured_at = ended
                    if handing not in result.done:
                        continue  # held back (flow suspended for a rebalance): not read
                    if (self._sought or {}).get(tp, 0) != seen.get(tp, 0):
                        # its partition was sought while the record was handed over: the hand-over
                        # may have landed in a queue that the recovery's resume then cleared, so
                        # it comes again like a stale one
                        keep_lowest(skipped, tp, offset)
                        continue
                    read_offset[tp] = offset
                if self._refetch:  # records Faust cleared from the queues (see note_dropped)
                    for tp, offset in self._refetch.items():
                        keep_lowest(skipped, tp, offset)
                self._refetch = {}
                if skipped:
                    for tp, offset in (await self._refetch_skipped(skipped)).items():
                        keep_lowest(self._refetch, tp, offset)
                self.diag.unset_flag("FETCHING")
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                self.log.info("Broker stopped consumer, shutting down...")
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                self.log.info("Consumer shutting down for user cancel.")
                return
            raise
        except Exception as exc:
            self.log.exception("Drain messages raised: %r", exc)
            raise
        finally:
            self.diag.unset_flag("FETCHING")


class ShortFetchWaitThread(aiokafka_driver.AIOKafkaConsumerThread):
    """Faust's consumer thread with fetch requests parked at most :data:`FETCH_MAX_WAIT_MS`.

    Faust 0.15.3 builds its consumer with ``fetch_max_wait_ms=1500``. aiokafka keeps one fetch
    in flight per broker and leaves out of it the partitions whose records are still buffered.
    When the raw and scored partitions all have records waiting for the agents, the next fetch
    asks only for the idle ones (alerts, acks) and the broker parks it the full 1.5 s; nothing
    else is fetched meanwhile, so the next fetch brings a big chunk, which keeps the busy
    partitions buffered when the fetch after it is built, and so on. Measured on the latency
    bench (bench/run_bench.py --only latency_ms, 1,372 mentions/s, 2 cores): after some minute
    close the worker fell into that cycle for good, 2-3.5 s behind the broker at 45 % CPU
    (p99 3.1-3.6 s in 3 of 4 runs). A 100 ms bar costs one empty fetch per 0.1 s when idle."""

    def _create_worker_consumer(self, transport):
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # read when start() builds its Fetcher
        bootstrap_waiting_for_broker(consumer._client, what="starting the consumer",
                                     wait_s=getattr(transport, "broker_wait_s", 0.0))
        return consumer


class SafeProducer(aiokafka_driver.Producer):
    """Faust's producer, whose start waits ``broker_wait_s`` for an absent broker."""

    def _new_producer(self, transactional_id=None):
        producer = super()._new_producer(transactional_id)
        bootstrap_waiting_for_broker(producer.client, what="starting the producer",
                                     wait_s=getattr(self.transport, "broker_wait_s", 0.0))
        return producer


def bootstrap_waiting_for_broker(client, *, what: str, wait_s: float) -> None:
    """Make an aiokafka client's ``bootstrap`` (the first thing a producer's or consumer's
    ``start`` does, and nothing started before it) wait ``wait_s`` for an absent broker."""
    from streams.broker_wait import waiting_for_broker_async

    bootstrap = client.bootstrap

    async def bootstrap_when_the_broker_answers() -> None:
        await waiting_for_broker_async(bootstrap, what=what, wait_s=wait_s)

    client.bootstrap = bootstrap_when_the_broker_answers


class SafeTransport(aiokafka_driver.Transport):
    """The transport with :class:`SafeConsumer`, whose start-up (the producer's and consumer's
    bootstrap, the tables' changelog declarations) waits ``broker_wait_s`` for a broker that is
    down or restarting instead of ending the worker (``streams.broker_wait``)."""

    Consumer = SafeConsumer
    Producer = SafeProducer
    broker_wait_s: float = 0.0

    async def _create_topic(self, owner, client, topic, partitions, replication, **kwargs) -> None:
        from streams.broker_wait import waiting_for_broker_async

        create = super()._create_topic
        await waiting_for_broker_async(lambda: create(owner, client, topic, partitions, replication, **kwargs),
                                       what=f"declaring topic {topic}", wait_s=self.broker_wait_s)


def use_safe_consumer(app, broker_wait_s: float = 0.0) -> None:
    """Give ``app`` the fixed consumer (before anything creates its transport), and tell it which
    records each clear of the streams' queues drops (see the module docstring). Topic
    declarations wait ``broker_wait_s`` for an absent broker (:class:`SafeTransport`)."""
    app.transport = SafeTransport(app.conf.broker_consumer, app)
    app.transport.broker_wait_s = broker_wait_s
    flow = app.flow_control
    clear = flow.clear

    def clear_noting_dropped() -> None:
        dropped = queued_messages(flow)
        clear()
        consumer = getattr(app, "_consumer", None)
        if dropped and isinstance(consumer, SafeConsumer):
            consumer.note_dropped(dropped)

    flow.clear = clear_noting_dropped  # FlowControlEvent.resume() calls self.clear()


def keep_lowest(offsets: dict, tp, offset: int) -> None:
    """``offsets[tp]``: the lowest offset seen for ``tp`` (where a partition is sought back to)."""
    known = offsets.get(tp)
    if known is None or offset < known:
        offsets[tp] = offset


def queued_messages(flow) -> list:
    """The Kafka messages waiting in the queues that ``flow`` clears (its streams' and channels'
    queues hold events, each with the message it was decoded from)."""
    found = []
    for queue in list(getattr(flow, "_queues", None) or ()):
        for item in list(getattr(queue, "_queue", ())):
            message = getattr(item, "message", None)
            if message is not None and getattr(message, "tp", None) is not None:
                found.append(message)
    return found
