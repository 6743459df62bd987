"""Multi-hop deduction over a fictional ontology, ProntoQA style (1 to 11 hops).

'Every wumpus is a yumpus. Every yumpus is a zumpus. Every zumpus is not bright. Max is a
wumpus. True, False or Unknown: Max is bright.' Distractor rules talk about concepts Max does
not belong to. Perturbations: invented concept and property words and names, shuffled rules,
the deciding rule negated (the verdict flips), and the hops ladder: hops@k puts 2k more
concepts between the individual's kind and the deciding rule (canonical 1-3 hops, up to 11
on hops@4), same question and answer. The solver enumerates
every truth assignment of every atom for the individual (numpy bitmasks) and reports what
holds in all models of the rules.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

import numpy as np

from harness.tasks._logic_common import EVERYDAY_NAMES, INVENTED_NAMES, Puzzle

LABELS = ["True", "False", "Unknown"]
CONCEPTS = ["wumpus", "yumpus", "zumpus", "dumpus", "rompus", "numpus", "tumpus", "vumpus", "impus", "jompus",
            "gorpus", "shumpus", "lorpus", "brimpus", "sterpus"]
INVENTED_CONCEPTS = ["blicket", "dax", "fepp", "glorb", "tove", "zindle", "kwarp", "snorf", "plimp", "quab", "jorble",
                     "mimsy", "florn", "grack", "wibble"]
PROPERTIES = ["bright", "cold", "sour", "shiny", "large", "fast", "loud", "sweet", "wooden", "red"]
INVENTED_PROPERTIES = ["blorpy", "snarvish", "glimmy", "fronkish", "trellic", "wuzzy", "plenky", "quorvish", "drizzic", "mobbly"]


@dataclass(frozen=True)
class Spec:
    name: str
    chain: tuple[str, ...]  # the individual is chain[0]; each is a kind of the next
    rules: tuple[tuple[str, str, bool], ...]  # (concept, concept-or-property, positive)
    query: tuple[str, bool]  # (property, positive): "name is [not] property"
    properties: tuple[str, ...]
    shuffled: bool = False


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def canonical(rng: random.Random, target: str | None, index: int, hops: int | None = None,
              concepts=CONCEPTS, properties=PROPERTIES, names=EVERYDAY_NAMES) -> Spec:
    hops = hops or 1 + index % 3  # 1..3 in canonical items; hops@k adds 2k
    words = rng.sample(concepts, hops + 3)
    chain, (d1, d2) = tuple(words[: hops + 1]), words[hops + 1 :]
    prop, other, third = rng.sample(properties, 3)
    positive = rng.random() < 0.5
    rules = [(chain[i], chain[i + 1], True) for i in range(hops)]
    rules.append((chain[-1], prop, positive))
    # distractors: concepts the individual is not known to belong to, with their own properties
    rules += [(d1, d2, True), (d2, prop, not positive), (d1, other, rng.random() < 0.5), (chain[rng.randrange(hops + 1)], third, True)]
    if target == "Unknown":
        query = (other, rng.random() < 0.5)
    else:
        query = (prop, positive if target == "True" else not positive)
    return Spec(rng.choice(names), chain, tuple(rules), query, (prop, other, third))


def perturb(spec: Spec, kind: str, rng: random.Random, level: int = 1) -> Spec | None:
    if kind == "invented":
        words = sorted({c for c, _, _ in spec.rules} | {t for _, t, _ in spec.rules if t not in spec.properties})
        rename = dict(zip(words, rng.sample(INVENTED_CONCEPTS, len(words)), strict=True))
        rename.update(zip(spec.properties, rng.sample(INVENTED_PROPERTIES, len(spec.properties)), strict=True))
        return Spec(rng.choice(INVENTED_NAMES), tuple(rename[c] for c in spec.chain),
                    tuple((rename[a], rename[b], pos) for a, b, pos in spec.rules),
                    (rename[spec.query[0]], spec.query[1]), tuple(rename[p] for p in spec.properties), spec.shuffled)
    if kind == "hops":  # 2 × level more concepts between the individual's kind and the deciding rule
        used = {c for c, _, _ in spec.rules} | {t for _, t, _ in spec.rules}
        fresh = [c for c in CONCEPTS if c not in used]
        if len(fresh) < 2 * level:
            return None
        new = rng.sample(fresh, 2 * level)
        chain = (*spec.chain[:-1], *new, spec.chain[-1])
        rules = [r for r in spec.rules if not (r[0] in spec.chain and r[1] in spec.chain)]
        rules = [(chain[i], chain[i + 1], True) for i in range(len(chain) - 1)] + rules
        return replace(spec, chain=chain, rules=tuple(rules))
    if kind == "shuffled":
        return replace(spec, shuffled=True)
    if kind == "negated":  # negate every rule about the queried property
        negated = tuple((a, b, not pos) if b == spec.query[0] else (a, b, pos) for a, b, pos in spec.rules)
        return replace(spec, rules=negated)
    return None


def _rule_text(a: str, b: str, positive: bool, properties: tuple[str, ...]) -> str:
    target = b if b in properties else f"{_article(b)} {b}"
    return f"Every {a} is {'' if positive else 'not '}{target}."


def _statement(spec: Spec) -> str:
    prop, positive = spec.query
    return f"{spec.name} is {'' if positive else 'not '}{prop}."


def render(spec: Spec, rng: random.Random) -> Puzzle:
    rules = [_rule_text(a, b, pos, spec.properties) for a, b, pos in spec.rules]
    if spec.shuffled:
        rng.shuffle(rules)
    premises = rules + [f"{spec.name} is {_article(spec.chain[0])} {spec.chain[0]}."]
    preamble = "Answer True if the statement follows from the facts, False if its opposite follows, and Unknown if neither does."
    steps = [f"{spec.name} is {_article(spec.chain[0])} {spec.chain[0]}."]
    for i in range(len(spec.chain) - 1):
        steps.append(f"Every {spec.chain[i]} is {_article(spec.chain[i + 1])} {spec.chain[i + 1]}, so {spec.name} is {_article(spec.chain[i + 1])} {spec.chain[i + 1]}.")
    prop, positive = spec.query
    decisive = [(a, pos) for a, b, pos in spec.rules if b == prop and a in spec.chain]
    if decisive:
        concept, rule_positive = decisive[0]
        steps.append(f"Every {concept} is {'' if rule_positive else 'not '}{prop}, so {spec.name} is {'' if rule_positive else 'not '}{prop}.")
        answer = "True" if rule_positive == positive else "False"
    else:
        steps.append(f"No fact about any kind {spec.name} belongs to says whether {spec.name} is {prop}.")
        answer = "Unknown"
    steps.append(f"So the statement '{_statement(spec)[:-1]}' is {answer}.")
    question = f"True, False, or Unknown: {_statement(spec)}"
    return Puzzle("prontoqa", premises, question, answer, "label", LABELS, steps, preamble, {"hops": len(spec.chain) - 1})


def solve(spec: Spec) -> str:
    """What holds in every truth assignment that satisfies the facts (brute force over all atoms)."""
    atoms = sorted({a for a, _, _ in spec.rules} | {b for _, b, _ in spec.rules} | {spec.chain[0], spec.query[0]})
    bit = {a: i for i, a in enumerate(atoms)}
    models = np.arange(2 ** len(atoms), dtype=np.int64)
    ok = (models >> bit[spec.chain[0]]) & 1 == 1
    for a, b, positive in spec.rules:
        has_a = (models >> bit[a]) & 1 == 1
        has_b = (models >> bit[b]) & 1 == 1
        ok &= ~has_a | (has_b if positive else ~has_b)
    prop, positive = spec.query
    holds = ((models >> bit[prop]) & 1 == 1) == positive
    if holds[ok].all():
        return "True"
    if (~holds[ok]).all():
        return "False"
    return "Unknown"
