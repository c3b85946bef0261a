"""The physical limit of the simulated suites' delays: an oracle that knows the onset and the
traffic model and alerts once the negative mentions since the onset are 5 standard deviations
(one-sided Poisson tail <= 2.87e-7) above what the usual traffic gives.

    nice .venv/bin/python bench/detection_oracle.py [--suites small] [--seeds 1,2] [--compare]

It knows what no detector can (the onset, the usual mean of every minute including the slow
drift of the level) and ignores the gamma noise, so it is faster than any honest detector; the
delay is counted like ``bench/detection_eval.py``'s (from the minute the event doubled the
brand's usual volume, 0 if before). It says whether a delay target is reachable at all.

``--compare`` also runs the detector (the defaults) on the same events and prints, event by
event, how far it trails the oracle: where detection work can still gain, and where not.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import detection_eval  # noqa: E402
from buzzwatch.detection.step import DetectionConfig  # noqa: E402
from buzzwatch.offline import simulate  # noqa: E402

MIN = 60_000
TAIL = 2.87e-7  # one-sided 5 sigma


def poisson_sf(k: int, mu: float) -> float:
    """P(X >= k), X ~ Poisson(mu)."""
    if k <= 0:
        return 1.0
    term, total = math.exp(-mu), 0.0
    for i in range(k):
        total += term
        term *= mu / (i + 1)
    return max(0.0, 1.0 - total)


def _minutes_with_usual_mean(record: dict):
    """``simulate._scenario_minutes`` that also records each minute's usual mean (same draws)."""
    original = simulate._gamma_poisson

    def spy(rng, mean, shape):
        record.setdefault("_last", []).append(mean)
        return original(rng, mean, shape)

    inner = simulate._scenario_minutes

    def minutes(scenario, brand, rng):
        simulate._gamma_poisson = spy
        try:
            for t, n_usual, n_extra, active, spam in inner(scenario, brand, rng):
                record[t] = record.pop("_last")[0]
                yield t, n_usual, n_extra, active, spam
        finally:
            simulate._gamma_poisson = original
    return minutes


def run_brand(suite: str, seed: int, index: int) -> list[float | None]:
    kw = detection_eval.suite_kwargs(suite)
    sc = simulate.make_scenario(seed, warmup_days=detection_eval.WARMUP_DAYS, **kw)
    profile = sc.brands[index]
    usual: dict = {}
    saved = simulate._scenario_minutes
    simulate._scenario_minutes = _minutes_with_usual_mean(usual)
    try:
        rows = list(simulate.scenario_summaries(sc, profile))
    finally:
        simulate._scenario_minutes = saved
    delays: list[float | None] = []  # one per bad buzz, in order; None: not found within its hold + 1 h
    for e in (x for x in sc.events if x.brand == profile.name and x.kind == "bad_buzz"):
        n, mu = 0, 0.0
        delays.append(None)
        for s in rows:
            if s.start_ms < e.start_ms or s.start_ms > e.end_ms + 60 * MIN:
                continue
            n += s.negative
            mu += usual[s.start_ms] * profile.negative_share
            if poisson_sf(n, mu) <= TAIL:
                delays[-1] = max(0.0, (s.end_ms - e.doubling_ms) / MIN)
                break
    return delays


def compare_brand(job: tuple[str, int, int]) -> list[dict]:
    """The detector's and the oracle's delay for each bad buzz of one brand (None: missed)."""
    suite, seed, index = job
    found = detection_eval.run_brand(job)["bad"]
    oracle = run_brand(suite, seed, index)
    return [{"seed": seed, "brand": index, "rate": round(b["rate"], 2), "ramp": b["ramp"], "peak": round(b["peak"], 1),
             "negative_share": round(b["neg"], 2), "detector": b["from_doubling"], "oracle": o}
            for b, o in zip(found, oracle, strict=True)]


def compare(suite: str, seeds: list[int]) -> None:
    kw = detection_eval.suite_kwargs(suite)
    jobs = [(suite, seed, i) for seed in seeds for i in range(kw["brands"])]
    with multiprocessing.Pool(initializer=detection_eval._init, initargs=(DetectionConfig(),)) as pool:
        rows = [r for rs in pool.map(compare_brand, jobs, chunksize=1) for r in rs]
    both = [r for r in rows if r["detector"] is not None and r["oracle"] is not None]
    for r in sorted(both, key=lambda r: r["oracle"] - r["detector"]):
        print(f"  seed {r['seed']} brand {r['brand']}: {r['rate']}/min, ramp {r['ramp']} min, peak {r['peak']}x, "
              f"{r['negative_share']:.0%} negative: detector {r['detector']:.0f}, oracle {r['oracle']:.0f} min")
    lag = [r["detector"] - r["oracle"] for r in both]
    print(f"## {suite}, seeds {','.join(map(str, seeds))}: {len(rows)} bad buzz, detector missed "
          f"{sum(r['detector'] is None for r in rows)}; on {len(both)} found by both, the detector trails the "
          f"oracle by {sum(lag) / max(len(lag), 1):.1f} min on average, by more than 15 min on "
          f"{sum(x > 15 for x in lag)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suites", default="small")
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--compare", action="store_true", help="also the detector, event by event")
    args = ap.parse_args()
    for suite in args.suites.split(","):
        if args.compare:
            compare(suite, [int(s) for s in args.seeds.split(",")])
            continue
        kw = detection_eval.suite_kwargs(suite)
        delays = [d for seed in args.seeds.split(",") for i in range(kw["brands"]) for d in run_brand(suite, int(seed), i) if d is not None]
        q = detection_eval.q
        print(f"## {suite}, seeds {args.seeds}: oracle detected {len(delays)}; delay from doubling "
              f"median {q(delays, 0.5)}, p90 {q(delays, 0.9)} min")


if __name__ == "__main__":
    main()
