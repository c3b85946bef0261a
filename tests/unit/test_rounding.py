"""rounded() is round(), value for value: same floats, same types, same signs of zero."""

import math
import random
import struct

import pytest

from buzzwatch.detection.rounding import round_to, rounded

EDGES = [0.0, -0.0, 1e-9, -1e-9, 0.5e-5, 1.5e-5, 2.5e-5, -2.5e-5, 0.125, 0.375, 2.675, 1.005, 0.285,
         2.5, 3.5, -2.5, 1 / 3, -2 / 3, 21474.83647, 21474.83648, 2147483647.5, 1e15 + 0.3, 1e300, -1e300,
         5e-324, 3, -7, 0, 10**20, True]


@pytest.mark.parametrize("digits", [0, 1, 2, 4, 5, 6])
def test_edge_values_round_as_round_does(digits):
    want = [(repr(w), type(w)) for w in (round(v, digits) for v in EDGES)]
    assert [(repr(g), type(g)) for g in rounded(EDGES, digits)] == want
    assert [(repr(g), type(g)) for g in (round_to(v, digits) for v in EDGES)] == want


@pytest.mark.parametrize("digits", [2, 4, 5, 6])
def test_random_floats_round_as_round_does(digits):
    rng = random.Random(digits)
    values = []
    for _ in range(20_000):
        values += [rng.uniform(-10, 10), rng.uniform(0, 1e6),
                   round(rng.uniform(-100, 100), digits) + rng.choice((-0.5, 0.5)) * 10.0 ** -digits,  # ties
                   rng.uniform(-1, 1) * 10 ** rng.uniform(-12, 12)]
        bits = struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0]
        if not (math.isnan(bits) or math.isinf(bits)):
            values.append(bits)
    want = [repr(round(v, digits)) for v in values]
    assert [repr(x) for x in rounded(values, digits)] == want
    assert [repr(round_to(v, digits)) for v in values] == want
