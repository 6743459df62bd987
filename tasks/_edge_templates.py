"""Story templates for the edge_cases suite, written for this project.

Twin templates return (answerable, flawed) cases built from the same random draws, so each
unanswerable, contradictory, false-premise or unsolvable item has an answerable twin that
differs only in the flaw (TreeCut-style: remove a necessary quantity or premise, or break
one). Single templates return one answerable case: several valid answers, or a trap whose
natural first answer is wrong.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Rng = random.Random
Names = tuple[str, str]
Obj = tuple[str, str]


@dataclass
class Case:
    text: str
    kind: str  # answerable | missing_quantity | missing_premise | contradictory | false_premise | no_solution | multi_answer | trap
    answerable: bool
    value: Any  # a number, a sorted list of numbers (multi_answer) or None
    explanation: str  # the worked solution, or why the question cannot be answered
    trap: Any = None  # the tempting wrong answer (trap items)
    tags: dict[str, Any] = field(default_factory=dict)

    def reference(self) -> str:
        if not self.answerable:
            return self.explanation
        if self.kind == "multi_answer":
            return f"{self.explanation}\nThe answers are {', '.join(str(v) for v in self.value)}."
        return f"{self.explanation}\nThe answer is {self.value}."


def answerable(text: str, value: Any, explanation: str, kind: str = "answerable", trap: Any = None) -> Case:
    return Case(text, kind, True, value, explanation, trap)


def flawed(text: str, kind: str, explanation: str) -> Case:
    return Case(text, kind, False, None, explanation)


# --- missing quantity ----------------------------------------------------------------------


def bags(rng: Rng, names: Names, obj: Obj) -> tuple[Case, Case]:
    n, (_, p) = names[0], obj
    a, b, c = rng.randint(3, 40), rng.randint(2, 9), rng.randint(3, 12)
    q = f"How many {p} does {n} have now?"
    full = f"{n} has {a} {p}. {n} buys {b} bags of {p} with {c} {p} in each bag. {q}"
    cut = f"{n} has {a} {p}. {n} buys {b} bags of {p}. {q}"
    return (
        answerable(full, a + b * c, f"{b} × {c} = {b * c}; {a} + {b * c} = {a + b * c}."),
        flawed(cut, "missing_quantity", f"The problem does not say how many {p} are in each bag, so the answer "
               "cannot be determined: there is not enough information."),
    )


def trip(rng: Rng, names: Names, obj: Obj) -> tuple[Case, Case]:
    v, t, d = rng.randint(30, 90), rng.randint(2, 6), rng.randint(5, 50)
    q = "How many kilometres does the train travel in total?"
    full = f"A train travels at {v} km per hour for {t} hours, and then another {d} km. {q}"
    cut = f"A train travels for {t} hours, and then another {d} km. {q}"
    return (
        answerable(full, v * t + d, f"{v} × {t} = {v * t}; {v * t} + {d} = {v * t + d}."),
        flawed(cut, "missing_quantity", "The speed of the train is not given, so the distance covered in the first "
               f"{t} hours cannot be determined: there is not enough information."),
    )


def fence(rng: Rng, names: Names, obj: Obj) -> tuple[Case, Case]:
    length, width, price = rng.randint(5, 30), rng.randint(3, 20), rng.randint(2, 9)
    q = "How many dollars does it cost to fence the whole garden?"
    full = f"A rectangular garden is {length} m long and {width} m wide. Fencing costs {price} dollars per metre. {q}"
    cut = f"A rectangular garden is {length} m long. Fencing costs {price} dollars per metre. {q}"
    per = 2 * (length + width)
    return (
        answerable(full, per * price, f"Perimeter 2 × ({length} + {width}) = {per} m; {per} × {price} = {per * price}."),
        flawed(cut, "missing_quantity", "The width of the garden is not given, so the perimeter and the cost cannot "
               "be determined: there is not enough information."),
    )


def ages(rng: Rng, names: Names, obj: Obj) -> tuple[Case, Case]:
    (n, m), a, d, y = names, rng.randint(5, 40), rng.randint(2, 15), rng.randint(2, 10)
    q = f"How old will {m} be in {y} years?"
    full = f"{n} is {a} years old. {m} is {d} years older than {n}. {q}"
    cut = f"{n} is {a} years old. {m} is older than {n}. {q}"
    return (
        answerable(full, a + d + y, f"{m} is {a} + {d} = {a + d} now; in {y} years {a + d + y}."),
        flawed(cut, "missing_quantity", f"We are not told how much older {m} is than {n}, so {m}'s age cannot be "
               "determined: there is not enough information."),
    )


# --- missing premise (a logic chain with its bridging rule removed) -------------------------

CREATURES = ["wumpus", "yumpus", "zumpus", "dumpus", "rompus", "numpus", "tumpus", "vumpus", "impus", "jompus"]
PARTS = ["legs", "horns", "wings", "spots", "tails"]


def _a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def creature_chain(rng: Rng, names: Names, obj: Obj) -> tuple[Case, Case]:
    n = names[0]
    kind_a, kind_b = rng.sample(CREATURES, 2)
    part = rng.choice(PARTS)
    k, m = rng.randint(2, 9), rng.randint(2, 12)
    rule = f"Every {kind_a} is {_a(kind_b)}. "
    rest = f"Every {kind_b} has exactly {k} {part}. {n} owns {m} {kind_a}es. How many {part} do {n}'s {kind_a}es have in total?"
    return (
        answerable(rule + rest, m * k, f"Each {kind_a} is {_a(kind_b)}, so it has {k} {part}; {m} × {k} = {m * k}."),
        flawed(rest, "missing_premise", f"Nothing says that {_a(kind_a)} is {_a(kind_b)}, so we cannot tell how many {part} "
               f"{_a(kind_a)} has: the answer cannot be determined from the given information."),
    )


# --- contradictory premises ------------------------------------------------------------------


def more_than(rng: Rng, names: Names, obj: Obj) -> tuple[Case, Case]:
    (n, m), (_, p) = names, obj
    a, d = rng.randint(15, 60), rng.randint(2, 12)
    wrong = a - d + rng.choice([-3, -2, -1, 1, 2, 3]) * rng.randint(1, 3)
    q = f"How many {p} do {n} and {m} have together?"
    full = f"{n} has {a} {p}, which is {d} more than {m} has. {m} has {a - d} {p}. {q}"
    bad = f"{n} has {a} {p}, which is {d} more than {m} has. {m} has {wrong} {p}. {q}"
    return (
        answerable(full, 2 * a - d, f"{m} has {a - d}; together {a} + {a - d} = {2 * a - d}."),
        flawed(bad, "contradictory", f"The statements contradict each other: if {n} has {a}, which is {d} more than "
               f"{m}, then {m} has {a - d}, not {wrong}. The information is inconsistent, so the question cannot be answered."),
    )


def rectangle(rng: Rng, names: Names, obj: Obj) -> tuple[Case, Case]:
    half = rng.randint(8, 25)
    length_ok = rng.randint(half // 2 + 1, half - 1)
    length_bad = half + rng.randint(1, 10)
    q = "What is its area in square centimetres?"
    full = f"A rectangle has a perimeter of {2 * half} cm and a length of {length_ok} cm. {q}"
    bad = f"A rectangle has a perimeter of {2 * half} cm and a length of {length_bad} cm. {q}"
    width = half - length_ok
    return (
        answerable(full, length_ok * width, f"Width = {half} − {length_ok} = {width}; area {length_ok} × {width} = {length_ok * width}."),
        flawed(bad, "contradictory", f"A length of {length_bad} cm is impossible with a perimeter of {2 * half} cm: "
               f"length plus width must be {half}, so the width would be negative. The premises contradict each other."),
    )


def classroom(rng: Rng, names: Names, obj: Obj) -> tuple[Case, Case]:
    boys, girls = rng.randint(5, 15), 2 * rng.randint(3, 8)
    wrong_total = boys + girls + rng.choice([-4, -3, -2, 2, 3, 4])
    q = "If half of the girls wear glasses, how many girls wear glasses?"
    full = f"A class has {boys + girls} students: {boys} boys and {girls} girls. {q}"
    bad = f"A class has {wrong_total} students: {boys} boys and {girls} girls. {q}"
    return (
        answerable(full, girls // 2, f"Half of {girls} is {girls // 2}."),
        flawed(bad, "contradictory", f"{boys} boys and {girls} girls make {boys + girls} students, not {wrong_total}: "
               "the information is inconsistent (contradictory), so the question cannot be answered reliably."),
    )


# --- false premises --------------------------------------------------------------------------

COLOURS = ["red", "blue", "yellow", "green", "purple", "white"]


def colours(rng: Rng, names: Names, obj: Obj) -> tuple[Case, Case]:
    n, (_, p) = names[0], obj
    first, second, asked = rng.sample(COLOURS, 3)
    a, b = rng.randint(3, 20), rng.randint(6, 20)
    give = rng.randint(1, b - 1)
    q = f"How many {asked} {p} does {n} have left after giving away {give} {asked} {p}?"
    full = f"{n} has {a} {first} {p} and {b} {asked} {p}. {q}"
    bad = f"{n} has {a} {first} {p} and {b} {second} {p}. {q}"
    return (
        answerable(full, b - give, f"{b} − {give} = {b - give}."),
        flawed(bad, "false_premise", f"The question has a false premise: {n} has no {asked} {p} at all (only {first} "
               f"and {second} ones), so {n} cannot give any away and the question cannot be answered as asked."),
    )


def sizes(rng: Rng, names: Names, obj: Obj) -> tuple[Case, Case]:
    n, (_, p) = names[0], obj
    large, medium, small = rng.randint(2, 10), rng.randint(6, 15), rng.randint(2, 10)
    give = rng.randint(1, medium - 1)
    q = f"How many medium {p} are left after {n} gives away {give} medium ones?"
    full = f"Of {n}'s {large + medium + small} {p}, {large} are large, {medium} are medium and the rest are small. {q}"
    bad = f"Of {n}'s {large + small} {p}, {large} are large and the rest are small. {q}"
    return (
        answerable(full, medium - give, f"{medium} − {give} = {medium - give}."),
        flawed(bad, "false_premise", f"The question has a false premise: {n}'s {p} are only large or small, there are "
               "no medium ones, so the question cannot be answered as asked."),
    )


# --- no solution -----------------------------------------------------------------------------


def consecutive(rng: Rng, names: Names, obj: Obj) -> tuple[Case, Case]:
    k = rng.randint(10, 400)
    q = "What is the smaller of the two numbers?"
    return (
        answerable(f"Two consecutive whole numbers add up to {2 * k + 1}. {q}", k, f"n + (n + 1) = {2 * k + 1}, so n = {k}."),
        flawed(f"Two consecutive whole numbers add up to {2 * k}. {q}", "no_solution",
               f"There is no solution: two consecutive whole numbers always add up to an odd number, and {2 * k} is even."),
    )


def sharing(rng: Rng, names: Names, obj: Obj) -> tuple[Case, Case]:
    n, (_, p) = names[0], obj
    friends, each = rng.randint(3, 9), rng.randint(2, 12)
    leftover = rng.randint(1, friends - 1)
    q = "each friend gets the same whole number of them and none are left over. How many does each friend get?"
    return (
        answerable(f"{n} shares {friends * each} {p} among {friends} friends so that {q}", each,
                   f"{friends * each} ÷ {friends} = {each}."),
        flawed(f"{n} shares {friends * each + leftover} {p} among {friends} friends so that {q}", "no_solution",
               f"There is no solution: {friends * each + leftover} is not divisible by {friends}, so the {p} cannot be "
               "shared equally with none left over."),
    )


def square_root(rng: Rng, names: Names, obj: Obj) -> tuple[Case, Case]:
    root = rng.randint(4, 60)
    non_square = root * root + rng.randint(1, 2 * root)
    q = "Which positive whole number, multiplied by itself, gives {}?"
    return (
        answerable(q.format(root * root), root, f"{root} × {root} = {root * root}."),
        flawed(q.format(non_square), "no_solution", f"There is no such whole number: {non_square} is not a perfect "
               f"square ({root}² = {root * root} and {root + 1}² = {(root + 1) ** 2})."),
    )


# --- several valid answers -------------------------------------------------------------------


def multiples(rng: Rng, names: Names, obj: Obj) -> Case:
    n = names[0]
    k = rng.randint(3, 9)
    lo = rng.randint(1, 40)
    hi = lo + k * rng.randint(2, 4) + rng.randint(0, k - 1)
    values = [x for x in range(lo + 1, hi) if x % k == 0]
    text = (f"{n} is thinking of a whole number strictly between {lo} and {hi} that is a multiple of {k}. "
            "Which number could it be?")
    return answerable(text, values, f"The multiples of {k} between {lo} and {hi} are {', '.join(map(str, values))}; "
                      "each of them fits, so there are several valid answers.", kind="multi_answer")


def rectangle_widths(rng: Rng, names: Names, obj: Obj) -> Case:
    while True:
        area = rng.randint(12, 120)
        widths = [w for w in range(1, math.isqrt(area) + 1) if area % w == 0 and w * w != area]
        if len(widths) >= 2:
            break
    text = (f"A rectangle has whole-number side lengths in cm, an area of {area} square cm, and is longer than it "
            "is wide. What could its width be?")
    return answerable(text, widths, f"The widths w with w × (longer side) = {area} are {', '.join(map(str, widths))}; "
                      "several answers are valid.", kind="multi_answer")


# --- the natural first assumption is wrong ---------------------------------------------------


def bat_and_ball(rng: Rng, names: Names, obj: Obj) -> Case:
    ball, diff = rng.randint(3, 40), rng.choice([60, 80, 100, 120, 150])
    total = 2 * ball + diff
    text = (f"A bat and a ball cost {total} cents in total. The bat costs {diff} cents more than the ball. "
            "How many cents does the ball cost?")
    return answerable(text, ball, f"It is not {total} − {diff} = {total - diff}: then the bat would cost "
                      f"{total - diff + diff} and the total {2 * (total - diff) + diff}. Ball b: b + (b + {diff}) = {total}, "
                      f"so b = {ball}.", kind="trap", trap=total - diff)


def machines(rng: Rng, names: Names, obj: Obj) -> Case:
    k, m = rng.randint(3, 15), rng.choice([20, 30, 40, 50, 60, 80, 100, 120, 200, 500])
    text = (f"{k} machines make {k} widgets in {k} minutes. How many minutes would {m} machines need to make "
            f"{m} widgets?")
    return answerable(text, k, f"Each machine makes one widget in {k} minutes, so {m} machines make {m} widgets in "
                      f"{k} minutes (not {m}).", kind="trap", trap=m)


def lilies(rng: Rng, names: Names, obj: Obj) -> Case:
    days = 2 * rng.randint(10, 60)
    text = (f"A patch of lilies doubles in size every day. It covers the whole lake on day {days}. "
            "On which day did it cover half of the lake?")
    return answerable(text, days - 1, f"It doubles daily, so it was half the size one day earlier: day {days - 1} "
                      f"(not {days // 2}).", kind="trap", trap=days // 2)


def overtake(rng: Rng, names: Names, obj: Obj) -> Case:
    n = names[0]
    place = rng.randint(2, 30)
    text = f"In a race, {n} overtakes the runner in position {place}. In which position is {n} now?"
    return answerable(text, place, f"{n} takes that runner's place, position {place} (not {place - 1}).",
                      kind="trap", trap=place - 1)


TwinTemplate = Callable[[Rng, Names, Obj], tuple[Case, Case]]
SingleTemplate = Callable[[Rng, Names, Obj], Case]

TWINS: dict[str, list[TwinTemplate]] = {
    "missing_quantity": [bags, trip, fence, ages],
    "missing_premise": [creature_chain],
    "contradictory": [more_than, rectangle, classroom],
    "false_premise": [colours, sizes],
    "no_solution": [consecutive, sharing, square_root],
}
SINGLES: dict[str, list[SingleTemplate]] = {
    "multi_answer": [multiples, rectangle_widths],
    "trap": [bat_and_ball, machines, lilies, overtake],
}
