"""Throughput of the pure core, one process, no Kafka: what a single ingest / aggregate task can do.

    .venv/bin/python bench/core_throughput.py [--mentions 50000]

Ingest = contract validation + brand matching + language routing + masking + VADER(-FR) + terms
(the per-mention CPU work). Aggregate = dedupe + bucket add + closing minutes + detector step,
with one hot brand taking 80% of the traffic (the bad-buzz case). Mentions come from the
simulator (EN/FR, several brands).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from buzzwatch.stages.aggregate import AggregateStage  # noqa: E402
from buzzwatch.stages.brandstore import DictKV  # noqa: E402
from buzzwatch.config import CoreConfig  # noqa: E402
from buzzwatch.stages.ingest import IngestStep, RawRecord  # noqa: E402
from buzzwatch.contract.scored import Watermark  # noqa: E402
from buzzwatch.offline.simulate import generate_mentions  # noqa: E402

BRANDS = ["Acme", "Lavéria", "Orange", "Free", "Northwind Air"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mentions", type=int, default=50_000)
    ap.add_argument("--batch", type=int, default=1000)
    args = ap.parse_args()
    core = CoreConfig.from_dict({"brands": [{"name": b} for b in BRANDS]})
    start = 1_795_000_000_000 - 1_795_000_000_000 % 60_000
    minutes = max(10, args.mentions // (len(BRANDS) * 100))
    values = [orjson.dumps(m) for m in generate_mentions(BRANDS, start, minutes, seed=3, rate_per_min=100.0)][: args.mentions]
    records = [RawRecord(i % 4, i, start + minutes * 60_000, v) for i, v in enumerate(values)]

    step = IngestStep(core)
    t0 = time.perf_counter()
    scored = []
    for i in range(0, len(records), args.batch):
        scored.extend(step.process(records[i: i + args.batch]).scored)
    ingest_s = time.perf_counter() - t0

    kv = DictKV()
    stage = AggregateStage(core, kv)  # the very stage the Faust agent and the backtest drive
    t0 = time.perf_counter()
    for i in range(0, len(scored), args.batch):
        batch = scored[i: i + args.batch]
        wm = max(s.created_at_ms for s in batch)
        out = stage.process([(0, s) for s in batch] + [(0, Watermark(0, 1, wm))])
        stage.save(out.touched)  # the once-per-batch table writes
    aggregate_s = time.perf_counter() - t0
    hot = scored
    print(f"mentions: {len(records):,} ({minutes} event-time minutes, {len(BRANDS)} brands, batch {args.batch})")
    print(f"ingest core:    {len(records) / ingest_s:,.0f} mentions/s ({ingest_s:.2f} s)")
    print(f"aggregate core: {len(hot) / aggregate_s:,.0f} scored records/s ({aggregate_s:.2f} s), incl. one state write per brand per batch")
    print(f"state: {len(kv.data):,} keys, {sum(map(len, kv.data.values())):,} bytes, largest value {kv.largest:,} bytes")


if __name__ == "__main__":
    main()
