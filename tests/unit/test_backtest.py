"""The counts backtest: CSV rows are intervals of their spacing; the same core as live."""

import pytest

from buzzwatch.offline.counts import CountsFormatError, backtest_counts, backtest_summaries, read_counts_csv
from buzzwatch.detection.step import DetectionConfig

CFG = DetectionConfig.from_dict({"warmup_minutes": 360})


def write(tmp_path, text, name="counts.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_header_optional_naive_timestamps_utc_and_interval_is_row_spacing(tmp_path):
    with_header = write(tmp_path, "timestamp,value\n2015-02-26 21:42:53,12\n2015-02-26 21:47:53,15\n", "a.csv")
    without = write(tmp_path, "2015-02-26 21:42:53,12\n2015-02-26 21:47:53,15\n", "b.csv")
    a, b = list(read_counts_csv(with_header, "x")), list(read_counts_csv(without, "x"))
    assert a == b
    assert [(r.mentions, r.length_ms, r.scored) for r in a] == [(12, 300_000, 0), (15, 300_000, 0)]
    assert a[0].start_ms == 1424986973000  # 2015-02-26T21:42:53Z


def test_negative_column_gives_sentiment(tmp_path):
    rows = list(read_counts_csv(write(tmp_path, "timestamp,value,negative\n2015-02-26 21:42:00,10,4\n"), "x"))
    assert (rows[0].negative, rows[0].scored) == (4, 10)


@pytest.mark.parametrize("text, line, what", [
    ("timestamp,value\n2015-02-26 21:42:53,12\nnot a time,3\n", 3, "timestamp"),
    ("timestamp,value\n2015-02-26 21:42:53,twelve\n", 2, "twelve"),
    ("timestamp,value\n2015-02-26 21:42:53\n", 2, "expected"),
    ("timestamp,value,negative\n2015-02-26 21:42:53,3,5\n", 2, "negative"),
    ("2015-02-26 21:47:53,1\n2015-02-26 21:42:53,2\n", 2, "increase"),
])
def test_bad_rows_name_the_line(tmp_path, text, line, what):
    with pytest.raises(CountsFormatError, match=rf":{line}: .*{what}"):
        list(read_counts_csv(write(tmp_path, text), "x"))


def five_minute_series(days=4, spike_at=None):
    import math

    lines = ["timestamp,value"]
    t0 = 1_425_000_000 - 1_425_000_000 % 300
    for i in range(days * 288):
        v = 40 + 20 * math.sin(2 * math.pi * i / 288) + (7 * i) % 5
        if spike_at is not None and spike_at <= i < spike_at + 6:
            v *= 8
        from buzzwatch.timeutil import format_timestamp

        lines.append(f"{format_timestamp((t0 + 300 * i) * 1000).replace('T', ' ').rstrip('Z')},{int(v)}")
    return "\n".join(lines) + "\n"


def test_five_minute_counts_volume_only_mode_detects_a_spike_and_stays_quiet_otherwise(tmp_path):
    quiet = backtest_counts(CFG, write(tmp_path, five_minute_series(), "q.csv"), "nab")
    assert quiet == []
    events = backtest_counts(CFG, write(tmp_path, five_minute_series(spike_at=3 * 288), "s.csv"), "nab")
    assert [e["event"] for e in events][:1] == ["opened"]
    assert events[0]["evidence"]["negative_share"] is None  # sentiment unknown


def test_backtest_summaries_is_deterministic(tmp_path):
    rows = list(read_counts_csv(write(tmp_path, five_minute_series(spike_at=3 * 288)), "nab"))
    assert backtest_summaries(CFG, rows) == backtest_summaries(CFG, rows)
