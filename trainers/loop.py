"""The evaluation-driven data loop: measure retention, spend the next data budget where it is
lowest, distill, train, measure again; one report with retention per round.

    round 0: evaluate the student (and the teacher) on the test split
    round r: focus ← retention of round r-1; distill n rows with that focus (items not used before);
             train the round r-1 model on them; evaluate

`--method` picks how a round trains. sft (the default) distills teacher answers and fine-tunes on them;
grpo and distill-on-policy ask the teacher for no answers: the same focus draws n train-split prompts
(items not used before, behind the same guard) and the round's model is reinforced on them with the
suites' scorers (grpo), or distilled on its own samples from `--teacher`, which must then be a local
model sharing the student's tokenizer (distill-on-policy).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any

from harness.config import Arg
from harness.errors import HarnessError

from harness.models.embedded import DEFAULT_EMBEDDED
from harness.trainers.config import TrainConfig, loop_flag_classes
from harness.trainers.distill import DistillConfig, check_writable_dir, distill
from harness.trainers.evaluation import EvalSettings, evaluate_model, format_retention, retention_against, teacher_results_for
from harness.trainers.focus import Focus, focus_from_records
from harness.trainers.sft import TrainOutcome, train
from harness.types import Item

REPORT_FILE = "loop_report.md"
JSON_FILE = "loop.json"
PROMPTS_FILE = "prompts.json"  # round-N/: the prompts a grpo or distill-on-policy round trained on


def _loop_distill_defaults() -> DistillConfig:
    return DistillConfig(n=64)


@dataclass
class LoopConfig:
    """`harness loop`'s settings: its flags are generated from these fields (harness/config.py). Each
    round distills with `distill` (focus, excluded items, seed and tokenizer set per round) and trains
    with `train`; `distill.suites` (default: every default suite) are also the evaluation's suites, and
    `train.max_new_tokens` (--max-new-tokens) is the token budget of the teacher's answers and of every
    evaluation alike (default: each suite's own, as harness eval)."""

    student: Annotated[str | None, Arg(f"student checkpoint spec (default: {DEFAULT_EMBEDDED})")] = None
    rounds: Annotated[int, Arg("distill, train and evaluate rounds", positive=True)] = 2
    teacher_results: Annotated[str | None, Arg("teacher results on the same test items (default: evaluate the teacher)")] = None
    distill: Annotated[DistillConfig, Arg(fields={
        "teacher": Arg("teacher model spec (default: reference, offline)"),
        "suites": None,
        "n": Arg("new training rows per round", positive=True),
        "keep": None,
        "samples": None,
        "edge_ratio": None,
        "suite_seed": Arg("suite generation seed", flag="--seed"),
        "suite_size": Arg("suite size", flag="--size"),
    })] = field(default_factory=_loop_distill_defaults)
    config: Annotated[str | None, Arg("YAML training settings (see trainers/sft.yaml)", metavar="YAML")] = None
    train: Annotated[TrainConfig, Arg(fields={
        "method": Arg("how each round trains: sft on the round's distilled data; grpo or distill-on-policy on its prompts, "
                      "drawn by the same focus (distill-on-policy's teacher is --teacher, a local model)"),
        "trl": Arg(options=loop_flag_classes),  # LOOP_FLAGS, by TRL's names
        "lora": None,
        "eval_limit": Arg("test items per suite in each evaluation", positive=True),
        "max_new_tokens": Arg("generated tokens at most per item, for the teacher's answers and every evaluation "
                              "(default: each suite's own budget, as harness eval)", positive=True,
                              deprecated=("--eval-max-new-tokens", "--distill-max-new-tokens")),
    })] = field(default_factory=TrainConfig)
    progress: Annotated[bool, Arg("no progress bars or log lines on stderr")] = True
    out: Annotated[Path | None, Arg("loop directory (round-N/ subdirectories, loop_report.md, loop.json)", required=True,
                                    metavar="DIR")] = None  # run_loop's out_dir wins

    @property
    def suites(self) -> list[str]:
        from harness.suite import default_suite_names

        return list(self.distill.suites) or default_suite_names()

    @property
    def teacher(self) -> str:
        return self.distill.teacher


@dataclass
class RoundResult:
    """One round of the loop: the model evaluated, its data, focus and retention."""

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


def eval_settings(config: LoopConfig) -> EvalSettings:
    """How every round (and the teacher) is evaluated: harness eval's run_eval at the loop's budget."""
    return EvalSettings(
        suites=config.suites,
        limit=config.train.eval_limit,
        max_new_tokens=config.train.max_new_tokens,
        suite_seed=config.distill.suite_seed,
        suite_size=config.distill.suite_size,
        progress=config.progress,
    )


def round_distill_config(config: LoopConfig, focus: Any, used: set[str], round_index: int, model: str | None) -> DistillConfig:
    """The distill settings of round `round_index + 1`: the teacher answers at the evaluation's token budget."""
    return replace(
        config.distill,
        suites=config.suites,
        max_new_tokens=config.train.max_new_tokens,
        focus=focus.capabilities,
        variant_focus=focus.variants,
        exclude_ids=frozenset(used),
        seed=round_index + 1,
        tokenizer=model,
        progress=config.progress,
    )


def check_method(config: LoopConfig) -> None:
    """What the loop's --method needs, checked before any evaluation: on-policy distillation needs a teacher
    that gives logits over the student's vocabulary."""
    if config.train.method == "distill-on-policy":
        from harness.trainers.onpolicy import check_teacher

        check_teacher(config.teacher, config.student)


def round_train_config(config: LoopConfig) -> TrainConfig:
    """The training settings of a grpo or distill-on-policy round: its prompts are the loop's suites, n per round,
    behind the loop's contamination guard."""
    return config.train.model_copy(update={
        "suites": config.suites,
        "rows": config.distill.n,
        "contamination_n": config.distill.contamination_n,
        "contamination_threshold": config.distill.contamination_threshold,
    })


def round_prompts(config: LoopConfig, focus: Focus, used: set[str], round_index: int) -> tuple[list[Item], dict[str, Any]]:
    """The prompts of round `round_index + 1` for grpo and distill-on-policy: the focus draws them as it draws
    distill's items (per capability and perturbation kind, items not used before, mix seed round + 1)."""
    from harness.trainers.grpo import prompt_items

    return prompt_items(round_train_config(config), focus=focus, exclude_ids=used, seed=round_index + 1,
                        suite_seed=config.distill.suite_seed, suite_size=config.distill.suite_size)


def train_on_prompts(config: LoopConfig, model: str | None, prompts: tuple[list[Item], dict[str, Any]], run_dir: Path) -> TrainOutcome:
    train_config = round_train_config(config)
    if train_config.method == "grpo":
        from harness.trainers import grpo

        return grpo.train(train_config, model, run_dir, prompts=prompts)
    from harness.trainers import onpolicy

    return onpolicy.train(train_config, model, config.teacher, run_dir, prompts=prompts)


def write_prompts(items: list[Item], guard: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    per_capability: dict[str, int] = {}
    for item in items:
        per_capability[item.capability] = per_capability.get(item.capability, 0) + 1
    record = {"rows": len(items), "per_capability": dict(sorted(per_capability.items())), "ids": [it.id for it in items], "guard": guard}
    path.write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")


def run_loop(config: LoopConfig, out_dir: str | Path | None = None) -> list[RoundResult]:
    target = out_dir if out_dir is not None else config.out
    if target is None:
        raise HarnessError("loop needs an output folder (--out)")
    out = Path(target)
    check_writable_dir(out)
    check_method(config)
    out.mkdir(parents=True, exist_ok=True)
    settings = eval_settings(config)
    teacher = teacher_results_for(config.teacher_results, config.teacher, settings, out / "teacher-eval")
    if teacher is None:
        _log(f"evaluating the teacher {config.teacher} once on the test items")
        teacher = evaluate_model(config.teacher, settings, out / "teacher-eval")
    model = config.student
    previous: str | None = None
    used: set[str] = set()
    results: list[RoundResult] = []
    data: str | None = None  # what the round trained on: its distilled dataset, or its prompts.json
    rows = 0
    student_eval = evaluate_model(model or DEFAULT_EMBEDDED, settings, out / "round-0" / "eval")
    for round_index in range(config.rounds + 1):
        analysis = retention_against(teacher, student_eval)
        focus = focus_from_records(teacher[1], student_eval[1])
        results.append(
            RoundResult(
                round=round_index,
                model=str(model or DEFAULT_EMBEDDED),
                trained_from=previous,
                data=data,
                rows=rows,
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
        if config.train.method == "sft":
            card = distill(round_distill_config(config, focus, used, round_index, model), next_round / "data")
            used.update(_row_ids(next_round / "data"))
            data, rows = str(next_round / "data"), int(card["rows"])
            _log(f"round {round_index + 1}: {card['rows']} rows {card['per_capability']}")
            outcome = train(config.train, model, next_round / "data", next_round / "run")
        else:
            items, guard = round_prompts(config, focus, used, round_index)
            write_prompts(items, guard, next_round / PROMPTS_FILE)
            used.update(it.id for it in items)
            data, rows = str(next_round / PROMPTS_FILE), len(items)
            _log(f"round {round_index + 1}: {config.train.method} on {len(items)} prompts")
            outcome = train_on_prompts(config, model, (items, guard), next_round / "run")
        previous, model = str(model or DEFAULT_EMBEDDED), f"hf:{outcome.model_dir}"
        student_eval = evaluate_model(model, settings, next_round / "eval")
    return results


def _row_ids(data_dir: Path) -> list[str]:
    from datasets import load_from_disk

    return list(load_from_disk(str(data_dir))["id"])


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
        f"teacher `{config.teacher}`, student `{config.student or DEFAULT_EMBEDDED}`, suites {', '.join(config.suites)}, "
        f"method {config.train.method}, {config.distill.n} {'rows' if config.train.method == 'sft' else 'prompts'} per round, "
        f"eval limit {config.train.eval_limit} per suite. "
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
