"""Signals -> buzz score -> severity: a bad buzz needs volume AND negativity, counted right."""

import pytest

from buzzwatch.detection.score import DetectorParams, Window, share_surprise, window_signals
from buzzwatch.detection.tails import negbin_surprise, poisson_surprise

P = DetectorParams()


def w(count, expected, negative, scored=None, minutes=15, phi=0.02):
    return Window(minutes, count, expected, negative, count if scored is None else scored, 0, phi)


@pytest.mark.parametrize("name, window, alerts", [
    ("usual traffic", w(160, 150, 25), False),
    ("positive launch, 6x", w(900, 150, 20), False),
    ("neutral news, 5x, usual share", w(750, 150, 115), False),
    ("bad buzz, 4x, half negative", w(600, 150, 300), True),
    ("low-volume brand: 12 of 14 negative vs 1 expected", w(14, 1.0, 12, phi=0.1), True),
    ("low-volume brand: 3 of 4 negative vs 1 expected", w(4, 1.0, 3, phi=0.1), False),
    ("more negative but no more volume", w(150, 150, 90), False),
])
def test_score_is_a_conjunction_of_volume_and_negativity(name, window, alerts):
    s = window_signals(P, window, usual_share=0.15)
    assert (P.severity(s.score) >= 1) == alerts, (name, s)


@pytest.mark.parametrize("rate_per_min", [0.1, 2.0, 200.0])
def test_volume_test_is_count_aware_across_brand_sizes(rate_per_min):
    """The same 15-minute window at 4x the usual rate: weak evidence at 0.1/min, strong at 200/min."""
    expected = rate_per_min * 15
    s = window_signals(P, w(4 * expected, expected, 0), 0.15, sentiment_known=False)
    if rate_per_min < 1:
        assert s.volume < 3
    else:
        assert s.volume > 5


def test_volume_only_mode_scores_volume_divided_by_the_scale():
    s = window_signals(P, w(90, 30, 0, scored=0), 0.15, sentiment_known=False)
    assert s.score == pytest.approx(s.volume / P.volume_only_scale)
    assert window_signals(P, w(90, 30, 0, scored=0), 0.15, sentiment_known=True).score == 0.0


def test_overdispersion_makes_the_volume_test_humbler():
    assert negbin_surprise(300, 150, phi=0.1) < poisson_surprise(300, 150)
    assert negbin_surprise(300, 150, phi=0.0) == pytest.approx(poisson_surprise(300, 150))


def test_share_test_has_small_count_uncertainty_and_saturates():
    assert share_surprise(3, 4, 0.15, 1000, 0.05, 0.002) < 2
    assert share_surprise(300, 400, 0.15, 1000, 0.05, 0.002) > 20
    # a usual share learnt from few mentions is less certain: the same data is less surprising
    assert share_surprise(10, 20, 0.15, 10, 0.05, 0.002) < share_surprise(10, 20, 0.15, 10_000, 0.05, 0.002)


def test_severity_levels():
    assert [P.severity(x) for x in (0, P.watch_score, P.warning_score, P.critical_score)] == [0, 1, 2, 3]
    assert P.severity(P.watch_score, reach_boost=True, fast=True) == 3
    assert P.severity(1.0, reach_boost=True) == 0  # reach alone never alerts
