"""Foundation, end to end on the real broker: raw mentions -> ingest -> aggregate -> metrics,
tables and DLQ show exactly the expected numbers; a fresh app on the same input builds the
identical state."""

from __future__ import annotations

import time
import urllib.request
from collections import Counter

import orjson
import pytest

from buzzwatch.stages.brandstore import BrandState, states_from_items
from buzzwatch.text.analyze import MentionAnalyzer
from buzzwatch.config import CoreConfig, read_toml
from buzzwatch.contract.mention import Mention, validate_mention
from buzzwatch.timeutil import format_timestamp

from .harness import (
    buzzwatch, free_port, latest_by_key, metric, produce, read_topic, running_worker, scrape, unique,
    wait_for, worker_env, write_config,
)

pytestmark = pytest.mark.kafka

T0 = 1_795_000_000_000 - 1_795_000_000_000 % 60_000  # a fixed past minute (2026-11-18)
PARTITIONS = 4

EN_NEG = ["@acme my order never arrived, worst service ever", "Acme support is useless and rude, awful experience",
          "#acmefail third outage this week, terrible"]
EN_POS = ["I love my new Acme blender, great quality", "Thanks @acme, fantastic support today!"]
FR_NEG = ["Lavéria m'a arnaqué, service client horrible et nul", "@laveria colis perdu, c'est une honte"]
FR_POS = ["Super expérience chez Laveria, merci beaucoup !", "J'adore les produits Lavéria, excellent"]


def mention(mid: str, minute: float, text: str, **extra) -> dict:
    return {"id": mid, "text": text, "created_at": format_timestamp(int(T0 + minute * 60_000)),
            "author": {"id": f"u-{mid}", "name": f"user {mid}", "followers": 100}, **extra}


def dataset():
    """(partition, value) in production order, plus what each record should become."""
    rows: list[tuple[int, bytes]] = []
    good: list[dict] = []
    texts = EN_NEG + EN_POS + FR_NEG + FR_POS
    n = 0
    for minute in range(5):
        for j, text in enumerate(texts):
            m = mention(f"m{n}", minute + j / 20, text, lang="fr" if text in FR_NEG + FR_POS else None)
            if m["lang"] is None:
                del m["lang"]
            rows.append((n % PARTITIONS, orjson.dumps(m)))
            good.append(m)
            n += 1
    unmatched = mention("u1", 1.5, "Nothing to do with any brand, nice weather")
    rows.append((1, orjson.dumps(unmatched)))
    # a redelivered duplicate, on another partition, on time there too
    rows.insert(4, (2, rows[3][1]))
    malformed = [
        (0, b"{this is not json", "not_json"),
        (1, b"\xff\xfe\x00garbage", "not_utf8"),
        (2, orjson.dumps({"text": "Acme no id", "created_at": format_timestamp(T0)}), "missing_field"),
        (3, orjson.dumps(mention("bad-ts", 0, "Acme whatever") | {"created_at": "not a time"}), "bad_timestamp"),
        (0, orjson.dumps(mention("future", 0, "Acme from the future") | {"created_at": format_timestamp(int(time.time() * 1000) + 3 * 86_400_000)}), "future_timestamp"),
        (1, orjson.dumps(mention("long", 0, "Acme " + "x" * 20_000)), "text_too_long"),
    ]
    rows.extend((p, v) for p, v, _ in malformed)
    # every partition moves to minute 7; then a mention of minute 0 on partition 0 is late there
    # (three records each: a partition's clock moves where most of its recent records agree)
    for p in range(PARTITIONS):
        for j in range(3):
            rows.append((p, orjson.dumps(mention(f"pad{p}-{j}", 7.2, "Acme store opening hours"))))
    late = mention("late1", 0.5, "Acme late complaint, horrible")
    rows.append((0, orjson.dumps(late)))
    return rows, good, unmatched, malformed, late


def expected_per_brand(core: CoreConfig, good: list[dict]):
    analyzer = MentionAnalyzer(core)
    counts: dict[str, Counter] = {}
    per_minute: dict[str, Counter] = {}
    for obj in good:
        m = validate_mention(obj)
        assert isinstance(m, Mention)
        a = analyzer.analyze(m)
        for brand in a.brands:
            counts.setdefault(brand, Counter())[a.sentiment.label] += 1
            per_minute.setdefault(brand, Counter())[m.created_at_ms - m.created_at_ms % 60_000] += 1
    return counts, per_minute


def brand_states(bootstrap: str, app_id: str) -> dict[str, BrandState]:
    records = read_topic(bootstrap, f"{app_id}-brand_state-changelog")
    return states_from_items(latest_by_key(records).items())


@pytest.fixture
def pipeline_env(tmp_path, kafka_bootstrap):
    config = write_config(tmp_path / "buzzwatch.toml", partitions=PARTITIONS, lateness_s=60)
    prefix = unique("t") + "."
    env = worker_env(config, kafka_bootstrap, unique("app"), prefix, free_port(), tmp_path / "data")
    buzzwatch("topics", "create", env=env)
    return config, prefix, env


def run_until_settled(env, tmp_path, expected_consumed: int, expected_closed_until: int):
    port = int(env["BUZZWATCH_WEB_PORT"])
    log = tmp_path / f"worker-{env['BUZZWATCH_APP_ID']}.log"
    with running_worker(env, log) as proc:
        def settled():
            s = scrape(port)
            consumed = metric(s, "buzzwatch_mentions_consumed_total")
            last = metric(s, "buzzwatch_brand_last_closed_minute_timestamp_seconds", brand="Acme")
            return s if consumed == expected_consumed and last is not None and last * 1000 >= expected_closed_until else None

        wait_for(settled, timeout=120, what="all records consumed and minutes closed", proc=proc, log_path=log)
        time.sleep(2.0)  # let the last batch's table writes reach the changelog
        whole = scrape(port)
        # a probe can ask for one metric family (the bench's cheap probes; Prometheus `params`)
        url = f"http://127.0.0.1:{port}/metrics?name[]=buzzwatch_mentions_consumed_total"
        with urllib.request.urlopen(url, timeout=10) as resp:
            one = [line for line in resp.read().decode().splitlines() if line and not line.startswith("#")]
        assert one == [f"buzzwatch_mentions_consumed_total {whole[('buzzwatch_mentions_consumed_total', ())]}"]
        return whole


def test_known_input_gives_exact_metrics_tables_and_dlq(pipeline_env, kafka_bootstrap, tmp_path):
    config, prefix, env = pipeline_env
    rows, good, unmatched, malformed, late = dataset()
    produce(kafka_bootstrap, prefix + "mentions", [(p, None, v) for p, v in rows])
    core = CoreConfig.from_dict(read_toml(config))
    labels, per_minute = expected_per_brand(core, good)

    samples = run_until_settled(env, tmp_path, len(rows), T0 + 5 * 60_000)

    # consumed = accepted + dead-lettered, by reason
    consumed = metric(samples, "buzzwatch_mentions_consumed_total")
    accepted = metric(samples, "buzzwatch_mentions_accepted_total")
    dead = {dict(k[1])["reason"]: v for k, v in samples.items() if k[0] == "buzzwatch_mentions_dead_lettered_total"}
    assert consumed == len(rows)
    assert dead == {reason: 1.0 for _, _, reason in malformed}
    assert accepted + sum(dead.values()) == consumed
    assert metric(samples, "buzzwatch_mentions_unmatched_total") == 1

    # per brand, closed minutes 0..5: exactly the good mentions, the duplicate and the late one excluded
    for brand, by_label in labels.items():
        assert metric(samples, "buzzwatch_brand_mentions_total", brand=brand) == sum(by_label.values()), brand
        scored = by_label["negative"] + by_label["neutral"] + by_label["positive"]
        share = metric(samples, "buzzwatch_brand_negative_share", brand=brand, window="1h")
        assert share == pytest.approx(by_label["negative"] / scored), brand
        assert metric(samples, "buzzwatch_brand_window_mentions", brand=brand, window="24h") == sum(by_label.values())
    assert metric(samples, "buzzwatch_late_mentions_total", brand="Acme") == 1
    assert metric(samples, "buzzwatch_duplicate_mentions_total", brand="Acme") == 1
    assert metric(samples, "buzzwatch_brand_mentions_per_minute", brand="Acme") == 0  # minute 5 was silent

    # the table holds the same minutes
    states = brand_states(kafka_bootstrap, env["BUZZWATCH_APP_ID"])
    for brand, minutes in per_minute.items():
        rows_by_minute = {r[0]: r[1] for r in states[brand].buckets.minutes}
        assert {m: rows_by_minute.get(m, 0) for m in minutes} == dict(minutes), brand
        assert states[brand].buckets.closed_until_ms == T0 + 6 * 60_000

    # the DLQ holds exactly the malformed records, original bytes, reason and source position
    dlq = read_topic(kafka_bootstrap, prefix + "mentions.dlq")
    got = sorted((dict(r.headers)["buzzwatch.reason"].decode(), r.value) for r in dlq)
    assert got == sorted((reason, value) for _, value, reason in malformed)
    for r in dlq:
        h = dict(r.headers)
        assert h["buzzwatch.topic"].decode() == prefix + "mentions"
        assert int(h["buzzwatch.partition"]) in range(PARTITIONS) and int(h["buzzwatch.offset"]) >= 0


def test_same_input_processed_twice_gives_identical_bucket_state(pipeline_env, kafka_bootstrap, tmp_path):
    config, prefix, env = pipeline_env
    rows, *_ = dataset()
    produce(kafka_bootstrap, prefix + "mentions", [(p, None, v) for p, v in rows])
    run_until_settled(env, tmp_path, len(rows), T0 + 5 * 60_000)
    first = brand_states(kafka_bootstrap, env["BUZZWATCH_APP_ID"])

    env2 = dict(env, BUZZWATCH_APP_ID=unique("app2"), BUZZWATCH_WEB_PORT=str(free_port()))
    run_until_settled(env2, tmp_path, len(rows), T0 + 5 * 60_000)
    second = brand_states(kafka_bootstrap, env2["BUZZWATCH_APP_ID"])

    assert set(first) == set(second) == {"Acme", "Lavéria"}
    for brand in first:
        assert first[brand].buckets.to_dict() == second[brand].buckets.to_dict(), brand
        assert first[brand].detector == second[brand].detector, brand
