"""Knights (always truthful) and knaves (always lying): who is which.

The generator draws hidden roles and gives each islander a statement whose truth matches
their role, redrawing until exactly one assignment of roles fits all statements (checked by
brute force over all 2^n assignments). Perturbations: invented names, shuffled statement
order, statements phrased through negations ('B is not a knight' for 'B is a knave'), which
say the same thing, and the islanders ladder: islanders@k is a new puzzle with k more
islanders (canonical 2-3, up to 5 on islanders@2), the same person asked, in the same role.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, replace

from harness.tasks._logic_common import EVERYDAY_NAMES, INVENTED_NAMES, Puzzle

LABELS = ["knight", "knave"]
KINDS = ("is", "both", "either", "same", "different", "count")


@dataclass(frozen=True)
class Spec:
    people: tuple[str, ...]
    roles: tuple[bool, ...]  # hidden truth: True = knight
    statements: tuple[tuple, ...]  # (speaker index, kind, args...)
    ask: int
    negated: bool = False
    shuffled: bool = False


def _true(statement: tuple, roles: tuple[bool, ...]) -> bool:
    _, kind, *args = statement
    if kind == "is":
        return roles[args[0]] == args[1]
    if kind == "both":
        return roles[args[0]] == args[2] and roles[args[1]] == args[2]
    if kind == "either":
        return roles[args[0]] == args[2] or roles[args[1]] == args[2]
    if kind == "same":
        return roles[args[0]] == roles[args[1]]
    if kind == "different":
        return roles[args[0]] != roles[args[1]]
    return sum(roles) == args[0]  # count: exactly k knights among all


def solve(spec: Spec) -> str | None:
    """Brute force: the role of the asked islander in the one assignment that fits every statement."""
    fits = [roles for roles in itertools.product((True, False), repeat=len(spec.people))
            if all(_true(s, roles) == roles[s[0]] for s in spec.statements)]
    if len(fits) != 1:
        return None
    return "knight" if fits[0][spec.ask] else "knave"


def _statement(rng: random.Random, speaker: int, n: int) -> tuple:
    kind = rng.choice(KINDS)
    others = [i for i in range(n)]
    if kind == "is":
        return (speaker, "is", rng.choice(others), rng.random() < 0.5)
    if kind == "count":
        return (speaker, "count", rng.randint(0, n))
    x, y = rng.sample(others, 2)
    if kind in ("both", "either"):
        return (speaker, kind, x, y, rng.random() < 0.5)
    return (speaker, kind, x, y)


def _draw(rng: random.Random, people: tuple[str, ...], target: str | None, ask: int | None = None) -> Spec:
    n = len(people)
    while True:
        roles = tuple(rng.random() < 0.5 for _ in range(n))
        statements = []
        for speaker in range(n):
            while True:
                s = _statement(rng, speaker, n)
                if _true(s, roles) == roles[speaker]:
                    statements.append(s)
                    break
        who = ask if ask is not None else rng.randrange(n)
        if target is not None and ("knight" if roles[who] else "knave") != target:
            continue
        spec = Spec(people, roles, tuple(statements), who)
        if solve(spec) is not None:
            return spec


def canonical(rng: random.Random, target: str | None, index: int) -> Spec:
    n = 2 + index % 2
    return _draw(rng, tuple(rng.sample(EVERYDAY_NAMES, n)), target)


def perturb(spec: Spec, kind: str, rng: random.Random, level: int = 1) -> Spec | None:
    if kind == "invented":
        return replace(spec, people=tuple(rng.sample(INVENTED_NAMES, len(spec.people))))
    if kind == "islanders":  # `level` more islanders, same asked person and role
        fresh = [p for p in EVERYDAY_NAMES if p not in spec.people]
        target = "knight" if spec.roles[spec.ask] else "knave"
        return _draw(rng, (*spec.people, *rng.sample(fresh, level)), target, ask=spec.ask)
    if kind == "shuffled":
        return replace(spec, shuffled=True)
    if kind == "negated":
        return replace(spec, negated=True)
    return None


def _role(knight: bool, plural: bool = False, negated: bool = False) -> str:
    word = ("knights" if plural else "a knight") if knight else ("knaves" if plural else "a knave")
    if negated:  # say it through the opposite role
        word = ("knaves" if plural else "a knave") if knight else ("knights" if plural else "a knight")
    return word


def _say(spec: Spec, s: tuple) -> str:
    """The statement in words; negated specs say the same thing through negations."""
    speaker, kind, *args = s
    neg = spec.negated

    def pair(x: int, y: int, object_case: bool = False) -> tuple[str, bool]:
        """'X and Y' with the speaker last as 'I' (or 'me'); and whether the speaker is in it."""
        if speaker in (x, y):
            other = y if x == speaker else x
            if other == speaker:
                return ("I" if not object_case else "me"), True
            return f"{spec.people[other]} and {'me' if object_case else 'I'}", True
        return f"{spec.people[x]} and {spec.people[y]}", False

    if kind == "is":
        who, me = ("I", True) if args[0] == speaker else (spec.people[args[0]], False)
        verb = "am" if me else "is"
        return f"{who} {verb} not {_role(args[1], negated=True)}." if neg else f"{who} {verb} {_role(args[1])}."
    x, y = (args[0], args[1]) if kind != "count" else (-1, -1)  # a count names no pair: x, y go unused
    if kind == "both":
        if neg:
            names, me = pair(x, y)
            return f"Neither {names.replace(' and ', ' nor ')} {'am' if me else 'is'} {_role(args[2], negated=True)}."
        return f"{pair(x, y)[0]} are both {_role(args[2], plural=True)}."
    if kind == "either":
        if neg:
            return f"{pair(x, y)[0]} are not both {_role(args[2], plural=True, negated=True)}."
        return f"At least one of {pair(x, y, object_case=True)[0]} is {_role(args[2])}."
    if kind in ("same", "different"):
        same = kind == "same"
        if neg:
            return f"{pair(x, y)[0]} are not of {'different kinds' if same else 'the same kind'}."
        return f"{pair(x, y)[0]} are of {'the same kind' if same else 'different kinds'}."
    k, n = args[0], len(spec.people)
    if neg:
        k = n - k
    word = ("knave" if neg else "knight") + ("s" if k != 1 else "")
    return f"Exactly {k} of us {'is a' if k == 1 else 'are'} {word}."


def render(spec: Spec, rng: random.Random) -> Puzzle:
    lines = [f'{spec.people[s[0]]} says: "{_say(spec, s)}"' for s in spec.statements]
    if spec.shuffled:
        rng.shuffle(lines)
    preamble = (f"On an island, knights always tell the truth and knaves always lie; everyone is one or the other. "
                f"'Us' means all the islanders you meet. You meet {len(spec.people)} islanders: {', '.join(spec.people)}.")
    who = spec.people[spec.ask]
    answer = "knight" if spec.roles[spec.ask] else "knave"
    steps = ["Try every assignment of knight and knave and keep those where each knight's statement is true and each knave's is false."]
    steps += [f"{p} is {'a knight' if r else 'a knave'}." for p, r in zip(spec.people, spec.roles, strict=True)]
    steps.append(f"This is the only assignment that works, so {who} is a {answer}.")
    return Puzzle("knights", lines, f"Is {who} a knight or a knave?", answer, "label", LABELS, steps, preamble,
                  {"islanders": len(spec.people)})
