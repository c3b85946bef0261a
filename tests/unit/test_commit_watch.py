"""The worker's crash-only answer to a consumer that dropped records after a rebalance: a
partition read past its committed offset whose commit does not move for ``after_s``."""

from streams.commit_watch import CommitWatch

P0, P1 = ("mentions", 0), ("mentions", 1)


def test_a_commit_that_keeps_moving_is_never_stuck():
    watch = CommitWatch(after_s=20)
    for t in range(0, 300, 5):  # a backlog: reads always ahead, commits every few seconds
        assert watch.observe(t, {P0: 1000 + 10 * t}, {P0: 900 + 10 * t}, [P0]) == []


def test_a_caught_up_partition_is_never_stuck():
    watch = CommitWatch(after_s=20)
    for t in range(0, 300, 5):  # the last record read is 99, the group resumes from 100
        assert watch.observe(t, {P0: 99}, {P0: 100}, [P0]) == []


def test_records_read_past_a_commit_that_stopped_are_stuck_after_the_delay():
    watch = CommitWatch(after_s=20)
    assert watch.observe(0, {P0: 2779, P1: 99}, {P0: 840, P1: 100}, [P0, P1]) == []
    assert watch.observe(15, {P0: 2779, P1: 99}, {P0: 840, P1: 100}, [P0, P1]) == []
    stuck = watch.observe(20, {P0: 2779, P1: 99}, {P0: 840, P1: 100}, [P0, P1])
    assert [(s.partition, s.read, s.committed) for s in stuck] == [(P0, 2779, 840)]
    assert "committed offset 840" in stuck[0].describe()


def test_nothing_ever_committed_counts_as_behind():
    watch = CommitWatch(after_s=20)
    watch.observe(0, {P0: 5}, {}, [P0])
    assert [s.committed for s in watch.observe(25, {P0: 5}, {}, [P0])] == [None]


def test_any_commit_progress_restarts_the_clock():
    watch = CommitWatch(after_s=20)
    watch.observe(0, {P0: 500}, {P0: 100}, [P0])
    watch.observe(15, {P0: 500}, {P0: 101}, [P0])
    assert watch.observe(30, {P0: 500}, {P0: 101}, [P0]) == []
    assert watch.observe(35, {P0: 500}, {P0: 101}, [P0]) != []


def test_a_rebalance_or_recovery_pauses_the_rule():
    """Faust commits nothing while it rebalances or restores tables (10,000 brands take
    seconds): that silence is not a stuck commit."""
    watch = CommitWatch(after_s=20)
    watch.observe(0, {P0: 500}, {P0: 100}, [P0])
    assert watch.observe(30, {P0: 500}, {P0: 100}, [P0], paused=True) == []
    assert watch.observe(45, {P0: 500}, {P0: 100}, [P0]) == []  # the clock starts again after it
    assert watch.observe(65, {P0: 500}, {P0: 100}, [P0]) != []


def test_partitions_another_worker_owns_are_not_watched():
    watch = CommitWatch(after_s=20)
    watch.observe(0, {P0: 500, P1: 500}, {P0: 100, P1: 100}, [P0, P1])
    stuck = watch.observe(30, {P0: 500, P1: 500}, {P0: 100, P1: 100}, [P1])  # P0 revoked
    assert [s.partition for s in stuck] == [P1]


def test_zero_turns_the_rule_off():
    watch = CommitWatch(after_s=0)
    watch.observe(0, {P0: 500}, {P0: 100}, [P0])
    assert watch.observe(10_000, {P0: 500}, {P0: 100}, [P0]) == []
