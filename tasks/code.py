"""Function synthesis: write a small Python function from a docstring and examples.

Instances come from the task families in `_code_families.py` (strings, lists, dicts,
sequences, parsing, small algorithms), each drawn with a seeded constant that appears in
the specification. The hidden tests (at least 10, edge inputs included) run in the
sandbox; an item is correct only when every hidden test passes (pass@1; see
harness.scoring.pass_at_k for pass@k over several samples).

Perturbations of each canonical test item:
- renamed: other function and parameter names;
- reworded: the same specification in other words;
- spec: a different constant, so a memorised solution of the canonical item fails;
- examples_order: the visible examples in another order;
- extra_tests: the canonical prompt with ten more hidden tests (stricter, EvalPlus-style).
"""

from __future__ import annotations

import json
import random
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from string import Template
from typing import Any

from harness.sandbox import Job, Limits, judge, run_many
from harness.sandbox.runner import encode
from harness.scoring.code_extract import extract_code
from harness.scoring.context import ScoringContext
from harness.suite import SUITES, Suite, normalise_prompt
from harness.tasks._code_families import FAMILIES, Family
from harness.types import Item, Score, Variant

SPLIT_OFFSETS = {"test": 0, "dev": 1_000_000, "train": 2_000_000}
PERTURBATIONS = ("renamed", "reworded", "spec", "examples_order", "extra_tests")
HIDDEN_TESTS = 10
EXTRA_TESTS = 10
SCORING_LIMITS = Limits(wall_seconds=10, cpu_seconds=5)
INSTRUCTION = (
    "Answer with the complete function definition in a single ```python code block. "
    "Use only the Python standard library."
)


@dataclass
class Task:
    """One concrete function-synthesis problem."""

    family: Family
    name: str
    params: tuple[str, ...]
    doc: str
    constant: Any
    source: str  # the reference solution
    examples: list[tuple[tuple, Any]]  # (arguments, return value) shown in the prompt
    tests: list[dict[str, Any]]  # hidden: {"args": [...], "expected": encoded value}

    def prompt(self) -> str:
        shown = "\n".join(f">>> {self.name}({', '.join(map(repr, args))})\n{value!r}" for args, value in self.examples)
        return (
            f"Write a Python function `{self.name}({', '.join(self.params)})`.\n\n{self.doc}\n\n"
            f"Examples:\n{shown}\n\n{INSTRUCTION}"
        )


def _json_args(args: Sequence[Any]) -> list[Any]:
    """Arguments exactly as the sandbox will see them (JSON round trip: tuples become lists)."""
    return json.loads(json.dumps(list(args)))


def _compile_reference(source: str, name: str):
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<reference {name}>", "exec"), namespace)  # trusted: our own reference code
    return namespace[name]


def make_task(family: Family, rng: random.Random, constant: Any, renamed: bool = False, reworded: bool = False,
              extra_tests: int = 0, example_order_seed: int | None = None) -> Task:
    """Instantiate a family; the same rng state gives the same inputs whatever the constant."""
    name = family.names[1 if renamed else 0]
    params = family.params[1 if renamed else 0]
    fields = {"a": params[0], "b": params[1] if len(params) > 1 else "", "c": repr(constant), "f": name}
    doc = Template(family.reworded if reworded else family.doc).substitute(fields)
    body = Template(family.body).substitute(fields)
    docstring = textwrap.indent(textwrap.fill(doc, 88), "    ").lstrip()
    source = f'def {name}({", ".join(params)}):\n    """{docstring}"""\n{body}'
    reference = _compile_reference(source, name)

    example_args = [_json_args(family.draw_input(rng, False, constant)) for _ in range(3)]
    hidden_args = [_json_args(args) for args in family.edges]
    while len(hidden_args) < HIDDEN_TESTS:
        hidden_args.append(_json_args(family.draw_input(rng, len(hidden_args) >= HIDDEN_TESTS - 2, constant)))
    for i in range(extra_tests):
        hidden_args.append(_json_args(family.draw_input(rng, i % 3 == 0, constant)))
    examples = [(tuple(args), reference(*json.loads(json.dumps(args)))) for args in example_args]
    if example_order_seed is not None:
        original = list(examples)
        random.Random(example_order_seed).shuffle(examples)
        if examples == original:
            examples.reverse()
    tests = [{"args": args, "expected": encode(reference(*json.loads(json.dumps(args))))} for args in hidden_args]
    return Task(family, name, params, doc, constant, source, examples, tests)


def _changed_constant(family: Family, rng_state: object, task: Task) -> Task:
    """A spec variant whose constant makes the canonical reference fail at least one hidden test."""
    draw = random.Random(repr(rng_state) + "/spec")
    canonical = _compile_reference(task.source, task.name)
    for _ in range(50):
        constant = family.draw_constant(draw)
        if constant == task.constant:
            continue
        rng = random.Random(repr(rng_state))
        family.draw_constant(rng)  # keep the input stream aligned with the canonical instance
        changed = make_task(family, rng, constant)
        stale = [encode(canonical(*json.loads(json.dumps(t["args"])))) for t in changed.tests]
        if any(json.dumps(s, sort_keys=True) != json.dumps(t["expected"], sort_keys=True) for s, t in zip(stale, changed.tests, strict=False)):
            return changed
    raise AssertionError(f"family {family.key}: no changed constant alters the answers")


@SUITES.register("code")
class CodeSuite(Suite):
    """Function tasks with hidden tests, run in the sandbox; perturbed prompts."""

    capability = "code"
    version = "1"
    default_size = 2 * len(FAMILIES)
    description = (
        f"Python function synthesis from {len(FAMILIES)} task families, hidden tests run in the sandbox; "
        "renamed, reworded, changed-spec, reordered-examples and extra-tests variants."
    )

    def build(self) -> list[Item]:
        items: list[Item] = []
        taken: set[str] = set()
        for split, size in self.split_sizes().items():
            for index in range(size):
                items.extend(self._instance(split, index, taken))
        return items

    def _instance(self, split: str, index: int, taken: set[str]) -> list[Item]:
        family = FAMILIES[index % len(FAMILIES)]
        for attempt in range(20):  # redraw on the rare prompt collision with another split
            state = (self.seed, SPLIT_OFFSETS[split] + index, attempt)
            rng = random.Random(repr(state))
            task = make_task(family, rng, family.draw_constant(rng))
            key = normalise_prompt(task.prompt())
            if key not in taken:
                break
        cid = f"code/{split}/{index:05d}"
        out = [self._item(cid, split, task, Variant())]
        if split != "test":
            taken.add(key)
            return out

        def again(**kwargs) -> Task:
            rng = random.Random(repr(state))
            return make_task(family, rng, family.draw_constant(rng), **kwargs)

        variants = {
            "renamed": again(renamed=True),
            "reworded": again(reworded=True),
            "spec": _changed_constant(family, state, task),
            "examples_order": again(example_order_seed=SPLIT_OFFSETS[split] + index),
            "extra_tests": again(extra_tests=EXTRA_TESTS),
        }
        for kind in PERTURBATIONS:
            out.append(self._item(f"{cid}/{kind}", split, variants[kind], Variant(kind=kind, level=1, canonical_id=cid)))
        for item in out:
            taken.add(normalise_prompt(item.messages[0].content))
        return out

    def _item(self, item_id: str, split: str, task: Task, variant: Variant) -> Item:
        return self.make_item(
            item_id, split, task.prompt(), variant,
            answer={"entry_point": task.name, "tests": task.tests},
            solution=task.source,
            reference_response=f"```python\n{task.source}```",
            metadata={
                "family": task.family.key,
                "constant": task.constant,
                "hidden_tests": len(task.tests),
                "entry_point": task.name,
                # the visible examples (already in the prompt): what `verify` may use without the answer
                "examples": [{"args": list(args), "expected": encode(value)} for args, value in task.examples],
            },
        )

    def score(self, item: Item, output: str, context: ScoringContext | None = None) -> Score:
        return self.score_many([item], [output], context)[0]

    def verify(self, item: Item, output: str) -> bool:
        """Answer-independent check for voting: the code passes the prompt's visible examples."""
        entry, examples = item.metadata["entry_point"], item.metadata["examples"]
        code = extract_code(output, entry)
        if code is None:
            return False
        result = run_many([Job(code, entry, [e["args"] for e in examples])], SCORING_LIMITS)[0]
        return judge(result, [e["expected"] for e in examples]).all_passed

    def score_many(self, items: Sequence[Item], outputs: Sequence[str], context: ScoringContext | None = None) -> list[Score]:
        """Extract every solution, then run all hidden tests in the sandbox pool in parallel."""
        codes = [extract_code(out, item.answer["entry_point"]) for item, out in zip(items, outputs, strict=True)]
        runnable = {i: code for i, code in enumerate(codes) if code is not None}
        jobs = [Job(code, items[i].answer["entry_point"], [t["args"] for t in items[i].answer["tests"]])
                for i, code in runnable.items()]
        results = dict(zip(runnable, run_many(jobs, SCORING_LIMITS), strict=True))
        scores = []
        for i, (item, code) in enumerate(zip(items, codes, strict=True)):
            if code is None:
                scores.append(Score(answer=None, correct=False, reason=f"no code defining {item.answer['entry_point']}()", parsed=False))
                continue
            tests = item.answer["tests"]
            verdict = judge(results[i], [t["expected"] for t in tests], [t["args"] for t in tests])
            scores.append(
                Score(
                    answer=code,
                    correct=verdict.all_passed,
                    reason=verdict.reason,
                    details={"passed": verdict.passed, "total": verdict.total, "sandbox": results[i].isolation,
                             "sandbox_mode": results[i].mode,
                             "seconds": round(results[i].seconds, 3)},
                )
            )
        return scores
