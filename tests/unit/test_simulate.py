"""The simulator: contract-shaped mentions, seeded, fast; scenarios with a truth list."""


import pytest

from buzzwatch.contract.mention import parse_mention
from buzzwatch.offline.simulate import generate_mentions, make_scenario, scenario_mentions, scenario_summaries

START = 1_795_000_000_000 - 1_795_000_000_000 % 60_000
BUZZ = {"brand": "Acme", "start_minute": 20, "ramp_minutes": 5, "peak_factor": 10.0, "negative_share": 0.9}


def mentions(**kw):
    args = dict(seed=7, rate_per_min=10.0, fr_share=0.4, bad_buzz=BUZZ)
    args.update(kw)
    return list(generate_mentions(["Acme", "Lavéria"], START, 40, **args))


def test_same_seed_same_mentions_and_unique_ids():
    a, b = mentions(), mentions()
    assert a == b
    assert len({m["id"] for m in a}) == len(a)
    assert mentions(seed=8) != a


def test_every_mention_passes_the_contract():
    import orjson

    for m in mentions():
        parsed = parse_mention(orjson.dumps(m))
        assert getattr(parsed, "id", None) == m["id"], parsed


def test_mentions_exercise_matching_language_routing_and_duplicates():
    ms = mentions()
    assert any("brand" not in m for m in ms) and any("brand" in m for m in ms)
    assert any("lang" not in m for m in ms)
    assert {m.get("lang") for m in ms} >= {"en", "fr"}
    assert all("Acme" in m["text"] or "@acme" in m["text"] or "Lavéria" in m["text"] or "@lavéria" in m["text"]
               for m in ms)
    texts = [m["text"] for m in ms]
    assert len(set(texts)) < len(texts)  # some copy-pasted texts
    assert all(m["author"]["followers"] >= 0 for m in ms)


def test_event_time_order_and_injected_bad_buzz():
    ms = mentions()
    from buzzwatch.timeutil import parse_timestamp_ms

    times = [parse_timestamp_ms(m["created_at"]) for m in ms]
    assert times == sorted(times)
    per_minute = {}
    for m, t in zip(ms, times):
        if m["text"].count("Acme") or "@acme" in m["text"]:
            per_minute[(t - START) // 60_000] = per_minute.get((t - START) // 60_000, 0) + 1
    before = sum(per_minute.get(i, 0) for i in range(10, 20))
    during = sum(per_minute.get(i, 0) for i in range(25, 35))
    assert during > 3 * before


def test_scenario_has_truth_and_summaries_match_it():
    sc = make_scenario(5, brands=3, days=6, warmup_days=2)
    kinds = [e.kind for e in sc.events]
    assert kinds.count("bad_buzz") == 3 and kinds.count("launch") == 3 and kinds.count("burst") == 9
    bad = next(e for e in sc.events if e.kind == "bad_buzz")
    assert bad.start_ms <= bad.doubling_ms <= bad.end_ms
    rows = list(scenario_summaries(sc, bad.brand))
    assert len(rows) == 6 * 1440
    i = (bad.end_ms - sc.start_ms) // 60_000 - 1
    at_peak = rows[i - 10: i]
    usual = rows[i - 10 - 1440: i - 1440]
    assert sum(r.negative for r in at_peak) > 2 * sum(r.negative for r in usual)
    assert all(0 <= r.negative <= r.scored == r.mentions for r in rows)
    assert sc.truth()[0]["onset_at"].endswith("Z")


def test_scenario_rates_span_small_and_large_brands_and_render_to_mentions():
    sc = make_scenario(1, brands=20, days=4)
    rates = sorted(b.rate_per_min for b in sc.brands)
    assert rates[0] < 1 and rates[-1] > 50
    small = sc.brands[0].name
    ms = list(scenario_mentions(sc, small, 600, 3))
    assert all(small in m["text"] or m["text"].lower().count("@") for m in ms)


def _minutes_of(sc, event):
    rows = list(scenario_summaries(sc, event.brand))
    first = (event.start_ms - sc.start_ms) // 60_000
    return rows[first: first + event.hold_minutes]


@pytest.mark.parametrize("kind, many_authors", [("flood", False), ("copypaste", True)])
def test_spam_injections_look_like_their_kind(kind, many_authors):
    sc = make_scenario(3, brands=2, days=6, warmup_days=2, floods_per_brand=1, copypastes_per_brand=1)
    event = next(e for e in sc.events if e.kind == kind)
    rows = [r for r in _minutes_of(sc, event) if r.top_copies]
    assert rows and all(r.duplicate_texts >= r.top_copies[0][1] - 1 for r in rows)
    repeats = sum(r.mentions - r.distinct_authors for r in rows)
    if many_authors:  # one text, one post per new account, few followers
        assert repeats < sum(r.mentions for r in rows) * 0.2
    else:  # one account, many posts, named
        assert repeats > sum(r.mentions for r in rows) * 0.5
        assert all(r.top_posters[0][0].startswith("troll_") for r in rows if r.top_posters)


def test_second_waves_come_8_hours_after_the_first_and_bursts_stay_clear_of_events():
    sc = make_scenario(4, brands=3, days=7, warmup_days=2, second_wave=True, launches_per_brand=0, news_per_brand=0,
                       bursts_per_brand=5)
    for brand in sc.brands:
        waves = sorted((e for e in sc.events if e.brand == brand.name and e.kind == "bad_buzz"), key=lambda e: e.start_ms)
        assert [w.wave for w in waves] == [1, 2]
        assert waves[1].start_ms - waves[0].start_ms == 8 * 3_600_000
        main = [e for e in sc.events if e.brand == brand.name and e.kind != "burst"]
        for burst in (e for e in sc.events if e.brand == brand.name and e.kind == "burst"):
            assert not any(e.start_ms - 2 * 3_600_000 <= burst.start_ms <= e.end_ms + 4 * 3_600_000 for e in main)


def test_people_sharing_an_angry_post_bring_their_audience_and_pasted_spam_does_not():
    """The copies of a bad buzz are real people (their usual audience, doubled in a buzz); a
    campaign's or a troll's copies come from accounts with a handful of followers."""
    sc = make_scenario(3, brands=2, days=6, warmup_days=2, floods_per_brand=1, copypastes_per_brand=1)
    for event in sc.events:
        if event.kind not in ("bad_buzz", "flood", "copypaste"):
            continue
        followers = next(b for b in sc.brands if b.name == event.brand).followers
        per_copy = [dict(r.copy_reach)[text] / n for r in _minutes_of(sc, event) for text, n in r.top_copies]
        assert per_copy, event.kind
        if event.kind == "bad_buzz":
            assert min(per_copy) >= followers
        else:
            assert max(per_copy) <= 12 < followers / 2
