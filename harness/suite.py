"""The suite concept: a seeded generator of items plus the scorer that checks answers.

A suite builds every item of every split once (deterministically from its version, seed and
size), and scores one output for one item. Subclasses register with `@SUITES.register(name)`.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from abc import ABC, abstractmethod
from collections import Counter, defaultdict
from collections.abc import Sequence
from functools import cached_property
from typing import Any, ClassVar

from harness.errors import HarnessError
from harness.registry import Registry
from harness.scoring.context import ScoringContext, takes_context
from harness.types import CAPABILITIES, Item, Message, Score, Variant

SUITES: Registry[type["Suite"]] = Registry(
    "suite", entry_point_group="harness.suites", builtin_packages=["harness.tasks"]
)


def known_capabilities() -> list[str]:
    """The built-in capabilities, then any new one a registered suite (a plug-in's) declares."""
    declared = {getattr(cls, "capability", None) for cls in SUITES.values()}
    return [*CAPABILITIES, *sorted(c for c in declared if isinstance(c, str) and c not in CAPABILITIES)]


def is_known_capability(name: str) -> bool:
    """Built-ins answer without loading the suite registry."""
    return name in CAPABILITIES or name in known_capabilities()


def normalise_prompt(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", "", text.lower())).strip()


def worked_solution(steps: Sequence[str], answer_text: object) -> dict[str, str]:
    """An item's `solution` (its steps, one a line) and `reference_response` (the steps, then "The answer is
    ANSWER.", the ending the step-by-step suites ask for and score)."""
    solution = "\n".join(steps)
    return {"solution": solution, "reference_response": f"{solution}\nThe answer is {answer_text}."}


class Suite(ABC):
    """A seeded generator of items in train, dev and test splits, with the scorer that checks answers."""

    name: ClassVar[str]
    capability: ClassVar[str]
    version: ClassVar[str] = "1"
    default_size: ClassVar[int] = 100  # canonical test items at the default size
    description: ClassVar[str] = ""
    # False: only run when named (--suite); not part of "every registered suite" (harness eval, make demo).
    default_selection: ClassVar[bool] = True
    # Token budget of an item (harness/token_budget.py): max_new_tokens, plus budget_per_level[kind]
    # per level of a ladder whose higher rungs need longer answers.
    max_new_tokens: ClassVar[int] = 256
    budget_per_level: ClassVar[dict[str, int]] = {}
    # True: scoring decides abstentions, so the run builds an abstention judge (--judge), hands it over in
    # the ScoringContext, and records its identity in results.json.
    needs_judge: ClassVar[bool] = False

    def __init__(self, seed: int = 0, size: int | None = None):
        self.seed = seed
        self.size = size if size is not None else self.default_size
        if self.size <= 0:
            raise HarnessError(f"suite {self.name}: --size must be positive, got {self.size}")

    # --- to implement -------------------------------------------------------------
    @abstractmethod
    def build(self) -> list[Item]:
        """Every item of every split, deterministic in (version, seed, size)."""

    @abstractmethod
    def score(self, item: Item, output: str, context: ScoringContext | None = None) -> Score:
        """Extract the answer from one model output and check it (`context`: the run's judge, see needs_judge)."""

    # Relative suites (style) score a student against the teacher's outputs on the same items,
    # so their scores are recomputed at retention time from both sets of records.
    relative: ClassVar[bool] = False

    def rescore_pairs(self, teacher: Sequence[Any], student: Sequence[Any]) -> tuple[list[float], list[float]]:
        """For relative suites: (teacher scores, student scores) from paired SampleRecords."""
        raise NotImplementedError

    # --- shared behaviour ---------------------------------------------------------
    def split_sizes(self) -> dict[str, int]:
        """Canonical instances per split, in build order: test = size, dev = size / 4, train = 4 × size."""
        return {"test": self.size, "dev": max(1, self.size // 4), "train": self.size * 4}

    def build_instances(self, make_instance) -> list[Item]:
        """Every split's instances in build order; `make_instance(split, index, seen)` returns one
        canonical item with its variants and may redraw while its prompt is already in `seen`."""
        items: list[Item] = []
        seen: set[str] = set()
        for split, size in self.split_sizes().items():
            for index in range(size):
                group = make_instance(split, index, seen)
                seen.update(self.prompt_key(it) for it in group)
                items.extend(group)
        return items

    def make_item(self, item_id: str, split: str, prompt: str, variant: Variant | None = None, **fields: Any) -> Item:
        """An item of this suite that asks `prompt` as one user message; `fields`: the rest of Item's
        (answer, solution, reference_response, metadata)."""
        return Item(id=item_id, suite=self.name, capability=self.capability, split=split,
                    variant=variant if variant is not None else Variant(), messages=[Message(role="user", content=prompt)],
                    **fields)

    def rng(self, *parts: object) -> random.Random:
        """A generator seeded by (suite, version, seed, *parts): the same draws on every machine."""
        return random.Random("|".join(map(str, (self.name, self.version, self.seed, *parts))))

    @staticmethod
    def prompt_key(item: Item) -> str:
        """The normalised prompt: two items with equal keys ask the same thing."""
        return normalise_prompt(" ".join(m.content for m in item.messages))

    def score_many(self, items: Sequence[Item], outputs: Sequence[str], context: ScoringContext | None = None) -> list[Score]:
        """Score a batch; suites with expensive scoring (sandboxed code) override this."""
        if not takes_context(type(self).score):  # a plug-in suite's score(item, output)
            return [self.score(item, output) for item, output in zip(items, outputs, strict=True)]
        return [self.score(item, output, context) for item, output in zip(items, outputs, strict=True)]

    def token_budget(self, item: Item) -> int:
        """New tokens this item may generate when no --max-new-tokens is given (before the reasoning factor)."""
        return self.max_new_tokens + self.budget_per_level.get(item.variant.kind, 0) * item.variant.level

    def vote_key(self, score: Score) -> str:
        """The key under which equal answers are pooled in a majority vote."""
        return json.dumps(score.answer, sort_keys=True, default=str)

    @cached_property
    def all_items(self) -> list[Item]:
        """Every item of every split: from the disk cache of built suites, else built and checked."""
        from harness import suite_cache

        items = suite_cache.load(self)
        if items is None:
            items = self.build()
            self._check(items)
            suite_cache.store(self, items)
        return items

    def items(
        self, split: str = "test", variants: Sequence[str] | None = None, limit: int | None = None, groups: int | None = None
    ) -> list[Item]:
        """The split's items (only `variants` when given), all of them or a small run's share.

        `limit`: at most N items from evenly spread problem groups, each group's canonical item and
        one twin of a rotating perturbation kind; `groups`: G whole groups, evenly spread; both: the
        groups first, then the limit (harness/selection.py). Deterministic in the suite alone.
        """
        chosen = [it for it in self.all_items if it.split == split]
        if variants:
            wanted = set(variants)
            chosen = [it for it in chosen if it.variant.kind in wanted]
        if limit is None and groups is None:
            return chosen
        from harness.selection import select_items

        return select_items(chosen, limit=limit, groups=groups)

    def content_hash(self, items: Sequence[Item] | None = None) -> str:
        """Hash over item ids, prompts and answers: equal hashes mean equal item sets."""
        h = hashlib.sha256()
        for item in self.all_items if items is None else items:
            row = {"id": item.id, "messages": [m.model_dump() for m in item.messages], "answer": item.answer}
            h.update(json.dumps(row, sort_keys=True, default=str).encode())
            h.update(b"\n")
        return h.hexdigest()[:16]

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, Counter[str]] = defaultdict(Counter)
        for it in self.all_items:
            out[it.split][it.variant.kind] += 1
        return {split: dict(c) for split, c in sorted(out.items())}

    def info(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "capability": self.capability,
            "version": self.version,
            "seed": self.seed,
            "size": self.size,
            "hash": self.content_hash(),
            "counts": self.counts(),
            "description": self.description,
        }

    def _check(self, items: list[Item]) -> None:
        ids = Counter(it.id for it in items)
        dupes = [i for i, n in ids.items() if n > 1]
        if dupes:
            raise AssertionError(f"suite {self.name}: duplicate item ids {dupes[:5]}")
        seen: dict[str, str] = {}
        for it in items:
            key = self.prompt_key(it)
            other = seen.setdefault(key, it.split)
            if other != it.split:
                raise AssertionError(f"suite {self.name}: item {it.id} ({it.split}) repeats a {other} prompt")
        by_id = {it.id: it for it in items}
        for it in items:
            cid = it.variant.canonical_id
            if not it.variant.is_canonical and (cid is None or cid not in by_id):
                raise AssertionError(f"suite {self.name}: perturbed item {it.id} has no canonical twin")


def score_batch(suite: Suite, items: Sequence[Item], outputs: Sequence[str], context: ScoringContext | None = None) -> list[Score]:
    """`suite.score_many` with the run's context, also for a plug-in suite whose score_many has no `context`."""
    if takes_context(type(suite).score_many):
        return suite.score_many(items, outputs, context=context)
    return suite.score_many(items, outputs)


def needs_judge(suite_names: Sequence[str]) -> bool:
    """Whether any of these registered suites decides abstentions (a name not registered here does not)."""
    return any(name in SUITES and getattr(SUITES.get(name), "needs_judge", False) for name in suite_names)


def default_suite_names() -> list[str]:
    """The suites a command runs when none is named (reasoning-gym suites must be named)."""
    return [name for name in SUITES.names() if SUITES.get(name).default_selection]


def get_suite(name: str, seed: int = 0, size: int | None = None) -> Suite:
    """An instance of the registered suite `name`, generated from `seed` at `size` (default: its own)."""
    return SUITES.get(name)(seed=seed, size=size)
