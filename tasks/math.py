"""Perturbed grade-school math: multi-step word problems with GSM-Symbolic-style variants.

Each canonical test problem comes with perturbed twins linked by `canonical_id`:
  numbers@1     the same story with redrawn numbers (same ranges and digit counts)
  names@1       other people's names and other objects, same numbers
  distractor@1  an irrelevant clause that sounds relevant (GSM-NoOp)
  steps@k       the steps ladder, k = 1, 2, 4, 6, 8, 10: the story goes on with k events that each
                transform the running quantity (add, take away, multiply, share out), so the problem
                needs k more operations than its canonical twin (2-5 steps) — up to 15 in all;
                steps@1/@2 keep their old meaning (GSM-Symbolic P1 / P2), now told as events
  magnitude@k   the magnitude ladder, k = 1, 2, 3: the same story with every number drawn from its
                range ×10^k (×10, ×100, ×1000), same structure and steps
  form@1/@2/@3  the same quantity asked in another unit / as a fraction / as a percentage
To keep the test split small, every canonical problem carries steps@1, steps@2, two of the four
upper steps rungs (4 and 8, or 6 and 10, alternating by index) and two of the three magnitude
rungs (rotating), so each rung is measured on a half or two thirds of the problems.
Items come canonical first, then its twins (the short ones before the long rungs); `--limit N`
takes N/2 problems spread over the split, each with one twin of a rotating kind (harness/selection.py).
Every answer (and every intermediate) is cross-checked by solving the problem's equations with
sympy; a variant that fails the check is redrawn, never emitted. The train and dev splits hold
canonical problems only, drawn from their own seed streams and kept apart from test prompts.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from harness.scoring.context import ScoringContext
from harness.scoring.numeric import extract_answer, is_equivalent, to_fraction
from harness.suite import SUITES, Suite, worked_solution
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
    render_magnitude,
    render_steps,
    verify,
)
from harness.tasks._math_templates import TEMPLATES
from harness.types import Item, Score, Variant

SPLIT_SHIFT = {"test": 0, "dev": 11, "train": 23}  # which template each split starts from
MAX_ATTEMPTS = 50
STEPS_LADDER = (1, 2, 4, 6, 8, 10)  # level k = k operations beyond the canonical problem
MAGNITUDE_LADDER = (1, 2, 3)  # level k = every range ×10^k


def ladder_rungs(index: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(steps levels, magnitude levels) the canonical test problem `index` carries."""
    low, high = STEPS_LADDER[:2], STEPS_LADDER[2:]  # every problem: 1, 2; then 4, 8 or 6, 10 by turns
    skipped = MAGNITUDE_LADDER[index % len(MAGNITUDE_LADDER)]
    return (*low, *high[index % 2 :: 2]), tuple(level for level in MAGNITUDE_LADDER if level != skipped)


@SUITES.register("math")
class MathSuite(Suite):
    """Multi-step math problems with difficulty ladders (steps, magnitude, form)."""

    capability = "math"
    version = "2"
    default_size = 40  # canonical test problems; about 12 test items each with the variants
    budget_per_level = {"steps": 64}  # each added step lengthens the worked solution by ~30 tokens (431 at 10 steps)
    description = (
        f"{len(TEMPLATES)} multi-step word-problem templates; perturbations: numbers, names, distractor, "
        "steps ladder (1-10 added operations as story events), magnitude ladder (×10/×100/×1000), "
        "form (unit/fraction/percent); answers cross-checked with sympy."
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
        steps_levels, magnitude_levels = ladder_rungs(index)
        steps = {level: (lambda rng, level=level: (canonical, render_steps(canonical, rng, level))) for level in steps_levels}
        magnitude = {level: (lambda rng, level=level: self._magnified(canonical, rng, level)) for level in magnitude_levels}
        lo_magnitude, hi_magnitude = magnitude_levels
        makers: dict[tuple[str, int], Callable[[random.Random], tuple[Problem, Rendered | None]]] = {  # short twins first (tasks show --n prints a canonical problem and its short twins)
            ("numbers", 1): lambda rng: (p := draw_problem(canonical.template, rng, canonical.ctx, like=canonical), render_base(p)),
            ("names", 1): lambda rng: (p := self._renamed(canonical, rng), render_base(p)),
            ("distractor", 1): lambda rng: (canonical, render_distractor(canonical, rng)),
            ("steps", 1): steps[1],
            ("magnitude", lo_magnitude): magnitude[lo_magnitude],
            ("form", 1): lambda rng: (canonical, render_form(canonical, "unit")),
            ("form", 2): lambda rng: (canonical, render_form(canonical, "fraction")),
            ("form", 3): lambda rng: (canonical, render_form(canonical, "percent")),
            ("steps", 2): steps[2],
            ("magnitude", hi_magnitude): magnitude[hi_magnitude],
            **{("steps", level): steps[level] for level in steps_levels[2:]},
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
    def _magnified(p: Problem, rng: random.Random, level: int) -> tuple[Problem, Rendered | None]:
        if not p.template.magnitude:
            return p, None
        big = draw_problem(p.template, rng, p.ctx, scale=10**level)
        if big is None:
            return p, None
        rendered = render_magnitude(big)
        rendered.metadata = {"magnitude": level, "scale": 10**level}
        return big, rendered

    @staticmethod
    def _renamed(p: Problem, rng: random.Random) -> Problem:
        return Problem(p.template, p.values, make_context(rng, p.template.pool, OTHER_NAMES, OTHER_POOLS))

    def _item(self, item_id: str, split: str, problem: Problem, r: Rendered, variant: Variant) -> Item:
        answer = r.answer_text.rstrip("%") if r.answer_text.endswith("%") else r.answer_text
        return self.make_item(
            item_id, split, f"{INSTRUCTION}\n\n{r.text}", variant,
            answer=int(answer) if answer.lstrip("-").isdigit() else answer,
            **worked_solution(r.steps, r.answer_text),
            metadata={
                "template": problem.template.key,
                "steps": len(r.steps),
                "tolerance": r.tolerance,
                "values": problem.values,
                "check": {"extension": list(r.extension), "params": {k: str(v) for k, v in r.params.items()}},
                **r.metadata,
            },
        )

    def score(self, item: Item, output: str, context: ScoringContext | None = None) -> Score:
        answer = extract_answer(output)
        correct = is_equivalent(answer, item.answer, abs_tol=item.metadata.get("tolerance", 0.0))
        if correct and isinstance(item.answer, int) and not item.metadata.get("tolerance"):
            # whole-number answers must match exactly: the float comparison's relative tolerance
            # would accept an off-by-one on the magnitude ladder's eight-digit answers
            parsed = to_fraction(answer) if answer is not None else None
            if parsed is not None:
                value, percent = parsed
                correct = value == item.answer or (percent and value / 100 == item.answer)
        return Score(answer=answer, correct=correct, reason=None if correct else f"expected {item.answer}, got {answer}",
                     parsed=answer is not None)
