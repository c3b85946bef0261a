"""Sequential evidence: a ramp is caught when the evidence accumulated since its start crosses
the bar; counts at 0.1/min accumulate over hours, at 100/min in minutes; usual traffic, launches
and neutral news take evidence back."""

import random

import pytest

from buzzwatch.detection.sequential import LN10, Cusums, SequentialParams, binomial_llr, nb_llr, step_llr

P = SequentialParams()


def _poisson(rng: random.Random, lam: float) -> int:
    k, t = 0, rng.expovariate(1.0)
    while t < lam:
        k += 1
        t += rng.expovariate(1.0)
    return k


def minutes_to_cross(rate: float, factor: float, negative_extra: float, bar: float = 5.0, share_bar: float = 2.0,
                     usual_share: float = 0.15, seed: int = 1, limit: int = 600) -> int | None:
    """Minutes until the buzz evidence crosses ``bar`` (log10) for a step change at minute 0."""
    rng = random.Random(seed)
    cus = Cusums()
    for m in range(limit):
        usual = _poisson(rng, rate)
        extra = _poisson(rng, rate * (factor - 1.0))
        neg = sum(rng.random() < usual_share for _ in range(usual)) + sum(rng.random() < negative_extra for _ in range(extra))
        n = usual + extra
        step = step_llr(P, count=n, negative=neg, scored=n, expected=rate, usual_share=usual_share,
                        share_weight=1e4, phi=0.05)
        cus = cus.update(P, step, True, m)
        if cus.score(True, bar / share_bar) >= bar:
            return m + 1
    return None


@pytest.mark.parametrize("rate, factor, negative_extra, at_most", [
    (100.0, 3.0, 0.7, 3),  # a big brand: minutes
    (10.0, 3.0, 0.7, 10),
    (1.0, 5.0, 0.7, 30),
    (0.1, 10.0, 0.8, 180),  # a tiny brand: hours of evidence, but it gets there
])
def test_evidence_accumulates_faster_the_more_mentions_there_are(rate, factor, negative_extra, at_most):
    took = minutes_to_cross(rate, factor, negative_extra)
    assert took is not None and took <= at_most


@pytest.mark.parametrize("name, factor, negative_extra", [
    ("usual traffic", 1.0, 0.15),
    ("a launch: 5x volume, almost no negatives", 5.0, 0.03),
    ("neutral news: 5x volume at about the usual share", 5.0, 0.17),
])
def test_no_evidence_builds_up_without_a_negative_shift(name, factor, negative_extra):
    assert minutes_to_cross(10.0, factor, negative_extra, limit=1440) is None, name


@pytest.mark.parametrize("x, m0, m1, phi, sign", [
    (3, 0.015, 0.075, 0.0, +1),  # 3 negatives where 0.015 were expected
    (0, 0.015, 0.075, 0.0, -1),  # silence takes back a little
    (120, 100, 200, 0.2, -1),  # a 20 % wobble at a big, bursty brand is no evidence
    (250, 100, 200, 0.2, +1),
])
def test_likelihood_ratio_sign(x, m0, m1, phi, sign):
    assert (nb_llr(x, m0, m1, phi) > 0) == (sign > 0)


def test_overdispersion_makes_the_same_count_weaker_evidence():
    assert nb_llr(250, 100, 200, 0.2) < nb_llr(250, 100, 200, 0.0)


def test_share_evidence_is_capped_by_the_effective_sample_size():
    # 300 of 400 is strong, but correlated labels make it less than independent labels would
    assert 0 < binomial_llr(300, 400, 0.15, 0.4, rho=0.002) < binomial_llr(300, 400, 0.15, 0.4, rho=0.0)


def test_run_start_is_the_onset_and_reset_forgets():
    cus = Cusums()
    calm = step_llr(P, count=10, negative=1, scored=10, expected=10, usual_share=0.15, share_weight=1e4, phi=0.05)
    buzz = step_llr(P, count=30, negative=20, scored=30, expected=10, usual_share=0.15, share_weight=1e4, phi=0.05)
    for m, step in enumerate([calm] * 5 + [buzz] * 3):
        cus = cus.update(P, step, True, m * 60_000)
    assert cus.start_ms == 5 * 60_000
    assert cus.score(True) > 0 and cus.reset().score(True) == 0


def test_calm_evidence_is_capped_so_one_buzz_interval_stops_the_calm():
    cap = 2.0 * LN10
    cus = Cusums()
    calm = step_llr(P, count=10, negative=1, scored=10, expected=10, usual_share=0.15, share_weight=1e4, phi=0.05)
    buzz = step_llr(P, count=30, negative=20, scored=30, expected=10, usual_share=0.15, share_weight=1e4, phi=0.05)
    for _ in range(100):
        cus = cus.update(P, calm, True, 0, calm_cap=cap)
    assert cus.calm == pytest.approx(cap)
    assert cus.update(P, buzz, True, 0, calm_cap=cap).calm < cap


def test_state_is_a_small_json_list():
    c = Cusums(1.0, 2.0, 3.0, 0.5, 60_000, None)
    assert Cusums.from_list(c.to_list()) == c and Cusums.from_list(None) == Cusums()


def test_a_reset_remembers_from_when_the_evidence_counts_and_survives_json():
    c = Cusums(1.0, 2.0, 3.0, 0.5, 60_000, 60_000).reset(at_ms=120_000)
    assert c.score(True) == 0 and c.since_ms == 120_000
    assert Cusums.from_list(c.to_list()) == c
    assert Cusums.from_list(Cusums().to_list()) == Cusums()  # older states (six values) read alike


@pytest.mark.parametrize("name, count, negative, evidence", [
    # 7/min usual at 29 % negative; the volume is up 4x
    ("neutral news: 4x at about the usual share", 28, 9, "against"),
    ("a chance bump of the share during news: 43 % at 4x (a buzz at 4x is ~52 %)", 32, 14, "weak"),
    ("a bad buzz: 4x, 55 % negative", 28, 16, "for"),
])
def test_the_share_test_asks_for_the_share_a_buzz_would_have_at_the_volume_observed(name, count, negative, evidence):
    step = step_llr(P, count=count, negative=negative, scored=count, expected=7.0, usual_share=0.29,
                    share_weight=1e4, phi=0.05)
    doubling = P.extra  # what the share test assumed before, whatever the volume
    p1_fixed = (0.29 + doubling * P.buzz_negative_share) / (1 + doubling)
    fixed = binomial_llr(negative, count, 0.29 + (0.29 * 0.71 / 1e4) ** 0.5, p1_fixed, P.share_rho)
    if evidence == "against":
        assert step.share < 0
    elif evidence == "weak":
        assert 0 < step.share < 0.7 * fixed, name  # some evidence, much less than a doubling alternative gives
    else:
        assert step.share > LN10, name
