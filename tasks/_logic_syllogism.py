"""Categorical syllogisms: whether the conclusion follows (valid / invalid).

Forms are drawn from all moods and figures; validity is decided by brute force over every
model of three sets (which of the 8 regions of a Venn diagram are inhabited), keeping only
forms whose verdict is the same with and without existential import, so that no answer
depends on that convention. Perturbations: invented terms, swapped premise order, one
premise negated (All <-> No, Some <-> Some...not; the verdict is recomputed), and belief
bias: real categories where the conclusion's plausibility points the wrong way (a valid
argument with a false conclusion, or an invalid one with a true conclusion).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, replace
from functools import lru_cache

LABELS = ["valid", "invalid"]
NEUTRAL_TERMS = ["artists", "beekeepers", "chemists", "dancers", "engineers", "farmers", "gardeners", "hikers",
                 "jugglers", "knitters", "lawyers", "musicians", "painters", "sailors", "tailors", "writers"]
INVENTED_TERMS = ["wugs", "blickets", "daxes", "fepps", "glorbs", "toves", "zindles", "kwarps", "snorfs", "plimps",
                  "vexes", "quabs", "jorbles", "mimsies"]
# (species, genus, family, a wrong class for the genus): species ⊂ genus ⊂ family in the real world.
REAL_TRIPLES = [("poodles", "dogs", "animals", "reptiles"), ("roses", "flowers", "plants", "insects"),
                ("sparrows", "birds", "animals", "fish"), ("oaks", "trees", "plants", "animals"),
                ("salmon", "fish", "animals", "plants"), ("cobras", "snakes", "reptiles", "birds"),
                ("apples", "fruits", "foods", "metals"), ("squares", "rectangles", "shapes", "numbers"),
                ("tulips", "flowers", "plants", "mammals"), ("robins", "birds", "animals", "insects")]
MOODS = "AEIO"
TEMPLATES = {"A": "All {x} are {y}.", "E": "No {x} are {y}.", "I": "Some {x} are {y}.", "O": "Some {x} are not {y}."}
NEGATE = {"A": "E", "E": "A", "I": "O", "O": "I"}


@dataclass(frozen=True)
class Spec:
    premises: tuple[tuple[str, str, str], ...]  # (mood, subject, predicate) over the term names
    conclusion: tuple[str, str, str]
    terms: dict  # role (S, M, P) -> word
    swapped: bool = False
    belief: str | None = None  # "believable-invalid" / "unbelievable-valid"


MODELS = range(256)  # each model: a bitmask saying which of the 8 regions (over S, M, P) are inhabited


@lru_cache(maxsize=None)
def _truth(mood: str, x: int, y: int) -> int:
    """Bitmask over all 256 models of where the statement '<mood> x are y' holds."""
    out = 0
    for model in MODELS:
        regions = [r for r in range(8) if model >> r & 1]
        xy = any(r >> x & 1 and r >> y & 1 for r in regions)
        x_not_y = any(r >> x & 1 and not r >> y & 1 for r in regions)
        if {"A": not x_not_y, "E": not xy, "I": xy, "O": x_not_y}[mood]:
            out |= 1 << model
    return out


@lru_cache(maxsize=None)
def _inhabited_terms() -> int:
    """Models in which S, M and P all have members (existential import)."""
    return sum(1 << m for m in MODELS if all(any(m >> r & 1 and r >> i & 1 for r in range(8)) for i in range(3)))


def _valid(premises, conclusion, existential: bool) -> bool:
    roles = {"S": 0, "M": 1, "P": 2}
    models = (1 << 256) - 1 if not existential else _inhabited_terms()
    for mood, a, b in premises:
        models &= _truth(mood, roles[a], roles[b])
    counter = models & ~_truth(conclusion[0], roles[conclusion[1]], roles[conclusion[2]])
    return counter == 0


def _distributed(mood: str, position: int) -> bool:
    """Whether a statement distributes its subject (position 0) or predicate (position 1)."""
    return {"A": (True, False), "E": (True, True), "I": (False, False), "O": (False, True)}[mood][position]


def rules_verdict(spec: Spec) -> str:
    """The textbook rules of the syllogism (the generator's route; `solve` is the brute-force check)."""
    stated = list(spec.premises)
    middle_distributed = any(_distributed(m, (a, b).index("M")) for m, a, b in stated)
    ok = middle_distributed
    for term_index, term in ((0, spec.conclusion[1]), (1, spec.conclusion[2])):
        if _distributed(spec.conclusion[0], term_index):
            ok &= any(term in (a, b) and _distributed(m, (a, b).index(term)) for m, a, b in stated)
    negatives = sum(m in "EO" for m, _, _ in stated)
    ok &= negatives < 2 and (negatives == 1) == (spec.conclusion[0] in "EO")
    if all(m in "AE" for m, _, _ in stated):  # no existential import: universals give no particular
        ok &= spec.conclusion[0] in "AE"
    return "valid" if ok else "invalid"


def solve(spec: Spec) -> str | None:
    modern = _valid(spec.premises, spec.conclusion, existential=False)
    traditional = _valid(spec.premises, spec.conclusion, existential=True)
    return None if modern != traditional else ("valid" if modern else "invalid")


def _random_form(rng: random.Random):
    figure = rng.randint(1, 4)
    major = {1: ("M", "P"), 2: ("P", "M"), 3: ("M", "P"), 4: ("P", "M")}[figure]
    minor = {1: ("S", "M"), 2: ("S", "M"), 3: ("M", "S"), 4: ("M", "S")}[figure]
    return ((rng.choice(MOODS), *major), (rng.choice(MOODS), *minor)), (rng.choice(MOODS), "S", "P")


def canonical(rng: random.Random, target: str | None, index: int) -> Spec:
    words = rng.sample(NEUTRAL_TERMS, 3)
    terms = dict(zip("SMP", words, strict=True))
    while True:
        premises, conclusion = _random_form(rng)
        spec = Spec(premises, conclusion, terms)
        verdict = rules_verdict(spec)
        if target is None or verdict == target:
            return spec


BELIEF_FORMS = {
    # valid, but the conclusion is false in the real world: genus is placed in a wrong class
    "valid": [((("A", "M", "P"), ("A", "S", "M")), ("A", "S", "P"), "wrong"),
              ((("E", "M", "P"), ("A", "S", "M")), ("E", "S", "P"), "family")],
    # invalid, but every statement (the conclusion included) is true in the real world
    "invalid": [((("A", "P", "M"), ("A", "S", "M")), ("A", "S", "P"), "genus-mid"),
                ((("I", "M", "P"), ("A", "S", "M")), ("I", "S", "P"), "genus-mid")],
}


def perturb(spec: Spec, kind: str, rng: random.Random, level: int = 1) -> Spec | None:
    if kind == "invented":
        return replace(spec, terms=dict(zip("SMP", rng.sample(INVENTED_TERMS, 3), strict=True)))
    if kind == "shuffled":
        return replace(spec, swapped=True)
    if kind == "negated":  # negate one premise (and the conclusion too where that keeps the verdict)
        verdict = rules_verdict(spec)
        options = []
        for which, with_conclusion in itertools.product((0, 1), (False, True)):
            edited = list(spec.premises)
            mood, a, b = edited[which]
            edited[which] = (NEGATE[mood], a, b)
            conclusion = (NEGATE[spec.conclusion[0]], *spec.conclusion[1:]) if with_conclusion else spec.conclusion
            out = replace(spec, premises=tuple(edited), conclusion=conclusion)
            if rules_verdict(out) == verdict:  # keeps the label balance of the canonical items
                options.append(out)
        return rng.choice(options) if options else None
    if kind == "belief":
        verdict = rules_verdict(spec)
        premises, conclusion, roles = rng.choice(BELIEF_FORMS[verdict])
        species, genus, family, wrong = rng.choice(REAL_TRIPLES)
        terms = {"S": species, "M": genus, "P": wrong if roles == "wrong" else family}
        if roles == "genus-mid":
            terms = {"S": species, "M": family, "P": genus}
        label = "unbelievable-valid" if verdict == "valid" else "believable-invalid"
        return Spec(premises, conclusion, terms, belief=label)
    return None


def render(spec: Spec, rng: random.Random):
    from harness.tasks._logic_common import Puzzle

    sentences = [TEMPLATES[m].format(x=spec.terms[a], y=spec.terms[b]) for m, a, b in spec.premises]
    if spec.swapped:
        sentences.reverse()
    conclusion = TEMPLATES[spec.conclusion[0]].format(x=spec.terms[spec.conclusion[1]], y=spec.terms[spec.conclusion[2]])
    answer = rules_verdict(spec)
    premises = [f"Premise {i}: {s}" for i, s in enumerate(sentences, 1)] + [f"Conclusion: {conclusion}"]
    question = ("Judge only the logical form, not whether the statements are true in the real world. "
                "Does the conclusion follow necessarily from the premises? Answer valid or invalid.")
    reason = ("every situation in which both premises hold also makes the conclusion hold" if answer == "valid"
              else "there is a situation in which both premises hold but the conclusion does not")
    steps = [f"Form: {', '.join(spec.premises[i][0] for i in range(2))} ⇒ {spec.conclusion[0]}.",
             f"Checking every way the three groups can overlap: {reason}.", f"So the argument is {answer}."]
    return Puzzle("syllogism", premises, question, answer, "label", LABELS, steps,
                  metadata={"form": [list(p) for p in spec.premises] + [list(spec.conclusion)], "belief": spec.belief})
