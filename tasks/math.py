"""Perturbed grade-school math: multi-step word problems with GSM-Symbolic-style variants.

Each canonical test problem comes with perturbed twins linked by `canonical_id`:
  numbers@1     the same story with redrawn numbers (same ranges and digit counts)
  names@1       other people's names and other objects, same numbers
  distractor@1  an irrelevant clause that sounds relevant (GSM-NoOp)
  steps@1/@2    one / two added reasoning steps after the original answer (GSM-Symbolic P1 / P2)
  form@1/@2/@3  the same quantity asked in another unit / as a fraction / as a percentage
Every answer (and every intermediate) is cross-checked by solving the problem's equations with
sympy; a variant that fails the check is redrawn, never emitted. The train and dev splits hold
canonical problems only, drawn from their own seed streams and kept apart from test prompts.
"""

from __future__ import annotations

import random

from harness.scoring.numeric import extract_answer, is_equivalent
from harness.suite import SUITES, Suite
from harness.tasks._math_build import (
    INSTRUCTION,
    NAMES,
    OTHER_NAMES,
    OTHER_POOLS,
    POOLS,
    Problem,
    Rendered,
    draw_problem,
    make_context,
    render_base,
    render_distractor,
    render_form,
    render_steps,
    verify,
)
from harness.tasks._math_templates import TEMPLATES
from harness.types import Item, Message, Score, Variant

SPLIT_SHIFT = {"test": 0, "dev": 11, "train": 23}  # which template each split starts from
MAX_ATTEMPTS = 50


@SUITES.register("math")
class MathSuite(Suite):
    name = "math"
    capability = "math"
    version = "1"
    default_size = 40  # canonical test problems; about 9 test items each with the variants
    description = (
        f"{len(TEMPLATES)} multi-step word-problem templates; perturbations: numbers, names, distractor, "
        "steps (P1/P2), form (unit/fraction/percent); answers cross-checked with sympy."
    )

    def build(self) -> list[Item]:
        return self.build_instances(self._instance)

    def _instance(self, split: str, index: int, seen: set[str]) -> list[Item]:
        template = TEMPLATES[(index + SPLIT_SHIFT[split]) % len(TEMPLATES)]
        cid = f"math/{split}/{index:05d}"
        for attempt in range(MAX_ATTEMPTS):
            rng = self.rng(split, index, attempt)
            problem = draw_problem(template, rng, make_context(rng, template.pool, NAMES, POOLS))
            base = render_base(problem)
            if not verify(problem, base):
                continue
            canonical = self._item(cid, split, problem, base, Variant())
            if self.prompt_key(canonical) in seen:
                continue
            out = [canonical]
            if split == "test":
                out += self._variants(cid, problem, index)
            return out
        raise RuntimeError(f"math: no verified problem for {cid}")

    def _variants(self, cid: str, canonical: Problem, index: int) -> list[Item]:
        out = []
        makers = {
            ("numbers", 1): lambda rng: (p := draw_problem(canonical.template, rng, canonical.ctx, like=canonical), render_base(p)),
            ("names", 1): lambda rng: (p := self._renamed(canonical, rng), render_base(p)),
            ("distractor", 1): lambda rng: (canonical, render_distractor(canonical, rng)),
            ("steps", 1): lambda rng: (canonical, render_steps(canonical, rng, 1)),
            ("steps", 2): lambda rng: (canonical, render_steps(canonical, rng, 2)),
            ("form", 1): lambda rng: (canonical, render_form(canonical, "unit")),
            ("form", 2): lambda rng: (canonical, render_form(canonical, "fraction")),
            ("form", 3): lambda rng: (canonical, render_form(canonical, "percent")),
        }
        for (kind, level), make in makers.items():
            for attempt in range(MAX_ATTEMPTS):
                problem, rendered = make(self.rng("test", index, kind, level, attempt))
                if rendered is None:  # this form does not apply to this template
                    break
                if kind in ("numbers", "names", "distractor") and rendered.text == render_base(canonical).text:
                    break  # nothing to perturb here (a story without names, say)
                if verify(problem, rendered):
                    variant = Variant(kind=kind, level=level, canonical_id=cid)
                    out.append(self._item(f"{cid}/{kind}{level}", "test", problem, rendered, variant))
                    break
        return out

    @staticmethod
    def _renamed(p: Problem, rng: random.Random) -> Problem:
        return Problem(p.template, p.values, make_context(rng, p.template.pool, OTHER_NAMES, OTHER_POOLS))

    def _item(self, item_id: str, split: str, problem: Problem, r: Rendered, variant: Variant) -> Item:
        solution = "\n".join(r.steps)
        answer = r.answer_text.rstrip("%") if r.answer_text.endswith("%") else r.answer_text
        return Item(
            id=item_id,
            suite=self.name,
            capability=self.capability,
            split=split,
            variant=variant,
            messages=[Message(role="user", content=f"{INSTRUCTION}\n\n{r.text}")],
            answer=int(answer) if answer.lstrip("-").isdigit() else answer,
            solution=solution,
            reference_response=f"{solution}\nThe answer is {r.answer_text}.",
            metadata={
                "template": problem.template.key,
                "steps": len(r.steps),
                "tolerance": r.tolerance,
                "values": problem.values,
                "check": {"extension": list(r.extension), "params": {k: str(v) for k, v in r.params.items()}},
                **r.metadata,
            },
        )

    def score(self, item: Item, output: str) -> Score:
        answer = extract_answer(output)
        correct = is_equivalent(answer, item.answer, abs_tol=item.metadata.get("tolerance", 0.0))
        return Score(answer=answer, correct=correct, reason=None if correct else f"expected {item.answer}, got {answer}",
                     parsed=answer is not None)
