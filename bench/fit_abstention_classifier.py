"""Fit the "semantic" abstention judge's classifier and write its weights.

    .venv/bin/python bench/fit_abstention_classifier.py          # writes harness/scoring/data/abstention_classifier.json
    .venv/bin/python bench/fit_abstention_classifier.py --check  # refits and compares with the committed file

Training rows: every row of tests/data/abstention_corpus.jsonl (v1 and v2, "tune" and "heldout"
parts) that the classifier decides at run time (not the replies that end by stating a final
answer, nor empty ones: harness.scoring.semantic.needs_classifier). Before that, the same
procedure is run on the "tune" rows alone and the resulting judge is scored on the "heldout" rows
(the corpus's own held-out check, stored in the file as "heldout_check"); the shipped weights then
use every row. The blind sets (tests/data/abstention_blind*.jsonl) are never read here.
Features: harness.scoring.semantic.features (sentence embeddings of the conclusion, structured facts).

Model selection, seeded (SEED): the L2 penalty is the one with the lowest out-of-fold log loss in
FOLDS-fold cross-validation over the training rows; the threshold is the out-of-fold probability
cut that minimises missed abstentions + FALSE_WEIGHT x false abstentions (a false abstention
costs more: the goal for it is tighter), then the model is refitted on every training row.
Newton's method makes the fit itself deterministic; the only seed is the fold assignment.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT / "tests" / "data" / "abstention_corpus.jsonl"
SEED = 20261202
FOLDS = 5
L2_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
FALSE_WEIGHT = 2.0


def load_rows(path: Path = CORPUS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def readings(rows: list[dict]) -> list:
    from harness.scoring import semantic

    return [semantic.read(r["output"], r["question"]) for r in rows]


def sentence_vectors(reads: list) -> dict:
    """Every conclusion sentence of the corpus, embedded once."""
    from harness.scoring import semantic

    sentences = sorted({s for rd in reads for s in rd.conclusion})
    return dict(zip(sentences, semantic.embed(sentences), strict=True))


def training_set(rows: list[dict], reads: list, vectors: dict, parts: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(feature matrix, labels) of the rows in `parts` that the classifier decides."""
    from harness.scoring import semantic

    chosen = [i for i, (r, rd) in enumerate(zip(rows, reads, strict=True)) if r["part"] in parts and semantic.needs_classifier(rd)]
    x = semantic.features([reads[i] for i in chosen], vectors)
    y = np.array([float(rows[i]["abstained"]) for i in chosen])
    return x, y


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def out_of_fold(x: np.ndarray, y: np.ndarray, l2: float, folds: np.ndarray) -> np.ndarray:
    from harness.scoring.semantic import fit_logistic

    p = np.zeros(len(y))
    for k in range(FOLDS):
        test = folds == k
        w, b = fit_logistic(x[~test], y[~test], l2)
        p[test] = 1.0 / (1.0 + np.exp(-(x[test] @ w + b)))
    return p


def choose_threshold(p: np.ndarray, y: np.ndarray) -> float:
    """The cut minimising missed + FALSE_WEIGHT x false abstentions (ties: the one nearest 0.5)."""
    candidates = np.unique(np.concatenate([p, [0.5]]))
    cost = [((y == 1) & (p < t)).sum() + FALSE_WEIGHT * ((y == 0) & (p >= t)).sum() for t in candidates]
    best = min(cost)
    ties = [t for t, c in zip(candidates, cost, strict=True) if c == best]
    t = min(ties, key=lambda v: abs(v - 0.5))
    # the midpoint between this probability and the next one below it, so the cut is not on a data point
    below = candidates[candidates < t]
    return float((t + below.max()) / 2) if len(below) else float(t)


def select_and_fit(x: np.ndarray, y: np.ndarray):
    """(classifier, how it was chosen): the L2 penalty and threshold by seeded cross-validation, then a refit."""
    from harness.scoring import semantic

    folds = np.random.default_rng(SEED).permutation(len(y)) % FOLDS
    losses = {l2: log_loss(out_of_fold(x, y, l2, folds), y) for l2 in L2_GRID}
    l2 = min(losses, key=lambda k: (losses[k], k))
    oof = out_of_fold(x, y, l2, folds)
    threshold = choose_threshold(oof, y)
    weights, bias = semantic.fit_logistic(x, y, l2)
    chosen = {"l2": l2, "cv_log_loss": {str(k): round(v, 4) for k, v in losses.items()},
              "cv_missed": int(((y == 1) & (oof < threshold)).sum()), "cv_false": int(((y == 0) & (oof >= threshold)).sum()),
              "n_train": len(y), "n_train_abstained": int(y.sum())}
    return semantic.Classifier(weights, bias, threshold, meta={}), chosen


def heldout_check(rows: list[dict], reads: list, vectors: dict) -> dict:
    """The judge fitted on the tune rows alone, scored on every heldout row (the gate included)."""
    from harness.scoring import semantic

    cls, _ = select_and_fit(*training_set(rows, reads, vectors, ("tune",)))
    held = [i for i, r in enumerate(rows) if r["part"] == "heldout"]
    x = semantic.features([reads[i] for i in held], vectors)
    p = cls.probability(x)
    pred = np.array([semantic.needs_classifier(reads[i]) and pi >= cls.threshold for i, pi in zip(held, p, strict=True)])
    y = np.array([rows[i]["abstained"] for i in held])
    return {"n": len(held), "agreement": round(float(np.mean(pred == y)), 4),
            "missed": f"{int((y & ~pred).sum())}/{int(y.sum())}", "false": f"{int((~y & pred).sum())}/{int((~y).sum())}"}


def fit(rows: list[dict]) -> dict:
    """The classifier file's content (weights, threshold and how they were chosen)."""
    from harness.scoring import semantic

    reads = readings(rows)
    vectors = sentence_vectors(reads)
    check = heldout_check(rows, reads, vectors)
    cls, chosen = select_and_fit(*training_set(rows, reads, vectors, ("tune", "heldout")))
    cls.meta = {"judge": semantic.NAME, "version": semantic.VERSION, "seed": SEED, "folds": FOLDS, "false_weight": FALSE_WEIGHT,
                **chosen, "heldout_check": check, "corpus": CORPUS.name,
                "corpus_sha256": hashlib.sha256(CORPUS.read_bytes()).hexdigest()[:16], **semantic.embedding_identity()}
    return cls.to_json()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true", help="refit and compare with the committed weights")
    args = parser.parse_args()
    from harness.scoring.semantic import WEIGHTS

    data = fit(load_rows())
    if args.check:
        committed = json.loads(WEIGHTS.read_text(encoding="utf-8"))
        diff = np.max(np.abs(np.array(committed["weights"]) - np.array(data["weights"])))
        same = {k: committed[k] == data[k] for k in ("l2", "n_train", "corpus_sha256", "embedding_sha256")}
        print(f"max |weight difference| {diff:.2e}; threshold {committed['threshold']} vs {data['threshold']}; {same}")
        return 0 if diff < 1e-3 and all(same.values()) else 1
    WEIGHTS.parent.mkdir(exist_ok=True)
    WEIGHTS.write_text(json.dumps(data, indent=None, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {WEIGHTS} ({WEIGHTS.stat().st_size} bytes): l2 {data['l2']}, threshold {data['threshold']:.3f}, "
          f"{data['n_train']} training rows, out-of-fold missed {data['cv_missed']} / false {data['cv_false']}; "
          f"tune-only fit on the heldout rows: {data['heldout_check']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
