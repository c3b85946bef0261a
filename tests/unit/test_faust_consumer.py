"""The fixed Faust fetch loop (streams.faust_consumer): a record is marked read only once the
streams received it, and never from a batch fetched before a seek. Driven here with a fake
consumer (plain attributes and coroutines); the real broker case is tests/integration/test_faults.py
(kill -9 five times: exact totals)."""

import asyncio
from collections import defaultdict
from types import SimpleNamespace

import pytest
from mode.services import WaitResults

from streams.faust_consumer import SafeConsumer

TP = ("mentions", 0)
pytestmark = pytest.mark.timeout(20)


class FakeConsumer:
    """What ``_drain_messages`` uses of a consumer: batches of offsets, a hand-over callback."""

    consumer_stopped_errors = ()
    should_stop = False
    _commit_every = None
    _n_acked = 0
    _sought = None
    _seek_target = None
    _dropped = _refetch = None
    note_dropped = SafeConsumer.note_dropped
    backpressured_at = None
    backpressured_within = SafeConsumer.backpressured_within

    def __init__(self, batches, *, suspend_at=None, seek_at=None, seek_to=None, counted_at=None,
                 refetched_at_once=False, cleared_at=None, full_at=None):
        self.batches = list(batches)
        self.counted_at = counted_at
        self.handed = []
        self._read_offset = defaultdict(lambda: None)
        self.suspend_at, self.seek_at, self.seek_to = suspend_at, seek_at, seek_to
        self.refetched_at_once = refetched_at_once  # the fetcher read past the seek's offset again at once
        self.cleared_at = cleared_at  # offset -> offsets waiting in a queue that Faust clears while it is handed over
        self.full_at = full_at  # the hand-over of this offset waits for room in a full queue
        self.suspend_flow = asyncio.Event()
        self._stopped = SimpleNamespace(is_set=lambda: not self.batches)
        self.app = SimpleNamespace(topics=SimpleNamespace(acks_enabled_for=lambda topic: True))
        self.diag = SimpleNamespace(set_flag=lambda f: None, unset_flag=lambda f: None)
        self.log = SimpleNamespace(info=print, exception=print)
        self.transport = SimpleNamespace(app=SimpleNamespace(should_stop=False))
        self.gaps = []
        self.fetch_position = None  # the broker-side consumer's next offset to fetch
        self.sought_back = []

    _refetch_skipped = SafeConsumer._refetch_skipped
    _note_fetched = SafeConsumer._note_fetched
    _head_fetched = _first_fetched = None

    async def getmany(self, timeout):
        batch = self.batches.pop(0)
        if batch:
            self.fetch_position = max(batch) + 1
        for offset in batch:
            yield TP, SimpleNamespace(offset=offset, topic=TP[0])

    def assignment(self):
        return {TP}

    async def position(self, tp):
        return self.fetch_position

    async def seek(self, tp, offset):  # the log holds every offset up to what was fetched
        self.sought_back.append(offset)
        self.batches.insert(0, list(range(offset, self.fetch_position)))
        self.fetch_position = offset
        self._read_offset[tp] = offset
        self._sought = {tp: (self._sought or {}).get(tp, 0) + 1}

    async def callback(self, message):
        if message.offset == self.seek_at:  # the recovery's seek lands while this one is handed over
            self.seek_at = None  # once
            self._read_offset[TP] = self.seek_to
            self._sought, self._seek_target = {TP: 1}, {TP: self.seek_to}
            if not self.refetched_at_once:
                self.fetch_position = self.seek_to
        if message.offset == self.counted_at:  # a seek that landed before this batch is counted now
            self.counted_at = None  # once
            self._sought = {TP: 1}
        if message.offset in (self.cleared_at or {}):
            cleared = self.cleared_at.pop(message.offset)
            self.note_dropped([SimpleNamespace(tp=TP, topic=TP[0], offset=o) for o in cleared])
        if message.offset == self.full_at:
            await asyncio.sleep(0.15)
        if message.offset == self.suspend_at:
            self.suspend_flow.set()
        if self.suspend_flow.is_set():
            await asyncio.sleep(3600)  # flow control holds the hand-over: never delivered
        self.handed.append(message.offset)

    async def wait_first(self, handing, suspended):
        task, other = asyncio.ensure_future(handing), asyncio.ensure_future(suspended)
        done, _ = await asyncio.wait({task, other}, return_when=asyncio.FIRST_COMPLETED)
        for f in (task, other):
            if not f.done():
                f.cancel()
        return WaitResults([handing] if task in done else [suspended], [], False)

    async def sleep(self, s):
        await asyncio.sleep(0)

    async def _add_gap(self, tp, start, end):
        self.gaps.append((start, end))


def drain(consumer):
    asyncio.run(SafeConsumer._drain_messages(consumer, SimpleNamespace(_stopped=SimpleNamespace(is_set=lambda: False))))
    return consumer


def committing(committed: int | None, acked: list[int], *, head_fetched: bool) -> SafeConsumer:
    """A consumer in the state Faust's commit reads: committed offset, acked offsets, gaps."""
    c = object.__new__(SafeConsumer)
    c._committed_offset = defaultdict(lambda: None, {TP: committed})
    c._acked = defaultdict(list, {TP: list(acked)})
    c._acked_index = defaultdict(set, {TP: set(acked)})
    c._gap = defaultdict(lambda: None)
    if head_fetched:
        c._note_fetched(TP, committed)
    return c


def test_a_fetched_record_never_acked_at_the_head_is_not_committed_past():
    # committed 96 (the next offset to read): 96 was fetched, then lost on its way to the
    # agents; 97 and 98 were processed. Faust alone would commit 99 and lose 96.
    assert committing(96, [97, 98], head_fetched=True)._new_offset(TP) is None


def test_an_offset_absent_from_the_log_at_the_head_is_still_committed_past():
    # 96 never came back from a fetch (a transaction marker, say): Faust's tolerance of one stands
    assert committing(96, [97, 98], head_fetched=False)._new_offset(TP) == 99


def test_a_partition_never_committed_is_not_committed_past_its_first_fetched_record():
    # a first start (no commit yet): Faust has no head check at all and would commit 3
    assert committing(None, [1, 2], head_fetched=False)._new_offset(TP) == 3  # nothing known fetched
    c = committing(None, [1, 2], head_fetched=False)
    c._note_fetched(TP, 0)
    assert c._new_offset(TP) is None  # record 0 was fetched and is not acked
    c._bump([TP])  # a seek: the head is what it fetches next
    assert c._new_offset(TP) == 3


def test_a_partition_with_its_head_acked_commits_as_faust_does():
    assert committing(96, [96, 97, 98], head_fetched=True)._new_offset(TP) == 99


def acking(generation: int, *, flow_active: bool = True) -> SafeConsumer:
    """A consumer in the state Faust's ack reads, in consumer generation ``generation``."""
    c = object.__new__(SafeConsumer)
    c.app = SimpleNamespace(consumer_generation_id=generation, topics=SimpleNamespace(acks_enabled_for=lambda t: True),
                            flow_control=SimpleNamespace(is_active=lambda: flow_active))
    c._committed_offset = defaultdict(lambda: None, {TP: 10})
    c._acked, c._acked_index, c._unacked_messages = defaultdict(list), defaultdict(set), set()
    c._n_acked, c._waiting_for_ack, c._gap = 0, None, defaultdict(lambda: None)
    return c


class Message(SimpleNamespace):
    __hash__ = object.__hash__  # kept in a set, as Faust keeps its unacked messages


def message(offset: int, generation: int):
    return Message(tp=TP, topic=TP[0], offset=offset, generation_id=generation, acked=False)


@pytest.mark.parametrize("generation, flow_active, counts", [(2, True, True), (1, True, False), (2, False, False)])
def test_only_a_message_of_the_current_generation_with_the_flow_on_moves_the_commit(generation, flow_active, counts):
    # Faust's stream drops a message of an earlier generation (or dequeued during a
    # rebalance) without processing it, and acks it: that ack must not let the commit pass it
    c = acking(2, flow_active=flow_active)
    m = message(10, generation)
    c._unacked_messages.add(m)
    assert c.ack(m) is counts
    assert m.acked and m not in c._unacked_messages  # released either way: a rebalance never waits for it
    assert c._acked[TP] == ([10] if counts else [])
    assert c._new_offset(TP) == (11 if counts else None)


def test_records_handed_to_the_streams_are_marked_read():
    c = drain(FakeConsumer([[0, 1, 2], [3, 4]]))
    assert c.handed == [0, 1, 2, 3, 4]
    assert c._read_offset[TP] == 4


def test_records_the_flow_control_held_back_are_not_marked_read():
    c = drain(FakeConsumer([[10, 11, 12, 13]], suspend_at=11))
    assert c.handed == [10]
    assert c._read_offset[TP] == 10  # 11..13 will be fetched again after the recovery's seek


def test_a_seek_during_a_batch_makes_the_rest_of_its_partition_stale():
    """The recovery sought back to the committed offset 5 while offset 21 was being handed over:
    21 and the rest of that old batch must not move the read offset past 5 again."""
    c = drain(FakeConsumer([[20, 21, 22, 23], [5, 6, 7]], seek_at=21, seek_to=5))
    assert c.handed == [20, 21, 5, 6, 7]
    assert c._read_offset[TP] == 7


def test_a_seek_of_one_partition_leaves_the_others_records_in_the_batch():
    """A changelog partition sought by the table recovery: the stream partition's records in the
    same batch are still handed over (nothing would fetch them again)."""
    other = ("brand_state-changelog", 0)
    c = FakeConsumer([[1, 2]])
    c._sought = {other: 3}

    async def getmany(timeout):
        c.batches.pop(0)
        yield TP, SimpleNamespace(offset=1, topic=TP[0])
        c._sought = {other: 4}  # sought while the batch is walked
        yield other, SimpleNamespace(offset=9, topic=other[0])
        yield TP, SimpleNamespace(offset=2, topic=TP[0])

    c.getmany = getmany
    drain(c)
    assert c.handed == [1, 2]
    assert c._read_offset[TP] == 2 and c._read_offset[other] is None


def test_records_below_the_read_offset_are_skipped_and_holes_in_the_log_are_gaps():
    c = FakeConsumer([[8, 9, 10, 14]])
    c._read_offset[TP] = 10
    drain(c)
    assert c.handed == [10, 14]  # 10 again: Faust hands the last read record over once more
    assert c.gaps == [(11, 14)]


def test_records_skipped_by_a_seek_counted_late_are_fetched_again():
    # The seek landed before this batch was fetched (its records come after it), but it is
    # counted only while the batch is handed over: the rest of the batch looks stale. The
    # position is past those records, so they would never come again: sought back to them,
    # from the one handed over while the count moved (11: see the next test).
    c = drain(FakeConsumer([[10, 11, 12, 13], []], counted_at=11))
    assert c.sought_back == [11]
    assert sorted(set(c.handed)) == [10, 11, 12, 13]


def test_records_handed_over_while_the_recovery_seeks_come_again_from_the_seek_s_offset():
    """Measured on the real broker (test_a_second_worker_joins...: 1 mention of 12,853 lost in
    5 of 38 runs): the recovery seeks the stream partitions to their commits (2141) while an
    older batch is handed over, then resumes the flow, which empties the streams' queues:
    2141..2143, handed over meanwhile, are gone. The fetcher had already read past them again,
    so seeking back only to the first stale record (2144) lost 2143 for good, and Faust
    committed past that one missing record. The partition is sought back to the seek's offset."""
    c = drain(FakeConsumer([[2141, 2142, 2143, 2144, 2145], []], seek_at=2143, seek_to=2141,
                           refetched_at_once=True))
    assert c.sought_back == [2141]
    assert c.handed == [2141, 2142, 2143, 2141, 2142, 2143, 2144, 2145]


def test_records_of_a_batch_older_than_the_seek_are_not_sought_back():
    # the usual case: the seek moved the position back below the stale records: they come again
    c = drain(FakeConsumer([[0, 1, 2, 3], [1, 2, 3]], seek_at=1, seek_to=1))
    assert c.sought_back == []


def test_the_worker_consumer_asks_the_broker_to_hold_an_empty_fetch_100_ms_not_faust_s_1500(tmp_path):
    # Faust 0.15.3 hard-codes 1,500 ms: one fetch of idle partitions then stalls every busy one
    # for that long (see ShortFetchWaitThread). The worker's consumer must be built with the bar.
    from streams.app import build_app
    from streams.faust_consumer import FETCH_MAX_WAIT_MS, ShortFetchWaitThread
    from streams.settings import load_settings

    config = tmp_path / "buzzwatch.toml"
    config.write_text('[[brands]]\nname = "Acme"\n')
    settings = load_settings(config, env={"BUZZWATCH_KAFKA": "127.0.0.1:1", "BUZZWATCH_DATA_DIR": str(tmp_path)})
    app = build_app(settings).app

    async def consumer_of_the_thread():
        thread = app.consumer._thread
        return thread, thread._create_worker_consumer(app.transport)

    thread, consumer = asyncio.run(consumer_of_the_thread())
    assert isinstance(thread, ShortFetchWaitThread)
    assert FETCH_MAX_WAIT_MS == 100 and consumer._fetch_max_wait_ms == FETCH_MAX_WAIT_MS


def test_records_cleared_from_the_queues_are_sought_back_after_the_batch():
    """Measured on the real broker (bench/run_bench.py --only memory, 6 of 7 first starts): the
    raw records were handed over during the table recovery; the recovery's resume cleared the
    queue holding offset 250, and a partition never committed is not sought by the recovery."""
    c = drain(FakeConsumer([[248, 249, 250, 251, 252], []], cleared_at={251: [250]}))
    assert c.sought_back == [250]
    # 251 was in flight as the queue was cleared; 252 waits for 250: a mention handed over
    # ahead of an earlier one moves the ingest's event-time clock past it (it would count late)
    assert c.handed == [248, 249, 250, 251, 250, 251, 252]


def test_a_cleared_record_whose_partition_has_no_position_yet_is_sought_back_after_the_next_batch():
    c = FakeConsumer([[10, 11], [], []], cleared_at={11: [10]})
    positions = iter([RuntimeError("no position: rebalance"), 12])

    async def position(tp):
        p = next(positions)
        if isinstance(p, Exception):
            raise p
        return p

    c.position = position
    drain(c)
    assert c.sought_back == [10]


def with_acks(c):
    c.app = SimpleNamespace(consumer_generation_id=1, topics=SimpleNamespace(acks_enabled_for=lambda t: True),
                            flow_control=SimpleNamespace(is_active=lambda: True))
    c._unacked_messages, c._n_acked, c._waiting_for_ack = set(), 0, None
    return c


def test_the_commit_never_passes_a_record_cleared_from_a_queue_until_it_is_acked():
    # committed 250; 251 and 252 processed; 250 was cleared from a queue. Faust's head rule
    # (a difference of one) would commit 253 and lose 250.
    c = with_acks(committing(250, [251, 252], head_fetched=False))
    c.note_dropped([message(250, 1)])
    assert c._new_offset(TP) is None
    c.ack(message(250, 1))  # fetched again and processed
    assert c._new_offset(TP) == 253


def test_records_cleared_below_the_commit_no_longer_hold_it():
    c = with_acks(committing(300, [300, 301], head_fetched=True))
    c.note_dropped([message(250, 1)])  # another owner processed it meanwhile
    assert c._new_offset(TP) == 302


def test_a_clear_of_the_streams_queues_tells_the_consumer_which_records_it_dropped():
    from mode.utils.queues import FlowControlEvent, FlowControlQueue

    from streams.faust_consumer import use_safe_consumer

    async def scenario():
        app = SimpleNamespace(flow_control=FlowControlEvent(), conf=SimpleNamespace(broker_consumer=["kafka://x"]))
        consumer = with_acks(object.__new__(SafeConsumer))
        use_safe_consumer(app)
        app._consumer = consumer
        queue = FlowControlQueue(maxsize=10, flow_control=app.flow_control, clear_on_resume=True)
        for offset in (250, 251):
            queue.put_nowait(SimpleNamespace(message=message(offset, 1)))
        queue.put_nowait("not an event")
        app.flow_control.suspend()
        app.flow_control.resume()  # what the recovery does when it is done
        return queue, consumer

    queue, consumer = asyncio.run(scenario())
    assert queue.empty()
    assert consumer._dropped == {TP: {250, 251}} and consumer._refetch == {TP: 250}


def test_a_hand_over_that_waits_for_room_in_a_full_queue_is_back_pressure():
    assert not drain(FakeConsumer([[1, 2, 3]])).backpressured_within(60)
    c = drain(FakeConsumer([[1, 2, 3]], full_at=2))
    assert c.handed == [1, 2, 3]
    assert c.backpressured_within(60) and not c.backpressured_within(0)


def test_a_seek_runs_in_the_consumer_s_own_thread():
    """aiokafka's consumer lives in Faust's consumer thread and its seek wakes that thread's loop:
    called from the worker's loop (as Faust does) it is not thread-safe."""
    calls = []

    class Thread:
        def _ensure_consumer(self):
            return SimpleNamespace(seek=lambda tp, offset: calls.append(("seek", tp, offset)))

        async def call_thread(self, fun, *args):
            calls.append("in the thread")
            return fun(*args)

    c = object.__new__(SafeConsumer)
    c._thread = Thread()
    asyncio.run(c._seek(TP, 250))
    assert calls == ["in the thread", ("seek", TP, 250)]
