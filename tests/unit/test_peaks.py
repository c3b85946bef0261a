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
