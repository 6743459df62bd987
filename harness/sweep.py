"""Checkpoint sweeps: evaluate every checkpoint of a training run (and its final model), and read them back.

`harness eval --model hf:RUN_DIR --out OUT` accepts two run layouts:

    RUN_DIR/checkpoint-N/                      (a trainer's output_dir)
    RUN_DIR/checkpoints/checkpoint-N/ + RUN_DIR/model/   (what `harness train --out RUN_DIR` writes)

Each checkpoint is evaluated into OUT/checkpoint-N/, the final model into OUT/final/ (with
OUT/final/sweep_point.json naming its training step), skipping points whose results already
exist (so an interrupted sweep resumes). `harness report` reads OUT back as retention over steps.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.models.checkpoint import is_model_dir
from harness.results import RESULTS_FILE, Results, load_results
from harness.types import SampleRecord

CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")
CHECKPOINTS_SUBDIR = "checkpoints"  # harness train's layout (harness/trainers/sft.py)
FINAL_MODEL_SUBDIR = "model"
TRAIN_SUMMARY = "train_summary.json"
FINAL_LABEL = "final"
POINT_FILE = "sweep_point.json"  # OUT/final/: the final model's training step


@dataclass(frozen=True)
class SweepPoint:
    """One model of a training run to evaluate: a checkpoint-N folder or the final model."""

    step: int
    label: str  # the output folder name: checkpoint-N or final
    path: Path  # the model folder to evaluate (or, when reading back, the results folder)


def find_checkpoints(run_dir: str | Path) -> list[tuple[int, Path]]:
    """(step, path) of every checkpoint-N folder directly under run_dir, by step."""
    root = Path(run_dir)
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        m = CHECKPOINT_RE.match(child.name)
        if m and child.is_dir():
            found.append((int(m.group(1)), child))
    return sorted(found)


def _final_step(run_dir: Path, checkpoints: list[tuple[int, Path]]) -> int:
    """The global step from train_summary.json, else the last checkpoint's step."""
    try:
        return int(json.loads((run_dir / TRAIN_SUMMARY).read_text())["global_step"])
    except (OSError, ValueError, KeyError, TypeError):
        return checkpoints[-1][0] if checkpoints else 0


def find_sweep_points(run_dir: str | Path) -> list[SweepPoint]:
    """Every model of a training run in step order: checkpoint-N folders, then the final model."""
    root = Path(run_dir)
    checkpoints = find_checkpoints(root) + find_checkpoints(root / CHECKPOINTS_SUBDIR)
    checkpoints = sorted(c for c in checkpoints if is_model_dir(c[1]))
    points = [SweepPoint(step, path.name, path) for step, path in checkpoints]
    final = root / FINAL_MODEL_SUBDIR
    if final.is_dir() and is_model_dir(final):
        points.append(SweepPoint(_final_step(root, checkpoints), FINAL_LABEL, final))
    return points


def sweep_run_dir(model_spec: str | None) -> Path | None:
    """RUN_DIR when the spec is hf:RUN_DIR and RUN_DIR holds checkpoints or a final model but is no model itself."""
    if not model_spec or not model_spec.startswith("hf:"):
        return None
    run_dir = Path(model_spec[3:]).expanduser()
    if not run_dir.is_dir() or is_model_dir(run_dir) or not find_sweep_points(run_dir):
        return None
    return run_dir


def run_sweep(
    run_dir: Path,
    out_dir: Path,
    evaluate: Callable[[str, Path], object],
    log: Callable[[str], None] = lambda m: print(m, file=sys.stderr),
) -> list[tuple[int, Path, bool]]:
    """Evaluate each point with `evaluate(model_spec, out)`; returns (step, out, evaluated_now)."""
    done = []
    for point in find_sweep_points(run_dir):
        out = out_dir / point.label
        if (out / RESULTS_FILE).is_file():
            log(f"harness: {point.label}: already evaluated in {out}, skipping")
            done.append((point.step, out, False))
            continue
        log(f"harness: {point.label}: evaluating {point.path} into {out}")
        evaluate(f"hf:{point.path}", out)
        if point.label == FINAL_LABEL:
            (out / POINT_FILE).write_text(json.dumps({"step": point.step, "model": str(point.path)}) + "\n")
        done.append((point.step, out, True))
    return done


def evaluated_points(path: str | Path) -> list[SweepPoint]:
    """The evaluated points under a sweep output dir, in step order (the final model after a checkpoint of its step)."""
    root = Path(path)
    points = [SweepPoint(step, child.name, child) for step, child in find_checkpoints(root)]
    final = root / FINAL_LABEL
    if (final / RESULTS_FILE).is_file():
        try:
            step = int(json.loads((final / POINT_FILE).read_text())["step"])
        except (OSError, ValueError, KeyError, TypeError):
            step = points[-1].step if points else 0
        points.append(SweepPoint(step, FINAL_LABEL, final))
    points = [p for p in points if (p.path / RESULTS_FILE).is_file()]
    return sorted(points, key=lambda p: (p.step, p.label == FINAL_LABEL))


def is_sweep_dir(path: str | Path) -> bool:
    p = Path(path)
    return p.is_dir() and not (p / RESULTS_FILE).is_file() and bool(evaluated_points(p))


def load_sweep(path: str | Path) -> list[tuple[int, Results, list[SampleRecord]]]:
    """(step, results, records) for every evaluated point under a sweep output dir, in step order."""
    out = []
    for point in evaluated_points(path):
        results, records = load_results(point.path)
        out.append((point.step, results, records))
    return out


def eval_sweep(run_dir: Path, out_dir: Path, config) -> int:
    """`harness eval --model hf:RUN_DIR`: evaluate each checkpoint into OUT/checkpoint-N/, the final model into OUT/final/."""
    from dataclasses import replace

    from tabulate import tabulate

    from harness.evaluate import run_eval

    def evaluate(spec: str, out: Path) -> None:
        run_eval(replace(config, model=spec), out_dir=out)

    done = run_sweep(Path(run_dir), Path(out_dir), evaluate)
    rows = []
    for step, out, fresh in done:
        results, _ = load_results(out)
        scores = ", ".join(f"{cap} {s.score:.3f}" for cap, s in results.capabilities.items() if s.score is not None)
        rows.append([step, out.name, "evaluated" if fresh else "skipped (already evaluated)", scores, str(out)])
    print(tabulate(rows, headers=["step", "model", "status", "scores", "results"]))
    print(f"wrote {len(done)} models under {out_dir}; `harness report --teacher T {out_dir}` plots retention over steps")
    return 0
