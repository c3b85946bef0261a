"""Digests of everything the aggregate stage decides and stores, to check that a speed-up of the
stage changes nothing (issue 10): run it before and after, the lines must be identical.

    nice .venv/bin/python bench/aggregate_golden.py [--shared ../shared]

Three inputs through :func:`~buzzwatch.offline.pipeline.run_offline` (the core the Faust
agents drive), state saved to a dict table after every batch:

* ``zipf``: the bench workload, 60,000 mentions over 1,000 brands (Zipf popularity) in 60
  event-time minutes (about one brand-minute closed per mention);
* ``scenario-<seed>``: four event-time days of simulated traffic of 3 small brands with a bad
  buzz, a launch, a news spike, a flood, a copy-paste campaign and bursts each, rendered to
  mentions (alerts, spam events and warm-up all happen);
* ``hot``: bench/core_throughput.py's workload (5 brands, 100/min each, 50,000 mentions);
* ``warm``: 200 brands holding seven event-time days of state (bench_state's templates: a week
  of learnt baseline and terms), ten batches each closing one more minute of every brand.

For each: a sha256 of every lifecycle event, one of every closed minute's assessment (and
events), and one of the table's final contents (every key and value, in key order).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import heapq
import sys
import tempfile
from pathlib import Path

import orjson

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

import bench_workload as W  # noqa: E402
from buzzwatch.config import CoreConfig  # noqa: E402
from buzzwatch.offline.pipeline import run_offline  # noqa: E402
from buzzwatch.offline.simulate import generate_mentions, make_scenario, scenario_mentions  # noqa: E402
from buzzwatch.stages.brandstore import DictKV  # noqa: E402
from buzzwatch.timeutil import parse_timestamp_ms  # noqa: E402

SCENARIO = dict(brands=3, days=4, warmup_days=1, min_rate=1.0, max_rate=12.0, bad_per_brand=1, floods_per_brand=1,
                copypastes_per_brand=1, bursts_per_brand=5)
HOT_BRANDS = ["Acme", "Lavéria", "Orange", "Free", "Northwind Air"]


def _sha(items) -> str:
    h = hashlib.sha256()
    for x in items:
        if isinstance(x, tuple) and all(isinstance(b, bytes) for b in x):  # a table's (key, value)
            for b in x:
                h.update(len(b).to_bytes(8, "big") + b)
        else:
            h.update(orjson.dumps(x, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS))
        h.update(b"\n")
    return h.hexdigest()[:16]


def digests(core: CoreConfig, values) -> dict:
    kv = DictKV()
    run = run_offline(core, values, keep_closed=True, kv=kv)
    closed = [(brand, dataclasses.asdict(cm.assessment), cm.events)
              for brand in sorted(run.closed) for cm in run.closed[brand]]
    return {"events": f"{len(run.events)} {_sha(run.events)}",
            "assessments": f"{len(closed)} {_sha(closed)}",
            "state": f"{len(kv.data)} {_sha(sorted(kv.data.items()))}"}


def zipf(shared: Path) -> tuple[CoreConfig, list]:
    from buzzwatch.config import read_toml

    names = W.brand_names(1000)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = W.write_config(Path(tmp) / "zipf.toml", names)
        core = CoreConfig.from_dict(read_toml(cfg))
    wl = W.zipf_workload(W.load_corpus(shared), names, 60000, minutes=60)
    return core, wl.values


def _event_time(m: dict) -> tuple[int, str]:
    c = m["created_at"]
    return (c * 1000 if isinstance(c, int) else parse_timestamp_ms(c)), m["id"]


def scenario(seed: int) -> tuple[CoreConfig, list]:
    sc = make_scenario(seed, **SCENARIO)
    minutes = sc.days * 1440
    streams = [scenario_mentions(sc, b.name, 0, minutes) for b in sc.brands]
    merged = heapq.merge(*streams, key=_event_time)
    core = CoreConfig.from_dict({"brands": [{"name": b.name} for b in sc.brands],
                                 "detector": {"warmup_minutes": 720}})
    return core, [orjson.dumps(m) for m in merged]


def hot() -> tuple[CoreConfig, list]:
    start = 1_795_000_000_000 - 1_795_000_000_000 % 60_000
    minutes = 50_000 // (len(HOT_BRANDS) * 100)
    values = [orjson.dumps(m) for m in generate_mentions(HOT_BRANDS, start, minutes, seed=3, rate_per_min=100.0)]
    return CoreConfig.from_dict({"brands": [{"name": b} for b in HOT_BRANDS]}), values[:50_000]


def warm(shared: Path) -> dict:
    import bench_state as S
    from buzzwatch.contract.scored import Watermark
    from buzzwatch.stages.aggregate import AggregateStage

    end_ms = 1_793_491_200_000
    names = W.brand_names(200)
    items, _ = S.cloned_state(W.load_corpus(shared), names, end_ms, 1)
    core = CoreConfig.from_dict({"brands": [{"name": n} for n in names], "pipeline": {"allowed_lateness_s": 60}})
    kv = DictKV()
    for _, k, v in items:
        kv.data[k] = v
    stage = AggregateStage(core, kv)
    for n in names:
        stage.partitions[n] = 0
    closed, events = [], []
    for m in range(1, 11):
        out = stage.process([(0, Watermark(0, 1, end_ms + m * 60_000))])
        stage.save(out.touched)
        events += [e for _, e in out.events]
        closed += [(b, dataclasses.asdict(cm.assessment), cm.events) for b in sorted(out.closed) for cm in out.closed[b]]
    return {"events": f"{len(events)} {_sha(events)}", "assessments": f"{len(closed)} {_sha(closed)}",
            "state": f"{len(kv.data)} {_sha(sorted(kv.data.items()))}"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=W.DEFAULT_SHARED)
    ap.add_argument("--only", default="zipf,scenario-1,scenario-2,hot,warm")
    args = ap.parse_args()
    runs = {"zipf": lambda: zipf(args.shared), "scenario-1": lambda: scenario(1),
            "scenario-2": lambda: scenario(2), "hot": hot}
    for name in args.only.split(","):
        if name == "warm":
            print("warm: 200 brands x 10 minutes; " + "; ".join(f"{k} {v}" for k, v in warm(args.shared).items()))
            continue
        core, values = runs[name]()
        d = digests(core, values)
        print(f"{name}: mentions {len(values)}; " + "; ".join(f"{k} {v}" for k, v in d.items()), flush=True)


if __name__ == "__main__":
    main()
