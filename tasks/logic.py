"""Perturbed logic: five families of generated puzzles with solver-checked short answers.

Families (taking turns by instance index): transitive ordering chains, categorical
syllogisms, ProntoQA-style multi-hop deduction, zebra puzzles, knights and knaves. Every
canonical test puzzle has perturbed twins linked by `canonical_id`:
  invented@1   invented names / words instead of everyday ones
  shuffled@1   premises in another order
  negated@1    relations stated through negations (syllogisms and ProntoQA: a negated premise,
               verdict recomputed; elsewhere an equivalent negative phrasing or negative clues)
  belief@1     (syllogisms) real-world terms whose plausibility points the wrong way
and, for four families, a difficulty ladder (every canonical puzzle carries every rung, so
each rung is measured on the same problems; the question and its answer stay the same):
  links@k      ordering, k = 1..4: 2k more links inside the queried stretch (up to 14 links)
  hops@k       ProntoQA, k = 1..4: 2k more hops between the individual and the deciding rule
               (up to 11 hops)
  grid@k       zebra, k = 1..3: the same solution grown to 5x5, 5x6, 6x6 (houses x attributes)
  islanders@k  knights and knaves, k = 1, 2: k more islanders (up to 5)
Each answer comes from the generator's own construction and is re-derived by the family's
solver (brute force or constraint search); a puzzle on which the two disagree is redrawn,
never emitted. Labels are balanced by construction so that a constant answer scores at chance.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from harness.scoring.context import ScoringContext
from harness.scoring.logic import extract_choice, extract_label, extract_ordering
from harness.suite import SUITES, Suite, worked_solution
from harness.tasks import _logic_knights, _logic_ordering, _logic_prontoqa, _logic_syllogism, _logic_zebra
from harness.tasks._logic_common import Puzzle
from harness.types import Item, Score, Variant


@dataclass(frozen=True)
class Family:
    """A puzzle generator and the answers and perturbations it cycles through."""

    name: str
    module: ModuleType
    targets: tuple[str | None, ...]  # the canonical answers cycle through these
    kinds: tuple[str, ...]  # level-1 perturbations
    ladder: str | None = None  # the difficulty ladder's perturbation kind ...
    levels: tuple[int, ...] = ()  # ... and its rungs


FAMILIES = [
    Family("ordering", _logic_ordering, ("True", "False", None), ("invented", "shuffled", "negated"), "links", (1, 2, 3, 4)),
    Family("syllogism", _logic_syllogism, ("valid", "invalid"), ("invented", "shuffled", "negated", "belief")),
    Family("prontoqa", _logic_prontoqa, ("True", "False", "Unknown"), ("invented", "shuffled", "negated"), "hops", (1, 2, 3, 4)),
    Family("zebra", _logic_zebra, (None,), ("invented", "shuffled", "negated"), "grid", (1, 2, 3)),
    Family("knights", _logic_knights, ("knight", "knave"), ("invented", "shuffled", "negated"), "islanders", (1, 2)),
]
LADDERS = {f.ladder: f.levels for f in FAMILIES if f.ladder}  # kind -> rungs
INSTRUCTION = "Think it through step by step, then end with 'The answer is X', where X is your answer."
MAX_ATTEMPTS = 40


@SUITES.register("logic")
class LogicSuite(Suite):
    """Transitivity, syllogism, multi-hop, knights and knaves and grid puzzles with solver-checked answers."""

    capability = "logic"
    version = "2"
    default_size = 65  # canonical test puzzles; about 7 test items each with the variants and ladder rungs
    # Longer chains and bigger grids need longer worked answers (hops@4: ~250 tokens in the reference).
    budget_per_level = {"hops": 64, "grid": 64, "links": 32, "islanders": 64}
    description = ("Ordering chains, syllogisms (with belief bias), ProntoQA multi-hop, zebra puzzles, knights and knaves; "
                   "ladders: links@1-4 (up to 14 links), hops@1-4 (up to 11 hops), grid@1-3 (up to 6x6), "
                   "islanders@1-2 (up to 5).")

    def build(self) -> list[Item]:
        return self.build_instances(self._instance)

    def _instance(self, split: str, index: int, seen: set[str]) -> list[Item]:
        family = FAMILIES[index % len(FAMILIES)]
        module = family.module
        target = family.targets[(index // len(FAMILIES)) % len(family.targets)]
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
                out += self._variants(cid, family, spec, index, self.prompt_key(canonical))
            return out
        raise RuntimeError(f"logic: no verified {family.name} puzzle for {cid}")

    def _variants(self, cid: str, family: Family, spec, index: int, canonical_key: str) -> list[Item]:
        """The level-1 perturbations, then the ladder's rungs from the lowest up."""
        out = []
        module = family.module
        for kind, level in [*((k, 1) for k in family.kinds), *((family.ladder, k) for k in family.levels)]:
            for attempt in range(MAX_ATTEMPTS):
                rng = self.rng("test", index, kind, level, attempt)
                perturbed = module.perturb(spec, kind, rng, level)
                if perturbed is None:  # this perturbation does not apply here
                    break
                puzzle = module.render(perturbed, rng)
                if module.solve(perturbed) != puzzle.answer:
                    continue
                item = self._item(f"{cid}/{kind}{level}", "test", puzzle, Variant(kind=kind, level=level, canonical_id=cid))
                if self.prompt_key(item) != canonical_key:
                    out.append(item)
                    break
        return out

    def _item(self, item_id: str, split: str, puzzle: Puzzle, variant: Variant) -> Item:
        return self.make_item(
            item_id, split, f"{INSTRUCTION}\n\n{puzzle.prompt()}", variant,
            answer=puzzle.answer,
            **worked_solution(puzzle.steps, puzzle.answer_text()),
            metadata={"family": puzzle.family, "answer_type": puzzle.answer_type, "options": puzzle.options, **puzzle.metadata},
        )

    def score(self, item: Item, output: str, context: ScoringContext | None = None) -> Score:
        kind, options = item.metadata["answer_type"], item.metadata["options"]
        got: list[str] | str | None
        if kind == "ordering":
            got = extract_ordering(output, options)
            correct = got == item.answer
        else:
            got = (extract_label if kind == "label" else extract_choice)(output, options)
            correct = got is not None and got.lower() == str(item.answer).lower()
        return Score(answer=got, correct=correct, reason=None if correct else f"expected {item.answer}, got {got}",
                     parsed=got is not None)
