"""A raw partition's watermark never passes a record the ingest has not read: a hole in the
offsets holds the partition's marker until the group's commit passes it."""

from streams.read_holes import ReadHoles


def test_contiguous_reading_never_holds():
    holes = ReadHoles()
    holes.observe(0, range(2141, 2200), committed=2141)
    holes.observe(0, range(2200, 2300), committed=2141)
    assert not holes.holding(0)


def test_a_record_missing_after_an_assignment_holds_the_partition_until_the_commit_passes_it():
    """Seen live: after a rebalance the record at the committed offset 2141 was dropped by the
    consumer and 2142.. were read: the marker must not vouch for their event time."""
    holes = ReadHoles()
    holes.observe(0, range(2142, 3214), committed=2141)
    assert holes.holding(0) and holes.first_hole(0) == 2141
    holes.release(0, committed=2141)  # the commit waits at the missing record
    assert holes.holding(0)
    holes.observe(0, [2141], committed=2141)  # read again (a seek): processed and then committed
    holes.release(0, committed=3214)
    assert not holes.holding(0)


def test_an_offset_absent_from_the_log_is_released_by_the_commit_passing_it():
    """A transaction marker leaves a hole in the offsets; Faust commits past it as a gap."""
    holes = ReadHoles()
    holes.observe(0, [10, 11, 13, 14], committed=10)
    assert holes.first_hole(0) == 12
    holes.release(0, committed=15)
    assert not holes.holding(0)


def test_records_read_again_below_what_was_read_do_not_open_holes():
    holes = ReadHoles()
    holes.observe(0, range(100, 200), committed=100)
    holes.observe(0, range(150, 210), committed=120)  # a seek back: 150.. come twice
    assert not holes.holding(0)


def test_unknown_start_expects_from_the_first_record():
    holes = ReadHoles()
    holes.observe(0, [5, 6, 7], committed=None)
    holes.observe(0, [9], committed=None)
    assert holes.first_hole(0) == 8


def test_each_hole_is_kept_until_the_commit_passes_it():
    holes = ReadHoles()
    holes.observe(0, [10, 12, 14], committed=10)
    holes.release(0, committed=12)
    assert holes.first_hole(0) == 13


def test_a_revoked_partition_is_forgotten():
    holes = ReadHoles()
    holes.observe(0, [10, 12], committed=10)
    holes.forget([0])
    assert not holes.holding(0)
    holes.observe(0, [40, 41], committed=40)  # its new start is its commit when it comes back
    assert not holes.holding(0)


def test_the_next_offset_is_after_the_highest_read_or_the_commit_it_started_from():
    holes = ReadHoles()
    assert holes.next_offset(0) is None
    holes.observe(0, [7, 8], committed=7)
    assert holes.next_offset(0) == 9
    holes.observe(1, [3], committed=10)  # a stale record below the commit: reading starts at the commit
    assert holes.next_offset(1) == 10
