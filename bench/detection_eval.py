"""Detector evaluation on simulated weeks of traffic with a truth list.

    .venv/bin/python bench/detection_eval.py [--brands 20] [--days 14] [--seeds 1,2 --holdout 3,4]

Per seed: ``--brands`` brands with rates log-uniform between 0.1 and 300 mentions/min, a daily
and weekly rhythm, overdispersed noise (gamma-Poisson), and, after a 3-day warm-up, one bad buzz
(ramp 5-120 min to 3-20x, negative share 0.5-0.9), one positive launch (3-10x, mostly positive),
one neutral news spike (3-8x, usual share) and three short benign bursts (1-3 min, 3-6x, usual
share), at least 36 h apart. The detector sees closed-minute summaries, as the aggregate stage
feeds it. Reported separately for the tuning seeds and the held-out seeds:

* recall of bad-buzz events (an `opened` between onset and the end of the event + 1 h);
* detection delay from onset and from the minute the event had doubled the usual volume;
* false alarms per brand-week outside any event; alarms during launches, news, benign bursts.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from buzzwatch.detection import DetectionConfig, initial_state, observe  # noqa: E402
from buzzwatch.mention import parse_timestamp_ms  # noqa: E402
from buzzwatch.simulate import _diurnal, _gamma_poisson, _weekly  # noqa: E402
from buzzwatch.summary import MinuteSummary  # noqa: E402

T0 = 1_793_491_200_000  # 2026-11-01T00:00Z (a Sunday)
MIN = 60_000


def plan_events(rng: random.Random, days: int) -> list[dict]:
    kinds = ["bad", "launch", "news", "burst", "burst", "burst"]
    rng.shuffle(kinds)
    first, last = 3 * 1440, days * 1440 - 6 * 60
    slots = len(kinds)
    span = (last - first) // slots
    events = []
    for i, kind in enumerate(kinds):
        start = first + i * span + rng.randrange(0, max(1, span - 36 * 60 // 2))
        if kind == "bad":
            e = dict(kind=kind, start=start, ramp=rng.choice([5, 15, 30, 60, 120]), peak=rng.uniform(3, 20),
                     hold=rng.randrange(30, 180), neg=rng.uniform(0.5, 0.9), pos=0.05)
        elif kind == "launch":
            e = dict(kind=kind, start=start, ramp=rng.choice([5, 30, 60]), peak=rng.uniform(3, 10),
                     hold=rng.randrange(60, 240), neg=0.04, pos=0.8)
        elif kind == "news":
            e = dict(kind=kind, start=start, ramp=rng.choice([5, 20]), peak=rng.uniform(3, 8),
                     hold=rng.randrange(30, 120), neg=None, pos=0.2)
        else:
            e = dict(kind=kind, start=start, ramp=1, peak=rng.uniform(3, 6), hold=rng.randrange(1, 3), neg=None, pos=None)
        events.append(e)
    return events


def factor_at(e: dict, m: int) -> float:
    if m < e["start"] or m >= e["start"] + e["ramp"] + e["hold"]:
        return 1.0
    if m < e["start"] + e["ramp"]:
        return 1.0 + (e["peak"] - 1.0) * (m - e["start"] + 1) / e["ramp"]
    return e["peak"]


def doubling_minute(e: dict) -> int:
    for m in range(e["start"], e["start"] + e["ramp"] + e["hold"]):
        if factor_at(e, m) >= 2.0:
            return m
    return e["start"]


def brand_minutes(rng: random.Random, rate: float, days: int, events: list[dict], name: str):
    base_neg, base_pos = rng.uniform(0.08, 0.25), rng.uniform(0.2, 0.45)
    for m in range(days * 1440):
        t = T0 + m * MIN
        usual = rate * _diurnal(m % 1440) * _weekly(((t // 86_400_000) + 3) % 7)
        f, active = 1.0, None
        for e in events:
            fe = factor_at(e, m)
            if fe > 1.0:
                f, active = fe, e
        n_usual = _gamma_poisson(rng, usual)
        n_extra = _gamma_poisson(rng, usual * (f - 1.0)) if f > 1.0 else 0
        neg = sum(1 for _ in range(n_usual) if rng.random() < base_neg)
        pos = sum(1 for _ in range(n_usual - neg) if rng.random() < base_pos / (1 - base_neg))
        if n_extra:
            en = active["neg"] if active["neg"] is not None else base_neg
            ep = active["pos"] if active["pos"] is not None else base_pos
            xneg = sum(1 for _ in range(n_extra) if rng.random() < en)
            xpos = sum(1 for _ in range(n_extra - xneg) if rng.random() < ep / max(1e-9, 1 - en))
            neg, pos = neg + xneg, pos + xpos
        n = n_usual + n_extra
        yield MinuteSummary(brand=name, start_ms=t, mentions=n, negative=neg, positive=pos, neutral=n - neg - pos,
                            compound_sum=0.5 * pos - 0.5 * neg, reach=n * 150)


def evaluate(seeds, brands: int, days: int, config: DetectionConfig) -> dict:
    bad, others, false_alarms, brand_weeks = [], {"launch": [0, 0], "news": [0, 0], "burst": [0, 0]}, 0, 0.0
    for seed in seeds:
        rng = random.Random(seed)
        for b in range(brands):
            rate = math.exp(rng.uniform(math.log(0.1), math.log(300)))
            events = plan_events(rng, days)
            state = initial_state()
            opened = []
            for s in brand_minutes(rng, rate, days, events, f"b{seed}-{b}"):
                state, _, evs = observe(config, state, s)
                opened += [(parse_timestamp_ms(e["detected_at"]) - T0) // MIN for e in evs if e["event"] == "opened"]
            brand_weeks += (days - 3) / 7
            explained = set()
            for e in events:
                end = e["start"] + e["ramp"] + e["hold"] + 60
                hits = [m for m in opened if e["start"] <= m <= end]
                explained.update(hits)
                if e["kind"] == "bad":
                    d = hits[0] if hits else None
                    bad.append({"rate": rate, "ramp": e["ramp"], "peak": e["peak"], "detected": d is not None,
                                "from_onset": None if d is None else d - e["start"],
                                "from_doubling": None if d is None else max(0, d - doubling_minute(e))})
                else:
                    others[e["kind"]][0] += 1
                    others[e["kind"]][1] += bool(hits)
            false_alarms += sum(1 for m in opened if m not in explained and m >= 3 * 1440)
    det = [x for x in bad if x["detected"]]

    def q(values, p):
        if not values:
            return None
        values = sorted(values)
        return values[min(len(values) - 1, int(round(p * (len(values) - 1))))]

    return {
        "bad_buzz_events": len(bad),
        "recall": len(det) / len(bad) if bad else None,
        "delay_onset_median": q([x["from_onset"] for x in det], 0.5),
        "delay_onset_p90": q([x["from_onset"] for x in det], 0.9),
        "delay_doubling_median": q([x["from_doubling"] for x in det], 0.5),
        "delay_doubling_p90": q([x["from_doubling"] for x in det], 0.9),
        "false_alarms_per_brand_week": false_alarms / brand_weeks if brand_weeks else None,
        "alarms_on_launch": f"{others['launch'][1]}/{others['launch'][0]}",
        "alarms_on_news": f"{others['news'][1]}/{others['news'][0]}",
        "alarms_on_benign_bursts": f"{others['burst'][1]}/{others['burst'][0]}",
        "missed": [{k: (round(v, 2) if isinstance(v, float) else v) for k, v in x.items() if k in ("rate", "ramp", "peak")}
                   for x in bad if not x["detected"]][:10],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--brands", type=int, default=20)
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--holdout", default="3,4")
    args = ap.parse_args()
    config = DetectionConfig()
    for name, seeds in (("tuning seeds", args.seeds), ("held-out seeds", args.holdout)):
        t = time.perf_counter()
        r = evaluate([int(s) for s in seeds.split(",")], args.brands, args.days, config)
        print(f"## {name} {seeds} ({args.brands} brands x {args.days} days each, {time.perf_counter() - t:.0f} s)")
        for k, v in r.items():
            print(f"- {k}: {round(v, 3) if isinstance(v, float) else v}")


if __name__ == "__main__":
    main()
