"""The benchmark's own logic (bench/, `make bench`): what it generates and how it reads its
measurements. No broker, no shared data, no timing: the figures themselves live in bench/."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import orjson
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import bench_kafka  # noqa: E402
import bench_state  # noqa: E402
import bench_workload as W  # noqa: E402
import run_bench  # noqa: E402


def test_brand_names_are_distinct_and_reproducible():
    names = W.brand_names(10_000)
    assert len(set(names)) == 10_000
    assert names == W.brand_names(10_000)


@pytest.mark.parametrize("text, lang, expected", [
    ("@united my bag is lost", "en", "@kavo my bag is lost"),
    ("@user pas content @user", "fr", "@kavo pas content @user"),  # only the first handle
    ("Quelle journée", "fr", "Kavo Quelle journée"),
    ("no handle here", "en", "Kavo no handle here"),
    ("Départ de MTL reality@travel.com", "fr", "Kavo Départ de MTL reality@travel.com"),  # an e-mail, no handle
])
def test_a_tweet_is_rewritten_to_name_the_brand(text, lang, expected):
    assert W.rewrite(text, "Kavo", lang) == expected


def test_zipf_popularity_gives_the_top_brand_about_half_the_traffic():
    zipf = W.ZipfPicker(1000)
    assert 0.45 < zipf.top_share() < 0.6
    rng = random.Random(1)
    draws = [zipf.pick(rng) for _ in range(20_000)]
    assert 0.45 < draws.count(0) / len(draws) < 0.6
    assert max(draws) < 1000


def test_generated_mentions_follow_the_contract_and_name_their_brand():
    from buzzwatch.text.analyze import MentionAnalyzer
    from buzzwatch.config import CoreConfig
    from buzzwatch.contract.mention import parse_mention

    names = W.brand_names(50)
    corpus = W.Corpus([("en", "@delta lost my bag"), ("fr", "Quel service, merci @user")], "test")
    wl = W.zipf_workload(corpus, names, 500, minutes=5)
    analyzer = MentionAnalyzer(CoreConfig.from_dict({"brands": [
        {"name": n, "handles": [W.handle(n)], "own_handles": [W.care_handle(n)]} for n in names]}))
    replies = 0
    for value in wl.values:
        m = parse_mention(value)
        assert analyzer.brands_of(m), m.text
        replies += bool(analyzer.analyze(m).from_brands)
    assert set(wl.partitions) == {0, 1, 2, 3}
    assert 0 < replies < 0.1 * len(wl.values)  # the brands' own answers, counted as responses


def test_the_generated_config_declares_each_brands_care_account():
    import tomllib

    from buzzwatch.config import CoreConfig

    names = W.brand_names(3)
    data = tomllib.loads(W.brands_toml(names))
    config = CoreConfig.from_dict(data)
    assert [b.own_handles for b in config.brands] == [(W.care_handle(n),) for n in names]


def test_the_hot_brand_workload_has_one_brand_at_the_asked_rate_each_partition_in_event_time_order():
    names = W.brand_names(100)
    corpus = W.Corpus([("en", "@delta lost my bag")], "test")
    wl = W.hot_brand_workload(corpus, names, hot_per_min=300, quiet_per_min=1, minutes=3)
    posts = [orjson.loads(v) for v in wl.values]
    assert sum(W.handle(names[0]) in p["text"] or p["author"]["name"] == W.care_handle(names[0])[1:]
               for p in posts) == 900  # its mentions and its own replies
    assert len(wl.values) == 900 + 3 * 99
    for p in range(4):
        times = [orjson.loads(v)["created_at"] for v, part in zip(wl.values, wl.partitions) if part == p]
        assert times == sorted(times)


@pytest.mark.parametrize("times, expected", [
    # the third record at or past minute end + lateness (65,000) on each partition; latest of them
    ({0: [64_000, 65_000, 65_100, 65_200, 70_000], 1: [65_000, 65_010, 65_020]}, 65_200),
    ({0: [65_000, 65_001, 65_002], 1: [65_000, 65_001]}, None),  # partition 1 cannot close it yet
])
def test_the_latency_clock_starts_at_the_produce_that_lets_the_minute_close(times, expected):
    assert run_bench.closable_ms(times, 0, 5_000) == expected


def test_a_drain_is_done_only_when_every_partition_reached_its_target():
    assert not bench_kafka.caught_up({0: 10}, {0: 10, 1: 1})
    assert bench_kafka.caught_up({0: 10, 1: 2}, {0: 10, 1: 1})


def test_cloned_state_is_a_valid_state_of_the_new_brand():
    corpus = W.Corpus([("en", "@delta lost my bag"), ("en", "@delta thanks, great crew")], "test")
    items = bench_state.template_items(corpus, "Zztemplate0", per_hour=2, end_ms=W.BASE_MS, days=1)
    cloned = [(0, k, v) for k, v in bench_state._rename(items, "Zztemplate0", "Kavo")]
    assert all(b"Zztemplate0" not in k + v for _, k, v in cloned)
    check = bench_state.check_clone(cloned, "Kavo")
    assert check["closed_until_ms"] == W.BASE_MS - 60_000
    assert check["hour_rows"] == 24  # one day of closed hours


def test_the_memory_section_reads_the_event_loop_lag_from_the_histogram_buckets():
    bounds = ["0.01", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "30.0", "+Inf"]
    counts = [50, 60, 60, 61, 61, 62, 63, 63, 63, 63, 63]  # 63 ticks: 2 held over 0.5 s, 1 over 1 s

    class Worker:
        def metrics_text(self, *names):
            assert names == ("buzzwatch_event_loop_lag_seconds_bucket",)  # name[] selects samples
            return "".join(f'buzzwatch_event_loop_lag_seconds_bucket{{le="{b}"}} {float(n)}\n'
                           for b, n in zip(bounds, counts)).encode()

    assert run_bench.loop_lag(Worker()) == {"loop_ticks": 63, "loop_ticks_late_over_0_5s": 2,
                                            "loop_ticks_late_over_2_5s": 0, "loop_longest_hold_below_s": 2.5}
