"""Training configuration: defaults, then a YAML file (`--config sft.yaml`), then CLI flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from harness.errors import HarnessError


class LoraSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: str | list[str] = "all-linear"


class TrainConfig(BaseModel):
    """Everything `harness train` needs besides the student, the data and the output directory."""

    model_config = ConfigDict(extra="forbid")
    # optimisation
    learning_rate: float = 5e-5
    lr_scheduler_type: str = "cosine"
    warmup_ratio: float = 0.05
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    per_device_train_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    epochs: float = 1.0
    max_steps: int = -1  # > 0 overrides epochs
    seed: int = 0
    # sequences
    max_length: int = 1024
    packing: bool = True  # BFD packing, padding-free with per-sequence position_ids (no cross-attention)
    gradient_checkpointing: bool = False
    # LoRA (peft); `lora: true` on the CLI
    lora: bool = False
    lora_settings: LoraSettings = LoraSettings()
    # checkpoints and logging
    save_steps: int = 50
    save_total_limit: int | None = 3
    logging_steps: int = 5
    report_to: list[Literal["tensorboard", "wandb"]] = []
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"  # auto: bf16 on a GPU that has it, else fp32
    # evaluation after training
    eval: bool = True
    eval_suites: list[str] = []  # default: the suites the data came from
    eval_limit: int | None = 40
    eval_max_new_tokens: int = 256
    eval_checkpoints: bool = False  # also evaluate every saved checkpoint
    teacher_results: str | None = None  # default: evaluate the reference teacher when the data came from it

    @classmethod
    def load(cls, path: str | Path | None, overrides: dict[str, Any] | None = None) -> "TrainConfig":
        data: dict[str, Any] = {}
        if path is not None:
            import yaml

            p = Path(path)
            if not p.is_file():
                raise HarnessError(f"config file not found: {p}")
            try:
                loaded = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as exc:
                raise HarnessError(f"{p} is not valid YAML ({str(exc).splitlines()[0]})") from None
            if not isinstance(loaded, dict):
                raise HarnessError(f"{p} must be a mapping of settings")
            data.update(loaded)
        data.update({k: v for k, v in (overrides or {}).items() if v is not None})
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            raise HarnessError(f"training config: {where}: {first['msg']}") from None
