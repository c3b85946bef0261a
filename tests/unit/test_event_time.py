"""Closing minutes in event time: the same input gives the same closed buckets whatever the
order in which raw partitions are read (live, replay at full speed, skewed partitions)."""

import random

import pytest

from buzzwatch.stages.buckets import BrandBuckets
from buzzwatch.contract.scored import ScoredMention
from buzzwatch.stages.watermark import AlignedWatermark, PartitionClock

LATENESS_MS = 120_000
T0 = 1_700_000_000_000 - 1_700_000_000_000 % 60_000


def make_partitions(seed: int, partitions: int = 4, per_partition: int = 400):
    """Each raw partition: mentions in roughly increasing event time, disorder < lateness,
    plus a few really late ones."""
    rng = random.Random(seed)
    parts = []
    for p in range(partitions):
        t = T0 + rng.randrange(0, 30_000)
        rows = []
        for i in range(per_partition):
            t += rng.randrange(0, 4_000)
            jitter = rng.randrange(-60_000, 1) if rng.random() < 0.2 else 0
            if rng.random() < 0.01:
                jitter = -10 * 60_000  # far too late: must be counted late everywhere
            label = rng.choice(["negative", "neutral", "positive"])
            rows.append((f"p{p}-{i}", t + jitter, label))
        # a redelivered duplicate inside the same partition
        rows.insert(len(rows) // 2, rows[len(rows) // 3])
        parts.append(rows)
    return parts


def run(parts, schedule):
    """Ingest side per partition (lateness verdict + markers), aggregate side per brand.

    ``schedule`` is a list of (partition, how_many) chunks: the reading order."""
    clock = PartitionClock(LATENESS_MS)
    wm = AlignedWatermark()
    buckets = BrandBuckets.new("acme")
    closed = []
    cursor = [0] * len(parts)
    for p, n in schedule:
        rows = parts[p][cursor[p]: cursor[p] + n]
        cursor[p] += n
        for mid, ts, label in rows:
            late = clock.observe(p, ts)
            buckets.add(ScoredMention(id=mid, brand="acme", created_at_ms=ts, lang="en",
                                      compound=0.0, label=label, late=late))
        if rows and clock.get(p) is not None:  # no clock before a quorum of records agree
            wm.update(p, len(parts), clock.get(p))
        w = wm.get()
        if w is not None:
            closed.extend(buckets.close_until(w - LATENESS_MS))
    return [(s.start_ms, s.mentions, s.negative, s.neutral, s.positive) for s in closed], buckets.late_total


def round_robin(parts, chunk):
    sched = []
    longest = max(len(p) for p in parts)
    for start in range(0, longest, chunk):
        for p in range(len(parts)):
            sched.append((p, chunk))
    return sched


def skewed(parts, rng):
    """Partition 0 read 20x faster than partition 3, random chunking."""
    speeds = [40, 20, 8, 2]
    remaining = [len(p) for p in parts]
    sched = []
    while any(remaining):
        p = rng.choices(range(len(parts)), weights=[s if remaining[i] else 0 for i, s in enumerate(speeds)])[0]
        n = min(remaining[p], rng.randrange(1, speeds[p] + 1))
        remaining[p] -= n
        sched.append((p, n))
    return sched


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_skewed_partition_speeds_close_the_same_minutes_with_the_same_content(seed):
    parts = make_partitions(seed)
    reference = run(parts, round_robin(parts, 1))
    assert len(reference[0]) > 10
    for variant in range(5):
        rng = random.Random(seed * 100 + variant)
        assert run(parts, skewed(parts, rng)) == reference
    assert run(parts, round_robin(parts, 50)) == reference


def test_one_partition_read_entirely_first_changes_nothing():
    parts = make_partitions(9)
    reference = run(parts, round_robin(parts, 1))
    sequential = [(p, len(parts[p])) for p in range(len(parts))]
    assert run(parts, sequential) == reference


def test_no_minute_closes_before_every_partition_reported():
    parts = make_partitions(4)
    closed, _ = run(parts, [(0, len(parts[0])), (1, len(parts[1])), (2, len(parts[2]))])
    assert closed == []


def test_idle_partition_does_not_hold_minutes_open():
    w = AlignedWatermark()
    w.update(0, 2, 600_000)
    assert w.get() is None
    w.update(1, 2, -1, idle=True)
    assert w.get() == 600_000
    w.update(1, 2, 300_000)  # it speaks again: it counts again
    assert w.get() == 300_000


def test_silent_minutes_are_closed_as_zero_buckets():
    b = BrandBuckets.new("acme")
    b.add(ScoredMention(id="1", brand="acme", created_at_ms=T0, lang="en", compound=0, label="neutral"))
    b.add(ScoredMention(id="2", brand="acme", created_at_ms=T0 + 5 * 60_000, lang="en", compound=0, label="neutral"))
    closed = b.close_until(T0 + 6 * 60_000)
    assert [s.mentions for s in closed] == [1, 0, 0, 0, 0, 1]


def test_late_mention_is_counted_late_and_not_folded_into_a_closed_minute():
    b = BrandBuckets.new("acme")
    b.add(ScoredMention(id="1", brand="acme", created_at_ms=T0, lang="en", compound=0, label="neutral"))
    b.close_until(T0 + 60_000)
    assert b.add(ScoredMention(id="2", brand="acme", created_at_ms=T0 + 1, lang="en", compound=0, label="negative")) == "late"
    assert b.late_total == 1
    assert b.rolling(3_600_000).negative == 0


def test_redelivered_mention_is_not_counted_twice():
    b = BrandBuckets.new("acme")
    m = ScoredMention(id="x", brand="acme", created_at_ms=T0, lang="en", compound=-0.5, label="negative")
    assert [b.add(m), b.add(m)] == ["counted", "duplicate"]
    b.close_until(T0 + 60_000)
    assert b.add(m) == "duplicate"  # still remembered within the dedupe horizon
    assert b.rolling(3_600_000).mentions == 1


def test_state_survives_serialisation_mid_minute():
    import orjson

    b = BrandBuckets.new("acme")
    for i in range(5):
        b.add(ScoredMention(id=str(i), brand="acme", created_at_ms=T0 + i * 30_000, lang="fr", compound=-0.4,
                            label="negative", text=f"nul {i}", author=f"u{i}", followers=i * 10, author_key=i + 1,
                            fingerprint=7, terms=("#acmefail",)))
    again = BrandBuckets.from_dict(orjson.loads(orjson.dumps(b.to_dict())))
    assert again.to_dict() == b.to_dict()
    m = ScoredMention(id="3", brand="acme", created_at_ms=T0 + 90_000, lang="fr", compound=-0.4, label="negative")
    assert again.add(m) == "duplicate"
    assert again.close_until(T0 + 10 * 60_000) == b.close_until(T0 + 10 * 60_000)


def test_closed_summary_carries_evidence():
    b = BrandBuckets.new("acme")
    for i in range(8):
        b.add(ScoredMention(id=str(i), brand="acme", created_at_ms=T0 + i, lang="en", compound=-0.1 * i,
                            label="negative", text=f"t{i}", author=f"a{i}", followers=100 * i, author_key=i + 1,
                            fingerprint=42 if i < 3 else 100 + i, terms=("refund",)))
    [s] = b.close_until(T0 + 60_000)
    assert [p.id for p in s.top_negative] == ["7", "6", "5", "4", "3"]
    assert s.duplicate_texts == 2 and s.distinct_authors == 8
    assert s.terms == (("refund", 8),)
    assert s.authors[0] == ("a7", 700)
    assert s.reach == sum(100 * i for i in range(8))


def test_rolling_windows_read_the_last_closed_minutes():
    b = BrandBuckets.new("acme")
    for minute in range(90):
        label = "negative" if minute >= 85 else "positive"
        b.add(ScoredMention(id=str(minute), brand="acme", created_at_ms=T0 + minute * 60_000, lang="en",
                            compound=-1.0 if label == "negative" else 1.0, label=label))
    b.close_until(T0 + 90 * 60_000)
    assert b.rolling(5 * 60_000).negative_share == 1.0
    assert b.rolling(60 * 60_000).mentions == 60
    assert b.rolling(24 * 3_600_000).mentions == 90


def test_a_late_copy_never_shadows_an_on_time_copy_of_the_same_mention():
    """The same id on two raw partitions, late on one: whichever arrives first, it is counted."""
    on_time = ScoredMention(id="x", brand="acme", created_at_ms=T0, lang="en", compound=0, label="neutral")
    late_copy = ScoredMention(id="x", brand="acme", created_at_ms=T0, lang="en", compound=0, label="neutral", late=True)
    for order in ([on_time, late_copy], [late_copy, on_time]):
        b = BrandBuckets.new("acme")
        for m in order:
            b.add(m)
        assert [s.mentions for s in b.close_until(T0 + 60_000)] == [1]


def test_the_minute_says_who_posts_most_and_which_texts_are_copied():
    b = BrandBuckets.new("acme")
    rows = [("troll", 7, "Acme = scam!!!")] * 6 + [("bob", 8, "Acme lost my bag")] * 2 + [("ann", 9, "meh")]
    for i, (author, fp, text) in enumerate(rows):
        b.add(ScoredMention(id=f"{i:02d}", brand="acme", created_at_ms=T0 + i, lang="en", compound=-0.5,
                            label="negative", text=text, author=author, fingerprint=fp))
    [s] = b.close_until(T0 + 60_000)
    assert s.top_posters == (("troll", 6), ("bob", 2))
    assert s.top_copies == (("Acme = scam!!!", 6), ("Acme lost my bag", 2))


def test_each_copied_text_carries_the_followers_of_its_own_posters():
    """A campaign's copies are judged on who pasted them, apart from the rest of the minute."""
    b = BrandBuckets.new("acme")
    rows = [(f"new{i}", 7, "Acme = scam!!!", 3) for i in range(6)] + [("bob", 8, "Acme lost my bag", 900)] * 2
    rows += [("ann", 9, "meh", 5000)]
    for i, (author, fp, text, followers) in enumerate(rows):
        b.add(ScoredMention(id=f"{i:02d}", brand="acme", created_at_ms=T0 + i, lang="en", compound=-0.5,
                            label="negative", text=text, author=author, fingerprint=fp, followers=followers))
    [s] = b.close_until(T0 + 60_000)
    assert s.copy_reach == (("Acme = scam!!!", 18), ("Acme lost my bag", 1800))


def test_a_minute_saved_before_copy_followers_were_kept_says_nothing_about_them():
    import orjson

    b = BrandBuckets.new("acme")
    for i in range(3):
        b.add(ScoredMention(id=f"{i}", brand="acme", created_at_ms=T0 + i, lang="en", compound=-0.5,
                            label="negative", text="scam", author=f"a{i}", fingerprint=7, followers=3))
    state = orjson.loads(orjson.dumps(b.to_dict()))
    [minute] = state["o"]
    minute["k"] = [row[:4] for row in minute["k"]]  # copies rows as written before: [fp, n, text, id]
    again = BrandBuckets.from_dict(state)
    again.add(ScoredMention(id="9", brand="acme", created_at_ms=T0 + 9, lang="en", compound=-0.5,
                            label="negative", text="scam", author="a9", fingerprint=7, followers=3))
    [s] = again.close_until(T0 + 60_000)
    assert s.top_copies == (("scam", 4),) and s.copy_reach == ()  # unknown, not "no followers"
