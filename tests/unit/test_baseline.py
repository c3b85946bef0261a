"""The seasonal baseline: learns the brand's usual rhythm, never the spike."""

import math

import orjson
import pytest

from buzzwatch.detection.baseline import Baseline, hour_of_day, hour_of_week
from buzzwatch.offline.simulate import _diurnal

T0 = 1_794_009_600_000  # 2026-11-14T00:00Z, a Saturday, midnight UTC
MIN = 60_000


def learn_days(days: int, rate: float, start: int = 0) -> Baseline:
    b = Baseline.new()
    for i in range(start, start + days * 1440):
        b = b.learn(T0 + i * MIN, MIN, count=round(rate * _diurnal(i % 1440)), negative=0, scored=0)
    return b


@pytest.mark.parametrize("ms, hod, how", [
    (T0, 0, 5 * 24),  # Saturday (Monday = 0)
    (T0 + 13 * 3_600_000 + 59 * MIN, 13, 5 * 24 + 13),
    (T0 + 2 * 86_400_000, 0, 0),  # the next Monday
])
def test_hour_of_day_and_week(ms, hod, how):
    assert (hour_of_day(ms), hour_of_week(ms)) == (hod, how)


def test_learns_the_daily_rhythm_within_a_few_days():
    b = learn_days(4, rate=20.0)
    for minute in (4 * 60, 12 * 60, 20 * 60 + 30):  # night trough, midday, evening peak
        truth = 20.0 * _diurnal(minute)
        assert b.expected_per_min(T0 + (4 * 1440 + minute) * MIN) == pytest.approx(truth, rel=0.3)


def test_low_volume_brand_profile_does_not_swing_on_single_mentions():
    b = Baseline.new()
    for i in range(2 * 1440):
        b = b.learn(T0 + i * MIN, MIN, count=1 if i % 10 == 0 else 0)
    assert max(b.hour) < 1.5 and min(b.hour) > 0.6
    assert b.expected_per_min(T0 + 2 * 1440 * MIN) == pytest.approx(0.1, rel=0.3)


def test_one_outlier_is_clipped_before_it_is_learnt():
    b = learn_days(2, rate=10.0)
    at = T0 + 2 * 1440 * MIN
    before = b.expected_per_min(at)
    spiked = b.learn(at, MIN, count=2000)  # a 200x minute (the caller normally skips it altogether)
    assert spiked.expected_per_min(at + MIN) < 1.05 * b.expected_per_min(at + MIN)
    assert before > 0


@pytest.mark.parametrize("negative, scored, share", [(0, 0, 0.15), (2, 10, 0.2), (9, 10, 0.9)])
def test_usual_negative_share_is_shrunk_to_the_prior_when_little_is_scored(negative, scored, share):
    b = Baseline.new()
    for i in range(5000):
        b = b.learn(T0 + i * MIN, MIN, count=scored, negative=negative, scored=scored)
    assert b.negative_share() == pytest.approx(share, abs=0.02)
    one = Baseline.new().learn(T0, MIN, count=1, negative=1, scored=1)
    assert one.negative_share() < 0.2  # one negative mention is not a usual share of 100 %


def test_dispersion_is_learnt_from_window_noise():
    import random

    rng = random.Random(1)
    b = Baseline.new().learn(T0, MIN, 100)
    for _ in range(5000):  # gamma-Poisson with shape 10: phi = 0.1
        lam = rng.gammavariate(10, 10.0)
        x = sum(1 for _ in range(int(lam * 3)) if rng.random() < 1 / 3)  # ~Poisson(lam)
        b = b.learn_dispersion(0, x, 100.0, 1.0)
    assert b.dispersion(0) == pytest.approx(0.1, abs=0.04)


def test_state_roundtrips_through_json():
    b = learn_days(1, rate=5.0).learn_dispersion(1, 30, 25, 1.0)
    again = Baseline.from_dict(orjson.loads(orjson.dumps(b.to_dict())))
    assert again.to_dict() == b.to_dict()
    assert math.isclose(again.expected_per_min(T0), b.expected_per_min(T0), rel_tol=1e-4)
