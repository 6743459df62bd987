"""`harness train --method distill-on-policy`: TRL's GKDTrainer, the student matching a local teacher's
next-token distributions on its own samples.

Why GKDTrainer (trl.experimental.gkd) rather than TRL's DistillationTrainer (promoted from
trl.experimental.distillation to `trl.DistillationTrainer`): both sample completions from the student
and minimise a generalized Jensen-Shannon divergence to the teacher's distribution at every completion
token, but only GKD has `lmbda`, the share of batches trained on the student's own samples. `lmbda: 1`
(the default here) is fully on-policy distillation (Agarwal et al. 2024, "On-Policy Distillation of
Language Models: Learning from Self-Generated Mistakes"); `lmbda < 1` mixes in batches scored on fixed
sequences, the items' reference answers (the suites' worked solutions) or, with `seq_kd`, the teacher's
own samples, which is how the paper compares on- and off-policy distillation. GKD computes the full
logits of both models (DistillationTrainer's chunked loss and vLLM generation are what a very large
vocabulary at long lengths would need instead).

The prompts are GRPO's: the train split of `--suite`, behind the data guard of SFT data (test items
refused, repeats dropped, prompt + reference answer checked against every test item's n-grams; see
grpo.prompt_items). The teacher must be able to give logits over the student's vocabulary: a local
transformers checkpoint (hf:PATH or an embedded name) whose tokenizer maps every token to the same id as
the student's and whose output layer is as wide. An API model, a vLLM engine and the `reference` teacher
return text, not distributions: they are refused (exit 2) with the way to distil from them instead
(`harness distill` + `--method sft`). Checkpoints, --resume and RUN/model are SFT's, so
`harness eval --model hf:RUN/model` and the `hf:RUN` checkpoint sweep read the run unchanged;
RUN/train_summary.json records the method, the teacher and the divergence settings.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.models.embedded import DEFAULT_EMBEDDED
from harness.trainers.config import TrainConfig
from harness.trainers.grpo import completion_budget, prompt_items, prompts_summary
from harness.trainers.sft import (
    TrainOutcome,
    load_student,
    peft_config,
    resolve_student,
    resume_checkpoint,
    run_trainer,
    save_run,
    tensorboard_logdir,
    training_args,
)
from harness.types import Item

METHOD = "distill-on-policy"
TRAINER = "trl.experimental.gkd.GKDTrainer"
INSTEAD = "use --method sft with data distilled from it instead (harness distill --teacher {spec} --out DATA; harness train --data DATA)"


# --- the teacher -----------------------------------------------------------------


def resolve_teacher(spec: str | None) -> Path:
    """The teacher's local checkpoint folder; a teacher that cannot give next-token distributions is a HarnessError."""
    from harness.models.checkpoint import resolve_checkpoint
    from harness.models.spec import parse_model_spec

    if not spec:
        raise HarnessError(f"--method {METHOD} needs --teacher SPEC: a local transformers model (hf:PATH or an embedded name) "
                           "that shares the student's tokenizer")
    model_spec = parse_model_spec(spec)
    instead = INSTEAD.format(spec=spec)
    if model_spec.scheme == "reference":
        raise HarnessError(f"teacher 'reference' (the suites' worked solutions) cannot provide logits: on-policy distillation "
                           f"scores every token the student samples with the teacher's next-token distribution; {instead}")
    if model_spec.scheme in ("anthropic", "openai"):
        raise HarnessError(f"teacher {spec!r} is an API model and cannot provide logits (it returns text, not next-token "
                           f"distributions over the student's vocabulary); {instead}")
    if model_spec.scheme == "vllm":
        raise HarnessError(f"teacher {spec!r}: the vLLM engine cannot provide logits here (it returns sampled tokens, not "
                           f"full next-token distributions); name the same checkpoint as hf:{model_spec.target}, or {instead}")
    if model_spec.scheme != "hf":
        raise HarnessError(f"teacher {spec!r} ({model_spec.scheme}: backend) cannot provide logits; the teacher of --method "
                           f"{METHOD} is a local transformers model (hf:PATH or an embedded name); or {instead}")
    checkpoint = resolve_checkpoint(model_spec.target)
    if not isinstance(checkpoint, Path):
        raise HarnessError(f"teacher {spec!r} is not a local checkpoint (no model hub access for training)")
    return checkpoint


def output_width(model_dir: Path) -> int:
    """Rows of the checkpoint's output layer (config vocab_size; can exceed the tokenizer's length)."""
    from transformers import AutoConfig

    from harness.models.checkpoint import adapter_base

    base = adapter_base(model_dir)
    return int(AutoConfig.from_pretrained(base or model_dir).get_text_config().vocab_size)


def vocabulary_mismatch(student_dir: Path, teacher_dir: Path) -> str | None:
    """Why the teacher's distributions cannot be compared with the student's id by id, or None when they can:
    the same token-to-id map (added tokens included) and output layers of the same width."""
    from transformers import AutoTokenizer

    student_vocab = AutoTokenizer.from_pretrained(student_dir).get_vocab()
    teacher_vocab = AutoTokenizer.from_pretrained(teacher_dir).get_vocab()
    if student_vocab != teacher_vocab:
        only_student = sorted(set(student_vocab) - set(teacher_vocab))
        only_teacher = sorted(set(teacher_vocab) - set(student_vocab))
        moved = sorted(t for t in set(student_vocab) & set(teacher_vocab) if student_vocab[t] != teacher_vocab[t])
        details = [f"{len(teacher_vocab)} tokens in the teacher's tokenizer, {len(student_vocab)} in the student's"]
        if moved:
            details.append(f"{len(moved)} tokens with other ids (e.g. {moved[0]!r}: teacher {teacher_vocab[moved[0]]}, "
                           f"student {student_vocab[moved[0]]})")
        if only_teacher:
            details.append(f"{len(only_teacher)} only in the teacher's (e.g. {only_teacher[0]!r})")
        if only_student:
            details.append(f"{len(only_student)} only in the student's (e.g. {only_student[0]!r})")
        return "they do not share a tokenizer: " + "; ".join(details)
    student_width, teacher_width = output_width(student_dir), output_width(teacher_dir)
    if student_width != teacher_width:
        return (f"their output layers differ ({teacher_width} rows in the teacher's, {student_width} in the student's) "
                "although the tokenizers match")
    return None


def check_teacher(teacher: str | None, student: str | None) -> tuple[Path, Path]:
    """(student dir, teacher dir) once the teacher can give logits over the student's vocabulary; else a HarnessError
    (checked before any model is loaded)."""
    teacher_dir = resolve_teacher(teacher)
    student_dir = resolve_student(student)
    mismatch = vocabulary_mismatch(student_dir, teacher_dir)
    if mismatch:
        raise HarnessError(f"teacher {teacher!r} and student {student or DEFAULT_EMBEDDED!r}: {mismatch}. On-policy distillation "
                           f"compares next-token distributions id by id, so it needs a teacher of the student's family "
                           f"(same tokenizer); {INSTEAD.format(spec=teacher)}")
    return student_dir, teacher_dir


# --- data and trainer ------------------------------------------------------------


def distill_dataset(items: Sequence[Item]):
    """GKD's conversational rows: the item's prompt and its reference answer (the off-policy sequence when
    lmbda < 1; on-policy batches replace it with the student's sample), plus the item's id and suite."""
    from datasets import Dataset

    return Dataset.from_list([
        {"messages": [*(m.model_dump() for m in item.messages), {"role": "assistant", "content": item.reference_response}],
         "item_id": item.id, "suite": item.suite}
        for item in items
    ])


def gkd_config(config: TrainConfig, out_dir: Path, max_new_tokens: int):
    from trl.experimental.gkd import GKDConfig

    # max_new_tokens is the completion budget (max_completion_length; the harness's max_new_tokens is the evaluation's);
    # GKD's collator takes each row whole (TRL refuses packing with it)
    return training_args(GKDConfig, config, out_dir, max_new_tokens=max_new_tokens, packing=False)


def load_teacher(teacher_dir: Path, bf16: bool):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(teacher_dir, dtype="bfloat16" if bf16 else "float32")


def build_trainer(config: TrainConfig, student_dir: Path, teacher_dir: Path, items: Sequence[Item], out_dir: Path):
    """(GKDTrainer, tokenizer) for these prompt items (already guarded) and a teacher already checked."""
    import logging

    from transformers import AutoTokenizer
    from trl.experimental.gkd import GKDTrainer

    from harness.backends.hf import thinks

    thinking = thinks(AutoTokenizer.from_pretrained(student_dir), None)
    args = gkd_config(config, out_dir, completion_budget(config, items, thinking))
    model, tokenizer = load_student(student_dir, args.bf16)
    gkd_logger = logging.getLogger("trl.experimental.gkd.gkd_trainer")
    level = gkd_logger.level
    gkd_logger.setLevel(logging.ERROR)  # its advice to migrate to DistillationTrainer at lmbda 1 (see the module docstring)
    try:
        with tensorboard_logdir(out_dir):
            trainer = GKDTrainer(
                model=model,
                teacher_model=load_teacher(teacher_dir, args.bf16),
                args=args,
                train_dataset=distill_dataset(items),
                processing_class=tokenizer,
                peft_config=peft_config(config),
            )
    finally:
        gkd_logger.setLevel(level)
    return trainer, tokenizer


def train(config: TrainConfig, student: str | None, teacher: str | None, out_dir: str | Path, resume: bool = False,
          prompts: tuple[list[Item], dict[str, Any]] | None = None) -> TrainOutcome:
    """`prompts`: the guarded items and the guard's report (default: prompt_items(config); harness loop
    chooses them by retention)."""
    if config.method != METHOD:
        raise HarnessError(f"method {config.method!r}: this trainer is on-policy distillation's (method {METHOD})")
    out_dir = Path(out_dir)
    student_dir, teacher_dir = check_teacher(teacher, student)
    resume_from = resume_checkpoint(out_dir, resume)
    items, guard = prompts or prompt_items(config)
    trainer, tokenizer = build_trainer(config, student_dir, teacher_dir, items, out_dir)
    outcome, elapsed = run_trainer(trainer, out_dir, resume_from, len(items))
    if trainer.is_world_process_zero():
        about = {
            "method": METHOD,
            "trainer": TRAINER,
            "student": str(student or DEFAULT_EMBEDDED),
            "student_dir": str(student_dir),
            "teacher": str(teacher),
            "teacher_dir": str(teacher_dir),
            "vocabulary": {"tokens": len(tokenizer.get_vocab()), "output_width": output_width(teacher_dir), "shared": True},
        }
        save_run(trainer, tokenizer, config, out_dir, outcome, about, {
            "prompts": prompts_summary(items, guard),
            "distillation": {
                "lmbda": trainer.args.lmbda,
                "beta": trainer.args.beta,
                "seq_kd": trainer.args.seq_kd,
                "off_policy_sequences": "teacher samples" if trainer.args.seq_kd else "reference answers",
                "temperature": trainer.args.temperature,
                "max_new_tokens": trainer.args.max_new_tokens,
                "generation_path": "transformers",
            },
        })
        print(f"harness: train: on-policy distillation from {teacher}, {outcome.global_step} steps in {elapsed:.1f}s; "
              f"model saved to {outcome.model_dir}", file=sys.stderr)
    return outcome
