"""The worker's crash-only answer to a consumer that dropped records after a rebalance: what the
agents were handed ``after_s`` ago must be committed by now."""

from streams.commit_watch import CommitWatch

P0, P1 = ("mentions", 0), ("mentions", 1)


def test_a_backlog_whose_commits_keep_up_is_never_stuck():
    watch = CommitWatch(after_s=20)
    for t in range(0, 300, 5):  # reads always ahead, commits pass them a few seconds later
        assert watch.observe(t, {P0: 1000 + 100 * t}, {P0: 1000 + 100 * t - 250}, [P0]) == []


def test_a_caught_up_partition_is_never_stuck():
    watch = CommitWatch(after_s=20)
    for t in range(0, 300, 5):  # the last record read is 99, the group resumes from 100
        assert watch.observe(t, {P0: 99}, {P0: 100}, [P0]) == []


def test_a_commit_frozen_behind_what_was_read_is_stuck_after_the_delay():
    watch = CommitWatch(after_s=20)
    assert watch.observe(0, {P0: 2779, P1: 99}, {P0: 840, P1: 100}, [P0, P1]) == []
    assert watch.observe(15, {P0: 2779, P1: 99}, {P0: 840, P1: 100}, [P0, P1]) == []
    stuck = watch.observe(20, {P0: 2779, P1: 99}, {P0: 840, P1: 100}, [P0, P1])
    assert [(s.partition, s.read, s.committed) for s in stuck] == [(P0, 2779, 840)]
    assert "committed offset 840" in stuck[0].describe()


def test_a_commit_that_creeps_but_never_reaches_what_was_read_is_stuck():
    """Seen live: records lost in the stream, the agent idle, the commit creeping 1 offset per
    commit interval towards them."""
    watch = CommitWatch(after_s=20)
    assert watch.observe(0, {P0: 2779}, {P0: 2153}, [P0]) == []
    for t in range(3, 20, 3):
        assert watch.observe(t, {P0: 2779}, {P0: 2153 + t}, [P0]) == []
    assert [s.committed for s in watch.observe(21, {P0: 2779}, {P0: 2174}, [P0])] == [2174]


def test_nothing_ever_committed_counts_as_behind():
    watch = CommitWatch(after_s=20)
    watch.observe(0, {P0: 5}, {}, [P0])
    assert [s.committed for s in watch.observe(25, {P0: 5}, {}, [P0])] == [None]


def test_passing_the_checkpoint_starts_a_new_one_at_the_newest_read():
    watch = CommitWatch(after_s=20)
    watch.observe(0, {P0: 500}, {P0: 100}, [P0])
    assert watch.observe(15, {P0: 900}, {P0: 501}, [P0]) == []  # passed 500: new checkpoint 900 at t=15
    assert watch.observe(30, {P0: 900}, {P0: 800}, [P0]) == []
    assert [s.read for s in watch.observe(35, {P0: 900}, {P0: 800}, [P0])] == [900]


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


def test_the_committed_offset_survives_the_monitor_forgetting_it_at_a_rebalance():
    """Faust's monitor clears its committed offsets at every rebalance and learns them again only
    from a new commit; the consumer knows them from its seek. Seen live: a partition with nothing
    new to commit looked "never committed" and the worker exited."""
    from collections import defaultdict
    from types import SimpleNamespace

    from streams.faust_util import committed_offsets

    consumer_view = defaultdict(lambda: None, {P0: 1194, P1: None})
    app = SimpleNamespace(consumer=SimpleNamespace(_committed_offset=consumer_view),
                          monitor=SimpleNamespace(tp_committed_offsets={P1: 50}))
    assert committed_offsets(app) == {P0: 1194, P1: 50}
    app.monitor.tp_committed_offsets[P0] = 1300  # a newer commit of this process wins
    assert committed_offsets(app)[P0] == 1300


def test_a_slow_agent_that_keeps_acking_and_committing_is_never_stuck():
    """Measured: a loaded worker took more than ``stall_exit_s`` to reach the 8,192 records Faust
    handed its agent ahead of processing, and the rule ended it (exit 70). Busy is not stuck."""
    watch = CommitWatch(after_s=20)
    for t in range(0, 300, 5):  # handed up to 10,000 at once; 10 records a second processed
        assert watch.observe(t, {P0: 10_000}, {P0: 100 + 10 * t}, [P0], acks={P0: 10 * t}) == []


def test_a_commit_frozen_while_acks_go_on_is_stuck():
    # a record dropped below the acked ones: the commit cannot pass it
    watch = CommitWatch(after_s=20)
    stuck = []
    for t in range(0, 30, 5):
        stuck = watch.observe(t, {P0: 10_000}, {P0: 840}, [P0], acks={P0: 10 * t})
    assert [s.committed for s in stuck] == [840]


def test_a_commit_creeping_while_the_agent_acks_nothing_is_stuck():
    watch = CommitWatch(after_s=20)
    stuck = []
    for t in range(0, 30, 3):
        stuck = watch.observe(t, {P0: 2779}, {P0: 2153 + t}, [P0], acks={P0: 7})
    assert [s.read for s in stuck] == [2779]


def test_a_slow_agent_is_judged_on_its_own_partition():
    # P1's agent is busy; P0's records were handed over and nothing of P0 is acked any more
    watch = CommitWatch(after_s=20)
    stuck = []
    for t in range(0, 30, 5):
        stuck = watch.observe(t, {P0: 500, P1: 9_000}, {P0: 100, P1: 100 + 10 * t}, [P0, P1],
                              acks={P0: 3, P1: 10 * t})
    assert [s.partition for s in stuck] == [P0]
