"""`harness train`: TRL's SFTTrainer on distilled chat data, loss on assistant tokens only.

The dataset is tokenized here (`input_ids` + `assistant_masks`, see masking.py) and handed to
SFTTrainer, which builds the labels, packs rows best-fit-decreasing without letting them attend to
each other (padding-free, position_ids restart per row), checkpoints and resumes. The final model
(LoRA adapters merged) is saved to RUN/model, loadable as `hf:RUN/model`.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.models.embedded import DEFAULT_EMBEDDED
from harness.trainers.config import TrainConfig

CHECKPOINTS = "checkpoints"
FINAL_MODEL = "model"
SUMMARY_FILE = "train_summary.json"


@dataclass
class TrainOutcome:
    """What a training run produced: the final model, its step and metrics."""

    model_dir: Path
    global_step: int
    resumed_from: str | None
    metrics: dict[str, Any] = field(default_factory=dict)
    train_rows: int = 0
    train_tokens: int = 0


def resolve_student(spec: str | None) -> Path:
    from harness.models.checkpoint import resolve_checkpoint
    from harness.models.spec import parse_model_spec

    model_spec = parse_model_spec(spec)
    if model_spec.scheme != "hf":
        raise HarnessError(f"the student must be a local transformers checkpoint (hf:PATH or an embedded name), got {spec!r}")
    checkpoint = resolve_checkpoint(model_spec.target)
    if not isinstance(checkpoint, Path):
        raise HarnessError(f"student {spec!r} is not a local checkpoint (no model hub access for training)")
    return checkpoint


def load_chat_dataset(data_dir: str | Path):
    from datasets import Dataset, load_from_disk

    path = Path(data_dir)
    if not (path / "dataset_info.json").is_file() and not (path / "state.json").is_file():
        raise HarnessError(f"{path} is not a dataset saved by 'harness distill' (no dataset_info.json)")
    dataset = load_from_disk(str(path))
    if not isinstance(dataset, Dataset):
        dataset = dataset["train"]
    if "messages" not in dataset.column_names:
        raise HarnessError(f"{path} has no 'messages' column (columns: {', '.join(dataset.column_names)})")
    if len(dataset) == 0:
        raise HarnessError(f"{path} holds no rows")
    return dataset


def tokenize_dataset(dataset: Any, tokenizer: Any):
    """input_ids + assistant_masks per row; TRL turns the masks into labels (-100 elsewhere)."""
    from harness.trainers.masking import tokenize_with_assistant_mask

    return dataset.map(
        lambda row: tokenize_with_assistant_mask(tokenizer, row["messages"]),
        remove_columns=dataset.column_names,
        desc="masking assistant tokens",
    )


def precision_args(config: TrainConfig) -> dict[str, bool]:
    """TRL's bf16 and fp16 as the config sets them; bf16 unset is the harness's auto, bf16 on a GPU that has it and
    fp32 elsewhere (TRL's unset bf16 would be bf16 on a CPU too)."""
    import torch

    fp16 = bool(config.fp16)
    bf16 = config.bf16
    if bf16 is None:
        bf16 = not fp16 and torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if (bf16 or fp16) and not torch.cuda.is_available():
        raise HarnessError(f"{'bf16' if bf16 else 'fp16'} training needs a GPU; on CPU set bf16: false (fp32)")
    return {"bf16": bool(bf16), "fp16": fp16}


def reporters(report_to: Any) -> list[str]:
    """TrainingArguments.report_to as a list of integrations ("none": none)."""
    if report_to in (None, "none"):
        return []
    return [report_to] if isinstance(report_to, str) else list(report_to)


def check_reporters(report_to: Sequence[str]) -> None:
    import importlib.util

    packages = {"tensorboard": "tensorboard", "wandb": "wandb"}
    for name in report_to:
        if name in packages and importlib.util.find_spec(packages[name]) is None:
            raise HarnessError(f"report_to {name} needs the '{packages[name]}' package: pip install {packages[name]}")


def training_args(trl_class: Any, config: TrainConfig, out_dir: Path, **fixed: Any) -> Any:
    """TRL's config object for a harness trainer (SFTConfig, GRPOConfig, GKDConfig), built from the composed config:
    the TRL settings this class has (sft.yaml's, the config file's, the flags'; TRL's defaults for the rest), and what
    the harness sets itself: the output folder, precision, data_seed following seed unless set, and `fixed`."""
    import dataclasses

    given = config.trl_kwargs({f.name for f in dataclasses.fields(trl_class) if f.init})
    check_reporters(reporters(given.get("report_to")))
    return trl_class(**{
        **given,
        "output_dir": str(out_dir / CHECKPOINTS),
        "data_seed": given.get("data_seed", config.seed),
        **precision_args(config),
        **fixed,
    })


def sft_config(config: TrainConfig, out_dir: Path):
    from trl import SFTConfig

    return training_args(SFTConfig, config, out_dir)


def peft_config(config: TrainConfig):
    if not config.lora:
        return None
    from peft import LoraConfig

    s = config.lora_settings
    return LoraConfig(r=s.r, lora_alpha=s.alpha, lora_dropout=s.dropout, target_modules=s.target_modules, task_type="CAUSAL_LM")


@contextmanager
def tensorboard_logdir(out_dir: Path) -> Iterator[None]:
    """TensorBoard's callback reads its log dir from the environment when the trainer is built:
    OUT/logs unless the user chose one."""
    import os

    user_logdir = os.environ.get("TENSORBOARD_LOGGING_DIR")
    os.environ["TENSORBOARD_LOGGING_DIR"] = user_logdir or str(out_dir / "logs")
    try:
        yield
    finally:
        if user_logdir is None:
            del os.environ["TENSORBOARD_LOGGING_DIR"]


def load_student(student_dir: Path, bf16: bool) -> tuple[Any, Any]:
    """(model, tokenizer) of a local checkpoint, the tokenizer with a pad token."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(student_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(student_dir, dtype="bfloat16" if bf16 else "float32")
    return model, tokenizer


def build_trainer(config: TrainConfig, student_dir: Path, data_dir: str | Path, out_dir: Path):
    from trl import SFTTrainer

    args = sft_config(config, out_dir)
    model, tokenizer = load_student(student_dir, args.bf16)
    dataset = tokenize_dataset(load_chat_dataset(data_dir), tokenizer)
    with tensorboard_logdir(out_dir):
        trainer = SFTTrainer(
            model=model,
            args=args,
            train_dataset=dataset,
            processing_class=tokenizer,
            peft_config=peft_config(config),
        )
    return trainer, tokenizer, dataset


def save_final(trainer: Any, tokenizer: Any, out_dir: Path, lora: bool) -> Path:
    target = out_dir / FINAL_MODEL
    model = trainer.model
    if lora:
        model = model.merge_and_unload()  # a plain checkpoint: every backend loads it
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)
    return target


def resume_checkpoint(out_dir: Path, resume: bool) -> str | None:
    """The last OUT/checkpoints/checkpoint-N to continue from (--resume), else None."""
    if not resume:
        return None
    from transformers.trainer_utils import get_last_checkpoint

    checkpoint_dir = out_dir / CHECKPOINTS
    resume_from = get_last_checkpoint(str(checkpoint_dir)) if checkpoint_dir.is_dir() else None
    if resume_from is None:
        raise HarnessError(f"--resume: no checkpoint in {checkpoint_dir}")
    return resume_from


def run_trainer(trainer: Any, out_dir: Path, resume_from: str | None, train_rows: int,
                train_tokens: int = 0) -> tuple[TrainOutcome, float]:
    """Train (on from `resume_from` when given): the outcome, its metrics with the wall time, and the seconds it took."""
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=resume_from)
    elapsed = time.perf_counter() - started
    outcome = TrainOutcome(
        model_dir=out_dir / FINAL_MODEL,
        global_step=trainer.state.global_step,
        resumed_from=resume_from,
        metrics={**result.metrics, "wall_s": round(elapsed, 2)},
        train_rows=train_rows,
        train_tokens=train_tokens,
    )
    return outcome, elapsed


def save_run(trainer: Any, tokenizer: Any, config: TrainConfig, out_dir: Path, outcome: TrainOutcome,
             about: dict[str, Any], details: dict[str, Any]) -> None:
    """The end of a run on the main process: the final model in OUT/model, and OUT/train_summary.json with `about`
    (the method, its models and data), the steps and rows, the method's own `details`, then the metrics, loss history
    and config every method records."""
    save_final(trainer, tokenizer, out_dir, config.lora)
    summary = {
        **about,
        "global_step": outcome.global_step,
        "resumed_from": outcome.resumed_from,
        "train_rows": outcome.train_rows,
        **details,
        "metrics": outcome.metrics,
        "loss_history": [h for h in trainer.state.log_history if "loss" in h],
        "config": config.model_dump(),
    }
    (out_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")


def train(config: TrainConfig, student: str | None, data_dir: str | Path, out_dir: str | Path, resume: bool = False) -> TrainOutcome:
    if config.method != "sft":
        raise HarnessError(f"method {config.method!r}: this trainer fine-tunes on distilled data (method sft)")
    out_dir = Path(out_dir)
    student_dir = resolve_student(student)
    resume_from = resume_checkpoint(out_dir, resume)
    trainer, tokenizer, dataset = build_trainer(config, student_dir, data_dir, out_dir)
    outcome, elapsed = run_trainer(trainer, out_dir, resume_from, len(dataset), sum(len(ids) for ids in dataset["input_ids"]))
    if trainer.is_world_process_zero():
        about = {"method": "sft", "student": str(student or DEFAULT_EMBEDDED), "student_dir": str(student_dir), "data": str(data_dir)}
        save_run(trainer, tokenizer, config, out_dir, outcome, about, {"train_tokens": outcome.train_tokens})
        print(f"harness: train: {outcome.global_step} steps in {elapsed:.1f}s; model saved to {outcome.model_dir}", file=sys.stderr)
    return outcome
