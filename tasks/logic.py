"""Perturbed logic: five families of generated puzzles with solver-checked short answers.

Families (taking turns by instance index): transitive ordering chains, categorical
syllogisms, ProntoQA-style multi-hop deduction, zebra puzzles, knights and knaves. Every
canonical test puzzle has perturbed twins (level 1, linked by `canonical_id`):
  invented   invented names / words instead of everyday ones
  hops       more hops or objects (longer chain, more islanders, one more house)
  shuffled   premises in another order
  negated    relations stated through negations (syllogisms and ProntoQA: a negated premise,
             verdict recomputed; elsewhere an equivalent negative phrasing or negative clues)
  belief     (syllogisms) real-world terms whose plausibility points the wrong way
Each answer comes from the generator's own construction and is re-derived by the family's
solver (brute force or constraint search); a puzzle on which the two disagree is redrawn,
never emitted. Labels are balanced by construction so that a constant answer scores at chance.
"""

from __future__ import annotations

import random
from types import ModuleType

from harness.scoring.logic import extract_choice, extract_label, extract_ordering
from harness.suite import SUITES, Suite
from harness.tasks import _logic_knights, _logic_ordering, _logic_prontoqa, _logic_syllogism, _logic_zebra
from harness.tasks._logic_common import Puzzle
from harness.types import Item, Message, Score, Variant

FAMILIES: list[tuple[str, ModuleType, list[str | None], tuple[str, ...]]] = [
    # (family, module, targets the canonical answers cycle through, perturbation kinds)
    ("ordering", _logic_ordering, ["True", "False", None], ("invented", "hops", "shuffled", "negated")),
    ("syllogism", _logic_syllogism, ["valid", "invalid"], ("invented", "shuffled", "negated", "belief")),
    ("prontoqa", _logic_prontoqa, ["True", "False", "Unknown"], ("invented", "hops", "shuffled", "negated")),
    ("zebra", _logic_zebra, [None], ("invented", "hops", "shuffled", "negated")),
    ("knights", _logic_knights, ["knight", "knave"], ("invented", "hops", "shuffled", "negated")),
]
INSTRUCTION = "Think it through step by step, then end with 'The answer is X', where X is your answer."
MAX_ATTEMPTS = 40


@SUITES.register("logic")
class LogicSuite(Suite):
    name = "logic"
    capability = "logic"
    version = "1"
    default_size = 65  # canonical test puzzles; 5 test items each with the variants
    description = "Ordering chains, syllogisms (with belief bias), ProntoQA multi-hop, zebra puzzles, knights and knaves."

    def build(self) -> list[Item]:
        return self.build_instances(self._instance)

    def _instance(self, split: str, index: int, seen: set[str]) -> list[Item]:
        family, module, targets, kinds = FAMILIES[index % len(FAMILIES)]
        target = targets[(index // len(FAMILIES)) % len(targets)]
        cid = f"logic/{split}/{index:05d}"
        for attempt in range(MAX_ATTEMPTS):
            rng = self.rng(split, index, attempt)
            spec = module.canonical(rng, target, index // len(FAMILIES))
            puzzle = module.render(spec, rng)
            if module.solve(spec) != puzzle.answer:
                continue
            canonical = self._item(cid, split, puzzle, Variant())
            if self.prompt_key(canonical) in seen:
                continue
            out = [canonical]
            if split == "test":
                out += self._variants(cid, module, spec, kinds, index, self.prompt_key(canonical))
            return out
        raise RuntimeError(f"logic: no verified {family} puzzle for {cid}")

    def _variants(self, cid: str, module: ModuleType, spec, kinds, index: int, canonical_key: str) -> list[Item]:
        out = []
        for kind in kinds:
            for attempt in range(MAX_ATTEMPTS):
                rng = self.rng("test", index, kind, attempt)
                perturbed = module.perturb(spec, kind, rng)
                if perturbed is None:  # this perturbation does not apply here
                    break
                puzzle = module.render(perturbed, rng)
                if module.solve(perturbed) != puzzle.answer:
                    continue
                item = self._item(f"{cid}/{kind}", "test", puzzle, Variant(kind=kind, level=1, canonical_id=cid))
                if self.prompt_key(item) != canonical_key:
                    out.append(item)
                    break
        return out

    def _item(self, item_id: str, split: str, puzzle: Puzzle, variant: Variant) -> Item:
        solution = "\n".join(puzzle.steps)
        return Item(
            id=item_id,
            suite=self.name,
            capability=self.capability,
            split=split,
            variant=variant,
            messages=[Message(role="user", content=f"{INSTRUCTION}\n\n{puzzle.prompt()}")],
            answer=puzzle.answer,
            solution=solution,
            reference_response=f"{solution}\nThe answer is {puzzle.answer_text()}.",
            metadata={"family": puzzle.family, "answer_type": puzzle.answer_type, "options": puzzle.options, **puzzle.metadata},
        )

    def score(self, item: Item, output: str) -> Score:
        kind, options = item.metadata["answer_type"], item.metadata["options"]
        if kind == "ordering":
            got = extract_ordering(output, options)
            correct = got == item.answer
        else:
            got = (extract_label if kind == "label" else extract_choice)(output, options)
            correct = got is not None and got.lower() == str(item.answer).lower()
        return Score(answer=got, correct=correct, reason=None if correct else f"expected {item.answer}, got {got}",
                     parsed=got is not None)
