"""Token budgets: how many new tokens an item may generate.

Each suite declares its budget (`Suite.max_new_tokens`, 256 unless a suite says otherwise) and may
grow it along a difficulty ladder (`Suite.budget_per_level`: the math steps ladder adds 64 tokens per
added step, so its 10-step rung gets 896 where its worked solution alone is ~430). A model that
thinks before answering (hf/vllm with native `<think>` tokens and thinking not switched off; the
backend's `thinking` attribute) gets `REASONING_FACTOR` times the suite's budget, so a Qwen3 or R1
student does not run out of tokens on easy rungs. An explicit `--max-new-tokens N` (a
`GenerationParams` whose `max_new_tokens` was set, pydantic's `model_fields_set`) overrides every
suite, rung and factor. Anthropic's extended thinking has its own budget (`--thinking-budget`),
which that backend adds on top; an openai: server's thinking is not visible here, so give
--max-new-tokens for a reasoning model behind one.

The budget each item got is part of its cache key (it is the `max_new_tokens` of the parameters it
was generated with) and is recorded per suite in results.json (`suites.NAME.token_budget`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from harness.types import Generation, GenerationParams, Item

if TYPE_CHECKING:
    from harness.suite import Suite

REASONING_FACTOR = 4


class TokenBudget(BaseModel):
    """The budgets a suite's items were generated with (results.json, per suite)."""

    max_new_tokens: int  # the budget of its canonical (level-0) items
    by_variant: dict[str, int] = Field(default_factory=dict)  # "steps@7" -> budget, where a rung's differs
    # "suite": the suite's own budgets; "flag": one budget for every item (--max-new-tokens, an lm-eval task's max_gen_toks)
    source: Literal["suite", "flag"] = "suite"
    reasoning_factor: int = 1  # REASONING_FACTOR when the model thinks, else 1


def explicit_budget(params: GenerationParams) -> int | None:
    """The budget the user set for every suite (--max-new-tokens), or None: each suite's own."""
    return params.max_new_tokens if "max_new_tokens" in params.model_fields_set else None


def item_budget(suite: "Suite", item: Item, params: GenerationParams, thinking: bool = False) -> int:
    if (explicit := explicit_budget(params)) is not None:
        return explicit
    return suite.token_budget(item) * (REASONING_FACTOR if thinking else 1)


def backend_thinks(backend: object) -> bool:
    return bool(getattr(backend, "thinking", False))


def generate_within_budgets(
    suite: "Suite",
    items: Sequence[Item],
    params: GenerationParams,
    thinking: bool,
    generate: Callable[[Sequence[Item], GenerationParams], list[list[Generation]]],
) -> list[list[Generation]]:
    """`generate(items, params)` once per distinct budget (in order of first appearance), answers in item order."""
    groups: dict[int, list[int]] = {}
    for i, item in enumerate(items):
        groups.setdefault(item_budget(suite, item, params, thinking), []).append(i)
    results: list[list[Generation]] = [[] for _ in items]
    for budget, indices in groups.items():
        answers = generate([items[i] for i in indices], params.model_copy(update={"max_new_tokens": budget}))
        for i, gens in zip(indices, answers, strict=True):
            results[i] = gens
    return results


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
