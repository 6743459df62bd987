"""Checkpoint sweeps: evaluate every `checkpoint-N` folder of a training run, and read them back.

`harness eval --model hf:RUN_DIR --out OUT` with RUN_DIR holding checkpoint-* folders writes
OUT/checkpoint-N/results.json for each, skipping checkpoints whose results already exist
(so an interrupted sweep resumes). `harness report` reads OUT back as retention over steps.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from harness.results import RESULTS_FILE, Results, load_results
from harness.types import SampleRecord

CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")


def find_checkpoints(run_dir: str | Path) -> list[tuple[int, Path]]:
    """(step, path) of every checkpoint-N folder, by step."""
    root = Path(run_dir)
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        m = CHECKPOINT_RE.match(child.name)
        if m and child.is_dir():
            found.append((int(m.group(1)), child))
    return sorted(found)


def sweep_run_dir(model_spec: str | None) -> Path | None:
    """RUN_DIR when the spec is hf:RUN_DIR and RUN_DIR holds checkpoints but is no model itself."""
    if not model_spec or not model_spec.startswith("hf:"):
        return None
    run_dir = Path(model_spec[3:])
    if (run_dir / "config.json").is_file() or not find_checkpoints(run_dir):
        return None
    return run_dir


def run_sweep(
    run_dir: Path,
    out_dir: Path,
    evaluate: Callable[[str, Path], object],
    log: Callable[[str], None] = lambda m: print(m, file=sys.stderr),
) -> list[tuple[int, Path, bool]]:
    """Evaluate each checkpoint with `evaluate(model_spec, out)`; returns (step, out, evaluated_now)."""
    done = []
    for step, path in find_checkpoints(run_dir):
        out = out_dir / path.name
        if (out / RESULTS_FILE).is_file():
            log(f"harness: {path.name}: already evaluated in {out}, skipping")
            done.append((step, out, False))
            continue
        log(f"harness: {path.name}: evaluating into {out}")
        evaluate(f"hf:{path}", out)
        done.append((step, out, True))
    return done


def is_sweep_dir(path: str | Path) -> bool:
    p = Path(path)
    return p.is_dir() and not (p / RESULTS_FILE).is_file() and any((c / RESULTS_FILE).is_file() for _, c in find_checkpoints(p))


def load_sweep(path: str | Path) -> list[tuple[int, Results, list[SampleRecord]]]:
    """(step, results, records) for every evaluated checkpoint under a sweep output dir."""
    out = []
    for step, child in find_checkpoints(path):
        if (child / RESULTS_FILE).is_file():
            results, records = load_results(child)
            out.append((step, results, records))
    return out


def eval_sweep(run_dir: Path, out_dir: Path, config) -> int:
    """`harness eval --model hf:RUN_DIR`: evaluate each checkpoint of RUN_DIR into OUT/checkpoint-N/."""
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
        rows.append([step, "evaluated" if fresh else "skipped (already evaluated)", scores, str(out)])
    print(tabulate(rows, headers=["step", "status", "scores", "results"]))
    print(f"wrote {len(done)} checkpoints under {out_dir}; `harness report --teacher T {out_dir}` plots retention over steps")
    return 0
