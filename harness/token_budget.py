"""Token budgets: how many new tokens an item may generate.

One setting means the budget everywhere: `GenerationParams.max_new_tokens`, set by `--max-new-tokens`
in `harness eval`, `distill`, `train` and `loop` alike. `None` (the default) gives every item its
suite's own budget; a number gives every item that budget.

Each suite declares its budget (`Suite.max_new_tokens`, 256 unless a suite says otherwise) and may
grow it along a difficulty ladder (`Suite.budget_per_level`: the math steps ladder adds 64 tokens per
added step, so its 10-step rung gets 896 where its worked solution alone is ~430). A model that
thinks before answering (hf/vllm with native `<think>` tokens and thinking not switched off; the
backend's `thinking` attribute) gets `REASONING_FACTOR` times the suite's budget, so a Qwen3 or R1
student does not run out of tokens on easy rungs. An explicit `--max-new-tokens N` overrides every
suite, rung and factor. Anthropic's extended thinking has its own budget (`--thinking-budget`),
which that backend adds on top; an openai: server's thinking is not visible here, so give
--max-new-tokens for a reasoning model behind one. Distill prompts from a --prompts file belong
to no suite: they get `PROMPTS_BUDGET` (times the factor) unless --max-new-tokens is given.

The budget each item got is part of its cache key (it is the `max_new_tokens` of the parameters it
was generated with) and is recorded per suite in results.json (`suites.NAME.token_budget`). The
`reference` backend ignores budgets but is recorded with the budget it was asked for, so a
reference teacher and a student evaluated with the same flags record the same budgets.

Comparing runs (`harness retention`, `report`, `gate`; `budget_mismatch`): two runs' budgets
differ on a suite when some variant label both runs evaluated ("canonical", "steps@7", ...) was
*asked* for a different number of tokens. The asked budget is the recorded one divided by its
`reasoning_factor`: a thinking student at the suites' own budgets (x4) matches a teacher run at
the suites' own budgets, while `--max-new-tokens 512` against the suites' 256 differs. `source`
alone does not count (`--max-new-tokens 256` on a suite whose every compared item gets 256 is the
same budget). Results written before budgets were recorded (no `token_budget`) ran every item at
their `generation.max_new_tokens`, and are compared as that one budget. Such a difference is
refused (exit 2, naming the suite and both budgets) unless `--allow-budget-mismatch` is given; the
comparison then says so in its notes, marks the capability in the table and lists the differences
(`budget_mismatches` in JSON).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from harness.types import GenerationParams, Item

if TYPE_CHECKING:
    from harness.suite import Suite

REASONING_FACTOR = 4
DEFAULT_BUDGET = 256  # Suite.max_new_tokens unless a suite says otherwise; what a backend gets when no budget was resolved
PROMPTS_BUDGET = 1024  # distill prompts that belong to no suite (--prompts FILE), without --max-new-tokens


class TokenBudget(BaseModel):
    """The budgets a suite's items were generated with (results.json, per suite)."""

    max_new_tokens: int  # the budget of its canonical (level-0) items
    by_variant: dict[str, int] = Field(default_factory=dict)  # "steps@7" -> budget, where a rung's differs
    # "suite": the suite's own budgets; "flag": one budget for every item (--max-new-tokens, an lm-eval task's max_gen_toks)
    source: Literal["suite", "flag"] = "suite"
    reasoning_factor: int = 1  # REASONING_FACTOR when the model thinks, else 1


def explicit_budget(params: GenerationParams) -> int | None:
    """The budget the user set for every suite (--max-new-tokens), or None: each suite's own."""
    return params.max_new_tokens


def generation_budget(params: GenerationParams) -> int:
    """The budget a backend generates with: run_eval and distill resolve one per item first
    (`item_budget`); a direct caller that leaves max_new_tokens None gets DEFAULT_BUDGET."""
    return params.max_new_tokens if params.max_new_tokens is not None else DEFAULT_BUDGET


def item_budget(suite: "Suite", item: Item, params: GenerationParams, thinking: bool = False) -> int:
    if (explicit := explicit_budget(params)) is not None:
        return explicit
    return suite.token_budget(item) * (REASONING_FACTOR if thinking else 1)


def backend_thinks(backend: object) -> bool:
    return bool(getattr(backend, "thinking", False))


def budget_record(suite: "Suite", items: Sequence[Item], params: GenerationParams, thinking: bool = False) -> TokenBudget:
    explicit = explicit_budget(params)
    factor = REASONING_FACTOR if thinking and explicit is None else 1
    base = explicit if explicit is not None else suite.max_new_tokens * factor
    by_variant = {}
    for item in sorted(items, key=lambda it: (it.variant.kind, it.variant.level)):
        budget = item_budget(suite, item, params, thinking)
        if budget != base:
            by_variant[item.variant.label] = budget
    return TokenBudget(max_new_tokens=base, by_variant=by_variant,
                       source="flag" if explicit is not None else "suite", reasoning_factor=factor)


def prompt_budget(suite: "Suite | None", item: Item, params: GenerationParams, thinking: bool = False) -> int:
    """`item_budget`, and for an item of no suite (distill's --prompts) PROMPTS_BUDGET unless one is set."""
    if suite is not None:
        return item_budget(suite, item, params, thinking)
    explicit = explicit_budget(params)
    return explicit if explicit is not None else PROMPTS_BUDGET * (REASONING_FACTOR if thinking else 1)


# --- comparing the budgets of two runs -----------------------------------------------------------


def recorded_budget(token_budget: TokenBudget | None, generation: GenerationParams) -> TokenBudget | None:
    """A suite's recorded budget; results written before budgets were recorded ran every item at
    `generation.max_new_tokens`. None: not known."""
    if token_budget is not None:
        return token_budget
    if generation.max_new_tokens is not None:
        return TokenBudget(max_new_tokens=generation.max_new_tokens, source="flag")
    return None


def asked_budget(budget: TokenBudget, label: str) -> int:
    """The budget items of this variant label were asked for: generated with, less the reasoning factor."""
    return budget.by_variant.get(label, budget.max_new_tokens) // max(budget.reasoning_factor, 1)


def describe_budget(budget: TokenBudget) -> str:
    """`256 new tokens (steps@2 384, steps@3 448; each suite's own budget)` and the like."""
    rungs = list(budget.by_variant.items())
    shown = ", ".join(f"{label} {n}" for label, n in rungs[:3]) + (f", ... {rungs[-1][0]} {rungs[-1][1]}" if len(rungs) > 3 else "")
    how = "--max-new-tokens" if budget.source == "flag" else "each suite's own budget"
    if budget.reasoning_factor != 1:
        how += f", x{budget.reasoning_factor} for a model that thinks"
    return f"{budget.max_new_tokens} new tokens ({shown + '; ' if shown else ''}{how})"


@dataclass
class BudgetMismatch:
    """A suite whose teacher and student runs were asked for different token budgets."""

    suite: str
    teacher: dict[str, Any]  # TokenBudget as recorded (or derived for results that predate it)
    student: dict[str, Any]
    differ: dict[str, list[int]] = field(default_factory=dict)  # variant label -> [teacher, student] asked budget

    def describe(self) -> str:
        t, s = TokenBudget(**self.teacher), TokenBudget(**self.student)
        by_pair: dict[tuple[int, int], list[str]] = {}
        for label, (a, b) in self.differ.items():
            by_pair.setdefault((a, b), []).append(label)
        where = "; ".join(f"{a} vs {b} at {', '.join(labels[:3])}{f' and {len(labels) - 3} more' if len(labels) > 3 else ''}"
                          for (a, b), labels in by_pair.items())
        return (f"suite {self.suite}: teacher and student ran at different token budgets: teacher {describe_budget(t)}, "
                f"student {describe_budget(s)} (asked for, teacher vs student: {where})")


def _label_order(label: str) -> tuple[bool, str, int]:
    kind, _, level = label.partition("@")
    return label != "canonical", kind, int(level) if level.isdigit() else 0


def budget_mismatch(
    suite: str, teacher: TokenBudget | None, student: TokenBudget | None, labels: Iterable[str] | None = None
) -> BudgetMismatch | None:
    """How two runs' budgets on one suite differ (module docstring), or None when they agree or one is unknown.

    `labels`: the variant labels both runs evaluated; default: "canonical" and every label either records."""
    if teacher is None or student is None:
        return None
    wanted = sorted(set(labels) if labels is not None else {"canonical", *teacher.by_variant, *student.by_variant}, key=_label_order)
    differ = {label: [asked_budget(teacher, label), asked_budget(student, label)] for label in wanted}
    differ = {label: pair for label, pair in differ.items() if pair[0] != pair[1]}
    if not differ:
        return None
    return BudgetMismatch(suite, teacher.model_dump(), student.model_dump(), differ)


def budget_mismatches(
    teacher: Any, student: Any, labels: Mapping[str, Iterable[str]] | None = None
) -> list[BudgetMismatch]:
    """Every suite both Results hold whose budgets differ; `labels`: suite -> variant labels both evaluated."""
    out = []
    for name in sorted(set(teacher.suites) & set(student.suites)):
        found = budget_mismatch(
            name,
            recorded_budget(teacher.suites[name].token_budget, teacher.generation),
            recorded_budget(student.suites[name].token_budget, student.generation),
            None if labels is None else labels.get(name, ()),
        )
        if found is not None:
            out.append(found)
    return out
