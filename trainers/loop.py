"""The evaluation-driven data loop: measure retention, spend the next data budget where it is
lowest, distill, train, measure again; one report with retention per round.

    round 0: evaluate the student (and the teacher) on the test split
    round r: focus ← retention of round r-1; distill n rows with that focus (items not used before);
             train the round r-1 model on them; evaluate
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.trainers.config import TrainConfig
from harness.trainers.distill import DistillConfig, distill
from harness.trainers.evaluation import EvalSettings, evaluate_model, format_retention, retention_against, teacher_results_for
from harness.trainers.focus import focus_from_records
from harness.trainers.sft import train

REPORT_FILE = "loop_report.md"
JSON_FILE = "loop.json"


@dataclass
class LoopConfig:
    suites: list[str]
    teacher: str = "reference"
    student: str | None = None
    rounds: int = 2
    rows_per_round: int = 64
    teacher_results: str | None = None
    keep: str = "verified"
    samples: int = 1
    edge_ratio: float | None = None
    distill_max_new_tokens: int = 1024
    suite_seed: int = 0
    suite_size: int | None = None
    train: TrainConfig = field(default_factory=TrainConfig)
    progress: bool = True


@dataclass
class RoundResult:
    round: int
    model: str  # the model evaluated in this round
    trained_from: str | None  # the model this round fine-tuned (the previous round's)
    data: str | None
    rows: int
    focus: dict[str, float]
    retention: list[dict[str, Any]]
    variants: list[dict[str, Any]]
    scores: dict[str, float | None]


def _log(message: str) -> None:
    print(f"harness: loop: {message}", file=sys.stderr)


def run_loop(config: LoopConfig, out_dir: str | Path) -> list[RoundResult]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    settings = EvalSettings(
        suites=config.suites,
        limit=config.train.eval_limit,
        max_new_tokens=config.train.eval_max_new_tokens,
        suite_seed=config.suite_seed,
        suite_size=config.suite_size,
        progress=config.progress,
    )
    teacher = teacher_results_for(config.teacher_results, config.teacher, settings, out / "teacher-eval")
    if teacher is None:
        _log(f"evaluating the teacher {config.teacher} once on the test items")
        teacher = evaluate_model(config.teacher, settings, out / "teacher-eval")
    model = config.student
    previous: str | None = None
    used: set[str] = set()
    results: list[RoundResult] = []
    student_eval = evaluate_model(model or "smollm2-135m", settings, out / "round-0" / "eval")
    for round_index in range(config.rounds + 1):
        analysis = retention_against(teacher, student_eval)
        focus = focus_from_records(teacher[1], student_eval[1])
        results.append(
            RoundResult(
                round=round_index,
                model=str(model or "smollm2-135m"),
                trained_from=previous,
                data=str(out / f"round-{round_index}" / "data") if round_index else None,
                rows=0 if round_index == 0 else results_rows(out / f"round-{round_index}" / "data"),
                focus={**focus.capabilities, **focus.variants},
                retention=[asdict(r) for r in analysis.rows],
                variants=[asdict(r) for r in analysis.variants],
                scores={cap: s.score for cap, s in student_eval[0].capabilities.items()},
            )
        )
        _log(f"round {round_index}:\n{format_retention(analysis.rows + analysis.variants)}")
        write_report(config, results, out)
        if round_index == config.rounds:
            break
        next_round = out / f"round-{round_index + 1}"
        card = distill(
            DistillConfig(
                teacher=config.teacher,
                suites=config.suites,
                n=config.rows_per_round,
                keep=config.keep,
                samples=config.samples,
                temperature=0.7 if config.samples > 1 else 0.0,
                max_new_tokens=config.distill_max_new_tokens,
                edge_ratio=config.edge_ratio,
                focus=focus.capabilities,
                variant_focus=focus.variants,
                exclude_ids=frozenset(used),
                suite_seed=config.suite_seed,
                suite_size=config.suite_size,
                seed=round_index + 1,
                tokenizer=model,
                progress=config.progress,
            ),
            next_round / "data",
        )
        used.update(_row_ids(next_round / "data"))
        _log(f"round {round_index + 1}: {card['rows']} rows {card['per_capability']}")
        outcome = train(config.train, model, next_round / "data", next_round / "run")
        previous, model = str(model or "smollm2-135m"), f"hf:{outcome.model_dir}"
        student_eval = evaluate_model(model, settings, next_round / "eval")
    return results


def _row_ids(data_dir: Path) -> list[str]:
    from datasets import load_from_disk

    return list(load_from_disk(str(data_dir))["id"])


def results_rows(data_dir: Path) -> int:
    card = json.loads((data_dir / "data_card.json").read_text(encoding="utf-8"))
    return int(card["rows"])


def write_report(config: LoopConfig, results: list[RoundResult], out: Path) -> None:
    (out / JSON_FILE).write_text(
        json.dumps({"config": {**asdict(config), "train": config.train.model_dump()}, "rounds": [asdict(r) for r in results]}, indent=2, default=str) + "\n",
        encoding="utf-8",
    )
    labels: list[str] = []
    for r in results:
        for row in r.retention + r.variants:
            label = row["capability"] + ("" if "variant" not in row else f" {row['variant']}")
            if label not in labels:
                labels.append(label)

    def cell(r: RoundResult, label: str) -> str:
        for row in r.retention + r.variants:
            if row["capability"] + ("" if "variant" not in row else f" {row['variant']}") == label:
                score = "-" if row["student"] is None else f"{row['student']:.3f}"
                retention = "undef." if row["retention"] is None else f"{row['retention']:.1%}"
                return f"{retention} ({score})"
        return "-"

    header = "| capability / variant | " + " | ".join(f"round {r.round}" for r in results) + " |"
    lines = [
        "# Retention per round (harness loop)",
        "",
        f"teacher `{config.teacher}`, student `{config.student or 'smollm2-135m'}`, suites {', '.join(config.suites)}, "
        f"{config.rows_per_round} rows per round, eval limit {config.train.eval_limit} per suite. "
        "Cells: retention (student score). Round 0 is the student before any training.",
        "",
        header,
        "|" + "---|" * (len(results) + 1),
        *[f"| {label} | " + " | ".join(cell(r, label) for r in results) + " |" for label in labels],
        "",
        "| round | rows | focus weights that chose the next round's data |",
        "|---|---|---|",
        *[f"| {r.round} | {r.rows} | " + ", ".join(f"{k}={v:.2f}" for k, v in sorted(r.focus.items())) + " |" for r in results],
        "",
    ]
    (out / REPORT_FILE).write_text("\n".join(lines), encoding="utf-8")
