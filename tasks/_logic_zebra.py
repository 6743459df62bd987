"""Zebra puzzles (3 houses x 3 attributes up to 6 x 6) with exactly one solution.

The generator draws a hidden solution and adds true clues until a backtracking solver
(over each attribute's permutations, pruning with every clue whose attributes are placed)
finds exactly one solution, then drops clues that are not needed. The question asks for one
grid cell. Perturbations: invented values, shuffled clue order, a puzzle for the same
solution built mostly from negative clues, and the grid ladder: grid@k grows the canonical
solution (3x3 to 4x5) to 5x5, 5x6 and 6x6 (new houses with a new value of every attribute,
new attributes placed at random) and builds a new clue set for it; the asked cell keeps its
value.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, replace

from harness.tasks._logic_common import EVERYDAY_NAMES, INVENTED_NAMES, Puzzle

# attribute -> (question label, noun-phrase pattern, predicate pattern, everyday values, invented values)
ATTRIBUTES = {
    "name": ("name", "{v}", "is {v}", EVERYDAY_NAMES[:6], INVENTED_NAMES[:6]),
    "color": ("house color", "the person in the {v} house", "lives in the {v} house",
              ["red", "green", "blue", "yellow", "white", "black"], ["blurple", "greeb", "vorange", "squeen", "mauvle", "plinkish"]),
    "pet": ("pet", "the owner of the {v}", "owns the {v}", ["cat", "dog", "parrot", "fish", "rabbit", "hamster"],
            ["zibble", "frunk", "moxer", "quell", "dorpet", "snorvit"]),
    "drink": ("drink", "the {v} drinker", "drinks {v}", ["tea", "coffee", "milk", "juice", "water", "cocoa"],
              ["fizzwort", "glimmade", "brocha", "tazzle", "mirwine", "plonkade"]),
    "hobby": ("hobby", "the person who enjoys {v}", "enjoys {v}", ["chess", "painting", "hiking", "cooking", "reading", "gardening"],
              ["zorbing", "flimming", "kattering", "blozzing", "quivvling", "snerking"]),
    "sport": ("sport", "the person who plays {v}", "plays {v}", ["tennis", "soccer", "golf", "hockey", "rugby", "cricket"],
              ["flurnball", "quidge", "zorket", "plimbo", "wexball", "trundlo"]),
}
NEGATED_PREDICATES = {"color": "does not live in the {v} house", "pet": "does not own the {v}", "drink": "does not drink {v}",
                      "hobby": "does not enjoy {v}", "sport": "does not play {v}"}
ORDER = list(ATTRIBUTES)


@dataclass(frozen=True)
class Spec:
    houses: int
    attributes: tuple[str, ...]
    solution: tuple[tuple[int, ...], ...]  # solution[a][v] = house of value v of attribute a
    clues: tuple[tuple, ...]
    ask: tuple[int, int]  # (house, attribute index)
    invented: bool = False
    shuffled: bool = False


# --- the solver ------------------------------------------------------------------------

def _holds(clue: tuple, pos) -> bool:
    kind = clue[0]
    if kind == "pos":
        return pos(clue[1]) == clue[2]
    if kind == "not_pos":
        return pos(clue[1]) != clue[2]
    a, b = pos(clue[1]), pos(clue[2])
    return {"same": a == b, "not_same": a != b, "left": a + 1 == b, "next": abs(a - b) == 1}[kind]


def _narrow(kind: str, dx: int, dy: int, full: int) -> tuple[int, int]:
    """Domains (bitmasks of houses) of x and y after enforcing one binary clue between them."""
    if kind == "same":
        both = dx & dy
        return both, both
    if kind == "not_same":
        if dy & (dy - 1) == 0:
            dx &= ~dy
        if dx & (dx - 1) == 0:
            dy &= ~dx
        return dx, dy
    if kind == "left":  # house(x) + 1 == house(y)
        return dx & (dy >> 1), dy & (dx << 1) & full
    return dx & ((dy >> 1) | (dy << 1)) & full, dy & ((dx >> 1) | (dx << 1)) & full  # next


def count_solutions(houses: int, n_attrs: int, clues, limit: int = 2) -> list[tuple[tuple[int, ...], ...]]:
    """Up to `limit` solutions (solution[a][v] = house of value v of attribute a), found by
    backtracking over (attribute, value) -> house with constraint propagation."""
    full = (1 << houses) - 1
    dom = [[full] * houses for _ in range(n_attrs)]
    binary = []
    for clue in clues:
        if clue[0] == "pos":
            dom[clue[1][0]][clue[1][1]] &= 1 << clue[2]
        elif clue[0] == "not_pos":
            dom[clue[1][0]][clue[1][1]] &= ~(1 << clue[2])
        else:
            binary.append(clue)

    watch: dict[tuple[int, int], list[int]] = {}  # cell -> the binary clues on it
    for i, (_, x, y) in enumerate(binary):
        watch.setdefault(x, []).append(i)
        watch.setdefault(y, []).append(i)

    def propagate(d: list[list[int]], pending: set[int], dirty: set[int]) -> bool:
        """Narrow the domains to a fixpoint: a clue is re-checked only when one of its cells
        changed, an attribute's all-different rule only when one of its cells changed."""
        while pending or dirty:
            while pending:
                kind, (xa, xv), (ya, yv) = binary[pending.pop()]
                dx, dy = d[xa][xv], d[ya][yv]
                nx, ny = _narrow(kind, dx, dy, full)
                for a, v, old, new in ((xa, xv, dx, nx), (ya, yv, dy, ny)):
                    if new != old:
                        if not new:
                            return False
                        d[a][v] = new
                        pending.update(watch[a, v])
                        dirty.add(a)
            while dirty:
                a = dirty.pop()
                row = d[a]
                placed = once = twice = 0
                for dv in row:
                    if dv == 0:
                        return False
                    if dv & (dv - 1) == 0:
                        if placed & dv:  # two values in one house
                            return False
                        placed |= dv
                    twice |= once & dv
                    once |= dv
                if once != full:  # some house can take no value
                    return False
                only = once & ~twice  # houses exactly one value can take
                for v, dv in enumerate(row):
                    new = dv if dv & (dv - 1) == 0 else dv & ~placed
                    if new & only and new != new & only:
                        new &= only
                    if new != dv:
                        if new == 0:
                            return False
                        row[v] = new
                        pending.update(watch.get((a, v), ()))
                        dirty.add(a)
        return True

    found: list = []

    def search(d: list[list[int]], pending: set[int], dirty: set[int]) -> None:
        if len(found) >= limit or not propagate(d, pending, dirty):
            return
        open_cells = [(bin(d[a][v]).count("1"), a, v) for a in range(n_attrs) for v in range(houses) if d[a][v] & (d[a][v] - 1)]
        if not open_cells:
            found.append(tuple(tuple(d[a][v].bit_length() - 1 for v in range(houses)) for a in range(n_attrs)))
            return
        _, a, v = min(open_cells)
        for h in range(houses):
            if d[a][v] >> h & 1:
                child = [row[:] for row in d]
                child[a][v] = 1 << h
                search(child, set(watch.get((a, v), ())), {a})

    search(dom, set(range(len(binary))), set(range(n_attrs)))
    return found


def solve(spec: Spec) -> str | None:
    solutions = count_solutions(spec.houses, len(spec.attributes), spec.clues)
    if len(solutions) != 1:
        return None
    house, attr = spec.ask
    value = solutions[0][attr].index(house)
    return _values(spec, attr)[value]


# --- generation ----------------------------------------------------------------------

def _values(spec: Spec, attr: int) -> list[str]:
    entry = ATTRIBUTES[spec.attributes[attr]]
    return (entry[4] if spec.invented else entry[3])[: spec.houses]


def _clue_pool(solution, houses: int, rng: random.Random, negative: bool) -> list[tuple]:
    cells = [(a, v) for a in range(len(solution)) for v in range(houses)]
    pos = lambda x: solution[x[0]][x[1]]  # noqa: E731
    pool = []
    for x in cells:
        pool.append(("pos", x, pos(x)))
        pool += [("not_pos", x, h) for h in range(houses) if h != pos(x)]
    for x, y in itertools.combinations(cells, 2):
        if x[0] == y[0]:
            continue
        pool.append(("same", x, y) if pos(x) == pos(y) else ("not_same", x, y))
        if pos(x) + 1 == pos(y):
            pool.append(("left", x, y))
        if pos(y) + 1 == pos(x):
            pool.append(("left", y, x))
        if abs(pos(x) - pos(y)) == 1:
            pool.append(("next", x, y))
    weight: dict[str, float] = {"pos": 1, "not_pos": 1, "same": 4, "not_same": 1, "left": 3, "next": 3}
    if negative:
        weight.update(pos=0.2, same=0.5, not_pos=4, not_same=6)
    keyed = sorted(pool, key=lambda c: rng.random() ** (1 / weight[c[0]]), reverse=True)
    return keyed


def build_clues(solution, houses: int, rng: random.Random, negative: bool = False) -> tuple[tuple, ...]:
    pool = _clue_pool(solution, houses, rng, negative)
    clues: list[tuple] = []
    step = max(1, len(solution) - 1)
    for start in range(0, len(pool), step):
        clues += pool[start : start + step]
        if len(count_solutions(houses, len(solution), clues)) == 1:
            break
    for clue in list(clues):  # drop clues the answer does not need
        rest = [c for c in clues if c is not clue]
        if len(count_solutions(houses, len(solution), rest)) == 1:
            clues = rest
    return tuple(sorted(clues, key=lambda c: ["pos", "same", "left", "next", "not_pos", "not_same"].index(c[0])))


SIZES = [(3, 3), (4, 3), (3, 4), (4, 4), (4, 5)]  # (houses, attributes) of canonical puzzles
GRID_LADDER = {1: (5, 5), 2: (5, 6), 3: (6, 6)}  # grid@k -> (houses, attributes)


def canonical(rng: random.Random, target: str | None, index: int, size: tuple[int, int] | None = None) -> Spec:
    houses, n_attrs = size or SIZES[index % len(SIZES)]
    attributes = ("name", *rng.sample(ORDER[1:], n_attrs - 1))
    solution = tuple(tuple(rng.sample(range(houses), houses)) for _ in attributes)
    clues = build_clues(solution, houses, rng)
    return Spec(houses, attributes, solution, clues, (rng.randrange(houses), rng.randrange(n_attrs)))


def perturb(spec: Spec, kind: str, rng: random.Random, level: int = 1) -> Spec | None:
    if kind == "invented":
        return replace(spec, invented=True)
    if kind == "shuffled":
        return replace(spec, shuffled=True)
    if kind == "negated":
        return replace(spec, clues=build_clues(spec.solution, spec.houses, rng, negative=True))
    if kind == "grid":
        return grow(spec, *GRID_LADDER[level], rng)
    return None


def grow(spec: Spec, houses: int, n_attrs: int, rng: random.Random) -> Spec:
    """The same solution on a bigger grid, with a new clue set: each new house (inserted at a
    random position) gets a new value of every attribute, each new attribute a random
    arrangement. The asked cell follows its house, so the answer stays the same."""
    solution = [list(perm) for perm in spec.solution]
    ask_house = spec.ask[0]
    for size in range(spec.houses, houses):
        new_house = rng.randrange(size + 1)
        solution = [[h + (h >= new_house) for h in perm] + [new_house] for perm in solution]
        ask_house += ask_house >= new_house
    missing = [a for a in ORDER if a not in spec.attributes]
    added = rng.sample(missing, n_attrs - len(spec.attributes))
    solution += [rng.sample(range(houses), houses) for _ in added]
    grown = tuple(tuple(perm) for perm in solution)
    return replace(spec, houses=houses, attributes=(*spec.attributes, *added), solution=grown,
                   clues=build_clues(grown, houses, rng), ask=(ask_house, spec.ask[1]))


def _np(spec: Spec, x: tuple[int, int], capital: bool = False) -> str:
    text = ATTRIBUTES[spec.attributes[x[0]]][1].format(v=_values(spec, x[0])[x[1]])
    return text[:1].upper() + text[1:] if capital else text


def _pred(spec: Spec, x: tuple[int, int]) -> str:
    return ATTRIBUTES[spec.attributes[x[0]]][2].format(v=_values(spec, x[0])[x[1]])


def _sentence(spec: Spec, clue: tuple) -> str:
    kind, x = clue[0], clue[1]
    if kind == "pos":
        return f"{_np(spec, x, True)} lives in house {clue[2] + 1}."
    if kind == "not_pos":
        return f"{_np(spec, x, True)} does not live in house {clue[2] + 1}."
    y = clue[2]
    if kind == "same":
        return f"{_np(spec, x, True)} {_pred(spec, y)}."
    if kind == "not_same":
        if spec.attributes[y[0]] == "name":
            return f"{_values(spec, y[0])[y[1]]} is not {_np(spec, x)}."
        return f"{_np(spec, x, True)} {NEGATED_PREDICATES[spec.attributes[y[0]]].format(v=_values(spec, y[0])[y[1]])}."
    if kind == "left":
        return f"{_np(spec, x, True)} lives directly left of {_np(spec, y)}."
    return f"{_np(spec, x, True)} lives next to {_np(spec, y)}."


def render(spec: Spec, rng: random.Random) -> Puzzle:
    clues = [_sentence(spec, c) for c in spec.clues]
    if spec.shuffled:
        rng.shuffle(clues)
    attrs = [ATTRIBUTES[a] for a in spec.attributes]
    listing = "; ".join(f"{label}s: {', '.join(_values(spec, i))}" for i, (label, *_rest) in enumerate(attrs))
    preamble = (f"{spec.houses} houses stand in a row, numbered 1 to {spec.houses} from left to right. Each house has one "
                f"person, and each person has exactly one of each of these ({listing}); no two people share a value.")
    house, attr = spec.ask
    values = _values(spec, attr)
    answer = values[spec.solution[attr].index(house)]
    label = attrs[attr][0]
    question = f"What is the {label} of the person in house {house + 1}? Answer with one word."
    grid = []
    for h in range(spec.houses):
        row = [_values(spec, a)[spec.solution[a].index(h)] for a in range(len(spec.attributes))]
        grid.append(f"House {h + 1}: {', '.join(row)}.")
    steps = ["Placing every value so that all clues hold gives exactly one arrangement:", *grid,
             f"So the {label} of the person in house {house + 1} is {answer}."]
    return Puzzle("zebra", [f"{i}. {c}" for i, c in enumerate(clues, 1)], question, answer, "choice", values, steps, preamble,
                  {"size": f"{spec.houses}x{len(spec.attributes)}", "clues": len(clues)})
