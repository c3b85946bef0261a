"""Detector evaluation on simulated weeks of traffic with a truth list (``buzzwatch.offline.simulate`` scenario mode).

    nice .venv/bin/python bench/detection_eval.py [--suites mixed,small,waves] [--tune 1,2] [--holdout 3,4] [--config FILE]

Three suites, each run on the tuning seeds (parameters were only ever chosen looking at these)
and on held-out seeds (reported, never tuned on):

* ``mixed``: 20 brands at 0.1-300 mentions/min (log-uniform), EN/FR, daily and weekly rhythm,
  overdispersed noise (gamma-Poisson around a slowly drifting level); after a 3-day warm-up,
  per brand one bad buzz (ramp 5 min to 4 h, peak 3-20x, 45-90 % negative; one in three a
  retweet storm), one positive launch, one neutral news spike, three benign bursts;
* ``small``: 10 brands at 0.1-8 mentions/min, two bad buzz, a launch, a news spike, a
  single-account flood and a copy-paste campaign per brand, and 28 benign bursts per brand
  (the issue's hard held-out set, plus spam);
* ``waves``: 8 brands at 0.1-300/min, a bad buzz of 60 min at 7x (70 % negative) that comes
  back 8 hours later: both waves must be alerted.

Reported: recall of bad buzz (an ``opened`` between onset and end of the hold + 1 h); delay
(minutes, ``detected_at`` - reference) from the onset and from the minute the event doubled
the brand's usual volume (before doubling counts as 0); false alarms per brand-week outside
any injected event (+ 2 h); alarms on launches, news, benign bursts and spam (an ``opened``
in the event + 2 h: must be 0); spam events reported as ``spam_flood``; second waves alerted.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from buzzwatch.detection.step import DetectionConfig, initial_state, observe  # noqa: E402
from buzzwatch.timeutil import parse_timestamp_ms
from buzzwatch.offline.simulate import make_scenario, scenario_summaries  # noqa: E402

MIN = 60_000
WARMUP_DAYS = 3
_CONFIG: DetectionConfig | None = None


def _init(config: DetectionConfig) -> None:
    global _CONFIG
    _CONFIG = config


SUITES = {
    "mixed": dict(brands=20, days=14),
    "small": dict(brands=10, days=14, max_rate=8.0, bad_per_brand=2, bursts_per_brand=28, floods_per_brand=1,
                  copypastes_per_brand=1),
    "waves": dict(brands=8, days=14, second_wave=True, launches_per_brand=0, news_per_brand=0, bursts_per_brand=5),
}
# Not part of the default report (``--suites diluted``): copy-paste campaigns (5-40 copies/min)
# on brands of 3-8 ordinary posts a minute, where a campaign is neither most of the minute nor
# visible in the minute's mean reach (issue 11: the held-out leak of seed 3).
EXTRA_SUITES = {
    "diluted": dict(brands=10, days=14, min_rate=3.0, max_rate=8.0, bad_per_brand=2, bursts_per_brand=10,
                    floods_per_brand=1, copypastes_per_brand=3),
}


def suite_kwargs(suite: str) -> dict:
    """The simulator's arguments of a suite (default or extra)."""
    return {**SUITES, **EXTRA_SUITES}[suite]


def run_brand(job: tuple[str, int, int]) -> dict:
    suite, seed, index = job
    kw = suite_kwargs(suite)
    sc = make_scenario(seed, warmup_days=WARMUP_DAYS, **kw)
    profile = sc.brands[index]
    state = initial_state()
    opened, spam_reports = [], []
    for s in scenario_summaries(sc, profile):
        state, _, events = observe(_CONFIG, state, s)
        opened += [parse_timestamp_ms(e["detected_at"]) for e in events if e["event"] == "opened"]
        spam_reports += [(parse_timestamp_ms(e["detected_at"]), e) for e in events if e["event"] == "spam_flood"]
    events = [e for e in sc.events if e.brand == profile.name]
    out = {"rate": profile.rate_per_min, "bad": [], "other": [], "spam": [], "false": 0,
           "weeks": (kw["days"] - WARMUP_DAYS) / 7}
    explained = set()
    for e in events:
        until = e.end_ms + (60 if e.kind == "bad_buzz" else 120) * MIN
        hits = [t for t in opened if e.start_ms <= t <= until]
        explained.update(t for t in opened if e.start_ms <= t <= e.end_ms + 120 * MIN)
        if e.kind == "bad_buzz":
            d = hits[0] if hits else None
            out["bad"].append({"rate": profile.rate_per_min, "ramp": e.ramp_minutes, "peak": e.peak_factor,
                               "neg": e.negative_share, "wave": e.wave, "storm": e.copy_share > 0.5,
                               "night": ((e.start_ms // MIN + 0) % 1440) < 360,
                               "detected": d is not None,
                               "from_onset": None if d is None else (d - e.start_ms) / MIN,
                               "from_doubling": None if d is None else max(0.0, (d - e.doubling_ms) / MIN)})
        elif e.spam:
            reported = [r for t, r in spam_reports if e.start_ms <= t <= e.end_ms + 60 * MIN]
            named = any(a["author"] == f"troll_{profile.name.replace('_', '')}" for r in reported
                        for a in r["evidence"]["spam"]["top_accounts"])
            out["spam"].append((e.kind, bool(hits), bool(reported), named))
        else:
            out["other"].append((e.kind, bool(hits)))
    warm_from = sc.start_ms + WARMUP_DAYS * 1440 * MIN
    out["false"] = sum(1 for t in opened if t not in explained and t >= warm_from)
    return out


def q(values, p):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p * (len(values) - 1))))]


def evaluate(suite: str, seeds, config: DetectionConfig, workers: int) -> dict:
    jobs = [(suite, seed, i) for seed in seeds for i in range(suite_kwargs(suite)["brands"])]
    with multiprocessing.Pool(workers, initializer=_init, initargs=(config,)) as pool:
        results = pool.map(run_brand, jobs, chunksize=1)
    bad = [b for r in results for b in r["bad"]]
    det = [x for x in bad if x["detected"]]
    others = {}
    for r in results:
        for kind, hit in r["other"]:
            n, h = others.get(kind, (0, 0))
            others[kind] = (n + 1, h + hit)
    spam = [x for r in results for x in r["spam"]]
    weeks = sum(r["weeks"] for r in results)
    false = sum(r["false"] for r in results)
    waves2 = [x for x in bad if x["wave"] == 2]
    night = [x for x in bad if x["night"]]
    storms = [x for x in bad if x["storm"]]

    def frac(kind):
        n, h = others.get(kind, (0, 0))
        return f"{h}/{n}"

    out = {
        "bad_buzz_events": len(bad),
        "recall": round(len(det) / len(bad), 3) if bad else None,
        "delay_from_onset_median_min": q([x["from_onset"] for x in det], 0.5),
        "delay_from_onset_p90_min": q([x["from_onset"] for x in det], 0.9),
        "delay_from_doubling_median_min": q([x["from_doubling"] for x in det], 0.5),
        "delay_from_doubling_p90_min": q([x["from_doubling"] for x in det], 0.9),
        "false_alarms": false,
        "false_alarms_per_brand_week": round(false / weeks, 3) if weeks else None,
        "alarms_on_launch": frac("launch"),
        "alarms_on_news": frac("news"),
        "alarms_on_benign_bursts": frac("burst"),
        "night_onsets_detected": f"{sum(x['detected'] for x in night)}/{len(night)}",
        "retweet_storms_detected": f"{sum(x['detected'] for x in storms)}/{len(storms)}",
    }
    if waves2:
        out["second_waves_alerted"] = f"{sum(x['detected'] for x in waves2)}/{len(waves2)}"
    if spam:
        out["bad_buzz_alerts_on_spam"] = f"{sum(h for _, h, _, _ in spam)}/{len(spam)}"
        out["spam_reported"] = f"{sum(r for _, _, r, _ in spam)}/{len(spam)}"
        floods = [x for x in spam if x[0] == "flood"]
        out["flood_account_named"] = f"{sum(n for *_, n in floods)}/{len(floods)}"
    out["missed"] = [{k: round(v, 2) for k, v in x.items() if k in ("rate", "ramp", "peak", "neg")}
                     for x in bad if not x["detected"]]
    out["slowest"] = sorted(({k: round(v, 2) for k, v in x.items() if k in ("rate", "ramp", "peak", "from_doubling")}
                             for x in det), key=lambda x: -x["from_doubling"])[:3]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suites", default="mixed,small,waves")
    ap.add_argument("--tune", default="1,2", help="seeds A (the parameters were chosen on these)")
    ap.add_argument("--holdout", default="3,4", help="seeds B (held out, report these)")
    ap.add_argument("--config", type=Path, default=None, help="TOML with [detector]/[alerting] (default: built-in defaults)")
    ap.add_argument("--set", action="append", default=[], help="override a [detector] key, e.g. --set watch_score=4")
    ap.add_argument("--workers", type=int, default=max(1, multiprocessing.cpu_count()))
    args = ap.parse_args()
    if args.config:
        from streams.settings import load_settings

        config = load_settings(args.config, env={}).core.detection()
    else:
        config = DetectionConfig.from_dict({k: float(v) for k, v in (x.split("=", 1) for x in args.set)})
    for suite in args.suites.split(","):
        for name, seeds in (("tuning seeds (A)", args.tune), ("held-out seeds (B)", args.holdout)):
            if not seeds:
                continue
            t = time.perf_counter()
            r = evaluate(suite, [int(s) for s in seeds.split(",")], config, args.workers)
            print(f"## {suite}, {name} {seeds} ({time.perf_counter() - t:.0f} s)")
            for k, v in r.items():
                print(f"- {k}: {v}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
