"""Without sentiment, a volume alert needs a volume the brand has not reached lately."""

import pytest

from buzzwatch.detection.peaks import VolumePeaks

DAY = 86_400_000


def learnt(*daily_peaks: float, days: int = 14) -> VolumePeaks:
    """Daily peaks of (interval rate, mean rate); the mean rate is a tenth of the interval's."""
    pk = VolumePeaks.new()
    for day, rate in enumerate(daily_peaks):
        pk = pk.add(day * DAY + 3_600_000, (rate, rate / 10), days)
        pk = pk.add(day * DAY + 7_200_000, (rate / 2, rate / 20), days)  # lower later that day: no change
    return pk


@pytest.mark.parametrize("history, rate, days, record", [
    ((10.0, 40.0, 12.0), 41.0, 14, True),    # above everything of the last two weeks
    ((10.0, 40.0, 12.0), 40.0, 14, False),   # the same as before is not news
    ((10.0, 40.0, 12.0), 20.0, 1, True),     # the 40 was two days ago: outside a one-day memory
    ((), 1.0, 14, True),                     # nothing learnt yet (the warm-up keeps alerts off anyway)
    ((10.0, 40.0), 5.0, 0, True),            # record_days = 0: no record needed
])
def test_a_record_is_a_rate_above_every_day_remembered(history, rate, days, record):
    assert learnt(*history).records((rate, 0.0), len(history) * DAY, days)[0] == record


def test_spikes_and_sustained_rises_are_records_each_against_their_own_kind():
    pk = learnt(10.0, 40.0, 12.0)  # mean-rate peaks 1.0, 4.0, 1.2
    assert pk.records((30.0, 4.5), 3 * DAY, 14) == (False, True)  # a long rise, no spike: news
    assert pk.records((45.0, 2.0), 3 * DAY, 14) == (True, False)


def test_the_day_in_progress_counts_too():
    pk = learnt(10.0).add(DAY + 60_000, (30.0, 3.0), 14)
    assert pk.records((25.0, 0.0), DAY + 120_000, 14)[0] is False
    assert pk.records((31.0, 0.0), DAY + 120_000, 14)[0] is True


def test_days_older_than_the_memory_are_forgotten_so_the_state_stays_small():
    pk = learnt(*[float(i) for i in range(60)], days=14)
    assert len(pk.days) == 15
    assert VolumePeaks.from_list(pk.to_list()) == pk and VolumePeaks.from_list(None) == VolumePeaks()


SPANS = (5.0, 720.0)  # a 5-minute interval's rate; a mean rate over about 6 hours (2 x 360 min)


@pytest.mark.parametrize("past_peak, today_peak, rate, margin_sd, record", [
    (40.0, None, 42.0, 1.0, False),   # within one s.d. of the past record (sqrt(40 / 5) = 2.8): the same volume again
    (40.0, None, 43.0, 1.0, True),    # beyond it: a new record
    (40.0, None, 42.0, 0.0, True),    # margin 0: any amount
    (40.0, None, 45.0, 2.0, False),   # two s.d. asked: 45.7 needed
    (40.0, 50.0, 49.0, 1.0, False),   # below the day in progress's own peak
    (40.0, 50.0, 51.0, 1.0, True),    # the day in progress needs no margin, only to be topped
    (40.0, 41.0, 42.0, 1.0, False),   # above today's peak but within the noise of the past record
    (None, 10.0, 11.0, 1.0, True),    # no past day yet: only today's peak to top
])
def test_a_record_must_top_the_past_days_by_more_than_their_counting_noise(past_peak, today_peak, rate, margin_sd,
                                                                          record):
    pk = VolumePeaks.new()
    if past_peak is not None:
        pk = pk.add(DAY + 3_600_000, (past_peak, 0.0), 14)
    if today_peak is not None:
        pk = pk.add(2 * DAY + 3_600_000, (today_peak, 0.0), 14)
    assert pk.records((rate, 0.0), 2 * DAY + 7_200_000, 14, margin_sd, SPANS)[0] == record


def test_a_mean_rate_rising_in_small_steps_is_a_record_once_clear_of_the_past_days_noise():
    # past days' highest mean rate 1.0/min, known to within sqrt(1 / 720) = 0.037; today the mean
    # rises by 0.005 a step, each step above the one before: news from 1.04 on, not before
    pk = VolumePeaks.new().add(DAY, (10.0, 1.0), 14)
    news = []
    for step in range(20):
        mean, now = 1.0 + 0.005 * (step + 1), 2 * DAY + step * 300_000
        news.append((round(mean, 3), pk.records((0.0, mean), now, 14, 1.0, SPANS)[1]))
        pk = pk.add(now, (0.0, mean), 14)
    assert [m for m, rec in news if rec][0] == 1.04
    assert all(rec for m, rec in news if m >= 1.04)
