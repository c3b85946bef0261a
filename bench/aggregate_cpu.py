"""CPU time of the aggregate stage alone per mention (issue 10): the mentions are scored once,
then only ``AggregateStage.process`` + ``save`` (to a dict table) are timed, best of ``--repeat``.

    nice .venv/bin/python bench/aggregate_cpu.py [--shared ../shared] [--workload zipf,hot]

CPU time (``time.process_time``), not wall time: the machine is shared. Workloads: ``zipf``
(the bench's: 60,000 mentions, 1,000 brands, 60 event-time minutes, batches of 1,000 as
``run_offline`` feeds them), ``backlog`` (the same in batches of 10,000: ten minutes of every
brand close per batch, as in a backlog or a replay) and ``hot`` (bench/core_throughput.py's: 5
brands at 100/min); ``warm``: 1,000 brands holding seven event-time days of state each
(bench_state's templates, as the ``memory`` section seeds them), ten batches that close one
(silent) minute of every brand: the live steady state of a worker with many small brands,
reported per closed brand-minute; ``load``: CPU to read 10,000 warm brands' state from the
store (what a worker does after a start or a rebalance), with CPython's collector settings
and with the worker's (``streams.worker.tune_gc``), and the full collections each took; and
the CPU to show 10,000 gained brands' gauges from their whole state or from their index alone.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]

import aggregate_golden as G  # noqa: E402
import bench_workload as W  # noqa: E402
from buzzwatch.stages.aggregate import AggregateStage  # noqa: E402
from buzzwatch.stages.brandstore import DictKV  # noqa: E402
from buzzwatch.stages.ingest import IngestStep, RawRecord  # noqa: E402


def scored_batches(core, values, batch_size: int = 1000) -> list[list]:
    """What ``run_offline`` hands the aggregate stage, batch by batch."""
    ingest = IngestStep(core)
    out = []
    for i in range(0, len(values), batch_size):
        records = [RawRecord(0, i + j, None, v) for j, v in enumerate(values[i:i + batch_size])]
        result = ingest.process(records)
        markers = ingest.markers([0], 1)
        out.append([(0, s) for s in result.scored] + [(0, m) for m in markers])
    return out


def aggregate_seconds(core, batches) -> float:
    stage = AggregateStage(core, DictKV())
    gc.collect()
    t0 = time.process_time()
    for batch in batches:
        out = stage.process(batch)
        stage.save(out.touched)
    return time.process_time() - t0


WARM_END_MS = 1_793_491_200_000


def warm_seconds(shared: Path, brands: int = 1000, batches: int = 10) -> tuple[float, int]:
    """CPU seconds of ``batches`` watermark steps over ``brands`` warm brands (loaded untimed)."""
    import bench_state as S
    from buzzwatch.config import CoreConfig
    from buzzwatch.contract.scored import Watermark

    names = W.brand_names(brands)
    items, _ = S.cloned_state(W.load_corpus(shared), names, WARM_END_MS, 1)
    core = CoreConfig.from_dict({"brands": [{"name": n} for n in names], "pipeline": {"allowed_lateness_s": 60}})
    kv = DictKV()
    for _, k, v in items:
        kv.data[k] = bytes(memoryview(v))
    del items
    stage = AggregateStage(core, kv)
    for n in names:
        stage.partitions[n] = 0
        stage.state(n)
    gc.collect()
    closed = 0
    t0 = time.process_time()
    for m in range(1, batches + 1):
        out = stage.process([(0, Watermark(0, 1, WARM_END_MS + m * 60_000))])
        stage.save(out.touched)
        closed += sum(len(v) for v in out.closed.values())
    return time.process_time() - t0, closed


def _warm_kv(shared: Path, brands: int):
    import bench_state as S
    from buzzwatch.config import CoreConfig

    names = W.brand_names(brands)
    items, _ = S.cloned_state(W.load_corpus(shared), names, WARM_END_MS, 4)
    core = CoreConfig.from_dict({"brands": [{"name": n} for n in names]})
    kv = DictKV()
    for _, k, v in items:
        kv.data[k] = bytes(memoryview(v))
    return names, core, kv


def gauges_seconds(shared: Path, closed_only: bool, brands: int = 10_000) -> float:
    """CPU seconds to show ``brands`` gained brands' gauges: a whole load, or the index alone."""
    from buzzwatch.stages.aggregate import brand_gauges
    from buzzwatch.stages.brandstore import BrandStore

    names, _, kv = _warm_kv(shared, brands)
    store = BrandStore(kv)
    read = store.load_closed if closed_only else store.load
    gc.collect()
    t0 = time.process_time()
    for n in names:
        brand_gauges(read(n))
    return time.process_time() - t0


def load_seconds(shared: Path, tuned: bool, brands: int = 10_000) -> tuple[float, int]:
    """CPU seconds to read ``brands`` warm brands from a DictKV, and the full collections run."""
    names, core, kv = _warm_kv(shared, brands)
    stage = AggregateStage(core, kv)
    before = gc.get_threshold()
    full = [0]

    def count(phase, info):
        full[0] += phase == "stop" and info["generation"] == 2

    gc.collect()
    if tuned:
        from streams.worker import tune_gc
        tune_gc()
    gc.callbacks.append(count)
    try:
        t0 = time.process_time()
        for n in names:
            stage.state(n)
        return time.process_time() - t0, full[0]
    finally:
        gc.callbacks.remove(count)
        gc.unfreeze()
        gc.set_threshold(*before)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=W.DEFAULT_SHARED)
    ap.add_argument("--workload", default="zipf,backlog,hot,warm,load")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    for name in args.workload.split(","):
        if name == "load":
            for tuned in (False, True):
                best, full = min(load_seconds(args.shared, tuned) for _ in range(args.repeat))
                print(f"load: 10,000 brands' state, {'worker' if tuned else 'CPython default'} collector settings: "
                      f"CPU {best:.2f} s (best of {args.repeat}), {full} full collections", flush=True)
            for closed_only in (False, True):
                best = min(gauges_seconds(args.shared, closed_only) for _ in range(args.repeat))
                print(f"load: gauges of 10,000 gained brands, {'index alone' if closed_only else 'whole state'}: "
                      f"CPU {best:.2f} s (best of {args.repeat})", flush=True)
            continue
        if name == "warm":
            runs = [warm_seconds(args.shared) for _ in range(args.repeat)]
            best, closed = min(runs)
            print(f"warm: {closed} closed brand-minutes, aggregate CPU {best:.2f} s (best of {args.repeat}), "
                  f"{best / closed * 1e6:.1f} us per closed brand-minute", flush=True)
            continue
        core, values = G.hot() if name == "hot" else G.zipf(args.shared)
        batches = scored_batches(core, values, 10_000 if name == "backlog" else 1000)
        n = sum(1 for b in batches for _, x in b if hasattr(x, "brand"))
        best = min(aggregate_seconds(core, batches) for _ in range(args.repeat))
        print(f"{name}: {n} scored mentions, aggregate CPU {best:.2f} s (best of {args.repeat}), "
              f"{best / n * 1e6:.1f} us/mention", flush=True)


if __name__ == "__main__":
    main()
