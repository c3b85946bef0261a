"""Memory of the aggregate stage's per-brand state, in process (no Kafka): N brands with seven
event-time days of state (bench_state's templates) in a dict table, every brand loaded, one
minute closed and saved. Prints the table's size and what the stage adds per brand.

    .venv/bin/python bench/state_memory.py --brands 2000 --shared ../shared

The worker's own RSS with 10,000 brands is `make bench` (section ``memory``); this isolates the
stage: parsed states and the values saved back to the table.
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_state as S  # noqa: E402
import bench_workload as W  # noqa: E402
from buzzwatch.config import CoreConfig  # noqa: E402
from buzzwatch.contract.scored import Watermark  # noqa: E402
from buzzwatch.stages.aggregate import AggregateStage  # noqa: E402
from buzzwatch.stages.brandstore import DictKV  # noqa: E402

END_MS = 1_793_491_200_000


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--brands", type=int, default=2000)
    ap.add_argument("--shared", type=Path, default=W.DEFAULT_SHARED)
    args = ap.parse_args()
    names = W.brand_names(args.brands)
    items, _ = S.cloned_state(W.load_corpus(args.shared), names, END_MS, 1)
    kv = DictKV()
    for _, k, v in items:
        kv.data[k] = bytes(memoryview(v))  # as read back from a changelog: exact-size values
    del items
    gc.collect()
    table = rss_mb()
    core = CoreConfig.from_dict({"brands": [{"name": n} for n in names], "pipeline": {"allowed_lateness_s": 60}})
    stage = AggregateStage(core, kv)
    for n in names:
        stage.partitions[n] = 0
        stage.state(n)
    gc.collect()
    loaded = rss_mb()
    out = stage.process([(0, Watermark(0, 1, END_MS + 5 * 60_000))])
    stage.save(out.touched)
    gc.collect()
    saved = rss_mb()
    per = lambda mb: mb * 1e3 / args.brands  # noqa: E731
    print(f"{args.brands} brands, 7 days of state each: process with the table {table:.0f} MB; "
          f"parsed states +{loaded - table:.0f} MB ({per(loaded - table):.1f} KB/brand); "
          f"after closing and saving one minute +{saved - table:.0f} MB over the table ({per(saved - table):.1f} KB/brand)")


if __name__ == "__main__":
    main()
