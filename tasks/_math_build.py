"""Instantiating math templates: drawing numbers, writing variants, and the sympy cross-check.

A `Problem` is one template with drawn values and names. Every variant of it (numbers, names,
distractor, added steps, answer form) is rendered into a `Rendered` text + worked solution +
answer, and `verify` recomputes that answer by solving the problem's equations with sympy
(solved symbolically once per template and once per extension shape, then evaluated exactly),
so a variant whose two routes disagree is never emitted.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import lru_cache
from typing import Any, Literal, overload

from harness.tasks._math_templates import COUNT_CONVERSION, TEMPLATES, UNIT_CONVERSIONS, Template

NAMES = ["Emma", "Liam", "Olivia", "Noah", "Ava", "Ethan", "Mia", "Lucas", "Sofia", "James", "Amelia", "Ben", "Chloe", "Daniel"]
OTHER_NAMES = ["Thaddeus", "Ottilie", "Bartholomew", "Xiadani", "Zephyrine", "Eulalia", "Caspian", "Isolde", "Ignatius",
               "Marisol", "Florentin", "Rosamund", "Leopold", "Anouk"]
POOLS = {
    "food": [("cookie", "cookies"), ("muffin", "muffins"), ("cupcake", "cupcakes"), ("bagel", "bagels"), ("pretzel", "pretzels")],
    "items": [("marble", "marbles"), ("sticker", "stickers"), ("pencil", "pencils"), ("stamp", "stamps"), ("card", "cards")],
    "none": [("thing", "things")],
}
OTHER_POOLS = {
    "food": [("scone", "scones"), ("dumpling", "dumplings"), ("macaron", "macarons"), ("empanada", "empanadas"), ("crepe", "crepes")],
    "items": [("acorn", "acorns"), ("seashell", "seashells"), ("button", "buttons"), ("pebble", "pebbles"), ("feather", "feathers")],
    "none": [("thing", "things")],
}
# Irrelevant clauses that sound relevant (GSM-NoOp); none of them changes the answer.
NOOP_CLAUSES = {
    "objects": ["{k} of the {objs} are a little smaller than the others.", "{name2} thinks {k} of the {objs} look the nicest."],
    "money": ["Last year the same things cost {k} percent less.", "{name2} once paid {k} dollars for something similar."],
    "any": ["{name2}, who is {k} years old, watches the whole time.", "The day before, it rained for {k} minutes.",
            "{name} has done this {k} times before."],
}
MONEY_UNITS = {"dollars", "cents"}
INSTRUCTION = "Solve the problem step by step. End with the final answer in the form 'The answer is N'."


@dataclass(frozen=True)
class Problem:
    template: Template
    values: dict[str, int]  # drawn and derived numbers
    ctx: dict[str, str]  # names and objects

    @property
    def calc(self) -> dict[str, int]:
        return self.template.calc(self.values)

    def fmt(self, text: str, **extra: Any) -> str:
        return text.format(**self.ctx, **self.values, **self.calc, **extra)


@dataclass
class Rendered:
    text: str
    steps: list[str]
    answer: int | Fraction
    answer_text: str  # the answer as the reference response writes it
    tolerance: float = 0.0
    extension: tuple = ()  # extension equations' shape (for the sympy check)
    params: dict[str, int | Fraction] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


# --- drawing -------------------------------------------------------------------------

def _digits(n: int) -> int:
    return len(str(abs(n)))


def _draw_values(t: Template, rng: random.Random, digits: dict[str, int] | None = None, scale: int = 1) -> dict[str, int] | None:
    values: dict[str, int] = {}
    for var, (lo, hi) in t.ranges.items():
        lo, hi = lo * scale, hi * scale  # the magnitude ladder: the same ranges, ×10^level
        if digits is not None:  # same digit count as the canonical draw, inside the same range
            lo, hi = max(lo, 10 ** (digits[var] - 1)), min(hi, 10 ** digits[var] - 1)
        values[var] = rng.randint(lo, hi)
    values.update(t.derive(values))
    if not t.check(values):
        return None
    calc = t.calc(values)
    every = {**values, **calc}
    if not all(isinstance(x, int) and x > 0 for x in every.values()):
        return None
    return values


@overload
def draw_problem(t: Template, rng: random.Random, ctx: dict[str, str], like: Problem | None = None,
                 scale: Literal[1] = 1) -> Problem: ...
@overload
def draw_problem(t: Template, rng: random.Random, ctx: dict[str, str], like: Problem | None = None,
                 scale: int = 1) -> Problem | None: ...
def draw_problem(t: Template, rng: random.Random, ctx: dict[str, str], like: Problem | None = None,
                 scale: int = 1) -> Problem | None:
    """A problem whose numbers satisfy the template's constraints (and match `like`'s digit counts).
    With `scale` > 1 (the magnitude ladder) None when no draw in the scaled ranges qualifies."""
    digits = {var: _digits(like.values[var]) for var in t.ranges} if like else None
    shown = {k: _digits(v) for k, v in like.values.items()} if like else None
    fallback = None
    for _attempt in range(2000 if scale == 1 else 200):
        values = _draw_values(t, rng, digits, scale)
        if values is None or (like is not None and values == like.values):
            continue
        if shown is None or all(_digits(values[k]) == d for k, d in shown.items()):
            return Problem(t, values, ctx)
        fallback = fallback or values
    if fallback is None:
        if scale > 1:
            return None
        raise RuntimeError(f"template {t.key}: no valid draw")
    return Problem(t, fallback, ctx)


def make_context(rng: random.Random, pool: str, names: list[str], pools: dict[str, list[tuple[str, str]]]) -> dict[str, str]:
    name, name2 = rng.sample(names, 2)
    obj, objs = rng.choice(pools[pool])
    return {"name": name, "name2": name2, "obj": obj, "objs": objs, "objs_cap": objs.capitalize()}


# --- rendering variants ------------------------------------------------------------

def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _format_answer(value: int | Fraction) -> str:
    value = Fraction(value)
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def render_base(p: Problem) -> Rendered:
    t = p.template
    return Rendered(
        text=f"{p.fmt(t.story)} {p.fmt(t.question)}",
        steps=[p.fmt(s) for s in t.steps],
        answer=p.calc["answer"],
        answer_text=str(p.calc["answer"]),
    )


def render_distractor(p: Problem, rng: random.Random) -> Rendered:
    t = p.template
    kinds = ["any"] + (["objects"] if t.pool != "none" else []) + (["money"] if t.unit in MONEY_UNITS else [])
    clause = rng.choice(NOOP_CLAUSES[rng.choice(kinds)]).format(k=rng.randint(2, 9), **p.ctx)
    story = p.fmt(t.story)
    first, sep, rest = story.partition(". ")
    story = f"{first}. {clause} {rest}" if sep else f"{story} {clause}"
    base = render_base(p)
    return replace(base, text=f"{story.strip()} {p.fmt(t.question)}", metadata={"distractor": clause})


# --- the steps ladder: a chain of events on a running quantity -------------------------

UNIT_SINGULAR = {"objs": "{obj}", "slices": "slice", "kilometers": "kilometer", "tomatoes": "tomato", "pages": "page",
                 "cups": "cup", "wheels": "wheel", "years": "year", "liters": "liter", "passengers": "passenger",
                 "books": "book", "boxes": "box", "points": "point", "hours": "hour", "seeds": "seed",
                 "centimeters": "centimeter", "weeks": "week"}
MULTIPLES = {2: "doubles", 3: "triples", 4: "quadruples"}
# What each event does to the running quantity, for a jar of beads and for a money box.
EVENTS = {
    "beads": {
        "add": ["{actor} drops {k} more beads into the jar.", "{actor} adds another {k} beads.",
                "{actor} finds {k} beads under the sofa and puts them in the jar."],
        "sub": ["{actor} takes {k} beads out for a bracelet.", "{actor} removes {k} beads.",
                "{k} beads roll away and are lost."],
        "mul": ["{actor} {times} the number of beads in the jar.", "A friend of {actor} {times} the beads in the jar."],
        "div": ["{actor} shares the beads equally among {k} jars and keeps only one of those jars.",
                "{actor} splits the beads into {k} equal piles, and only one pile goes back into the jar."],
    },
    "money": {
        "add": ["{actor} puts {k} more {unit} into the box.", "{actor} earns {k} {unit} washing cars and adds them to the box.",
                "{actor} adds {k} {unit} from a birthday card."],
        "sub": ["{actor} takes {k} {unit} out to buy a book.", "{actor} spends {k} {unit} from the box on lunch.",
                "{actor} takes {k} {unit} out of the box for a bus ticket."],
        "mul": ["A matching gift {times} the money in the box.", "{actor} {times} the money in the box with a lucky prize."],
        "div": ["The money is split equally among {k} cousins, and only one share stays in the box.",
                "{actor} divides the money into {k} equal envelopes and leaves only one envelope's worth in the box."],
    },
}
STEP_CAP = 5000  # a running quantity is never multiplied past this (the magnitude ladder grows numbers)


def _step_op(value: int, rng: random.Random, previous: str | None) -> tuple[str, int]:
    """One operation that keeps the running quantity a positive integer of moderate size."""
    divisors = [k for k in (2, 3, 4, 5) if value % k == 0 and value // k >= 2]
    options = [("add", 3)]
    if value > 10:
        options.append(("sub", 3))
    if value * 2 <= STEP_CAP:
        options.append(("mul", 2))
    if divisors:
        options.append(("div", 3))
    options = [(op, w) for op, w in options if op != previous] or options  # vary the operations
    op = rng.choices([o for o, _ in options], [w for _, w in options])[0]
    if op == "add":
        return op, rng.randint(2, 40)
    if op == "sub":
        return op, rng.randint(2, min(40, value - 2))
    if op == "mul":
        return op, rng.choice([k for k in MULTIPLES if value * k <= STEP_CAP])
    return op, rng.choice(divisors)


def render_steps(p: Problem, rng: random.Random, n_ops: int) -> Rendered:
    """The story goes on: the answer becomes a running quantity that `n_ops` events transform.

    The steps ladder: level k = k operations beyond the canonical problem, every one an event
    in the narrative (add, take away, multiply, share out) on the same quantity."""
    t = p.template
    value = p.calc["answer"]
    np_ = _plain(p.fmt(t.answer_np))
    money = t.unit in MONEY_UNITS
    carrier = "money" if money else "beads"
    actors = [p.ctx["name"], p.ctx["name2"]]
    if money:
        unit = t.unit
        bridge = f"{_cap(p.ctx['name2'])} puts as many {unit} as {np_} into an empty money box."
        start = f"So {np_} is {value}, and the box starts with {value} {unit}."
        question = f"How many {unit} are in the money box at the end?"
    else:
        unit = "beads"
        counted = UNIT_SINGULAR.get(t.unit, t.unit.rstrip("s")).format(**p.ctx)
        per = "" if np_.startswith("the number of") else f" (one bead per {counted})"
        bridge = f"{_cap(p.ctx['name2'])} fills an empty jar with exactly as many beads as {np_}{per}."
        start = f"So {np_} is {value}, and the jar starts with {value} beads."
        question = "How many beads are in the jar at the end?"
    steps = [p.fmt(s) for s in t.steps] + [start]
    params: dict[str, int | Fraction]
    events, ops, params, previous = [], [], {}, None
    for i in range(n_ops):
        op, k = _step_op(value, rng, previous)
        new = {"add": value + k, "sub": value - k, "mul": value * k, "div": value // k}[op]
        event = rng.choice(EVENTS[carrier][op]).format(actor=actors[i % 2], k=k, unit=unit, times=MULTIPLES.get(k, ""))
        symbol = {"add": "+", "sub": "−", "mul": "×", "div": "÷"}[op]
        steps.append(f"{event[:-1]}: {value} {symbol} {k} = {new}.")
        events.append(event)
        ops.append(op)
        params[f"ext_k{i}"] = k
        value, previous = new, op
    text = f"{p.fmt(t.story)} {bridge} {' '.join(_cap(e) for e in events)} {question}"
    return Rendered(text, steps, value, str(value), extension=("steps", *ops), params=params,
                    metadata={"added_steps": n_ops, "ops": ops, "events": [_cap(e) for e in events]})


def render_magnitude(p: Problem) -> Rendered:
    """The magnitude ladder: the same story and question with numbers drawn from ranges ×10^level."""
    return render_base(p)


def _plain(noun_phrase: str) -> str:
    """'the money Liam saves, in dollars' -> 'the money Liam saves' (the story names the unit)."""
    return re.sub(r", in [a-z]+$", "", noun_phrase)


def unit_conversion(unit: str) -> tuple[str, Fraction] | None:
    if unit == "points":
        return None
    target, factor = UNIT_CONVERSIONS.get(unit, COUNT_CONVERSION)
    return target, Fraction(*factor) if isinstance(factor, tuple) else Fraction(factor)


def render_form(p: Problem, form: str) -> Rendered | None:
    """The same quantity asked for in another form: another unit, a fraction or a percentage."""
    t = p.template
    answer = p.calc["answer"]
    np_ = _plain(p.fmt(t.answer_np))
    steps = [p.fmt(s) for s in t.steps] + [f"So {np_} is {answer}."]
    story = p.fmt(t.story)
    if form == "unit":
        conv = unit_conversion("objs" if t.unit == "objs" else t.unit)
        if conv is None:
            return None
        target, factor = conv
        value = answer * factor
        hint = " A fraction is fine." if Fraction(value).denominator != 1 else ""
        verb = f"× {factor}" if factor.denominator == 1 else f"÷ {factor.denominator}"
        steps.append(f"In {target}: {answer} {verb} = {_format_answer(value)}.")
        tol = 0.0 if _terminates(value) else 5e-4
        return Rendered(f"{story} Express {np_} in {target}.{hint}", steps, value, _format_answer(value), tol,
                        extension=("unit",), params={"ext_f": factor}, metadata={"form": "unit", "unit": target})
    whole_value = t.whole if isinstance(t.whole, int) else {**p.values, **p.calc}[t.whole]
    whole_np = p.fmt(t.whole_np)
    if whole_value == answer:
        return None
    ratio = Fraction(answer, whole_value)
    if form == "fraction":
        steps.append(f"{answer} out of {whole_value} is {answer}/{whole_value} = {_format_answer(ratio)}.")
        return Rendered(f"{story} What fraction of {whole_np} is {np_}? Give the fraction in lowest terms.", steps, ratio,
                        _format_answer(ratio), 0.0 if _terminates(ratio) else 5e-4,
                        extension=("fraction",), params={"ext_w": whole_value}, metadata={"form": "fraction"})
    percent = ratio * 100
    exact = _terminates(percent, places=1)
    shown = _decimal(percent) if exact else f"{float(percent):.1f}"
    steps.append(f"{answer} ÷ {whole_value} × 100 = {shown}{'' if exact else ' (rounded)'} percent.")
    return Rendered(f"{story} What percent of {whole_np} is {np_}? Round to one decimal place if needed.", steps, percent,
                    f"{shown}%", 0.0 if exact else 0.05 + 1e-9,
                    extension=("percent",), params={"ext_w": whole_value}, metadata={"form": "percent"})


def _terminates(value: Fraction, places: int = 4) -> bool:
    return (Fraction(value) * 10**places).denominator == 1


def _decimal(value: Fraction) -> str:
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.4f}".rstrip("0").rstrip(".")


# --- the sympy route -----------------------------------------------------------------

_IDENT = re.compile(r"[A-Za-z_]\w*")
EXTENSIONS = {  # the added steps / forms as equations over the template's `answer`
    "add": "{out} = {inp} + {k}",
    "sub": "{out} + {k} = {inp}",
    "mul": "{out} = {k}*{inp}",
    "div": "{k}*{out} = {inp}",
    "unit": "final = ext_f*answer",
    "fraction": "ext_w*final = answer",
    "percent": "ext_w*final = 100*answer",
}


def _parse(equations: tuple[str, ...]):
    import sympy
    from sympy.parsing.sympy_parser import parse_expr

    names = {n for eq in equations for n in _IDENT.findall(eq)}
    symbols = {n: sympy.Symbol(n) for n in names}
    eqs = []
    for eq in equations:
        lhs, rhs = eq.split("=")
        eqs.append(parse_expr(f"({lhs}) - ({rhs})", local_dict=symbols))  # linsolve reads expr as expr = 0
    return eqs, symbols


@lru_cache(maxsize=None)
def _solve(equations: tuple[str, ...], given: frozenset[str]) -> dict[str, Any]:
    """Solve the equations for every non-given symbol; one unique solution is required."""
    import sympy

    eqs, symbols = _parse(equations)
    unknowns = [s for n, s in sorted(symbols.items()) if n not in given]
    solutions = list(sympy.linsolve(eqs, unknowns))  # the equations are linear in the unknowns
    if len(solutions) != 1 or any(expr.free_symbols & set(unknowns) for expr in solutions[0]):
        raise AssertionError(f"equations {equations} do not have one unique solution")
    return {str(k): v for k, v in zip(unknowns, solutions[0], strict=True)}


def _evaluate(expr: Any, values: dict[str, Any]) -> Fraction:
    import sympy

    subs = {sympy.Symbol(k): sympy.Rational(Fraction(v).numerator, Fraction(v).denominator) for k, v in values.items()}
    result = expr.xreplace(subs)
    if not result.is_Rational:
        raise AssertionError(f"could not evaluate {expr}")
    return Fraction(int(result.p), int(result.q))


def _extension_equations(extension: tuple) -> tuple[str, ...]:
    if not extension:
        return ()
    if extension[0] == "steps":
        ops = extension[1:]
        chain = ["answer"] + [f"ext_v{i}" for i in range(len(ops) - 1)] + ["final"]
        return tuple(EXTENSIONS[op].format(out=chain[i + 1], inp=chain[i], k=f"ext_k{i}") for i, op in enumerate(ops))
    return (EXTENSIONS[extension[0]],)


def _step_chain(answer: Fraction, ops: tuple[str, ...], params: dict[str, Any]) -> list[Fraction]:
    """The running quantity after each added step, each link's equation solved by sympy (once per
    operation shape, so a 10-step chain costs no more symbolic work than a 1-step one)."""
    values = [answer]
    for i, op in enumerate(ops):
        link = (EXTENSIONS[op].format(out="ext_out", inp="ext_in", k="ext_k"),)
        solved = _solve(link, frozenset(["ext_in", "ext_k"]))
        values.append(_evaluate(solved["ext_out"], {"ext_in": values[-1], "ext_k": params[f"ext_k{i}"]}))
    return values


def sympy_answer(t: Template, values: dict[str, int], extension: tuple = (), params: dict[str, Any] | None = None) -> Fraction:
    """The answer by the second route: solve the template's (and the extension's) equations."""
    solution = _solve(t.equations, frozenset(values))
    answer = _evaluate(solution["answer"], values)
    if not extension:
        return answer
    params = params or {}
    if extension[0] == "steps":
        return _step_chain(answer, tuple(extension[1:]), params)[-1]
    solved = _solve(_extension_equations(tuple(extension)), frozenset(["answer", *params]))
    return _evaluate(solved["final"], {"answer": answer, **params})


def verify(p: Problem, r: Rendered) -> bool:
    """The sympy route agrees with the direct computation on every intermediate and the answer
    (and every running quantity of an added-steps chain is a positive whole number)."""
    solution = _solve(p.template.equations, frozenset(p.values))
    calc = p.calc
    for name, expr in solution.items():
        if name in calc and _evaluate(expr, p.values) != calc[name]:
            return False
    if r.extension[:1] == ("steps",):
        chain = _step_chain(Fraction(calc["answer"]), tuple(r.extension[1:]), r.params)
        if any(v.denominator != 1 or v <= 0 for v in chain):
            return False
    return sympy_answer(p.template, p.values, r.extension, r.params) == Fraction(r.answer)


def check_templates() -> list[str]:
    """Template keys whose equations do not determine `answer` (used by the tests)."""
    bad = []
    for t in TEMPLATES:
        try:
            if "answer" not in _solve(t.equations, frozenset(_draw_names(t))):
                bad.append(t.key)
        except AssertionError:
            bad.append(t.key)
    return bad


def _draw_names(t: Template) -> set[str]:
    values = None
    rng = random.Random(t.key)
    while values is None:
        values = _draw_values(t, rng)
    return set(values)
