"""Cost of the detector step per closed minute and size of its per-brand state (it runs per brand
per minute for thousands of brands, and its state is one Kafka table value).

    nice .venv/bin/python bench/detector_cost.py [--days 4]

For a small (0.5/min) and a big (200/min) simulated brand with a bad buzz, spam and bursts:
mean microseconds per ``observe`` call and the largest JSON state seen.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from buzzwatch.detection.step import DetectionConfig, initial_state, observe  # noqa: E402
from buzzwatch.offline.simulate import make_scenario, scenario_summaries  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=4)
    args = ap.parse_args()
    config = DetectionConfig()
    for rate in (0.5, 200.0):
        sc = make_scenario(9, brands=1, days=args.days, warmup_days=1, min_rate=rate, max_rate=rate,
                           floods_per_brand=1, copypastes_per_brand=1, bursts_per_brand=3)
        rows = list(scenario_summaries(sc, sc.brands[0]))
        state, biggest, events = initial_state(), 0, 0
        t = time.perf_counter()
        for i, s in enumerate(rows):
            state, _, ev = observe(config, state, s)
            events += len(ev)
            if i % 97 == 0:
                biggest = max(biggest, len(orjson.dumps(state)))
        took = time.perf_counter() - t
        print(f"brand at {rate:g}/min: {len(rows)} minutes, {1e6 * took / len(rows):.0f} us per closed minute, "
              f"largest state {biggest} bytes (sampled), {events} events")


if __name__ == "__main__":
    main()
