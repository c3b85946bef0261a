"""`make bench`: the pipeline's speed, size and memory figures on a real local Kafka (issue 10).

    .venv/bin/python bench/run_bench.py [--quick] [--only throughput,hot_brand,...] [--shared DIR]

Sections (all figures from one run on one machine, written to bench/results/latest.json):

* ``brand_config``: config load and brand matching with 1,000 and 10,000 configured brands;
* ``throughput``: one `buzzwatch worker` draining a pre-loaded topic of real EN/FR tweets over
  1,000 brands (Zipf popularity), first consumed record to no lag; plain VADER / VADER-FR over
  the same texts; Faust alone in the same two-stage shape with no work (``faust_floor.py``: the
  ceiling of the live rate); `buzzwatch backtest` over the same mentions as a JSONL file;
* ``hot_brand``: one brand at 20,000 mentions/min for 10 event-time minutes among 999 quiet
  ones, pre-loaded: the worker completes; largest table value and largest scored record;
* ``latency_ms``: live traffic at half the measured rate, event time = now (see
  :func:`latency`);
* ``memory``: RSS with 10,000 brands holding 7 days of state, state bytes per brand,
  changelog recovery time at first start and after kill -9;
* ``scale_out``: two workers in one group over one, same topic;
* ``replay``: `buzzwatch replay` over the same topic vs the live rate.

Uses ``$BUZZWATCH_KAFKA`` if set, else starts a local broker. Never part of `make test`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import bench_kafka as K  # noqa: E402
import bench_workload as W  # noqa: E402
from tests.integration.harness import buzzwatch, free_port, unique  # noqa: E402

RESULTS = HERE / "results" / "latest.json"
SECTIONS = ("brand_config", "throughput", "replay", "hot_brand", "latency_ms", "memory", "scale_out")
TARGETS = {
    "throughput.ratio": ">= 0.5",
    "hot_brand.largest_table_value_bytes": "<= 65536",
    "latency_ms.p99": "< 1000",
    "memory.rss_mb": "< 1024",
    "scale_out.two_workers_over_one": ">= 1.6",
    "replay.ratio_to_live": ">= 1.0",
}


@dataclass(frozen=True)
class Sizes:
    """How big each section is (full run, or --quick)."""

    brands: int = 1000
    mentions: int = 200_000
    minutes: int = 200
    hot_per_min: int = 20_000
    hot_minutes: int = 10
    quiet_per_min: float = 1.0
    latency_s: float = 250.0  # 4 minute boundaries: each one is one (correlated) closing of every brand
    memory_brands: int = 10_000
    drain_timeout_s: float = 3600.0
    scale_out_pairs: int = 2  # one worker then two, this many times (see scale_out)

    @classmethod
    def quick(cls) -> "Sizes":
        return cls(mentions=20_000, minutes=40, hot_per_min=5_000, hot_minutes=4, quiet_per_min=0.25,
                   latency_s=45.0, memory_brands=2_000, drain_timeout_s=900.0, scale_out_pairs=1)


@dataclass
class Run:
    """What the sections share: broker, sizes, scratch dir, corpus, and the loaded Zipf topic."""

    bootstrap: str
    sizes: Sizes
    tmp: Path
    corpus: W.Corpus
    names: list[str]
    args: argparse.Namespace | None = None
    results: dict = field(default_factory=dict)
    _zipf: dict | None = None

    def env(self, tag: str, config: Path, **more) -> dict:
        """A worker/CLI environment with its own app id, topic prefix, port and data dir."""
        app_id = unique(f"bench-{tag}")
        return K.bench_env(os.environ, BUZZWATCH_CONFIG=config, BUZZWATCH_KAFKA=self.bootstrap,
                           BUZZWATCH_APP_ID=app_id, BUZZWATCH_TOPIC_PREFIX=f"{app_id}.",
                           BUZZWATCH_WEB_PORT=free_port(), BUZZWATCH_WEB_HOST="127.0.0.1",
                           BUZZWATCH_DATA_DIR=self.tmp / app_id / "data", **more)

    def worker(self, env: dict, name: str = "worker", **more) -> K.Worker:
        env = K.bench_env(env, BUZZWATCH_WEB_PORT=free_port(), **more) if more else env
        return K.Worker(env, self.tmp / f"{env['BUZZWATCH_APP_ID']}-{name}.log")

    def zipf_topic(self) -> dict:
        """The pre-loaded Zipf topic (made once): env, topic, record count, workload."""
        if self._zipf is None:
            config = W.write_config(self.tmp / "zipf.toml", self.names)
            env = self.env("zipf", config)
            buzzwatch("topics", "create", env=env)
            wl = W.zipf_workload(self.corpus, self.names, self.sizes.mentions, minutes=self.sizes.minutes)
            topic = env["BUZZWATCH_TOPIC_PREFIX"] + "mentions"
            produce_s = K.produce_all(self.bootstrap, topic, wl.values, wl.partitions)
            self._zipf = {"env": env, "config": config, "topic": topic, "total": len(wl.values),
                          "workload": wl, "produce_s": produce_s}
        return self._zipf


def group_topics(env: dict) -> list[str]:
    """The raw and scored topics of a worker's consumer group."""
    prefix, app_id = env["BUZZWATCH_TOPIC_PREFIX"], env["BUZZWATCH_APP_ID"]
    return [prefix + "mentions", f"{prefix}{app_id}.mentions.scored"]


def drain_with(run: Run, ws: list[K.Worker], total: int, timeout_s: float | None = None) -> K.Drain:
    env = ws[0].env
    with K.workers(*ws):
        return K.drain(ws, run.bootstrap, env["BUZZWATCH_APP_ID"], group_topics(env), total,
                       timeout_s or run.sizes.drain_timeout_s)


def notes(d: K.Drain) -> dict:
    """What a drain noticed (e.g. raw commits not advancing), if anything."""
    return {"drain_notes": d.notes} if d.notes else {}


def fresh_app(env: dict, tag: str) -> dict:
    """The same topics and config, a new consumer group and state (a first-to-last read)."""
    app_id = unique(f"bench-{tag}")
    return K.bench_env(env, BUZZWATCH_APP_ID=app_id, BUZZWATCH_DATA_DIR=Path(env["BUZZWATCH_DATA_DIR"]).parent.parent / app_id)


# --- sections --------------------------------------------------------------------------------
def brand_config(run: Run) -> dict:
    """Config load and per-mention analysis (brand match + mask + score) at 10, 1,000 and
    10,000 configured brands: a pathologically slow matcher shows as a per-mention cost that
    grows with the brand count."""
    from buzzwatch.text.analyze import MentionAnalyzer
    from buzzwatch.config import CoreConfig, read_toml
    from buzzwatch.contract.mention import parse_mention

    rng = random.Random(5)
    out = {}
    for n in (10, 1000, 10_000):
        names = W.brand_names(n)
        path = W.write_config(run.tmp / f"brands-{n}.toml", names)
        t0 = time.perf_counter()
        core = CoreConfig.from_dict(read_toml(path))
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        analyzer = MentionAnalyzer(core)
        build_s = time.perf_counter() - t0
        mentions = [parse_mention(W.mention(rng, run.corpus, names[rng.randrange(n)], f"c{i}", W.BASE_MS)[2])
                    for i in range(2000)]
        for m in mentions[:200]:  # warm-up: lazy lexicon loads and caches are not the per-mention cost
            analyzer.analyze(m)
        t0 = time.perf_counter()
        matched = sum(bool(analyzer.analyze(m).brands) for m in mentions)
        analyze_us = (time.perf_counter() - t0) / len(mentions) * 1e6
        out[str(n)] = {"load_s": round(load_s, 3), "matcher_build_s": round(build_s, 3),
                       "analyze_us_per_mention": round(analyze_us, 1), "matched_share": round(matched / len(mentions), 3)}
    return out


def bare_scoring(texts: list[str], langs: list[str]) -> float:
    """Mentions/s of plain VADER / VADER-FR ``polarity_scores`` over the texts, by language."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer as EN
    from vaderSentiment_fr.vaderSentiment import SentimentIntensityAnalyzer as FR

    analyzers = {"en": EN(), "fr": FR()}
    t0 = time.perf_counter()
    for text, lang in zip(texts, langs):
        analyzers[lang].polarity_scores(text)
    return len(texts) / (time.perf_counter() - t0)


def backtest_rate(run: Run, env: dict, values: list[bytes]) -> float:
    """Mentions/s of the whole `buzzwatch backtest` command over the mentions as JSONL."""
    path = run.tmp / "zipf.jsonl"
    path.write_bytes(b"\n".join(values) + b"\n")
    t0 = time.perf_counter()
    buzzwatch("backtest", str(path), "--out", str(run.tmp / "backtest-alerts.jsonl"), env=env, timeout=7200)
    return len(values) / (time.perf_counter() - t0)


def faust_floor(run: Run, topic: str, total: int) -> float:
    """Raw records/s of Faust alone in the pipeline's two-stage shape (``bench/faust_floor.py``):
    the ceiling of the live rate, whatever our per-mention cost."""
    out = subprocess.run([sys.executable, str(HERE / "faust_floor.py"), "--bootstrap", run.bootstrap,
                          "--topic", topic, "--total", str(total), "--datadir", str(run.tmp / "faust-floor")],
                         capture_output=True, text=True, timeout=1800, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["records_per_s"]


def throughput(run: Run) -> dict:
    z = run.zipf_topic()
    env = fresh_app(z["env"], "live")
    d = drain_with(run, [run.worker(env)], z["total"])
    live = z["total"] / d.seconds
    wl = z["workload"]
    bare = bare_scoring(wl.texts, wl.langs)
    floor = faust_floor(run, z["topic"], z["total"])
    return {
        "mentions": z["total"], "brands": len(run.names), "partitions": 4,
        "top_brand_share": round(W.ZipfPicker(len(run.names)).top_share(), 3),
        "texts": run.corpus.source, "produce_mentions_per_s": round(z["total"] / z["produce_s"]),
        "worker_start_to_first_record_s": round(d.first_consumed - d.spawned, 1),
        "ingest_done_s": round(d.all_consumed - d.first_consumed, 1),
        "drain_s": round(d.seconds, 1),
        "pipeline_mentions_per_s": round(live),
        "bare_scoring_mentions_per_s": round(bare),
        "ratio": round(live / bare, 3),
        "faust_floor_records_per_s": round(floor),
        "faust_floor_over_bare": round(floor / bare, 3),
        "backtest_mentions_per_s": round(backtest_rate(run, z["env"], wl.values)),
        **notes(d),
    }


def hot_brand(run: Run) -> dict:
    s = run.sizes
    config = W.write_config(run.tmp / "hot.toml", run.names)
    env = run.env("hot", config)
    buzzwatch("topics", "create", env=env)
    wl = W.hot_brand_workload(run.corpus, run.names, hot_per_min=s.hot_per_min, quiet_per_min=s.quiet_per_min,
                              minutes=s.hot_minutes)
    K.produce_all(run.bootstrap, env["BUZZWATCH_TOPIC_PREFIX"] + "mentions", wl.values, wl.partitions)
    w = run.worker(env)
    d = drain_with(run, [w], len(wl.values))
    app_id = env["BUZZWATCH_APP_ID"]
    cl = K.changelog_sizes(run.bootstrap, f"{app_id}-brand_state-changelog")
    scored_records, scored_largest = K.largest_record(run.bootstrap, group_topics(env)[1])
    errors = [line for line in w.log_path.read_text(errors="replace").splitlines() if "Error" in line]
    return {
        "hot_brand": run.names[0], "hot_per_min": s.hot_per_min, "minutes": s.hot_minutes,
        "mentions": len(wl.values), "completed": True, "drain_s": round(d.seconds, 1),
        "mentions_per_s": round(len(wl.values) / d.seconds),
        "largest_table_value_bytes": cl["largest_value_bytes_ever"],
        "changelog_records": cl["records"],
        "largest_scored_record_bytes": scored_largest, "scored_records": scored_records,
        "worker_log_error_lines": len(errors), **notes(d),
    }


_LAST_CLOSED = re.compile(rb'^buzzwatch_brand_last_closed_minute_timestamp_seconds\{brand="([^"]+)"\} (\S+)$', re.M)


class Paced(threading.Thread):
    """Produces Zipf mentions at ``rate``/s with event time = now for ``seconds``, round robin
    over 4 partitions, remembering each partition's event times and each (brand, minute)."""

    def __init__(self, run: Run, topic: str, rate: float, seconds: float):
        super().__init__(daemon=True)
        self.run_, self.topic, self.rate, self.seconds = run, topic, rate, seconds
        self.times: dict[int, list[int]] = {p: [] for p in range(4)}
        self.minutes: set[tuple[str, int]] = set()
        self.sent = 0
        self.started = self.ended = 0.0
        # (event time ms, ms from the send call to the broker's ack) of every 10th record: the
        # share of a latency sample spent before the record even reached the broker (the load
        # generator shares this machine's 2 cores with the broker and the worker)
        self.acks: list[tuple[int, int]] = []

    def run(self) -> None:
        rng, zipf, names = random.Random(9), W.ZipfPicker(len(self.run_.names)), self.run_.names
        p = K.producer(self.run_.bootstrap)
        self.started = time.time()
        while (now := time.time()) < self.started + self.seconds:
            due = int((now - self.started) * self.rate) - self.sent
            for _ in range(due):
                ts = int(time.time() * 1000)
                name = names[zipf.pick(rng)]
                part = self.sent % 4
                value = W.mention(rng, self.run_.corpus, name, f"l{self.sent}", ts)[2]
                fut = p.send(self.topic, value=value, partition=part)
                if self.sent % 10 == 0:
                    fut.add_callback(lambda _md, ts=ts: self.acks.append((ts, int(time.time() * 1000) - ts)))
                self.times[part].append(ts)
                self.minutes.add((name, ts - ts % W.MINUTE_MS))
                self.sent += 1
            time.sleep(0.005)
        self.ended = time.time()
        p.flush(timeout=60)
        p.close()

    def closable_ms(self, minute: int, lateness_ms: int, window: int = 5) -> int | None:
        return closable_ms(self.times, minute, lateness_ms, window)

    def ack_delays(self) -> dict:
        """Send call to broker ack, ms: p50, p99 and max, and the max per minute of event time."""
        delays = sorted(d for _, d in self.acks)
        if len(delays) < 2:
            return {}
        q = statistics.quantiles(delays, n=100, method="inclusive")
        worst: dict[str, int] = {}
        for ts, d in self.acks:
            key = time.strftime("%H:%M", time.gmtime(ts / 1000))
            worst[key] = max(worst.get(key, 0), d)
        return {"p50": round(q[49]), "p99": round(q[98]), "max": delays[-1], "max_by_minute": worst}


def closable_ms(times: dict[int, list[int]], minute: int, lateness_ms: int, window: int = 5) -> int | None:
    """Wall time (ms) of the produce that lets ``minute`` close, from each partition's sorted
    event times (= produce times): on every partition, the record that brings its event clock
    (lower median of the last ``window`` event times) past the minute's end + allowed
    lateness; the latest of those over the partitions (None: not produced yet)."""
    need = window - (window - 1) // 2  # records at or past the threshold for the median to be
    threshold = minute + W.MINUTE_MS + lateness_ms
    out = 0
    for ts in times.values():
        i = bisect_left(ts, threshold) + need - 1
        if i >= len(ts):
            return None
        out = max(out, ts[i])
    return out


def latency(run: Run) -> dict:
    """Produce to visible: for every (brand, minute) that got mentions, from the produce call
    of the record that lets the minute close (see :meth:`Paced.closable_ms`; event time = wall
    time at produce) to the first /metrics scrape (every 0.1 s in the 20 s after each minute
    can close, every 5 s otherwise) where
    buzzwatch_brand_last_closed_minute_timestamp_seconds{brand} shows that minute. So it
    covers Kafka, ingest (batch_within_s 0.05), the watermark markers (every 0.2 s), the
    scored topic, the aggregate's close and detection, and the gauge update; it does not
    count the wait for the minute to end plus the allowed lateness (5 s here), which is the
    event-time design, not the pipeline. ``producer_ack_ms``: how long records took from the
    load generator's send call to the broker's ack (its part of a sample is not the worker's).
    All brands of one minute close in the same
    watermark step, so their samples are correlated: ``max_by_minute`` shows each minute."""
    live = run.results.get("throughput", {}).get("pipeline_mentions_per_s") or run.args.latency_rate
    rate = live / 2
    lateness_s = 5
    config = W.write_config(run.tmp / "latency.toml", run.names, lateness_s=lateness_s, batch_within_s=0.05,
                            watermark_interval_s=0.2, idle_partition_s=30)
    env = run.env("latency", config)
    buzzwatch("topics", "create", env=env)
    topic = env["BUZZWATCH_TOPIC_PREFIX"] + "mentions"
    w = run.worker(env)
    with K.workers(w):
        warm = [W.mention(random.Random(p), run.corpus, run.names[0], f"warm{p}", int(time.time() * 1000))[2]
                for p in range(4)]
        K.produce_all(run.bootstrap, topic, warm, list(range(4)))
        K.wait_consumed([w], 4, timeout_s=180)
        paced = Paced(run, topic, rate, run.sizes.latency_s)
        paced.start()
        seen, scrape_s = _watch_closed_minutes(w, paced, lateness_s, tail_s=30)
    samples, missing, worst, slowest = [], 0, {}, None
    for brand, minute in paced.minutes:
        closable = paced.closable_ms(minute, lateness_s * 1000)
        if closable is None:
            continue  # production ended before the minute could close
        visible = next((t for v, t in seen.get(brand, []) if v >= minute), None)
        if visible is None:
            missing += 1
        else:
            samples.append(visible - closable)
            if slowest is None or samples[-1] > slowest["ms"]:  # what the max is made of
                slowest = {"ms": samples[-1], "brand": brand, "minute_ms": minute, "closable_ms": closable,
                           "gauge_seen": seen.get(brand, [])[:4]}
            key = time.strftime("%H:%M", time.gmtime(minute / 1000))
            worst[key] = max(worst.get(key, 0), samples[-1])
    samples.sort()
    q = statistics.quantiles(samples, n=100, method="inclusive") if len(samples) >= 2 else [float("nan")] * 99
    return {
        "rate_per_s": round(rate), "achieved_rate_per_s": round(paced.sent / max(1e-9, paced.ended - paced.started)),
        "seconds": run.sizes.latency_s, "allowed_lateness_s": lateness_s, "samples": len(samples),
        "minutes_closed": len({m for _, m in paced.minutes if paced.closable_ms(m, lateness_s * 1000)}),
        "not_seen": missing, "p50": round(q[49]), "p99": round(q[98]), "max": round(samples[-1]) if samples else None,
        "metrics_scrape_ms_mean": round(statistics.mean(scrape_s) * 1000, 1) if scrape_s else None,
        "max_by_minute": worst,
        "slowest_sample": slowest,
        "producer_ack_ms": paced.ack_delays(),
    }


CLOSE_WINDOW_S = 20.0  # scrape every 0.1 s during this long after each minute's close point
SLOW_SCRAPE_S = 5.0  # and every 5 s otherwise (a /metrics page with 1,000 brands costs the worker CPU)


def scrape_due(now_s: float, lateness_s: float, last_s: float) -> bool:
    """Whether to scrape now: often right after a minute can close (end + lateness), rarely
    otherwise, so the observer does not slow down what it observes.

    >>> scrape_due(65.5, 5, 65.4), scrape_due(100.0, 5, 99.0), scrape_due(100.0, 5, 94.0)
    (True, False, True)
    """
    return (now_s - lateness_s) % 60 < CLOSE_WINDOW_S or now_s - last_s >= SLOW_SCRAPE_S


def _watch_closed_minutes(w: K.Worker, paced: Paced, lateness_s: float, tail_s: float):
    """Scrape (see :func:`scrape_due`) while ``paced`` runs and ``tail_s`` after: per brand,
    the [(minute start ms, first wall ms seen)] of its last-closed-minute gauge."""
    seen: dict[str, list[tuple[int, int]]] = {}
    last: dict[str, int] = {}
    scrape_s, last_scrape = [], 0.0
    while paced.is_alive() or time.time() < paced.ended + tail_s:
        t0 = time.time()
        if not scrape_due(t0, lateness_s, last_scrape):
            time.sleep(0.1)
            continue
        last_scrape = t0
        text = w.metrics_text("buzzwatch_brand_last_closed_minute_timestamp_seconds")
        now_ms = int(time.time() * 1000)
        scrape_s.append(time.time() - t0)
        for brand, value in _LAST_CLOSED.findall(text):
            minute = int(float(value) * 1000)
            b = brand.decode()
            if last.get(b) != minute:
                last[b] = minute
                seen.setdefault(b, []).append((minute, now_ms))
        if not w.alive():
            raise K.WorkerDied(w.log_tail())
        time.sleep(max(0.0, 0.1 - (time.time() - t0)))
    return seen, scrape_s


def memory(run: Run) -> dict:
    """RSS and recovery with ``memory_brands`` brands each holding 7 days of state (seeded
    into the changelog, see bench_state), one probe mention per brand so every brand's state
    is loaded, then kill -9 and a restart."""
    import bench_state

    n = run.sizes.memory_brands
    names = W.brand_names(n)
    config = W.write_config(run.tmp / "memory.toml", names)
    env = run.env("memory", config, BUZZWATCH_INSTANCE_ID="bench-memory")
    buzzwatch("topics", "create", env=env)
    end_ms = W.BASE_MS
    t0 = time.perf_counter()
    items, summary = bench_state.cloned_state(run.corpus, names, end_ms, 4)
    seed_s = time.perf_counter() - t0
    changelog = f"{env['BUZZWATCH_APP_ID']}-brand_state-changelog"
    K.create_compacted(run.bootstrap, changelog, 4)
    K.produce_all(run.bootstrap, changelog, [v for _, _, v in items], [p for p, _, _ in items],
                  keys=[k for _, k, _ in items])
    topic = env["BUZZWATCH_TOPIC_PREFIX"] + "mentions"
    out = {"brands": n, "state_days": 7, "seed_state_s": round(seed_s, 1), **summary,
           "clone_check": bench_state.check_clone(items, names[1])}
    w = run.worker(env)
    for phase, delay_ms in (("first_start", 5_000), ("after_kill9", 10_000)):
        probes = [W.mention(random.Random(i), run.corpus, name, f"{phase}-{i}", end_ms + delay_ms)[2]
                  for i, name in enumerate(names)]
        K.produce_all(run.bootstrap, topic, probes, [i % 4 for i in range(n)])
        w.start()
        out[phase] = _memory_phase(run, w, env, n)
        if phase == "first_start":
            w.kill9()
        else:
            w.stop()
    cl = K.changelog_sizes(run.bootstrap, changelog)
    out.update(rss_mb=max(out["first_start"]["rss_mb"], out["after_kill9"]["rss_mb"]), changelog_live_bytes=cl["live_bytes"],
               state_bytes_per_brand=round(cl["live_bytes"] / n), changelog_records=cl["records"],
               recovery_after_kill9_s=out["after_kill9"]["start_to_first_record_s"])
    return out


def _memory_phase(run: Run, w: K.Worker, env: dict, n: int) -> dict:
    """One start of the memory worker: times to its first record and to drained, and its RSS
    (also when it does not drain within the phase's time limit: that is a finding too)."""
    timeout_s = min(300.0, run.sizes.drain_timeout_s)
    try:
        d = K.drain([w], run.bootstrap, env["BUZZWATCH_APP_ID"], group_topics(env), n, timeout_s)
        time.sleep(2)
        error = None
    except K.NotDrained as exc:
        d, error = exc.drain, str(exc)
    marks = {"start_to_first_record_s": round(d.first_consumed - d.spawned, 1) if d.first_consumed else None,
             "start_to_drained_s": round(d.drained - d.spawned, 1) if d.drained else None,
             "rss_mb": round(w.rss_bytes() / 2**20), **loop_lag(w), **metrics_page(w)}
    if error:
        marks["not_drained"] = error
    return {**marks, **notes(d)}


def loop_lag(w: K.Worker) -> dict:
    """From the worker's ``buzzwatch_event_loop_lag_seconds`` (a 0.1 s timer's lateness): how
    many ticks the event loop ran more than 0.5 s and 2.5 s late since the process started, and
    the smallest bucket bound that holds every tick (the longest hold, to within a bucket)."""
    buckets = {}
    for line in w.metrics_text("buzzwatch_event_loop_lag_seconds_bucket").decode().splitlines():
        m = re.match(r'buzzwatch_event_loop_lag_seconds_bucket\{le="([^"]+)"\} (\S+)', line)
        if m:
            buckets[float(m.group(1))] = float(m.group(2))
    if not buckets:
        return {}
    total = buckets[float("inf")]
    longest = min(le for le, n in buckets.items() if n == total)
    return {"loop_ticks": int(total), "loop_ticks_late_over_0_5s": int(total - buckets[0.5]),
            "loop_ticks_late_over_2_5s": int(total - buckets[2.5]), "loop_longest_hold_below_s": longest}


def metrics_page(w: K.Worker) -> dict:
    """Size and fetch time of the worker's /metrics page (it grows with the brands shown), and
    how long a one-gauge probe takes while the whole page renders: the worker's event loop
    stays free (the page is rendered in a thread), so the probe is not queued behind it."""
    import threading

    full: dict = {}

    def fetch_full() -> None:
        t0 = time.perf_counter()
        full["bytes"] = len(w.metrics_text())
        full["s"] = time.perf_counter() - t0

    reader = threading.Thread(target=fetch_full)
    reader.start()
    time.sleep(0.1)
    t0 = time.perf_counter()
    w.metrics_text("buzzwatch_mentions_consumed_total")
    probe_s = time.perf_counter() - t0
    probe_done_first = reader.is_alive()
    reader.join()
    return {"metrics_page_bytes": full["bytes"], "metrics_page_s": round(full["s"], 2),
            "one_gauge_probe_during_page_s": round(probe_s, 3), "probe_answered_before_page": probe_done_first}


def scale_out(run: Run) -> dict:
    """Two workers over one, measured as ``scale_out_pairs`` back-to-back pairs (one worker, then
    two), the ratio being the median of the pairs' ratios.

    Why pairs: the two-worker rate is noisy on 2 cores shared with the broker. On one code
    (467e576) two single pairs gave 1.40 and 2.16 (two workers 2,042 and 2,940 mentions/s, one
    worker 1,453 and 1,363), and the one-worker rate borrowed from the throughput section was
    measured minutes earlier, on a machine whose speed drifts."""
    z = run.zipf_topic()
    pairs = []
    for i in range(run.sizes.scale_out_pairs):
        d1 = drain_with(run, [run.worker(fresh_app(z["env"], f"one{i}"))], z["total"])
        env = fresh_app(z["env"], f"two{i}")
        ws = [run.worker(env, "a", BUZZWATCH_INSTANCE_ID=f"bench-a{i}"),
              run.worker(env, "b", BUZZWATCH_INSTANCE_ID=f"bench-b{i}")]
        d = drain_with(run, ws, z["total"], timeout_s=min(900, run.sizes.drain_timeout_s))
        one, two = z["total"] / d1.seconds, z["total"] / d.seconds
        pairs.append({"one_worker_mentions_per_s": round(one), "two_workers_mentions_per_s": round(two),
                      "two_workers_over_one": round(two / one, 2),
                      "two_workers_start_to_first_record_s": round(d.first_consumed - d.spawned, 1), **notes(d1), **notes(d)})
    mid = statistics.median
    return {"one_worker_mentions_per_s": round(mid(p["one_worker_mentions_per_s"] for p in pairs)),
            "two_workers_mentions_per_s": round(mid(p["two_workers_mentions_per_s"] for p in pairs)),
            "two_workers_over_one": round(mid(p["two_workers_over_one"] for p in pairs), 2),
            "pairs": pairs, "mentions": z["total"]}


def replay(run: Run) -> dict:
    z = run.zipf_topic()
    live = run.results.get("throughput", {}).get("pipeline_mentions_per_s")
    t0 = time.perf_counter()
    buzzwatch("replay", "--into", unique("bench"), "--out-dir", str(run.tmp / "replays"), env=z["env"], timeout=7200)
    rate = z["total"] / (time.perf_counter() - t0)
    return {"replay_mentions_per_s": round(rate), "live_mentions_per_s": live,
            "ratio_to_live": round(rate / live, 2) if live else None,
            "note": "whole command, start-up included"}


RUNNERS = {"brand_config": brand_config, "throughput": throughput, "hot_brand": hot_brand,
           "latency_ms": latency, "memory": memory, "scale_out": scale_out, "replay": replay}


# --- machine, broker, report -------------------------------------------------------------------
def machine() -> dict:
    """Where the figures come from."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    git = lambda *a: subprocess.run(["git", *a], cwd=HERE, capture_output=True, text=True).stdout.strip()  # noqa: E731
    return {"nproc": os.cpu_count(), "cpu_model": cpu, "python": platform.python_version(),
            "platform": platform.platform(), "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "git_commit": git("rev-parse", "HEAD"), "git_dirty": bool(git("status", "--porcelain")),
            "load_avg_1m_at_start": round(K.load_avg(), 2)}


@contextlib.contextmanager
def broker():
    """$BUZZWATCH_KAFKA, or a local broker for the run."""
    if os.environ.get("BUZZWATCH_KAFKA"):
        yield os.environ["BUZZWATCH_KAFKA"]
        return
    from streams.kafka_local import LocalKafka

    kafka = LocalKafka(heap="1g")
    try:
        yield kafka.start()
    finally:
        kafka.stop()


@contextlib.contextmanager
def workdir(path: Path | None):
    """``path`` (kept), or a temporary directory (removed)."""
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path.resolve()
        return
    with tempfile.TemporaryDirectory(prefix="buzzwatch-bench-") as tmp:
        yield Path(tmp)


def write(results: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")


def table(results: dict) -> str:
    """The figures as an aligned text table (target next to the figure when there is one)."""
    rows = []

    def add(name: str, value) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                add(f"{name}.{k}", v)
        elif not isinstance(value, list):
            shown = f"{value:,}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)
            rows.append((name, shown, TARGETS.get(name, "")))

    for section, figures in results["sections"].items():
        add(section, figures)
    width = max((len(r[0]) for r in rows), default=10)
    return "\n".join(f"{a:<{width}}  {b:>14}  {c}" for a, b, c in rows)


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a few minutes)")
    ap.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections of {', '.join(SECTIONS)}")
    ap.add_argument("--shared", type=Path, default=W.DEFAULT_SHARED, help="shared data dir (default ../shared)")
    ap.add_argument("--latency-rate", type=float, default=1000.0,
                    help="max rate (mentions/s) assumed by latency_ms when throughput is not run (it uses half)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--workdir", type=Path, help="keep configs, worker logs and files here (default: a temp dir)")
    ap.add_argument("--pyspy", type=Path, metavar="DIR",
                    help="run every worker under py-spy, its samples in DIR/<worker log name>.txt (collapsed "
                         "stacks, one per thread); figures of such a run are slowed by the sampling")
    args = ap.parse_args(argv)
    args.sections = [s.strip() for s in args.only.split(",") if s.strip()]
    if args.pyspy:
        args.pyspy.mkdir(parents=True, exist_ok=True)
        os.environ[K.PYSPY_DIR_ENV] = str(args.pyspy.resolve())
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        ap.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    sizes = Sizes.quick() if args.quick else Sizes()
    results = {"command": " ".join(["bench/run_bench.py", *(argv or sys.argv[1:])]), "quick": args.quick,
               "machine": machine(), "sections": {}, "errors": {}}
    with broker() as bootstrap, workdir(args.workdir) as tmp:
        run = Run(bootstrap, sizes, tmp, W.load_corpus(args.shared), W.brand_names(sizes.brands),
                  args=args, results=results["sections"])
        for name in args.sections:
            t0 = time.perf_counter()
            print(f"== {name} ...", flush=True)
            try:
                results["sections"][name] = RUNNERS[name](run)
            except Exception as exc:  # noqa: BLE001 - one failed section must not lose the others
                results["errors"][name] = f"{type(exc).__name__}: {exc}"[:4000]
                traceback.print_exc()
            else:
                results["sections"][name]["section_s"] = round(time.perf_counter() - t0, 1)
                results["sections"][name]["load_avg_1m_after"] = round(K.load_avg(), 2)
            print(json.dumps(results["sections"].get(name) or results["errors"].get(name), default=str)[:2000], flush=True)
            write(results, args.out)  # after every section: a long run stopped early keeps what it measured
    results["machine"]["load_avg_1m_at_end"] = round(K.load_avg(), 2)
    write(results, args.out)
    print(f"\n{table(results)}\n\nwritten to {args.out}")
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
