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


PROMPT_METHODS = ("grpo", "distill-on-policy")  # trained on the train split of --suite, not on --data


def eval_settings(config: TrainConfig, card: dict[str, Any]) -> EvalSettings:
    suites = config.eval_suites or (list(config.suites) if config.method in PROMPT_METHODS else sorted(card.get("suites", {})))
    first: dict[str, Any] = next(iter(card.get("suites", {}).values()), {})
    return EvalSettings(
        suites=require_suites(suites),
        limit=config.eval_limit,
        max_new_tokens=config.max_new_tokens,
        suite_seed=first.get("seed", 0),
        suite_size=first.get("size") if len({s.get("size") for s in card.get("suites", {}).values()}) == 1 else None,
    )


def check_inputs(config: TrainConfig, data_dir: str | None, teacher: str | None = None) -> None:
    """SFT trains on a distilled dataset (--data); GRPO and on-policy distillation on the train split of --suite,
    and take no --data; only on-policy distillation takes a --teacher model."""
    if config.method == "sft" and not data_dir:
        raise HarnessError("--data DIR is required with --method sft (a dataset written by 'harness distill')")
    if config.method in PROMPT_METHODS and data_dir:
        raise HarnessError(f"--data is for --method sft; the prompts of --method {config.method} are the train split of --suite NAME")
    if config.method == "sft" and (config.suites or config.rows is not None):
        raise HarnessError("suites and rows (--suite, --rows) choose GRPO's prompts (and on-policy distillation's); "
                           "--method sft trains on --data")
    if teacher and config.method != "distill-on-policy":
        raise HarnessError(f"--teacher is the model of --method distill-on-policy; --method {config.method} "
                           + ("learns from a teacher through --data (harness distill --teacher SPEC)" if config.method == "sft"
                              else "is rewarded by the suites' scorers"))


def train_and_evaluate(config: TrainConfig, student: str | None, data_dir: str | None, out_dir: str, resume: bool = False,
                       teacher: str | None = None) -> dict[str, Any]:
    check_inputs(config, data_dir, teacher)
    out = Path(out_dir)
    if config.method == "grpo":
        from harness.trainers import grpo

        outcome = grpo.train(config, student, out, resume=resume)
    elif config.method == "distill-on-policy":
        from harness.trainers import onpolicy

        outcome = onpolicy.train(config, student, teacher, out, resume=resume)
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
    if config.method == "distill-on-policy" and not config.teacher_results:
        assert teacher is not None
        teacher_eval = evaluate_model(teacher, settings, out / "eval-teacher")  # the teacher distilled from, on the same items
    else:
        teacher_eval = teacher_results_for(config.teacher_results, card.get("teacher"), settings, out / "eval-teacher")
    print(f"student after {outcome.global_step} steps: " + ", ".join(
        f"{cap}={s.score:.3f}" for cap, s in student_eval[0].capabilities.items() if s.score is not None))
    if teacher_eval is None:
        print("no teacher results for retention (pass --teacher-results)")
        return summary
    analysis = retention_against(teacher_eval, student_eval)
    print(format_retention(analysis.rows + analysis.variants))
    write_retention(out / "retention.json", analysis, {"global_step": outcome.global_step})
    summary["retention"] = [asdict(r) for r in analysis.rows]
    if config.eval_checkpoints:
        per_checkpoint = {}
        for checkpoint in sorted((out / CHECKPOINTS).glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1])):
            evaluated = evaluate_model(f"hf:{checkpoint}", settings, out / "eval-checkpoints" / checkpoint.name)
            rows = retention_against(teacher_eval, evaluated).rows
            per_checkpoint[checkpoint.name] = [asdict(r) for r in rows]
            print(f"{checkpoint.name}:\n{format_retention(rows)}")
        summary["checkpoints"] = per_checkpoint
        (out / "retention_checkpoints.json").write_text(json.dumps(per_checkpoint, indent=2) + "\n", encoding="utf-8")
    return summary
