"""Train the French sentiment model shipped in buzzwatch/data (build time, not run time).

Reads ``french_tweets_dev.csv`` from the shared data folder (never copied into the repo),
keeps only the rows of the *tune* split of ``bench/sentiment_eval.py`` (the test split is
never read for training or for choosing anything), and fits a multinomial logistic
regression with numpy (full-batch Adam, L2), over the features of
``buzzwatch.text.french_model.features`` and VADER-FR's scores (with the complaint supplement).

The hyper-parameters below were chosen by 5-fold cross-validation on the tune split. The
confidence gate (``FrenchModel.confidence``) is chosen here, every run, from the out-of-fold
predictions of that cross-validation: the gate with the best out-of-fold macro-F1 among those
that read the hand-written French traffic of ``buzzwatch.offline.simulate`` (its templates are the
truth) at least as accurately as VADER-FR alone. Re-run this script whenever the French lexicon, the cues or the
features change, then ``bench/sentiment_eval.py`` for the held-out figures::

    .venv/bin/python scripts/train_french_model.py [--data DIR]
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from sentiment_eval import DEFAULT_DATA, in_tune_split, load, metrics  # noqa: E402

from buzzwatch.text import french_model as fm  # noqa: E402
from buzzwatch.text.sentiment import _prepare, analyzer  # noqa: E402

MIN_COUNT = 2  # a feature must occur in at least this many tune rows
L2 = 3e-4
ITERATIONS = 600
LEARNING_RATE = 0.05
SCALE = 2.0  # weight of the sparse part against VADER's scores
PRUNE = 1e-3  # features whose weights are all smaller than this are not shipped


def _design(texts, vader, vocab):
    """CSR-like (indices, values, row pointers) of the sparse part plus the dense columns."""
    d = len(vocab)
    ind, val, ptr = [], [], [0]
    for text, v in zip(texts, vader):
        idx = [vocab[f] for f in fm.features(text) if f in vocab]
        k = SCALE / math.sqrt(len(idx)) if idx else 0.0
        ind += idx + [d + j for j in range(len(fm.DENSE))]
        val += [k] * len(idx) + [v[name] for name in fm.DENSE]
        ptr.append(len(ind))
    return np.array(ind), np.array(val), np.array(ptr)


def _forward(X, W, b):
    ind, val, ptr = X
    return np.add.reduceat(W[ind] * val[:, None], ptr[:-1], axis=0) + b


def _rows(X, rows):
    ind, val, ptr = X
    parts_i, parts_v, new_ptr = [], [], [0]
    for r in rows:
        parts_i.append(ind[ptr[r]:ptr[r + 1]])
        parts_v.append(val[ptr[r]:ptr[r + 1]])
        new_ptr.append(new_ptr[-1] + ptr[r + 1] - ptr[r])
    return np.concatenate(parts_i), np.concatenate(parts_v), np.array(new_ptr)


def fit(X, y, n_features):
    ind, val, ptr = X
    row = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
    W = np.zeros((n_features, 3))
    b = np.zeros(3)
    Y = np.eye(3)[y]
    m = np.zeros_like(W)
    s = np.zeros_like(W)
    for it in range(ITERATIONS):
        Z = _forward(X, W, b)
        P = np.exp(Z - Z.max(1, keepdims=True))
        P /= P.sum(1, keepdims=True)
        R = (P - Y) / len(y)
        G = np.stack([np.bincount(ind, weights=val * R[row, k], minlength=n_features) for k in range(3)], 1)
        G[: n_features - len(fm.DENSE)] += L2 * W[: n_features - len(fm.DENSE)]
        m = 0.9 * m + 0.1 * G
        s = 0.999 * s + 0.001 * G * G
        W -= LEARNING_RATE * (m / (1 - 0.9 ** (it + 1))) / (np.sqrt(s / (1 - 0.999 ** (it + 1))) + 1e-8)
        b -= 0.5 * R.sum(0)
    return W, b


GATES = (0.0, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9)
SIM_TEXTS = 3000


def _long_enough(text: str) -> bool:
    return sum(1 for w in fm.post_words(text) if w[0].isalnum()) >= fm.MIN_WORDS


def _label(c: float) -> str:
    return fm.CLASSES[0] if c <= -fm.NEUTRAL_BAND else fm.CLASSES[2] if c >= fm.NEUTRAL_BAND else fm.CLASSES[1]


def simulated_french() -> tuple[list[str], list[str]]:
    """French posts of the simulator's templates (seeded), brand masked, with their tone."""
    import random

    from buzzwatch.offline import simulate
    from buzzwatch.text.brands import Brand, BrandMatcher

    rng = random.Random(11)
    matcher = BrandMatcher([Brand("Acme", handles=("@acme",), hashtags=("#acme",))])
    texts, tones = [], []
    for _ in range(SIM_TEXTS):
        tone = rng.choice(simulate.TONES)
        texts.append(matcher.mask(simulate._text(rng, "fr", tone, "Acme", "@acme", "acme", rng.random() < 0.2)))
        tones.append(tone)
    return texts, tones


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=REPO / "buzzwatch" / "data" / fm.MODEL_FILE)
    args = ap.parse_args(argv)
    if not (args.data / "french_tweets_dev.csv").is_file():
        print(f"train_french_model: {args.data}/french_tweets_dev.csv not found; pass --data DIR", file=sys.stderr)
        return 2
    rows = [r for r in load(args.data)["french"] if in_tune_split(r.key)]  # tune split only
    fr = analyzer("fr")
    texts = [_prepare(r.text) for r in rows]
    vader = [fr.polarity_scores(t) for t in texts]
    y = np.array([fm.CLASSES.index(r.label) for r in rows])
    counts = Counter(f for t in texts for f in fm.features(t))
    vocab = {f: i for i, f in enumerate(sorted(f for f, c in counts.items() if c >= MIN_COUNT))}
    n_features = len(vocab) + len(fm.DENSE)
    X = _design(texts, vader, vocab)
    truth = [r.label for r in rows]
    order = np.random.RandomState(0).permutation(len(y))
    oof = np.zeros((len(y), 3))
    for k in range(5):
        held = order[k::5]
        kept = np.setdiff1d(order, held)
        W, b = fit(_rows(X, kept), y[kept], n_features)
        Z = _forward(_rows(X, held), W, b)
        P = np.exp(Z - Z.max(1, keepdims=True))
        oof[held] = P / P.sum(1, keepdims=True)
    W, b = fit(X, y, n_features)
    names = sorted(vocab, key=vocab.get)
    weights = {f: fm.rounded(W[i]) for f, i in zip(names, range(len(vocab))) if np.abs(W[i]).max() >= PRUNE}
    model = fm.FrenchModel(weights, [fm.rounded(w) for w in W[len(vocab):]], fm.rounded(b), SCALE)
    sim_texts, sim_truth = simulated_french()
    sim_vader = [fr.polarity_scores(_prepare(t)) for t in sim_texts]
    vader_sim_acc = metrics(sim_truth, [_label(fm.from_vader(v["compound"])) for v in sim_vader])["accuracy"]
    print(f"VADER-FR alone: tune macro-F1 {metrics(truth, [_label(fm.from_vader(v['compound'])) for v in vader])['macro_f1']:.3f}, "
          f"simulated French traffic accuracy {vader_sim_acc:.3f}")
    best = None
    for gate in GATES:
        cv_labels = [fm.CLASSES[int(p.argmax())] if p.max() >= gate and _long_enough(t)
                     else _label(fm.from_vader(v["compound"])) for p, v, t in zip(oof, vader, texts)]
        cv_f1 = metrics(truth, cv_labels)["macro_f1"]
        model.confidence = gate
        sim_acc = metrics(sim_truth, [_label(model.compound(_prepare(t), v)) for t, v in zip(sim_texts, sim_vader)])["accuracy"]
        ok = sim_acc >= vader_sim_acc
        print(f"gate {gate:.2f}: out-of-fold tune macro-F1 {cv_f1:.3f}, simulated French accuracy {sim_acc:.3f}"
              f"{'' if ok else ' (below VADER-FR: refused)'}")
        if ok and (best is None or cv_f1 > best[1]):
            best = (gate, cv_f1)
    model.confidence = best[0] if best else 1.01  # 1.01: never trust the model
    print(f"chosen confidence gate: {model.confidence}")
    fm.save(model, args.out)
    print(f"trained on {len(y)} tune rows, {len(weights)} of {len(vocab)} features kept; wrote {args.out} "
          f"({args.out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
