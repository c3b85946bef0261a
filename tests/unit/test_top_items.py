"""top_items / capped_counts: the k largest counts, ties broken by key, whatever the size."""

import random

import pytest

from buzzwatch.stages.sketches import capped_counts, top_items


def reference(counts: dict, k: int) -> list[tuple]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:k]


@pytest.mark.parametrize("counts, k, want", [
    ({}, 5, []),
    ({"a": 1}, 0, []),
    ({"b": 2, "a": 2, "c": 5}, 2, [("c", 5), ("a", 2)]),
    ({"b": 1, "a": 1, "c": 1}, 3, [("a", 1), ("b", 1), ("c", 1)]),
    ({f"t{i:03d}": 1 for i in range(100)} | {"z": 9}, 3, [("z", 9), ("t000", 1), ("t001", 1)]),  # ties at the bar
])
def test_largest_counts_first_ties_by_key(counts, k, want):
    assert top_items(counts, k) == want


@pytest.mark.parametrize("seed", range(5))
def test_any_vocabulary_gives_the_sorted_prefix(seed):
    rng = random.Random(seed)
    for _ in range(300):
        counts = {f"w{rng.randrange(2000)}": rng.choice((1, 1, 1, 2, 3, 5, 8, 40)) for _ in range(rng.randrange(500))}
        k = rng.choice((1, 5, 30, 200))
        assert top_items(counts, k) == reference(counts, k)
        assert capped_counts(counts, 400, 200) == (counts if len(counts) <= 400 else dict(reference(counts, 200)))
