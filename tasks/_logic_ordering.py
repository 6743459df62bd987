"""Transitive ordering chains: 'A is taller than B. B is taller than C.' (2 to 14 links).

Questions ask whether one entity outranks another at least two links apart (True/False) or
for the full order. Perturbations: invented names and relation words, shuffled premises,
premises stated through the opposite or a negated relation ('C is shorter than B', 'C is not
taller than B'), and the links ladder: links@k inserts 2k more people inside the stretch
the question depends on (between the queried pair; anywhere for the full order), so the
chain the answer needs grows by 2k links (canonical 2-6 links, up to 14 on links@4).
The solver enumerates every ordering consistent with the premises (backtracking over
linear extensions) and answers from all of them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from harness.tasks._logic_common import EVERYDAY_NAMES, INVENTED_NAMES, Puzzle

# (comparative, opposite comparative, adjective, superlative, opposite superlative)
RELATIONS = [("taller", "shorter", "tall", "tallest", "shortest"), ("older", "younger", "old", "oldest", "youngest"),
             ("heavier", "lighter", "heavy", "heaviest", "lightest"), ("faster", "slower", "fast", "fastest", "slowest")]
INVENTED_RELATIONS = [("zarkier", "mubbier", "zarky", "zarkiest", "mubbiest"), ("florpier", "snazzlier", "florpy", "florpiest", "snazzliest"),
                      ("blenter", "quonter", "blent", "blentest", "quontest"), ("grivvier", "pellier", "grivvy", "grivviest", "pelliest")]
LABELS = ["True", "False"]


@dataclass(frozen=True)
class Spec:
    order: tuple[str, ...]  # the hidden truth, first = most
    links: tuple[tuple[str, str, str], ...]  # (form, a, b); form: gt | lt | not_gt
    question: tuple  # ("pair", x, y) asks "is x <comparative> than y?"; ("order",)
    relation: tuple[str, ...]
    invented: bool = False
    shuffled: bool = False


def _links(order: tuple[str, ...]) -> tuple[tuple[str, str, str], ...]:
    return tuple(("gt", order[i], order[i + 1]) for i in range(len(order) - 1))


def canonical(rng: random.Random, target: str | None, index: int) -> Spec:
    length = 2 + index % 5  # links: 2..6
    order = tuple(rng.sample(EVERYDAY_NAMES, length + 1))
    relation = rng.choice(RELATIONS)
    if target is None:  # ask for the full order
        return Spec(order, _links(order), ("order",), relation)
    i = rng.randint(0, length - 2)
    j = rng.randint(i + 2, length)
    x, y = (order[i], order[j]) if target == "True" else (order[j], order[i])
    return Spec(order, _links(order), ("pair", x, y), relation)


def perturb(spec: Spec, kind: str, rng: random.Random, level: int = 1) -> Spec | None:
    if kind == "invented":
        names = rng.sample(INVENTED_NAMES, len(spec.order))
        rename = dict(zip(spec.order, names, strict=True))
        question = tuple(rename.get(q, q) for q in spec.question)
        order = tuple(names)
        links = tuple((f, rename[a], rename[b]) for f, a, b in spec.links)
        return replace(spec, order=order, links=links, question=question, relation=rng.choice(INVENTED_RELATIONS), invented=True)
    if kind == "links":  # 2 × level more entities inside the stretch the question depends on
        fresh = [n for n in EVERYDAY_NAMES if n not in spec.order]
        new = rng.sample(fresh, 2 * level)
        grown = list(spec.order)
        if spec.question[0] == "pair":
            lo, hi = sorted(grown.index(q) for q in spec.question[1:])
            positions = sorted(rng.randint(lo + 1, hi) for _ in new)
        else:
            positions = sorted(rng.randint(1, len(grown)) for _ in new)
        for offset, (pos, name) in enumerate(zip(positions, new, strict=True)):
            grown.insert(pos + offset, name)
        return replace(spec, order=tuple(grown), links=_links(tuple(grown)))
    if kind == "shuffled":
        return replace(spec, shuffled=True)
    if kind == "negated":  # every link stated through the opposite word or a negation
        links = tuple((rng.choice(["lt", "not_gt"]), b, a) for _, a, b in spec.links)
        return replace(spec, links=links)
    return None


def _sentence(form: str, a: str, b: str, rel: tuple[str, ...]) -> str:
    comp, opp = rel[0], rel[1]
    return {"gt": f"{a} is {comp} than {b}.", "lt": f"{a} is {opp} than {b}.", "not_gt": f"{a} is not {comp} than {b}."}[form]


def render(spec: Spec, rng: random.Random) -> Puzzle:
    comp, opp, adj, sup, opp_sup = spec.relation
    premises = [_sentence(f, a, b, spec.relation) for f, a, b in spec.links]
    if spec.shuffled:
        rng.shuffle(premises)
    preamble = f"No two of the following people are equally {adj}."
    if spec.invented:
        preamble = (f"'{comp}' is a made-up ordering: if A is {comp} than B and B is {comp} than C, then A is {comp} than C; "
                    f"'A is {opp} than B' means 'B is {comp} than A'. " + preamble)
    chain = " > ".join(spec.order)
    steps = [f"Writing '>' for '{comp} than', the premises link up into one chain: {chain}."]
    if spec.question[0] == "pair":
        _, x, y = spec.question
        answer = "True" if spec.order.index(x) < spec.order.index(y) else "False"
        steps.append(f"{x} comes {'before' if answer == 'True' else 'after'} {y} in the chain, so '{x} is {comp} than {y}' is {answer}.")
        return Puzzle("ordering", premises, f"Is {x} {comp} than {y}? Answer True or False.", answer, "label", LABELS, steps,
                      preamble, {"links": len(spec.links)})
    steps.append(f"From {sup} to {opp_sup}: {', '.join(spec.order)}.")
    question = f"Order all {len(spec.order)} of them from {sup} to {opp_sup}. Give the names separated by commas."
    return Puzzle("ordering", premises, question, list(spec.order), "ordering", list(spec.order), steps, preamble,
                  {"links": len(spec.links)})


def solve(spec: Spec) -> str | list[str] | None:
    """Answer from every ordering that satisfies the stated premises."""
    above = set()  # (a, b): a outranks b
    for form, a, b in spec.links:
        above.add((a, b) if form == "gt" else (b, a))
    people = sorted({p for _, a, b in spec.links for p in (a, b)})
    orders: list[list[str]] = []

    def extend(prefix: list[str], left: set[str]) -> None:
        if len(orders) > 50:
            return
        if not left:
            orders.append(prefix)
            return
        for p in sorted(left):
            if not any((q, p) in above for q in left if q != p):
                extend(prefix + [p], left - {p})

    extend([], set(people))
    if spec.question[0] == "order":
        return orders[0] if len(orders) == 1 else None
    _, x, y = spec.question
    verdicts = {o.index(x) < o.index(y) for o in orders}
    return None if len(verdicts) != 1 else ("True" if verdicts.pop() else "False")
