"""NAB realTweets: run `buzzwatch backtest --format counts` logic on the five shared files and
score with the NAB standard profile (../shared/tools/nab_score.py).

    .venv/bin/python bench/nab_eval.py [--shared ../shared] [--out out/nab] [--config FILE]

An opened alert is a detection on its row (anomaly_score 1), everything else 0; one parameter
set for all files (the [detector] defaults, or the given config), no per-file tuning.
Published on these five files: ARTime 81.0, CAD OSE 67.6, HTM 64.6.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from buzzwatch.backtest import backtest_counts  # noqa: E402
from buzzwatch.config import CoreConfig  # noqa: E402
from streams.settings import load_settings  # noqa: E402
from buzzwatch.mention import parse_timestamp_ms  # noqa: E402

FILES = ["AAPL", "GOOG", "IBM", "KO", "UPS"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--out", type=Path, default=REPO / "out" / "nab")
    ap.add_argument("--config", type=Path, default=None)
    args = ap.parse_args()
    data = args.shared / "data" / "nab"
    if not data.is_dir():
        print(f"NAB data not found in {data} (this benchmark reads ../shared/data/nab)", file=sys.stderr)
        return 2
    core = load_settings(args.config, env={}).core if args.config else CoreConfig()
    detection = core.detection()
    args.out.mkdir(parents=True, exist_ok=True)
    outputs = []
    for ticker in FILES:
        src = data / f"Twitter_volume_{ticker}.csv"
        events = backtest_counts(detection, src, ticker)
        with src.open(newline="") as fh:
            rows = [r for r in csv.reader(fh)][1:]
        stamps = [parse_timestamp_ms(r[0]) for r in rows]
        spacing = min(b - a for a, b in zip(stamps, stamps[1:]))
        opened = {parse_timestamp_ms(e["detected_at"]) - spacing for e in events if e["event"] == "opened"}
        dst = args.out / f"Twitter_volume_{ticker}.csv"
        with dst.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["timestamp", "anomaly_score"])
            for r, ts in zip(rows, stamps):
                w.writerow([r[0], 1 if ts in opened else 0])
        outputs.append(str(dst))
        print(f"{ticker}: {len(rows)} rows, {sum(1 for e in events if e['event'] == 'opened')} episodes opened")
    cmd = [sys.executable, str(args.shared / "tools" / "nab_score.py"), "score", "--windows", str(data / "windows.json"),
           "--category", "realTweets", "--threshold", "1", *outputs]
    print("$", " ".join(cmd))
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
