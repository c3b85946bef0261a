"""The worker's crash-only answer to a table recovery that stopped reading its changelogs: records
left to read and none read for ``after_s`` ends the worker (exit 70, the supervisor restarts it)."""

import asyncio

from streams.recovery_watch import RecoveryWatch, task_stacks

BRANDS_2, BRANDS_3, BOOK_0 = ("brand_state-changelog", 2), ("brand_state-changelog", 3), ("alert_book-changelog", 0)


def test_a_recovery_that_keeps_reading_is_never_stalled():
    watch = RecoveryWatch(after_s=20)
    for t in range(0, 300, 5):  # 10,000 brands' state: a long recovery, every check a little further
        assert watch.observe(t, recovering=True, remaining={BRANDS_2: 100_000 - 300 * t}) is None


def test_a_recovery_reading_nothing_with_records_left_is_stalled_after_the_delay():
    """Seen in CI: after a second worker joined, three changelog partitions had records left and
    none came for more than two minutes."""
    watch = RecoveryWatch(after_s=20)
    left = {BRANDS_2: 95, BRANDS_3: 275, BOOK_0: 2}
    assert watch.observe(0, recovering=True, remaining=left) is None
    assert watch.observe(15, recovering=True, remaining=left) is None
    stalled = watch.observe(20, recovering=True, remaining=left)
    assert stalled is not None and stalled.remaining == left
    assert "no changelog record read for 20 s" in stalled.describe()
    assert "275" in stalled.describe()


def test_one_record_read_on_any_partition_counts_as_progress():
    watch = RecoveryWatch(after_s=20)
    watch.observe(0, recovering=True, remaining={BRANDS_2: 95, BRANDS_3: 275})
    assert watch.observe(15, recovering=True, remaining={BRANDS_2: 95, BRANDS_3: 274}) is None
    assert watch.observe(30, recovering=True, remaining={BRANDS_2: 95, BRANDS_3: 274}) is None
    assert watch.observe(35, recovering=True, remaining={BRANDS_2: 95, BRANDS_3: 274}) is not None


def test_nothing_left_to_read_is_not_a_stall():
    """Partitions read to their end (0 left), or empty changelogs (Faust counts -1 or 0 left)."""
    watch = RecoveryWatch(after_s=20)
    for t in range(0, 100, 5):
        assert watch.observe(t, recovering=True, remaining={BRANDS_2: 0, BOOK_0: -1}) is None


def test_outside_a_recovery_the_rule_sleeps_and_its_clock_starts_again_after():
    watch = RecoveryWatch(after_s=20)
    watch.observe(0, recovering=True, remaining={BRANDS_2: 95})
    assert watch.observe(30, recovering=False, remaining={BRANDS_2: 95}) is None
    assert watch.observe(35, recovering=True, remaining={BRANDS_2: 95}) is None  # a new recovery
    assert watch.observe(50, recovering=True, remaining={BRANDS_2: 95}) is None
    assert watch.observe(55, recovering=True, remaining={BRANDS_2: 95}) is not None


def test_zero_turns_the_rule_off():
    watch = RecoveryWatch(after_s=0)
    for t in range(0, 1000, 100):
        assert watch.observe(t, recovering=True, remaining={BRANDS_2: 95}) is None


def test_the_task_dump_names_each_task_and_where_it_waits():
    async def stuck_on_a_queue(queue):
        await queue.get()

    async def main():
        queue = asyncio.Queue()
        task = asyncio.create_task(stuck_on_a_queue(queue), name="recovery-like")
        await asyncio.sleep(0)
        dump = task_stacks()
        task.cancel()
        return dump

    dump = asyncio.run(main())
    assert "recovery-like: stuck_on_a_queue (test_recovery_watch.py:" in dump
    assert "> get (queues.py:" in dump  # the await it sits on, inside the queue


def test_the_task_dump_follows_an_async_for_into_the_generator_it_drives():
    """The fetch loop sits in ``async for ... in getmany()``: the dump must show where inside."""
    async def batches(queue):
        yield await queue.get()

    async def fetch_loop(queue):
        async for _ in batches(queue):
            pass

    async def main():
        task = asyncio.create_task(fetch_loop(asyncio.Queue()), name="fetcher-like")
        await asyncio.sleep(0)
        dump = task_stacks(innermost=8)
        task.cancel()
        return dump

    line = next(x for x in asyncio.run(main()).splitlines() if x.startswith("fetcher-like:"))
    assert "fetch_loop (test_recovery_watch.py:" in line and "> batches (test_recovery_watch.py:" in line
    assert "> get (queues.py:" in line


def test_a_stalled_partition_fetched_past_what_was_applied_is_read_again_from_the_first_missing():
    """The real stall's dump: 71 records, none applied (-1), position 71: read again from 0.
    A partition the consumer has not reached yet, or one with nothing left, is not rewound."""
    from streams.recovery_watch import rewind_targets

    remaining = {BRANDS_2: 71, BRANDS_3: 5, BOOK_0: 0}
    applied = {BRANDS_2: -1, BRANDS_3: 207, BOOK_0: 1}
    assert rewind_targets(remaining, applied, {BRANDS_2: 71, BRANDS_3: 208, BOOK_0: 2}) == {BRANDS_2: 0}
    assert rewind_targets(remaining, applied, {BRANDS_2: 71, BRANDS_3: 230, BOOK_0: 2}) == {BRANDS_2: 0, BRANDS_3: 208}
    assert rewind_targets(remaining, applied, {}) == {}  # positions unknown: no rewind, the exit stays


def test_the_clock_starts_again_after_the_worker_acted_on_a_stall():
    watch = RecoveryWatch(after_s=20)
    left = {BRANDS_2: 71}
    watch.observe(0, recovering=True, remaining=left)
    assert watch.observe(20, recovering=True, remaining=left) is not None
    watch.restart()
    assert watch.observe(25, recovering=True, remaining=left) is None
    assert watch.observe(40, recovering=True, remaining=left) is None
    assert watch.observe(45, recovering=True, remaining=left) is not None
