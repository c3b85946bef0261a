"""A digest of everything the ingest core outputs, and its CPU cost per mention.

Speed work on the per-mention path (issue 10: ``IngestStep.process``, brand matching and
masking, VADER / VADER-FR and our subclasses, the French model, terms, cues) must not change
one output byte. This script records, as SHA-256 digests:

* ``zipf``: the bench's own 60k-mention Zipf workload over 1,000 brands
  (``bench_workload.zipf_workload``, real EN/FR tweets rewritten to name brands) through
  ``IngestStep.process`` in batches of 1,000: every accepted record's wire bytes and the
  ``repr`` of its ScoredMention (full-precision compound), every rejection, the label counts,
  the unmatched and late counts, in order;
* ``simulated``: the simulator's hand-written posts (emoji, sarcasm, missing ``lang`` and
  ``brand``, a bad buzz) through ``IngestStep.process``;
* ``sentiment_file``: ``buzzwatch sentiment`` (``streams.batch.score_file``) over the shared
  sentiment files written as mention JSONL without ``lang`` (so language routing runs), the
  airline rows with their brand, under the airline brands of ``bench/sentiment_eval.py``;
* ``scores``: for every text of the shared files, ``SentimentScorer.compound`` in English and
  in French (repr, full precision) and both supplemented analyzers' ``polarity_scores``.

Usage (prints one line per part and the overall digest; compare before and after a change)::

    .venv/bin/python bench/ingest_golden.py [--shared DIR]      # DIR: ../shared by default
    .venv/bin/python bench/ingest_golden.py --cpu [--runs 3]   # µs of CPU per mention

(from a git worktree whose parent is not the shared directory: ``--shared /work/shared``)

``--cpu`` runs each measurement in a fresh process (no cache warmed by an earlier run) and
reports the best ``time.process_time()`` of ``--runs`` over ``IngestStep.process`` on the
60k workload, and plain VADER / VADER-FR ``polarity_scores`` on the same texts.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(HERE), str(REPO)]

import orjson  # noqa: E402

import bench_workload as W  # noqa: E402

BATCH = 1000
MENTIONS = 60_000
BRANDS = 1000


def _records(wl):
    from buzzwatch.stages.ingest import RawRecord

    offsets: dict[int, int] = {}
    out = []
    for value, part in zip(wl.values, wl.partitions):
        off = offsets.get(part, 0)
        offsets[part] = off + 1
        ts = orjson.loads(value)["created_at"]
        out.append(RawRecord(part, off, ts, value))
    return out


def zipf_setup(shared: Path, tmp: Path):
    from buzzwatch.config import CoreConfig, read_toml

    if not (shared / "data" / "sentiment" / "airline_tweets_dev.csv").exists():
        raise SystemExit(f"no shared sentiment data under {shared} (pass --shared DIR)")
    corpus = W.load_corpus(shared)
    names = W.brand_names(BRANDS)
    cfg = W.write_config(tmp / "zipf.toml", names)
    wl = W.zipf_workload(corpus, names, MENTIONS, minutes=60)
    return CoreConfig.from_dict(read_toml(cfg)), wl


def _ingest_digest(core, records) -> str:
    from buzzwatch.stages.ingest import IngestStep

    step = IngestStep(core)
    h = hashlib.sha256()
    for i in range(0, len(records), BATCH):
        out = step.process(records[i:i + BATCH])
        h.update(repr((out.consumed, out.accepted, out.unmatched, out.late, sorted(out.labels.items()))).encode())
        for r in out.rejected:
            h.update(repr((r.record.partition, r.record.offset, r.rejection.reason, r.rejection.detail)).encode())
        for s, wire in zip(out.scored, out.wire):
            h.update(wire)
            h.update(repr(s).encode())
        for m in out.mentions:
            h.update(repr(m).encode())
    return h.hexdigest()


def zipf_digest(shared: Path, tmp: Path) -> str:
    core, wl = zipf_setup(shared, tmp)
    return _ingest_digest(core, _records(wl))


def simulated_digest() -> str:
    from buzzwatch.config import CoreConfig
    from buzzwatch.offline.simulate import generate_mentions
    from buzzwatch.stages.ingest import RawRecord

    brands = ["Acme", "Lavéria", "Orange", "Best Buy"]
    core = CoreConfig.from_dict({"brands": [
        {"name": "Acme", "handles": ["@acmehelp"], "own_handles": ["@acme_care"]},
        {"name": "Lavéria", "hashtags": ["#laveriafail"], "languages": ["fr"]},
        {"name": "Orange", "exclude": ["orange juice"]},
        {"name": "Best Buy", "aliases": ["BestBuy"]},
    ]})
    start = 1_793_491_200_000
    ms = generate_mentions(brands, start, 240, seed=3, rate_per_min=8,
                           bad_buzz={"brand": "Acme", "start_minute": 60, "ramp_minutes": 10,
                                     "peak_factor": 8, "negative_share": 0.9})
    records = [RawRecord(i % 3, i, start + 10**10, orjson.dumps(m)) for i, m in enumerate(ms)]
    return _ingest_digest(core, records)


AIRLINE_BRANDS = [
    {"name": "American", "aliases": ["American Airlines", "AmericanAir", "AA"], "handles": ["@AmericanAir"]},
    {"name": "JetBlue", "aliases": ["Jet Blue", "JetBlue Airways"], "handles": ["@JetBlue"]},
    {"name": "Southwest", "aliases": ["Southwest Airlines", "SouthwestAir"], "handles": ["@SouthwestAir"]},
    {"name": "United", "aliases": ["United Airlines"], "handles": ["@united"]},
    {"name": "Delta", "aliases": ["Delta Air Lines", "Delta Airlines"], "handles": ["@Delta"]},
    {"name": "US Airways", "aliases": ["USAirways"], "handles": ["@USAirways"]},
    {"name": "Virgin America", "aliases": ["VirginAmerica"], "handles": ["@VirginAmerica"]},
    {"name": "Spirit", "aliases": ["Spirit Airlines"], "handles": ["@SpiritAirlines"]},
]
AIRLINE_COLUMN_BRAND = {"American": "American", "Delta": "JetBlue", "Southwest": "Southwest"}


def shared_rows(shared: Path) -> list[dict]:
    """The shared sentiment files as contract mentions (no ``lang``: routing runs)."""
    data = shared / "data" / "sentiment"
    rows = []
    with (data / "airline_tweets_dev.csv").open(newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            rows.append({"id": r["tweet_id"], "text": r["text"], "created_at": r["tweet_created"],
                         "brand": AIRLINE_COLUMN_BRAND[r["airline"]]})
    with (data / "french_tweets_dev.csv").open(newline="", encoding="utf-8") as fh:
        for i, r in enumerate(csv.DictReader(fh)):
            rows.append({"id": f"fr{i}", "text": r["text"], "created_at": 1_424_986_973})
    with (data / "vader_tweets_groundtruth.txt").open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3:
                rows.append({"id": f"gt{parts[0]}", "text": parts[2], "created_at": 1_424_986_973})
    return rows


def sentiment_file_digest(shared: Path, tmp: Path) -> str:
    from buzzwatch.config import CoreConfig
    from streams.batch import score_file

    src, out = tmp / "shared.jsonl", tmp / "shared.scored.jsonl"
    src.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in shared_rows(shared)))
    score_file(CoreConfig.from_dict({"brands": AIRLINE_BRANDS}), str(src), str(out))
    return hashlib.sha256(out.read_bytes()).hexdigest()


def scores_digest(shared: Path) -> str:
    from buzzwatch.text.sentiment import SentimentScorer, _prepare, analyzer

    scorer = SentimentScorer()
    en, fr = analyzer("en"), analyzer("fr")
    h = hashlib.sha256()
    for r in shared_rows(shared):
        t = r["text"]
        p = _prepare(t)
        h.update(repr((scorer.compound(t, "en"), scorer.compound(t, "fr"),
                       sorted(en.polarity_scores(p).items()), sorted(fr.polarity_scores(p).items()))).encode())
    return h.hexdigest()


def digests(shared: Path) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        parts = {
            "zipf": zipf_digest(shared, tmp),
            "simulated": simulated_digest(),
            "sentiment_file": sentiment_file_digest(shared, tmp),
            "scores": scores_digest(shared),
        }
    parts["all"] = hashlib.sha256("".join(parts.values()).encode()).hexdigest()
    return parts


# --- CPU --------------------------------------------------------------------------------------

def _cpu_once(kind: str, shared: Path) -> float:
    """CPU seconds of one measurement, in this (fresh) process."""
    with tempfile.TemporaryDirectory() as d:
        core, wl = zipf_setup(shared, Path(d))
    if kind == "ingest":
        from buzzwatch.stages.ingest import IngestStep

        records = _records(wl)
        step = IngestStep(core)
        step.process(records[:1])  # lazy models (py3langid, French model) load outside the clock
        step = IngestStep(core)
        t0 = time.process_time()
        for i in range(0, len(records), BATCH):
            step.process(records[i:i + BATCH])
        return time.process_time() - t0
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer as EN
    from vaderSentiment_fr.vaderSentiment import SentimentIntensityAnalyzer as FR

    analyzers = {"en": EN(), "fr": FR()}
    t0 = time.process_time()
    for text, lang in zip(wl.texts, wl.langs):
        analyzers[lang].polarity_scores(text)
    return time.process_time() - t0


def cpu(shared: Path, runs: int) -> dict:
    out = {}
    for kind in ("ingest", "vader"):
        secs = []
        for _ in range(runs):
            res = subprocess.run([sys.executable, __file__, "--shared", str(shared), "--cpu-once", kind],
                                 capture_output=True, text=True, check=True)
            secs.append(float(res.stdout.strip().splitlines()[-1]))
        out[kind] = {"best_us_per_mention": round(min(secs) / MENTIONS * 1e6, 1),
                     "runs_us": [round(s / MENTIONS * 1e6, 1) for s in secs]}
    out["ingest_over_vader"] = round(out["ingest"]["best_us_per_mention"] / out["vader"]["best_us_per_mention"], 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=W.DEFAULT_SHARED)
    ap.add_argument("--cpu", action="store_true", help="measure CPU µs per mention instead of the digest")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cpu-once", choices=("ingest", "vader"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.cpu_once:
        print(_cpu_once(args.cpu_once, args.shared))
        return
    if args.cpu:
        print(json.dumps(cpu(args.shared, args.runs)))
        return
    for name, digest in digests(args.shared).items():
        print(f"{name:15s} {digest}")


if __name__ == "__main__":
    main()
