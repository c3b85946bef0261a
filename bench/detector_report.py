"""The detector's whole report in one command: NAB (in-sample and leave-one-file-out) and the
simulated suites (tuning and held-out seeds), as one markdown table against the targets.

    nice .venv/bin/python bench/detector_report.py [--shared ../shared] [--tune 1,2] [--holdout 3,4] [--workers 2]

CPU heavy (a few minutes on 2 cores): run it with ``nice``. The parts run alone too:
``bench/nab_eval.py`` and ``bench/detection_eval.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import detection_eval  # noqa: E402
import nab_eval  # noqa: E402

from buzzwatch.detection.step import DetectionConfig  # noqa: E402

ROWS = [  # (suite, key, label, target)
    ("small", "recall", "recall, small brands (0.1-8/min)", ">= 0.95"),
    ("mixed", "recall", "recall, mixed brands (0.1-300/min)", ">= 0.95"),
    ("small", "delay_from_doubling_median_min", "delay from doubling, median (min), small", "<= 10"),
    ("small", "delay_from_doubling_p90_min", "delay from doubling, p90 (min), small", "<= 30"),
    ("mixed", "delay_from_doubling_median_min", "delay from doubling, median (min), mixed", "<= 10"),
    ("mixed", "delay_from_doubling_p90_min", "delay from doubling, p90 (min), mixed", "<= 30"),
    ("small", "false_alarms_per_brand_week", "false alarms per brand-week, small", "<= 0.1"),
    ("mixed", "false_alarms_per_brand_week", "false alarms per brand-week, mixed", "<= 0.1"),
    ("small", "alarms_on_launch", "alarms on positive launches, small", "0"),
    ("mixed", "alarms_on_launch", "alarms on positive launches, mixed", "0"),
    ("small", "alarms_on_news", "alarms on neutral news, small", "0"),
    ("mixed", "alarms_on_news", "alarms on neutral news, mixed", "0"),
    ("small", "alarms_on_benign_bursts", "alarms on benign bursts, small", "0"),
    ("mixed", "alarms_on_benign_bursts", "alarms on benign bursts, mixed", "0"),
    ("small", "night_onsets_detected", "night onsets (00-06 UTC) detected, small", "all"),
    ("mixed", "retweet_storms_detected", "retweet storms (60 % copies, real people) detected", "all"),
    ("waves", "second_waves_alerted", "second wave 8 h later alerted", "all"),
    ("small", "bad_buzz_alerts_on_spam", "bad-buzz alerts on floods / copy-paste campaigns", "0"),
    ("small", "spam_reported", "floods / campaigns reported as spam_flood", "all"),
    ("small", "flood_account_named", "flooding account named in the report", "all"),
]


def nab_figures(shared: Path) -> tuple[str, str]:
    out = io.StringIO()
    argv = sys.argv
    sys.argv = ["nab_eval.py", "--shared", str(shared), "--out", str(REPO / "out" / "nab")]
    try:
        with contextlib.redirect_stdout(out):
            nab_eval.main()
    finally:
        sys.argv = argv
    text = out.getvalue()
    ins = re.search(r"in-sample .*NAB standard ([\d.-]+)", text)
    lofo = re.search(r"leave-one-file-out: NAB standard ([\d.-]+)", text)
    return (ins.group(1) if ins else "n/a"), (lofo.group(1) if lofo else "n/a")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--tune", default="1,2")
    ap.add_argument("--holdout", default="3,4")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    config = DetectionConfig()
    results = {}
    for suite in detection_eval.SUITES:
        for split, seeds in (("tune", args.tune), ("holdout", args.holdout)):
            results[(suite, split)] = detection_eval.evaluate(suite, [int(s) for s in seeds.split(",")], config,
                                                              args.workers)
            print(f"# {suite} {split}: " + json.dumps({k: v for k, v in results[(suite, split)].items()
                                                        if k not in ("slowest",)}), file=sys.stderr)
    nab_in, nab_lofo = nab_figures(args.shared) if (args.shared / "data" / "nab").is_dir() else ("n/a", "n/a")
    print(f"| measure | target | tuning seeds {args.tune} (in-sample) | held-out seeds {args.holdout} |")
    print("|---|---|---|---|")
    print(f"| NAB standard, shared five files | >= 85 | {nab_in} (all five) | {nab_lofo} (leave-one-file-out) |")
    for suite, key, label, target in ROWS:
        a = results[(suite, "tune")].get(key, "n/a")
        b = results[(suite, "holdout")].get(key, "n/a")
        print(f"| {label} | {target} | {a} | {b} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
