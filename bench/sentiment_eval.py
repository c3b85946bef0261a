"""Sentiment quality and speed of the ingest path (masking + language routing + scoring).

Evaluates, on the labelled files of /work/shared/data/sentiment (never copied into the repo):

* ``airline_tweets_dev.csv`` (English; American, "Delta" which is really @JetBlue, Southwest),
* ``french_tweets_dev.csv`` (French, balanced negative/neutral/positive),
* ``vader_tweets_groundtruth.txt`` (English general tweets with human mean valence): a guard
  that the complaint supplement does not degrade general text (Pearson r with the human score);
* and a second guard, the simulator's hand-written English brand posts (no shared data needed).

Honest evaluation: every row goes to the *tune* or the *test* split by a hash of its id
(airline ``tweet_id``, French text itself so duplicates stay together): 60 % tune, 40 % test.
Thresholds are chosen on the tune split (grid search maximising macro-F1), the lexicon
supplement was written looking at tune-split errors only, and both splits are printed.

Systems, each adding one step to the previous:

1. ``vader``: plain VADER / VADER-FR on the raw text, +-0.05 thresholds (the baseline);
2. ``+mask+route``: brand names masked by BrandMatcher, language detected (non en/fr is
   "unscored", which counts as an error here);
3. ``+lexicon``: the customer-complaint supplement (buzzwatch.text.lexicon_complaints);
4. ``+tuned``: per-language thresholds tuned on the tune split;
5. ``+model``: what the pipeline runs: the emoji and sarcasm cues, and in French the linear
   model of ``buzzwatch.text.french_model`` (trained by ``scripts/train_french_model.py`` on the
   tune split only), with the shipped thresholds ``buzzwatch.config.SENTIMENT_THRESHOLDS`` (not re-tuned
   here: on the rows the model was trained on, tuning would only measure over-fitting).

Usage::

    .venv/bin/python bench/sentiment_eval.py [--data DIR] [--json OUT] [--no-speed]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import multiprocessing as mp
import sys
import time
from dataclasses import dataclass
from hashlib import blake2b
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from buzzwatch.text.analyze import _PLACEHOLDERS  # noqa: E402
from buzzwatch.text.brands import Brand, BrandMatcher  # noqa: E402
from buzzwatch.text.language import detect_language, route_language  # noqa: E402
from buzzwatch.config import SENTIMENT_THRESHOLDS as TUNED_LANG_THRESHOLDS  # noqa: E402
from buzzwatch.text.sentiment import SentimentScorer, analyzer, label_for  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "sentiment"
CLASSES = ("negative", "neutral", "positive")
TUNE_PERCENT = 60

# The brand config a US-airline watch would use: the three brands of the file, and the
# competitors their customers name (whose names are sentiment words too: "united", "spirit").
AIRLINE_BRANDS = [
    Brand("American", aliases=("American Airlines", "AmericanAir", "AA"), handles=("@AmericanAir",)),
    Brand("JetBlue", aliases=("Jet Blue", "JetBlue Airways"), handles=("@JetBlue",)),
    Brand("Southwest", aliases=("Southwest Airlines", "SouthwestAir"), handles=("@SouthwestAir",)),
    Brand("United", aliases=("United Airlines",), handles=("@united",)),
    Brand("Delta", aliases=("Delta Air Lines", "Delta Airlines"), handles=("@Delta",)),
    Brand("US Airways", aliases=("USAirways",), handles=("@USAirways",)),
    Brand("Virgin America", aliases=("VirginAmerica",), handles=("@VirginAmerica",)),
    Brand("Spirit", aliases=("Spirit Airlines",), handles=("@SpiritAirlines",)),
]
# The file's "airline" column -> the brand the tweets are really about (the mention's brand).
AIRLINE_COLUMN_BRAND = {"American": "American", "Delta": "JetBlue", "Southwest": "Southwest"}


@dataclass(frozen=True)
class Row:
    key: str
    text: str
    label: str
    lang: str  # the file's language (used by the plain baseline only)
    brand: str | None = None


def in_tune_split(key: str) -> bool:
    h = int.from_bytes(blake2b(key.encode("utf-8"), digest_size=8).digest(), "big")
    return h % 100 < TUNE_PERCENT


def load(data: Path) -> dict[str, list[Row]]:
    airline = [
        Row(r["tweet_id"], r["text"], r["airline_sentiment"], "en", AIRLINE_COLUMN_BRAND[r["airline"]])
        for r in csv.DictReader((data / "airline_tweets_dev.csv").open(encoding="utf-8"))
    ]
    french = [
        Row(r["text"], r["text"], r["label"], "fr")
        for r in csv.DictReader((data / "french_tweets_dev.csv").open(encoding="utf-8"))
    ]
    return {"airline": airline, "french": french}


def load_groundtruth(data: Path) -> list[tuple[float, str]]:
    out = []
    for line in (data / "vader_tweets_groundtruth.txt").open(encoding="utf-8"):
        parts = line.rstrip("\n").split("\t")
        if len(parts) >= 3:
            out.append((float(parts[1]), parts[2]))
    return out


# --- metrics -------------------------------------------------------------------------------

def metrics(truth: list[str], pred: list[str]) -> dict[str, float]:
    """Accuracy, macro-F1 over the three classes, per-class F1 (a prediction of "unscored"
    is simply wrong)."""
    f1 = {}
    for c in CLASSES:
        tp = sum(t == c and p == c for t, p in zip(truth, pred))
        fp = sum(t != c and p == c for t, p in zip(truth, pred))
        fn = sum(t == c and p != c for t, p in zip(truth, pred))
        f1[c] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return {
        "n": len(truth),
        "accuracy": sum(t == p for t, p in zip(truth, pred)) / len(truth),
        "macro_f1": sum(f1.values()) / len(CLASSES),
        "negative_f1": f1["negative"],
        "neutral_f1": f1["neutral"],
        "positive_f1": f1["positive"],
        "unscored": sum(p == "unscored" for p in pred) / len(pred),
    }


def pearson(xs: list[float], ys: list[float]) -> float:
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sx = math.sqrt(sum((x - mx) ** 2 for x in xs))
    sy = math.sqrt(sum((y - my) ** 2 for y in ys))
    return sxy / (sx * sy)


# --- systems -------------------------------------------------------------------------------

MATCHER = BrandMatcher(AIRLINE_BRANDS)


_VOCABULARIES = SentimentScorer(french_model=False).vocabularies()


def prepared(row: Row) -> tuple[str, str]:
    """(masked text, routed language), as the ingest stage computes them (buzzwatch.text.analyze):
    airline rows name a configured brand, whose languages (default en, fr) route short posts."""
    extra = (row.brand,) if row.brand else ()
    detail, masked = MATCHER.match_and_mask(row.text, extra_names=extra)
    brands = list(detail.brands)
    if row.brand and row.brand not in brands:
        brands.append(row.brand)
    lang = route_language(None, _PLACEHOLDERS.sub(" ", masked), MATCHER.languages_of(brands), _VOCABULARIES)
    return masked, lang


def compounds(rows: list[Row], system: str) -> list[float | None]:
    """Compound per row (None: unscored) for system "vader", "mask", "lexicon" or "model"."""
    if system == "vader":
        return [analyzer(r.lang, supplement=False).polarity_scores(r.text)["compound"] for r in rows]
    scorer = SentimentScorer(supplement=(system in ("lexicon", "model")), french_model=(system == "model"))
    out = []
    for r in rows:
        text, lang = prepared(r)
        out.append(scorer.compound(text, lang))
    return out


def labels(cs: list[float | None], neg: float, pos: float) -> list[str]:
    return ["unscored" if c is None else label_for(c, neg, pos) for c in cs]


def tune_thresholds(truth: list[str], cs: list[float | None]) -> tuple[float, float]:
    """The (neg, pos) thresholds maximising macro-F1 on the given (tune) rows."""
    grid = [round(x * 0.05, 2) for x in range(-16, 17)]
    best = (-1.0, -0.05, 0.05)
    for neg in grid:
        for pos in grid:
            if pos <= neg:
                continue
            f = metrics(truth, labels(cs, neg, pos))["macro_f1"]
            if f > best[0] + 1e-12:
                best = (f, neg, pos)
    return best[1], best[2]


def evaluate(datasets: dict[str, list[Row]]) -> dict:
    results: dict = {"split": f"blake2b(id) % 100 < {TUNE_PERCENT} -> tune, else test", "datasets": {}}
    for name, rows in datasets.items():
        tune = [r for r in rows if in_tune_split(r.key)]
        test = [r for r in rows if not in_tune_split(r.key)]
        per: dict = {"n_tune": len(tune), "n_test": len(test), "systems": {}}
        for system in ("vader", "mask", "lexicon"):
            c_tune, c_test = compounds(tune, system), compounds(test, system)
            t_tune, t_test = [r.label for r in tune], [r.label for r in test]
            label = {"vader": "vader", "mask": "+mask+route", "lexicon": "+lexicon"}[system]
            per["systems"][label] = {
                "thresholds": [-0.05, 0.05],
                "tune": metrics(t_tune, labels(c_tune, -0.05, 0.05)),
                "test": metrics(t_test, labels(c_test, -0.05, 0.05)),
            }
            if system == "lexicon":
                neg, pos = tune_thresholds(t_tune, c_tune)
                per["systems"]["+tuned"] = {
                    "thresholds": [neg, pos],
                    "tune": metrics(t_tune, labels(c_tune, neg, pos)),
                    "test": metrics(t_test, labels(c_test, neg, pos)),
                }
        c_tune, c_test = compounds(tune, "model"), compounds(test, "model")
        neg, pos = TUNED_LANG_THRESHOLDS["en" if name == "airline" else "fr"]
        per["systems"]["+model"] = {
            "thresholds": [neg, pos],
            "tune": metrics([r.label for r in tune], labels(c_tune, neg, pos)),
            "test": metrics([r.label for r in test], labels(c_test, neg, pos)),
        }
        results["datasets"][name] = per
    return results


def groundtruth_guard(gt: list[tuple[float, str]]) -> dict:
    human = [h for h, _ in gt]
    plain = [analyzer("en", supplement=False).polarity_scores(t)["compound"] for _, t in gt]
    scorer = SentimentScorer()
    ours = [scorer.compound(t, "en") for _, t in gt]
    return {"n": len(gt), "pearson_vader": pearson(human, plain), "pearson_lexicon": pearson(human, ours)}


def simulated_guard(n: int = 3000) -> dict:
    """Accuracy on the simulator's hand-written English brand posts (``buzzwatch.offline.simulate``,
    their template tone as truth), through the ingest stage's analyzer: a guard that what the
    airline file taught the English supplement does not misread ordinary brand traffic."""
    import random

    import orjson

    from buzzwatch.config import CoreConfig
    from buzzwatch.contract.mention import parse_mention
    from buzzwatch.offline.simulate import _MentionWriter
    from buzzwatch.text.analyze import MentionAnalyzer

    analyzer_ = MentionAnalyzer(CoreConfig.from_dict({"brands": [{"name": "Acme"}]}))
    writer = _MentionWriter(random.Random(5), "guard", 0.0)
    truth, pred = [], []
    for i in range(n):
        tone = CLASSES[i % 3]
        m = parse_mention(orjson.dumps(writer.write("Acme", 1_793_491_200_000, tone, False)))
        truth.append(tone)
        pred.append(analyzer_.analyze(m).sentiment.label)
    return metrics(truth, pred)


# --- speed ---------------------------------------------------------------------------------

def _pipeline(rows: list[Row]) -> int:
    scorer = SentimentScorer()
    n = 0
    for r in rows:
        text, lang = prepared(r)
        scorer.score(text, lang)
        n += 1
    return n


def _worker(rows: list[Row]) -> float:
    _pipeline(rows[:200])  # warm up analyzers and the language model in this process
    t = time.perf_counter()
    _pipeline(rows)
    return time.perf_counter() - t


def speed(rows: list[Row], repeats: int = 3) -> dict:
    """texts/s of match + mask + route + score, one process (best of ``repeats``) and two processes."""
    _pipeline(rows[:200])
    one = min(_timed(rows) for _ in range(repeats))
    with mp.get_context("fork").Pool(2) as pool:
        halves = [rows[0::2], rows[1::2]]
        two = max(pool.map(_worker, halves))
    return {"texts": len(rows), "one_process_texts_per_s": len(rows) / one,
            "two_processes_texts_per_s": len(rows) / two,
            "lang_only_texts_per_s": len(rows) / min(_timed_lang(rows) for _ in range(repeats))}


def _timed(rows: list[Row]) -> float:
    t = time.perf_counter()
    _pipeline(rows)
    return time.perf_counter() - t


def _timed_lang(rows: list[Row]) -> float:
    t = time.perf_counter()
    for r in rows:
        detect_language(r.text)
    return time.perf_counter() - t


# --- report --------------------------------------------------------------------------------

def markdown(results: dict) -> str:
    lines = [f"Split: {results['split']}", ""]
    lines.append("| data | system | thresholds | split | n | accuracy | macro-F1 | negative-F1 | unscored |")
    lines.append("|---|---|---|---|---:|---:|---:|---:|---:|")
    for name, per in results["datasets"].items():
        for system, res in per["systems"].items():
            th = "{:+.2f}/{:+.2f}".format(*res["thresholds"])
            for split in ("tune", "test"):
                m = res[split]
                lines.append(
                    f"| {name} | {system} | {th} | {split} | {m['n']} | {m['accuracy']:.3f} | "
                    f"{m['macro_f1']:.3f} | {m['negative_f1']:.3f} | {m['unscored']:.1%} |"
                )
    sim = results.get("simulated_en")
    if sim:
        lines += ["", f"Simulator's English brand posts (n={sim['n']}, template tone as truth, shipped thresholds): "
                      f"accuracy {sim['accuracy']:.3f}, macro-F1 {sim['macro_f1']:.3f}"]
    g = results.get("groundtruth")
    if g:
        lines += ["", f"General English tweets (vader_tweets_groundtruth, n={g['n']}): Pearson r with human "
                      f"valence: plain VADER {g['pearson_vader']:.3f}, with complaint lexicon {g['pearson_lexicon']:.3f}"]
    s = results.get("speed")
    if s:
        lines += ["", f"Speed, match + mask + language + score over {s['texts']} texts: "
                      f"{s['one_process_texts_per_s']:,.0f} texts/s in one process, "
                      f"{s['two_processes_texts_per_s']:,.0f} texts/s in two; "
                      f"language detection alone {s['lang_only_texts_per_s']:,.0f} texts/s."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"folder of the labelled files (default {DEFAULT_DATA})")
    ap.add_argument("--json", metavar="OUT", type=Path, help="also write the results as JSON")
    ap.add_argument("--no-speed", action="store_true", help="skip the throughput measurement")
    args = ap.parse_args(argv)
    needed = ("airline_tweets_dev.csv", "french_tweets_dev.csv", "vader_tweets_groundtruth.txt")
    missing = [f for f in needed if not (args.data / f).is_file()]
    if missing:
        print(f"sentiment_eval: evaluation data not found in {args.data} (missing: {', '.join(missing)}).\n"
              "It lives outside the repository (../shared/data/sentiment); pass --data DIR.", file=sys.stderr)
        return 2
    datasets = load(args.data)
    results = evaluate(datasets)
    results["groundtruth"] = groundtruth_guard(load_groundtruth(args.data))
    results["simulated_en"] = simulated_guard()
    tuned = {name: per["systems"]["+tuned"]["thresholds"] for name, per in results["datasets"].items()}
    results["tuned_thresholds"] = {"en": tuned["airline"], "fr": tuned["french"]}
    if not args.no_speed:
        results["speed"] = speed(datasets["airline"] + datasets["french"])
    print(markdown(results))
    print(f"\nThresholds tuned on the tune splits: en {tuned['airline']}, fr {tuned['french']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
