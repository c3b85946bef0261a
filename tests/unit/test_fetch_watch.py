"""The worker's crash-only answer to a partition it owns and never reads: records wait past the
committed offset while neither the offset handed to the agents nor the commit moves for
``after_s`` ends the worker (exit 70, the supervisor restarts it)."""

from streams.fetch_watch import FetchWatch

SCORED_1, SCORED_2, RAW_0 = ("mentions.scored", 1), ("mentions.scored", 2), ("mentions", 0)


def observe(watch, t, *, read=None, committed=None, ends=None, owned=(SCORED_1, SCORED_2, RAW_0), paused=False):
    return watch.observe(t, owned=owned, read=read or {}, committed=committed or {}, ends=ends or {}, paused=paused)


def test_a_partition_with_records_waiting_and_nothing_read_or_committed_is_stalled_after_the_delay():
    """Seen once in 11 runs of the second-worker test under load: after b left, a owned every
    partition again and never read one of them; two brands' minutes stopped closing."""
    watch = FetchWatch(after_s=20)
    waiting = dict(committed={SCORED_1: 400, SCORED_2: 380}, ends={SCORED_1: 400, SCORED_2: 530})
    assert observe(watch, 0, **waiting) == []
    assert observe(watch, 15, **waiting) == []
    stalled = observe(watch, 20, **waiting)
    assert [s.partition for s in stalled] == [SCORED_2]  # scored 1 is read to its end
    text = stalled[0].describe()
    assert "150 records wait (committed 380, end 530; none handed to the agents)" in text
    assert "nothing read or committed for 20 s" in text


def test_a_backlog_being_read_is_never_stalled():
    watch = FetchWatch(after_s=20)
    for t in range(0, 300, 5):  # far behind, every check a little further
        assert observe(watch, t, read={RAW_0: 1000 + 40 * t}, committed={RAW_0: 990 + 40 * t},
                       ends={RAW_0: 100_000}) == []


def test_records_handed_over_or_a_commit_count_as_progress():
    """A full stream buffer pauses the fetch (nothing handed over) while the agents drain it and
    Faust commits; records handed over and not yet committed are the commit watch's case."""
    watch = FetchWatch(after_s=20)
    ends = {SCORED_1: 900}
    observe(watch, 0, read={SCORED_1: 500}, committed={SCORED_1: 300}, ends=ends)
    assert observe(watch, 15, read={SCORED_1: 500}, committed={SCORED_1: 310}, ends=ends) == []  # a commit
    assert observe(watch, 30, read={SCORED_1: 520}, committed={SCORED_1: 310}, ends=ends) == []  # a hand-over
    assert observe(watch, 45, read={SCORED_1: 520}, committed={SCORED_1: 310}, ends=ends) == []
    assert len(observe(watch, 50, read={SCORED_1: 520}, committed={SCORED_1: 310}, ends=ends)) == 1


def test_nothing_waiting_or_unknown_offsets_are_not_a_stall():
    watch = FetchWatch(after_s=20)
    for t in (0, 30, 60):
        assert observe(watch, t, committed={SCORED_1: 400}, ends={SCORED_1: 400, SCORED_2: 50}) == []  # 2: no commit known


def test_a_rebalance_or_a_recovery_drops_the_clocks():
    watch = FetchWatch(after_s=20)
    waiting = dict(committed={SCORED_2: 380}, ends={SCORED_2: 530})
    observe(watch, 0, **waiting)
    assert observe(watch, 15, paused=True, **waiting) == []
    assert observe(watch, 30, **waiting) == []  # the clock starts again after the pause
    assert observe(watch, 45, **waiting) == []
    assert len(observe(watch, 50, **waiting)) == 1


def test_a_partition_that_moved_to_another_worker_is_forgotten():
    watch = FetchWatch(after_s=20)
    waiting = dict(committed={SCORED_2: 380}, ends={SCORED_2: 530})
    observe(watch, 0, **waiting)
    assert observe(watch, 15, owned=(SCORED_1,), **waiting) == []
    assert observe(watch, 30, **waiting) == []  # back: a fresh clock
    assert len(observe(watch, 50, **waiting)) == 1


def test_no_delay_configured_means_no_rule():
    watch = FetchWatch(after_s=0)
    for t in (0, 100, 1000):
        assert observe(watch, t, committed={SCORED_2: 380}, ends={SCORED_2: 530}) == []
