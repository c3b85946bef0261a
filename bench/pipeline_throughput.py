"""Live pipeline vs replay throughput on the real broker (issue: replay >= live).

    .venv/bin/python bench/pipeline_throughput.py [--mentions 60000] [--partitions 4]

Produces simulated EN/FR mentions to a fresh topic set, then
1. live: starts one `buzzwatch worker` and times from its first consumed record until every
   record is consumed (ingest) and the aggregate watermark reached the end of the data;
2. replay: `buzzwatch replay --into bench` over the same topic, timed the same way.
Uses $BUZZWATCH_KAFKA if set, else starts a local broker. Prints mentions/s for both.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.harness import (  # noqa: E402
    buzzwatch, free_port, metric, running_worker, scrape, unique, worker_env, write_config,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mentions", type=int, default=60_000)
    ap.add_argument("--partitions", type=int, default=4)
    args = ap.parse_args()
    kafka = None
    bootstrap = os.environ.get("BUZZWATCH_KAFKA")
    if not bootstrap:
        from streams.kafka_local import LocalKafka

        kafka = LocalKafka()
        bootstrap = kafka.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            config = write_config(tmp / "bench.toml", partitions=args.partitions, lateness_s=60)
            prefix = unique("bench") + "."
            env = worker_env(config, bootstrap, unique("bench-app"), prefix, free_port(), tmp / "data")
            buzzwatch("topics", "create", env=env)
            minutes = 240
            rate = args.mentions / minutes / 2  # two configured brands
            t0 = time.perf_counter()
            buzzwatch("simulate", "--produce", "--minutes", str(minutes), "--rate", f"{rate:.3f}",
                      "--start", "2026-11-01T00:00:00Z", "--seed", "5", "--brands", "Acme,Lavéria", env=env, timeout=900)
            produce_s = time.perf_counter() - t0
            from tests.integration.harness import read_topic  # noqa: F401 (same broker helpers)
            from kafka import KafkaConsumer, TopicPartition

            c = KafkaConsumer(bootstrap_servers=bootstrap)
            tps = [TopicPartition(prefix + "mentions", p) for p in range(args.partitions)]
            total = sum(c.end_offsets(tps).values())
            c.close()
            print(f"produced {total:,} mentions in {produce_s:.1f} s")

            port = int(env["BUZZWATCH_WEB_PORT"])
            log = tmp / "worker.log"
            with running_worker(env, log) as proc:
                first = None
                deadline = time.monotonic() + 1800
                while time.monotonic() < deadline:
                    if proc.poll() is not None:
                        raise SystemExit(f"worker died:\n{log.read_text()[-3000:]}")
                    try:
                        s = scrape(port)
                    except OSError:
                        time.sleep(0.5)
                        continue
                    consumed = metric(s, "buzzwatch_mentions_consumed_total") or 0
                    if consumed and first is None:
                        first = time.perf_counter()
                    wm = metric(s, "buzzwatch_watermark_timestamp_seconds") or 0
                    if consumed >= total and wm * 1000 >= 1_793_491_200_000 + (minutes - 1) * 60_000:
                        break
                    time.sleep(0.25)
                live_s = time.perf_counter() - first
            print(f"live worker: {total / live_s:,.0f} mentions/s ({live_s:.1f} s, ingest + aggregate, one worker)")

            t0 = time.perf_counter()
            buzzwatch("replay", "--into", "bench", "--out-dir", str(tmp / "replays"), env=env, timeout=1800)
            replay_s = time.perf_counter() - t0
            print(f"replay:      {total / replay_s:,.0f} mentions/s ({replay_s:.1f} s, whole command incl. start-up)")
    finally:
        if kafka is not None:
            kafka.stop()


if __name__ == "__main__":
    main()
