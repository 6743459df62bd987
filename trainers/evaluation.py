"""Evaluate a trained student on the test split and compute retention against the teacher."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.retention import RetentionRow


@dataclass
class EvalSettings:
    """How train and loop evaluate a model (test split, a limit per suite), through harness eval's run_eval."""

    suites: list[str]
    limit: int | None = 40
    max_new_tokens: int | None = None  # None: each suite's own budget (harness/token_budget.py), as harness eval
    suite_seed: int = 0
    suite_size: int | None = None
    progress: bool = True


def eval_config(model: str, settings: EvalSettings):
    from harness.evaluate import EvalConfig
    from harness.types import GenerationParams

    return EvalConfig(
        model=model,
        suites=settings.suites,
        split="test",
        limit=settings.limit,
        suite_seed=settings.suite_seed,
        suite_size=settings.suite_size,
        generation=GenerationParams(max_new_tokens=settings.max_new_tokens),
        progress=settings.progress,
    )


def evaluate_model(model: str, settings: EvalSettings, out_dir: Path):
    from harness.evaluate import run_eval

    return run_eval(eval_config(model, settings), out_dir=out_dir)


def teacher_results_for(teacher_results: str | None, teacher_spec: str | None, settings: EvalSettings, out_dir: Path):
    """Given teacher results, or the reference teacher evaluated on the same items (free, offline)."""
    from harness.results import load_results

    if teacher_results:
        return load_results(teacher_results)
    if teacher_spec == "reference":
        return evaluate_model("reference", settings, out_dir)
    return None


def retention_against(teacher: Any, student: Any):
    """The full retention analysis (per capability and per variant) of student against teacher."""
    from harness.retention import analyse

    (t_results, t_records), (s_results, s_records) = teacher, student
    return analyse(t_results, t_records, s_results, s_records)


def format_retention(rows: list[RetentionRow]) -> str:
    from tabulate import tabulate

    def pct(row: RetentionRow) -> str:
        return f"undefined ({row.undefined_reason})" if row.retention is None else f"{row.retention:.1%}"

    def num(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    label = lambda r: r.capability if not hasattr(r, "variant") else f"{r.capability} {r.variant}"  # noqa: E731
    table = [[label(r), num(r.teacher), num(r.student), pct(r), r.n] for r in rows]
    return tabulate(table, headers=["capability", "teacher", "student", "retention", "n"])


def write_retention(path: Path, analysis: Any, extra: dict[str, Any] | None = None) -> None:
    path.write_text(json.dumps({**analysis.to_dict(), **(extra or {})}, indent=2, default=str) + "\n", encoding="utf-8")


def require_suites(suites: list[str]) -> list[str]:
    if not suites:
        raise HarnessError("no suites to evaluate on: the data card names none; pass --eval-suite")
    return suites
