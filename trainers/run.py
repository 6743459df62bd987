"""One training run end to end: train, save, evaluate the student (and checkpoints), print retention."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.trainers.config import TrainConfig
from harness.trainers.distill import load_card
from harness.trainers.evaluation import (
    EvalSettings,
    evaluate_model,
    format_retention,
    require_suites,
    retention_against,
    teacher_results_for,
    write_retention,
)
from harness.trainers.sft import CHECKPOINTS, train


def eval_settings(config: TrainConfig, card: dict[str, Any]) -> EvalSettings:
    suites = config.eval_suites or (list(config.suites) if config.method == "grpo" else sorted(card.get("suites", {})))
    first: dict[str, Any] = next(iter(card.get("suites", {}).values()), {})
    return EvalSettings(
        suites=require_suites(suites),
        limit=config.eval_limit,
        max_new_tokens=config.max_new_tokens,
        suite_seed=first.get("seed", 0),
        suite_size=first.get("size") if len({s.get("size") for s in card.get("suites", {}).values()}) == 1 else None,
    )


def check_inputs(config: TrainConfig, data_dir: str | None) -> None:
    """SFT trains on a distilled dataset (--data); GRPO on the train split of --suite, and takes no --data."""
    if config.method == "sft" and not data_dir:
        raise HarnessError("--data DIR is required with --method sft (a dataset written by 'harness distill')")
    if config.method == "grpo" and data_dir:
        raise HarnessError("--data is for --method sft; GRPO's prompts are the train split of --suite NAME")
    if config.method == "sft" and (config.suites or config.rows is not None):
        raise HarnessError("suites and rows (--suite, --rows) choose GRPO's prompts; --method sft trains on --data")


def train_and_evaluate(config: TrainConfig, student: str | None, data_dir: str | None, out_dir: str, resume: bool = False) -> dict[str, Any]:
    check_inputs(config, data_dir)
    out = Path(out_dir)
    if config.method == "grpo":
        from harness.trainers import grpo

        outcome = grpo.train(config, student, out, resume=resume)
    else:
        assert data_dir is not None
        outcome = train(config, student, data_dir, out, resume=resume)
    summary: dict[str, Any] = {"global_step": outcome.global_step, "model": str(outcome.model_dir), "metrics": outcome.metrics}
    if not config.eval:
        return summary
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized() and dist.get_rank() != 0:
        return summary  # under `accelerate launch`, rank 0 evaluates
    card = load_card(data_dir) if data_dir else {}
    settings = eval_settings(config, card)
    student_eval = evaluate_model(f"hf:{outcome.model_dir}", settings, out / "eval")
    teacher = teacher_results_for(config.teacher_results, card.get("teacher"), settings, out / "eval-teacher")
    print(f"student after {outcome.global_step} steps: " + ", ".join(
        f"{cap}={s.score:.3f}" for cap, s in student_eval[0].capabilities.items() if s.score is not None))
    if teacher is None:
        print("no teacher results for retention (pass --teacher-results)")
        return summary
    analysis = retention_against(teacher, student_eval)
    print(format_retention(analysis.rows + analysis.variants))
    write_retention(out / "retention.json", analysis, {"global_step": outcome.global_step})
    summary["retention"] = [asdict(r) for r in analysis.rows]
    if config.eval_checkpoints:
        per_checkpoint = {}
        for checkpoint in sorted((out / CHECKPOINTS).glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1])):
            evaluated = evaluate_model(f"hf:{checkpoint}", settings, out / "eval-checkpoints" / checkpoint.name)
            rows = retention_against(teacher, evaluated).rows
            per_checkpoint[checkpoint.name] = [asdict(r) for r in rows]
            print(f"{checkpoint.name}:\n{format_retention(rows)}")
        summary["checkpoints"] = per_checkpoint
        (out / "retention_checkpoints.json").write_text(json.dumps(per_checkpoint, indent=2) + "\n", encoding="utf-8")
    return summary
