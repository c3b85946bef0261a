"""Spam and trolls are not a bad buzz: a flood from one account, or one text pasted by many
throwaway accounts, is reported as a spam/troll episode naming the accounts, is never alerted as
a bad buzz and never feeds the baseline; many real people repeating a slogan is still a buzz."""

import random

import pytest

from buzzwatch.offline.counts import backtest_summaries
from buzzwatch.detection.step import DetectionConfig, initial_state, observe
from buzzwatch.detection.spam import pasted_copies, split
from buzzwatch.stages.summary import MinuteSummary, TopPost

T0 = 1_794_000_000_000 - 1_794_000_000_000 % 86_400_000  # midnight UTC
CFG = DetectionConfig()
TEXT = "Acme is a SCAM, they stole my money, avoid avoid avoid"


def normal(i: int, rng: random.Random, rate: float = 10.0) -> dict:
    """One minute of ordinary traffic: distinct people, 15 % negative, ~100 followers each."""
    n = sum(1 for _ in range(int(rate * 3)) if rng.random() < 1 / 3)
    neg = sum(1 for _ in range(n) if rng.random() < 0.15)
    pos = sum(1 for _ in range(n - neg) if rng.random() < 0.4)
    return dict(mentions=n, negative=neg, positive=pos, distinct_authors=n, duplicate_texts=0, reach=100 * n,
                top_posters=(), top_copies=(), copy_reach=(), top=())


def summary(i: int, d: dict) -> MinuteSummary:
    return MinuteSummary(brand="acme", start_ms=T0 + i * 60_000, mentions=d["mentions"], negative=d["negative"],
                         positive=d["positive"], neutral=d["mentions"] - d["negative"] - d["positive"],
                         reach=d["reach"], distinct_authors=d["distinct_authors"],
                         duplicate_texts=d["duplicate_texts"], top_posters=d["top_posters"],
                         top_copies=d["top_copies"], copy_reach=d["copy_reach"], top_negative=d["top"])


def traffic(inject, days: int = 2, seed: int = 7, rate: float = 10.0) -> list[MinuteSummary]:
    """``days`` of warm-up then 3 hours in which ``inject(minute, counts)`` adds to each minute."""
    rng = random.Random(seed)
    out = []
    for i in range(days * 1440 + 180):
        d = normal(i, rng, rate)
        if i >= days * 1440:
            inject(i - days * 1440, d)
        out.append(summary(i, d))
    return out


def flood(author: str, posts_per_min: int, start: int, minutes: int, followers: int = 12):
    """One account posting the same negative text ``posts_per_min`` times a minute."""
    def inject(m: int, d: dict) -> None:
        if start <= m < start + minutes:
            d["mentions"] += posts_per_min
            d["negative"] += posts_per_min
            d["distinct_authors"] += 1
            d["duplicate_texts"] += posts_per_min - 1
            d["reach"] += posts_per_min * followers
            d["top_posters"] = ((author, posts_per_min),)
            d["top_copies"] = ((TEXT, posts_per_min),)
            d["top"] = tuple(TopPost(f"{m}-{k}", TEXT, -0.9, T0, None, author, followers) for k in range(5))
    return inject


def campaign(accounts_per_min: int, start: int, minutes: int, followers: int = 3):
    """One negative text pasted by ``accounts_per_min`` new accounts a minute."""
    def inject(m: int, d: dict) -> None:
        if start <= m < start + minutes:
            d["mentions"] += accounts_per_min
            d["negative"] += accounts_per_min
            d["distinct_authors"] += accounts_per_min
            d["duplicate_texts"] += accounts_per_min - 1
            d["reach"] += accounts_per_min * followers
            d["top_copies"] = ((TEXT, accounts_per_min),)
            d["copy_reach"] = ((TEXT, accounts_per_min * followers),)
    return inject


def slogan(people_per_min: int, start: int, minutes: int, followers: int = 300):
    """Many real people (bigger audiences than usual) posting the same angry slogan: a buzz."""
    def inject(m: int, d: dict) -> None:
        if start <= m < start + minutes:
            d["mentions"] += people_per_min
            d["negative"] += people_per_min
            d["distinct_authors"] += people_per_min
            d["duplicate_texts"] += people_per_min - 1
            d["reach"] += people_per_min * followers
            d["top_copies"] = (("#BoycottAcme they lied about the leak", people_per_min),)
            d["copy_reach"] = (("#BoycottAcme they lied about the leak", people_per_min * followers),)
    return inject


def kinds(events):
    return [e["event"] for e in events]


def test_one_account_posting_300_times_in_10_minutes_is_a_spam_report_naming_it_not_a_bad_buzz():
    events = backtest_summaries(CFG, traffic(flood("@angry_bot_12", 30, start=60, minutes=10)))
    assert "opened" not in kinds(events)
    reports = [e for e in events if e["event"] == "spam_flood"]
    assert len(reports) == 1
    spam = reports[0]["evidence"]["spam"]
    assert spam["kind"] == "flood"
    assert spam["top_accounts"][0]["author"] == "@angry_bot_12"
    assert "@angry_bot_12" in reports[0]["evidence"]["why"]
    assert kinds(events)[-1] == "spam_ended"


@pytest.mark.parametrize("name, inject", [
    ("a troll posting 3 a minute for an hour on a small brand", flood("@troll", 3, start=30, minutes=60)),
    ("a troll posting 40 a minute for 30 minutes", flood("@troll", 40, start=30, minutes=30)),
    ("20 new accounts a minute pasting one text", campaign(20, start=30, minutes=30)),
    ("8 new accounts a minute pasting one text for 2 hours", campaign(8, start=30, minutes=120)),
])
def test_spam_is_reported_and_never_alerted_as_a_bad_buzz(name, inject):
    events = backtest_summaries(CFG, traffic(inject, rate=2.0))
    assert "opened" not in kinds(events), name
    assert "spam_flood" in kinds(events), name


def test_many_people_repeating_a_slogan_is_still_a_bad_buzz():
    events = backtest_summaries(CFG, traffic(slogan(30, start=60, minutes=30)))
    assert "opened" in kinds(events)
    assert "spam_flood" not in kinds(events)


def test_a_campaign_diluted_in_busier_traffic_is_judged_on_its_own_posters():
    """6 pasted copies a minute over 10 ordinary posts: the copies are not most of the minute and
    the minute's mean reach hardly moves, but the posters of that one text have 3 followers."""
    events = backtest_summaries(CFG, traffic(campaign(6, start=30, minutes=60), rate=10.0))
    assert "opened" not in kinds(events)
    assert "spam_flood" in kinds(events)


@pytest.mark.parametrize("followers", [300, 100])  # a bigger audience than usual, and the usual one
def test_ordinary_people_repeating_a_slogan_in_busy_traffic_are_still_a_buzz(followers):
    events = backtest_summaries(CFG, traffic(slogan(12, start=60, minutes=30, followers=followers)))
    assert "opened" in kinds(events)
    assert "spam_flood" not in kinds(events)


@pytest.mark.parametrize("top, reach, usual, pasted", [
    ((("scam!!", 8),), (("scam!!", 40),), 100.0, 8),  # 5 followers a copy: pasted
    ((("scam!!", 8),), (("scam!!", 800),), 100.0, 0),  # 100 a copy, the usual audience: people
    ((("scam!!", 2),), (("scam!!", 0),), 100.0, 0),  # two copies: too few to judge
    ((("a", 8), ("b", 9)), (("a", 40), ("b", 4000)), 100.0, 8),  # each text judged on its own posters
    ((("scam!!", 8),), (), 100.0, 0),  # posters' followers unknown (older data): nothing said
    ((("scam!!", 8),), (("scam!!", 40),), 0.0, 0),  # no usual audience learnt yet
])
def test_pasted_copies_are_texts_copied_by_accounts_with_few_followers(top, reach, usual, pasted):
    s = MinuteSummary("acme", 0, 30, negative=20, neutral=10, distinct_authors=30, top_copies=top, copy_reach=reach)
    assert pasted_copies(s, usual) == pasted


def test_a_real_bad_buzz_during_a_troll_flood_is_still_alerted():
    f, s = flood("@troll", 30, start=30, minutes=120), slogan(30, start=60, minutes=30)

    def both(m, d):
        f(m, d)
        s(m, d)
    events = backtest_summaries(CFG, traffic(both))
    assert "spam_flood" in kinds(events) and "opened" in kinds(events)
    opened = next(e for e in events if e["event"] == "opened")
    assert opened["detected_at"] >= opened["onset_at"]
    assert all(p["author"] != "@troll" for e in events if e["event"] != "spam_flood" and e["event"] != "spam_ended"
               for p in e["evidence"]["top_negative"])  # the on-call reads the people, not the troll


def test_a_slogan_taken_up_by_people_while_a_campaign_runs_is_still_a_bad_buzz():
    """Both texts are copied in the same minutes: the campaign's by 3-follower accounts, the
    slogan by people with a real audience. The running episode must not swallow the slogan."""
    paste, people = campaign(20, start=30, minutes=120), slogan(30, start=60, minutes=30)

    def both(m, d):
        paste(m, d)
        copies, reach = d["top_copies"], d["copy_reach"]
        people(m, d)
        d["top_copies"] = tuple(sorted(set(copies) | set(d["top_copies"]), key=lambda c: -c[1]))
        d["copy_reach"] = tuple(set(reach) | set(d["copy_reach"]))
    events = backtest_summaries(CFG, traffic(both))
    assert "spam_flood" in kinds(events) and "opened" in kinds(events)
    assert next(e for e in events if e["event"] == "opened")["detected_at"] >= next(
        e for e in events if e["event"] == "spam_flood")["detected_at"]


def test_spam_does_not_feed_the_baseline():
    quiet = traffic(lambda m, d: None)
    spammed = traffic(flood("@troll", 30, start=0, minutes=180))
    sq, ss = initial_state(), initial_state()
    for a, b in zip(quiet, spammed):
        sq, aq, _ = observe(CFG, sq, a)
        ss, as_, _ = observe(CFG, ss, b)
    assert as_.expected_per_min == pytest.approx(aq.expected_per_min, rel=0.02)


@pytest.mark.parametrize("mentions, authors, dups, reach, usual, known, spam, kind", [
    (10, 10, 0, 1000, 100.0, (), 0, None),  # ordinary minute: people, no copies
    (40, 11, 29, 700, 100.0, (), 30, "flood"),  # one author (plus 10 people): all its posts go
    (40, 40, 39, 200, 100.0, (), 40, "copy"),  # one text by 40 low-reach accounts
    (40, 40, 39, 8000, 100.0, (), 0, None),  # one text by 40 well-followed people: a retweet storm
    (6, 6, 2, 600, 100.0, ("the text",), 3, "copy"),  # a known campaign text, whatever the reach
    (30, 0, 0, 0, 0.0, (), 0, None),  # authors unknown (counts files): nothing removed
])
def test_split_counts_people_and_leaves_spam_out(mentions, authors, dups, reach, usual, known, spam, kind):
    s = MinuteSummary("acme", 0, mentions, negative=mentions // 2, neutral=mentions - mentions // 2,
                      distinct_authors=authors, duplicate_texts=dups, reach=reach,
                      top_copies=(("the text", 3),) if known else ())
    out = split(s, usual, known_texts=known)
    assert (out.spam, out.kind) == (spam, kind)
    assert out.mentions == mentions - spam and out.negative == max(0, mentions // 2 - spam)


def test_through_the_whole_offline_pipeline_a_300_post_flood_is_a_spam_report_not_a_bad_buzz():
    """The issue's case as a user runs it: raw mentions -> ingest -> buckets -> detector."""
    import orjson

    from buzzwatch.config import CoreConfig
    from buzzwatch.timeutil import format_timestamp, parse_timestamp_ms
    from buzzwatch.offline.pipeline import run_offline
    from buzzwatch.offline.simulate import generate_mentions

    start = T0 + 3_600_000
    minutes = 4 * 60
    normal_traffic = list(generate_mentions(["Acme"], start, minutes, seed=5, rate_per_min=10.0))
    t0 = start + (minutes - 60) * 60_000
    flood_posts = [{"id": f"flood{i}", "text": "Acme is a scam, they stole my money, avoid them!!! #acmefail",
                    "created_at": format_timestamp(t0 + i * 2000),
                    "author": {"id": "u_troll", "name": "angry_bot_12", "followers": 12}} for i in range(300)]
    config = CoreConfig.from_dict({"brands": [{"name": "Acme"}], "pipeline": {"allowed_lateness_s": 60},
                                   "detector": {"warmup_minutes": 120}})
    def at(m):  # event-time order, as a live topic would deliver it
        c = m["created_at"]
        return c * 1000 if isinstance(c, int) else parse_timestamp_ms(c)
    run = run_offline(config, [orjson.dumps(m) for m in sorted(normal_traffic + flood_posts, key=at)])
    assert run.outcomes.get("late", 0) == 0
    assert "opened" not in kinds(run.events)
    report = next(e for e in run.events if e["event"] == "spam_flood")
    assert report["evidence"]["spam"]["top_accounts"][0]["author"] == "angry_bot_12"
