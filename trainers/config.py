"""Training configuration: defaults, then a YAML file (`--config sft.yaml`), then CLI flags."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from harness.config import Arg
from harness.errors import HarnessError


class LoraSettings(BaseModel):
    """LoRA adapter shape (peft), used with `lora: true`."""

    model_config = ConfigDict(extra="forbid")
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: str | list[str] = "all-linear"


class TrainConfig(BaseModel):
    """Everything `harness train` needs besides the student, the data and the output directory."""

    model_config = ConfigDict(extra="forbid")
    # sft: fine-tune on distilled data (--data); grpo: sample completions for the suites' train prompts and
    # reward them with the suites' own scorers (harness/trainers/grpo.py); distill-on-policy: sample them and
    # match a local teacher's next-token distributions on them (harness/trainers/onpolicy.py)
    method: Annotated[Literal["sft", "grpo", "distill-on-policy"], Arg(
        "sft: fine-tune on distilled data (--data); grpo: reinforce with the suites' own scorers as rewards (--suite); "
        "distill-on-policy: match a local teacher's token distributions on the student's own samples (--suite, --teacher)")] = "sft"
    # optimisation
    learning_rate: Annotated[float, Arg("learning rate", flag="--lr")] = 5e-5
    lr_scheduler_type: str = "cosine"
    warmup_ratio: float = 0.05
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    per_device_train_batch_size: Annotated[int, Arg("per-device train batch size", flag="--batch-size", positive=True)] = 8
    gradient_accumulation_steps: Annotated[int, Arg("gradient accumulation steps", flag="--grad-accum", positive=True)] = 1
    epochs: Annotated[float, Arg("passes over the data")] = 1.0
    max_steps: Annotated[int, Arg("stop after N optimizer steps (overrides --epochs)")] = -1  # > 0 overrides epochs
    seed: Annotated[int, Arg("training seed")] = 0
    # sequences
    max_length: Annotated[int, Arg("tokens per (packed) sequence", positive=True)] = 1024
    packing: Annotated[bool, Arg("pad rows instead of packing them")] = True  # BFD packing, padding-free with per-sequence position_ids (no cross-attention)
    gradient_checkpointing: bool = False
    # LoRA (peft); `lora: true` on the CLI
    lora: Annotated[bool, Arg("train LoRA adapters (peft), merged into model/ at the end")] = False
    lora_settings: LoraSettings = LoraSettings()
    # checkpoints and logging
    save_steps: Annotated[int, Arg("checkpoint every N steps", positive=True)] = 50
    save_total_limit: int | None = 3
    logging_steps: int = 5
    report_to: Annotated[list[Literal["tensorboard", "wandb"]], Arg("also log to (repeatable)")] = []
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"  # auto: bf16 on a GPU that has it, else fp32
    # evaluation after training
    eval: Annotated[bool, Arg("skip the evaluation after training")] = True
    eval_suites: Annotated[list[str], Arg("suites to evaluate on (default: those in the data)", flag="--eval-suite")] = []
    eval_limit: Annotated[int | None, Arg("test items per suite for the final evaluation", positive=True)] = 40
    # the token budget of the evaluation (and of harness loop's teacher answers): None, each suite's own, as harness eval
    max_new_tokens: Annotated[int | None, Arg(
        "generated tokens at most per item, for every suite (default: each suite's own budget, as harness eval)",
        positive=True, deprecated=("--eval-max-new-tokens",))] = None
    eval_checkpoints: Annotated[bool, Arg("also evaluate every saved checkpoint")] = False
    teacher_results: Annotated[str | None, Arg("teacher results.json to compute retention against "
                                               "(default: the reference teacher when the data came from it)")] = None
    # GRPO (method: grpo): prompts, group sampling, loss (TRL's GRPOConfig fields of the same names);
    # on-policy distillation shares the prompts, the completion length, the temperature and the guard
    suites: Annotated[list[str], Arg("grpo, distill-on-policy: suite whose train split gives the prompts (repeatable)",
                                     flag="--suite")] = []
    rows: Annotated[int | None, Arg("grpo, distill-on-policy: prompts drawn from those train splits, shared evenly by "
                                    "capability (default: every one)", positive=True)] = None
    num_generations: Annotated[int, Arg("grpo: completions sampled per prompt (the group whose rewards are compared)",
                                        minimum=2)] = 4
    max_completion_length: Annotated[int | None, Arg(
        "grpo, distill-on-policy: generated tokens at most per completion (default: the largest of the prompts' own "
        "suite budgets)", positive=True)] = None
    beta: Annotated[float, Arg("grpo: KL coefficient against the starting model (0: no reference model is loaded)",
                               minimum=0)] = 0.0
    temperature: Annotated[float, Arg("grpo, distill-on-policy: sampling temperature of the completions", positive=True)] = 1.0
    contamination_n: Annotated[int, Arg("grpo, distill-on-policy: word n-gram length for the contamination guard",
                                        positive=True)] = 13
    contamination_threshold: Annotated[float, Arg(
        "grpo, distill-on-policy: drop prompts containing more than this share of any test item's n-grams")] = 0.8
    # on-policy distillation (method: distill-on-policy): TRL's GKDConfig fields lmbda, beta (here jsd_beta: GRPO's
    # beta is a KL penalty, this one picks the divergence) and seq_kd
    lmbda: Annotated[float, Arg("distill-on-policy: share of batches on the student's own samples (1: fully on-policy; "
                                "the rest on the items' reference answers, or the teacher's samples with --seq-kd)",
                                minimum=0)] = 1.0
    jsd_beta: Annotated[float, Arg("distill-on-policy: the generalized JSD's interpolation (0: KL(teacher||student), "
                                   "1: KL(student||teacher), 0.5: JSD)", minimum=0)] = 0.5
    seq_kd: Annotated[bool, Arg("distill-on-policy: the off-policy batches (1 - lmbda) are sampled from the teacher "
                                "instead of the items' reference answers")] = False

    @model_validator(mode="before")
    @classmethod
    def _deprecated_keys(cls, data: Any) -> Any:
        """`eval_max_new_tokens` (a YAML key before the budget had one name) is `max_new_tokens`."""
        if isinstance(data, dict) and "eval_max_new_tokens" in data:
            import sys

            data = dict(data)
            old = data.pop("eval_max_new_tokens")
            if "max_new_tokens" in data and data["max_new_tokens"] != old:
                raise ValueError("give max_new_tokens only (eval_max_new_tokens is its deprecated name)")
            data["max_new_tokens"] = old
            print("harness: warning: training config key eval_max_new_tokens is deprecated; use max_new_tokens", file=sys.stderr)
        return data

    @model_validator(mode="after")
    def _grpo_settings(self) -> "TrainConfig":
        if self.num_generations < 2:
            raise ValueError("num_generations must be at least 2 (GRPO compares completions within a group)")
        if self.temperature <= 0:
            raise ValueError("temperature must be positive (GRPO samples its completions)")
        if self.beta < 0:
            raise ValueError("beta must be at least 0")
        for name in ("lmbda", "jsd_beta"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in [0, 1]")
        return self

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


@dataclass
class TrainRunConfig:
    """`harness train`'s settings: its flags are generated from these fields (harness/config.py);
    `train` is the YAML file's TrainConfig with the flags given on top."""

    student: Annotated[str | None, Arg("student checkpoint spec: hf:PATH or an embedded name (default: smollm2-135m)")] = None
    data: Annotated[str | None, Arg("dataset directory written by 'harness distill' (method sft; grpo and "
                                    "distill-on-policy take --suite)", metavar="DIR")] = None
    teacher: Annotated[str | None, Arg("distill-on-policy: the teacher, a local transformers model with the student's "
                                       "tokenizer (hf:PATH or an embedded name)", metavar="SPEC")] = None
    out: Annotated[str | None, Arg("run directory (checkpoints/, model/, eval/, retention.json)", required=True, metavar="DIR")] = None
    config: Annotated[str | None, Arg("YAML training settings (see trainers/sft.yaml); flags below override it", metavar="YAML")] = None
    resume: Annotated[bool, Arg("continue from the last checkpoint in OUT/checkpoints")] = False
    train: Annotated[TrainConfig, Arg()] = field(default_factory=TrainConfig)


def with_yaml_train_config(cls: type, args: Any) -> Any:
    """A config holding `config` (a YAML path) and `train`: the YAML's settings, the flags given over them."""
    from harness.config import build_config, given_values

    values = given_values(cls, args)
    return build_config(cls, values, train=TrainConfig.load(values.get("config"), values.get("train", {})))
