"""Fit the "semantic" abstention judge's classifier and write its weights.

    .venv/bin/python bench/fit_abstention_classifier.py          # writes harness/scoring/data/abstention_classifier.json
    .venv/bin/python bench/fit_abstention_classifier.py --check  # refits and compares with the committed file
    .venv/bin/python bench/fit_abstention_classifier.py --depths 3 6  # how ENCODER_LAYERS was chosen (cost per depth)

Training rows: every row that the classifier decides at run time (not the replies that end by
stating a final answer, nor empty ones: harness.scoring.semantic.needs_classifier) of
- tests/data/abstention_corpus.jsonl (generated: "tune" and "heldout" parts), and
- the blind sets v1-v5 (TRAINING_SETS): 990 replies written by five helpers in their own words, each
  measured once as a blind set before it became training data here.
The sets written after them (HELD_OUT_SETS, v6-v10) are never read here: they are the blind
measurement of the judge these weights make (bench/abstention_judge.py).
Before the final fit, the same procedure is run without the corpus's "heldout" rows and the resulting
judge is scored on them (the corpus's own held-out check, stored in the file as "heldout_check").
`leave_one_set_out` estimates what a new writer's replies will see: each training set in turn is
left out of the fit and scored (bench/abstention_judge.py reports it; it is too slow to run here).
Features: harness.scoring.semantic.features (sentence embeddings of the conclusion, structured facts).

Model selection, seeded (SEED): the L2 penalty is the one with the lowest out-of-fold log loss in
FOLDS-fold cross-validation over the training rows, then the model is refitted on every training
row. The threshold is the decision rule for probabilities fitted by log loss when a false abstention
costs FALSE_WEIGHT missed ones (its goal is tighter): abstain when p >= FALSE_WEIGHT / (1 + FALSE_WEIGHT).
It replaced a cut chosen on out-of-fold probabilities, which swung between 0.49 and 0.85 with the
training rows and, at the high end, missed twice as many of the corpus's heldout abstentions.
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
DATA = ROOT / "tests" / "data"
CORPUS = DATA / "abstention_corpus.jsonl"
BLIND_SETS = {"v1": DATA / "abstention_blind.jsonl", **{f"v{k}": DATA / f"abstention_blind_v{k}.jsonl" for k in range(2, 11)}}
TRAINING_SETS = ("v1", "v2", "v3", "v4", "v5")  # measured blind once each, then made training data
HELD_OUT_SETS = ("v6", "v7", "v8", "v9", "v10")  # never read by this script
SEED = 20261202
FOLDS = 5
L2_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
FALSE_WEIGHT = 2.0


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def blind_rows(path: Path) -> list[dict]:
    """A blind set's rows ({"item_id", "reply", "abstains", "note"}) with the question each reply answers
    (the edge_cases test item's user message), the reply as "output" and the label as "abstains"."""
    from harness.suite import get_suite

    questions = {it.id: it.messages[-1].content for it in get_suite("edge_cases").items("test")}
    return [{**r, "question": questions[r["item_id"]], "output": r["reply"], "abstains": bool(r["abstains"])} for r in load(path)]


def load_rows() -> list[dict]:
    """The training rows: the corpus (its own "part"), then each training set's rows (part "blind", "set" its name)."""
    rows = load(CORPUS)
    for name in TRAINING_SETS:
        rows += [{"question": r["question"], "output": r["output"], "abstained": r["abstains"], "part": "blind", "set": name}
                 for r in blind_rows(BLIND_SETS[name])]
    return rows


def data_hashes() -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            for path in [CORPUS, *(BLIND_SETS[name] for name in TRAINING_SETS)]}


def readings(rows: list[dict]) -> list:
    from harness.scoring import semantic

    return [semantic.read(r["output"], r["question"]) for r in rows]


def sentence_vectors(reads: list, layers: int | None = None) -> dict:
    """Every conclusion sentence of the training rows, embedded once (by the encoder's first `layers` layers;
    None: the judge's ENCODER_LAYERS)."""
    from harness.scoring import semantic

    sentences = sorted({s for rd in reads for s in rd.conclusion})
    return dict(zip(sentences, semantic.embed(sentences, layers or semantic.ENCODER_LAYERS), strict=True))


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


def select_and_fit(x: np.ndarray, y: np.ndarray):
    """(classifier, how it was chosen): the L2 penalty by seeded cross-validation, then a refit; the cost-weighted threshold."""
    from harness.scoring import semantic

    folds = np.random.default_rng(SEED).permutation(len(y)) % FOLDS
    losses = {l2: log_loss(out_of_fold(x, y, l2, folds), y) for l2 in L2_GRID}
    l2 = min(losses, key=lambda k: (losses[k], k))
    oof = out_of_fold(x, y, l2, folds)
    threshold = FALSE_WEIGHT / (1 + FALSE_WEIGHT)
    weights, bias = semantic.fit_logistic(x, y, l2)
    chosen = {"l2": l2, "cv_log_loss": {str(k): round(v, 4) for k, v in losses.items()},
              "cv_missed": int(((y == 1) & (oof < threshold)).sum()), "cv_false": int(((y == 0) & (oof >= threshold)).sum()),
              "n_train": len(y), "n_train_abstained": int(y.sum())}
    return semantic.Classifier(weights, bias, threshold, meta={}), chosen


def scored(cls, rows: list[dict], reads: list, vectors: dict, chosen: list[int]) -> dict:
    """The judge with classifier `cls` on rows `chosen` (every one of them, the ones it never asks included)."""
    from harness.scoring import semantic

    p = cls.probability(semantic.features([reads[i] for i in chosen], vectors))
    pred = np.array([semantic.needs_classifier(reads[i]) and pi >= cls.threshold for i, pi in zip(chosen, p, strict=True)])
    y = np.array([bool(rows[i]["abstained"]) for i in chosen])
    return {"n": len(chosen), "agreement": round(float(np.mean(pred == y)), 4),
            "missed": f"{int((y & ~pred).sum())}/{int(y.sum())}", "false": f"{int((~y & pred).sum())}/{int((~y).sum())}"}


def heldout_check(rows: list[dict], reads: list, vectors: dict) -> dict:
    """The judge fitted without the corpus's heldout rows, scored on every one of them."""
    cls, _ = select_and_fit(*training_set(rows, reads, vectors, ("tune", "blind")))
    return scored(cls, rows, reads, vectors, [i for i, r in enumerate(rows) if r["part"] == "heldout"])


def leave_one_set_out(rows: list[dict] | None = None, reads: list | None = None, vectors: dict | None = None) -> dict[str, dict]:
    """For each training set: the judge fitted on everything else (corpus and the other sets), scored on it.
    `reads` and `vectors` (the rows' readings and sentence embeddings) are computed when not given."""
    rows = rows if rows is not None else load_rows()
    reads = reads if reads is not None else readings(rows)
    vectors = vectors if vectors is not None else sentence_vectors(reads)
    out = {}
    for name in TRAINING_SETS:
        train = [r if r.get("set") != name else {**r, "part": "left out"} for r in rows]
        cls, _ = select_and_fit(*training_set(train, reads, vectors, ("tune", "heldout", "blind")))
        out[name] = scored(cls, rows, reads, vectors, [i for i, r in enumerate(rows) if r.get("set") == name])
    return out


def fraction(text: str) -> tuple[int, int]:
    """"4/407" -> (4, 407): the counts `scored` writes."""
    k, n = text.split("/")
    return int(k), int(n)


def compare_depths(depths: list[int]) -> str:
    """How the encoder's depth is chosen: per depth, the corpus's heldout check and leaving each training set out;
    the judge's ENCODER_LAYERS is the depth of lowest cost (missed + FALSE_WEIGHT x false over both), ties to the shallower."""
    rows = load_rows()
    reads = readings(rows)
    lines = ["| encoder layers | corpus heldout: missed | false | training sets left out in turn: missed | false | cost |",
             "|---|---|---|---|---|---|"]
    for layers in depths:
        vectors = sentence_vectors(reads, layers)
        check = heldout_check(rows, reads, vectors)
        loso = leave_one_set_out(rows, reads, vectors)
        left_out = {k: [sum(fraction(m[k])[i] for m in loso.values()) for i in (0, 1)] for k in ("missed", "false")}
        cost = (fraction(check["missed"])[0] + left_out["missed"][0]
                + FALSE_WEIGHT * (fraction(check["false"])[0] + left_out["false"][0]))
        lines.append(f"| {layers} | {check['missed']} | {check['false']} | {'/'.join(map(str, left_out['missed']))} | "
                     f"{'/'.join(map(str, left_out['false']))} | {cost:g} |")
        print(lines[-1], flush=True)
    return "\n".join(lines)


def fit(rows: list[dict]) -> dict:
    """The classifier file's content (weights, threshold and how they were chosen)."""
    from harness.scoring import semantic

    reads = readings(rows)
    vectors = sentence_vectors(reads)
    check = heldout_check(rows, reads, vectors)
    cls, chosen = select_and_fit(*training_set(rows, reads, vectors, ("tune", "heldout", "blind")))
    cls.meta = {"judge": semantic.NAME, "version": semantic.VERSION, "seed": SEED, "folds": FOLDS, "false_weight": FALSE_WEIGHT,
                **chosen, "heldout_check": check, "training_data_sha256": data_hashes(), **semantic.embedding_identity(),
                "encoder_layers": semantic.ENCODER_LAYERS}
    return cls.to_json()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true", help="refit and compare with the committed weights")
    parser.add_argument("--depths", type=int, nargs="+", metavar="LAYERS",
                        help="only compare encoder depths (heldout check and leave-one-set-out per depth; minutes each)")
    args = parser.parse_args()
    if args.depths:
        print(compare_depths(args.depths))
        return 0
    from harness.scoring.semantic import WEIGHTS

    data = fit(load_rows())
    if args.check:
        committed = json.loads(WEIGHTS.read_text(encoding="utf-8"))
        diff = np.max(np.abs(np.array(committed["weights"]) - np.array(data["weights"])))
        same = {k: committed[k] == data[k] for k in ("l2", "n_train", "training_data_sha256", "embedding_sha256")}
        print(f"max |weight difference| {diff:.2e}; threshold {committed['threshold']} vs {data['threshold']}; {same}")
        return 0 if diff < 1e-3 and all(same.values()) else 1
    WEIGHTS.parent.mkdir(exist_ok=True)
    WEIGHTS.write_text(json.dumps(data, indent=None, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {WEIGHTS} ({WEIGHTS.stat().st_size} bytes): l2 {data['l2']}, threshold {data['threshold']:.3f}, "
          f"{data['n_train']} training rows, out-of-fold missed {data['cv_missed']} / false {data['cv_false']}; "
          f"fitted without the corpus's heldout rows, on them: {data['heldout_check']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
