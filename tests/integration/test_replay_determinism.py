"""Live, replay (interleaved and maximally skewed) and offline backtest give the same alerts,
response-clock reminders included; a replay does not touch the live state; replays dead-letter
exactly what live did."""

from __future__ import annotations

import orjson
import pytest

from buzzwatch.offline.alertdiff import alert_keys
from buzzwatch.timeutil import format_timestamp, parse_timestamp_ms
from buzzwatch.offline.simulate import generate_mentions

from .harness import (
    buzzwatch, free_port, metric, produce, read_topic, running_worker, scrape, unique, wait_for,
    worker_env, write_config,
)

pytestmark = pytest.mark.kafka

PARTITIONS = 4
START = 1_794_000_000_000 - 1_794_000_000_000 % 3_600_000  # a past hour (2026-11-06)
MINUTES = 36 * 60
END = START + MINUTES * 60_000


def scenario() -> list[tuple[int, bytes]]:
    mentions = list(generate_mentions(
        ["Acme", "Lavéria"], START, MINUTES, seed=11, rate_per_min=6.0, fr_share=0.4,
        bad_buzz={"brand": "Acme", "start_minute": MINUTES - 240, "ramp_minutes": 20, "peak_factor": 12.0,
                  "negative_share": 0.85},
    ))
    rows = [(i % PARTITIONS, orjson.dumps(m)) for i, m in enumerate(mentions)]
    rows += [(1, b"not json at all"), (2, orjson.dumps({"id": "x", "text": "Acme"}))]
    # the tail: every partition moves well past the end, so every minute of the range closes
    # (three records each: a partition's clock moves where most of its recent records agree)
    for p in range(PARTITIONS):
        for j in range(3):
            rows.append((p, orjson.dumps({"id": f"tail{p}-{j}", "text": "Acme",
                                          "created_at": format_timestamp(END + 30 * 60_000)})))
    return rows


@pytest.fixture(scope="module")
def live_run(tmp_path_factory, kafka_bootstrap):
    tmp = tmp_path_factory.mktemp("determinism")
    config = write_config(tmp / "buzzwatch.toml", partitions=PARTITIONS, lateness_s=120,
                          extra="[oncall]\nclock_interval_s = 0.5\n")
    prefix = unique("det") + "."
    env = worker_env(config, kafka_bootstrap, unique("det-app"), prefix, free_port(), tmp / "data")
    buzzwatch("topics", "create", env=env)
    rows = scenario()
    produce(kafka_bootstrap, prefix + "mentions", [(p, None, v) for p, v in rows])
    log = tmp / "live.log"
    port = int(env["BUZZWATCH_WEB_PORT"])
    with running_worker(env, log) as proc:
        def done():
            s = scrape(port)
            last = metric(s, "buzzwatch_brand_last_closed_minute_timestamp_seconds", brand="Acme")
            return s if metric(s, "buzzwatch_mentions_consumed_total") == len(rows) and last and last * 1000 >= END else None

        wait_for(done, timeout=240, what="live worker caught up", proc=proc, log_path=log)
        before = scrape(port)
        # a replay while live runs must not change live state or metrics
        while_live = unique("while-live")
        buzzwatch("replay", "--into", while_live, "--out-dir", str(tmp / "replays"), env=env, timeout=300)
        after = scrape(port)
    live_alerts = [orjson.loads(r.value) for r in read_topic(kafka_bootstrap, prefix + "buzz.alerts")]
    return {"tmp": tmp, "env": env, "prefix": prefix, "rows": rows, "alerts": live_alerts,
            "before": before, "after": after, "config": config, "while_live": while_live}


def replay_alerts(run, name: str, *extra: str) -> list[dict]:
    buzzwatch("replay", "--into", name, "--out-dir", str(run["tmp"] / "replays"), *extra, env=run["env"], timeout=300)
    out = []
    for part in ("alerts.jsonl", "clock.jsonl"):  # lifecycle events, then the response clock's
        path = run["tmp"] / "replays" / name / part
        out += [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    return out


def test_live_run_raised_the_bad_buzz(live_run):
    opened = [e for e in live_run["alerts"] if e["event"] == "opened"]
    assert any(e["brand"] == "Acme" for e in opened), live_run["alerts"]
    assert any(e["event"] == "reminder" for e in live_run["alerts"]), "the live response clock reminded"


@pytest.mark.parametrize("order", ["interleaved", "sequential"])
def test_replay_gives_same_alerts_as_live(live_run, order):
    replayed = replay_alerts(live_run, unique(f"r-{order}"), "--read-order", order)
    assert alert_keys(replayed) == alert_keys(live_run["alerts"])


def test_backtest_of_the_same_data_gives_same_alerts_as_live(live_run):
    # exported to JSONL in event-time order, as an operator would export a topic
    values = sorted((v for _, v in live_run["rows"]),
                    key=lambda v: parse_timestamp_ms(orjson.loads(v).get("created_at", 0)) if v.startswith(b"{") and b"created_at" in v else 0)
    path = live_run["tmp"] / "export.jsonl"
    path.write_bytes(b"\n".join(values) + b"\n")
    out = live_run["tmp"] / "backtest.jsonl"
    buzzwatch("backtest", str(path), "--out", str(out), "--clock", "--config", str(live_run["config"]), env=live_run["env"])
    events = [orjson.loads(line) for line in out.read_bytes().splitlines() if line.strip()]
    assert alert_keys(events) == alert_keys(live_run["alerts"])


def test_replay_while_live_runs_leaves_live_metrics_unchanged(live_run):
    keep = ("buzzwatch_brand_", "buzzwatch_mentions_", "buzzwatch_late_", "buzzwatch_duplicate_", "buzzwatch_alert_events")
    pick = lambda s: {k: v for k, v in s.items() if k[0].startswith(keep) and not k[0].endswith("_created")}  # noqa: E731
    assert pick(live_run["after"]) == pick(live_run["before"])


def test_replay_dead_letters_exactly_what_live_did(live_run, kafka_bootstrap):
    live = read_topic(kafka_bootstrap, live_run["prefix"] + "mentions.dlq")
    replayed = read_topic(kafka_bootstrap, f"replay.{live_run['while_live']}.mentions.dlq")
    key = lambda r: (dict(r.headers)["buzzwatch.reason"], r.value, dict(r.headers)["buzzwatch.offset"])  # noqa: E731
    assert sorted(map(key, replayed)) == sorted(map(key, live))
    assert len(live) == 2
