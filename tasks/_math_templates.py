"""Grade-school word-problem templates for the `math` suite, written for this project.

Each template has typed integer variables drawn from ranges, `derive` for displayed numbers
built from them (divisibility holds by construction), a `check` for the remaining
constraints, the story and question, `calc` (the direct computation that also writes the
worked steps) and `equations`: the same problem stated as equations, which sympy solves for
`answer` as an independent second route. Every intermediate must be a positive integer.

`magnitude=False` marks the few stories whose numbers cannot grow ×10 and stay sensible (ages,
test scores out of 100, hours of sleep a night); they get no magnitude rungs.

Placeholders: {name} and {name2} (people), {obj}/{objs} (an object from the template's pool),
and any variable, derived or calculated value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Values = dict[str, Any]


def _none(v: Values) -> Values:
    return {}


def _always(v: Values) -> bool:
    return True


@dataclass(frozen=True)
class Template:
    key: str
    pool: str  # object pool for {obj}/{objs}: "food", "items" or "none"
    unit: str  # unit of the answer: "objs" (the pool's objects) or a word such as "dollars"
    ranges: dict[str, tuple[int, int]]
    story: str
    question: str
    calc: Callable[[Values], Values]  # intermediates, including "answer"
    steps: tuple[str, ...]
    equations: tuple[str, ...]
    answer_np: str  # a noun phrase naming the answer, for follow-up questions
    whole: str | int  # a value the answer is naturally a part of (fraction / percent forms)
    whole_np: str
    derive: Callable[[Values], Values] = _none
    check: Callable[[Values], bool] = _always
    tags: tuple[str, ...] = field(default_factory=tuple)
    magnitude: bool = True  # whether the magnitude ladder (ranges ×10, ×100, ×1000) keeps the story sensible


T = Template
TEMPLATES: list[Template] = [
    T(
        "buy_and_give", "items", "objs",
        {"a": (10, 60), "b": (2, 9), "c": (3, 12), "d": (5, 30)},
        "{name} has {a} {objs}. {name} buys {b} packs with {c} {objs} in each pack, then gives {d} {objs} to {name2}.",
        "How many {objs} does {name} have now?",
        lambda v: {"packs": v["b"] * v["c"], "total": v["a"] + v["b"] * v["c"], "answer": v["a"] + v["b"] * v["c"] - v["d"]},
        ("The packs hold {b} × {c} = {packs} {objs}.", "Before giving any away, {name} has {a} + {packs} = {total} {objs}.",
         "After giving {d} away: {total} − {d} = {answer}."),
        ("packs = b*c", "total = a + packs", "answer + d = total"),
        "the number of {objs} {name} has now", "total", "the {objs} {name} had just after buying the packs",
    ),
    T(
        "bake_sale", "food", "dollars",
        {"a": (2, 6), "b": (6, 24), "d": (2, 5), "c": (2, 5)},
        "{name} bakes {a} trays of {objs} with {b} {objs} on each tray. {d} of them break, and {name} sells all the others for {c} dollars each.",
        "How many dollars does {name} make?",
        lambda v: {"made": v["a"] * v["b"], "sold": v["a"] * v["b"] - v["d"], "answer": (v["a"] * v["b"] - v["d"]) * v["c"]},
        ("{name} bakes {a} × {b} = {made} {objs}.", "{made} − {d} = {sold} are sold.", "{sold} × {c} = {answer} dollars."),
        ("made = a*b", "sold + d = made", "answer = c*sold"),
        "the money {name} makes, in dollars", 1000, "1000 dollars",
    ),
    T(
        "savings_goal", "none", "weeks",
        {"b": (10, 90), "c": (5, 25), "w": (3, 12)},
        "{name} wants a bike that costs {price} dollars and has already saved {b} dollars. {name} saves {c} dollars every week.",
        "How many weeks will it take {name} to have exactly enough for the bike?",
        lambda v: {"need": v["price"] - v["b"], "answer": (v["price"] - v["b"]) // v["c"]},
        ("{name} still needs {price} − {b} = {need} dollars.", "{need} ÷ {c} = {answer} weeks."),
        ("need = price - b", "c*answer = need"),
        "the number of weeks {name} needs", 52, "a 52-week year",
        derive=lambda v: {"price": v["b"] + v["c"] * v["w"]},
    ),
    T(
        "pizza_slices", "none", "slices",
        {"a": (2, 8), "h": (3, 6), "c": (2, 9), "d": (2, 4)},
        "For a party {name} orders {a} pizzas, each cut into {b} slices. {c} guests each eat {d} slices.",
        "How many slices are left over?",
        lambda v: {"slices": v["a"] * v["b"], "eaten": v["c"] * v["d"], "answer": v["a"] * v["b"] - v["c"] * v["d"]},
        ("There are {a} × {b} = {slices} slices.", "The guests eat {c} × {d} = {eaten} slices.", "{slices} − {eaten} = {answer} slices are left."),
        ("slices = a*b", "eaten = c*d", "answer + eaten = slices"),
        "the number of slices left over", "slices", "all the pizza slices",
        derive=lambda v: {"b": 2 * v["h"]},
        check=lambda v: v["c"] * v["d"] < v["a"] * 2 * v["h"],
    ),
    T(
        "road_trip", "none", "kilometers",
        {"a": (40, 90), "b": (2, 5), "c": (50, 110), "d": (1, 4)},
        "{name} drives at {a} kilometers per hour for {b} hours, then at {c} kilometers per hour for {d} hours.",
        "How many kilometers does {name} drive in total?",
        lambda v: {"first": v["a"] * v["b"], "second": v["c"] * v["d"], "answer": v["a"] * v["b"] + v["c"] * v["d"]},
        ("First part: {a} × {b} = {first} km.", "Second part: {c} × {d} = {second} km.", "Total: {first} + {second} = {answer} km."),
        ("first = a*b", "second = c*d", "answer - second = first"),
        "the total distance {name} drives, in kilometers", 1000, "a 1000-kilometer journey",
    ),
    T(
        "garden_tomatoes", "none", "tomatoes",
        {"a": (2, 9), "b": (3, 12), "c": (2, 8), "d": (5, 40)},
        "{name} plants {a} rows of tomato plants with {b} plants in each row. Each plant grows {c} tomatoes. {name} gives {d} tomatoes to {name2}.",
        "How many tomatoes does {name} keep?",
        lambda v: {"plants": v["a"] * v["b"], "grown": v["a"] * v["b"] * v["c"], "answer": v["a"] * v["b"] * v["c"] - v["d"]},
        ("There are {a} × {b} = {plants} plants.", "They grow {plants} × {c} = {grown} tomatoes.", "{name} keeps {grown} − {d} = {answer}."),
        ("plants = a*b", "grown = c*plants", "answer = grown - d"),
        "the number of tomatoes {name} keeps", "grown", "all the tomatoes grown",
        check=lambda v: v["a"] * v["b"] * v["c"] > v["d"],
    ),
    T(
        "book_pages", "none", "pages",
        {"a": (10, 30), "b": (3, 7), "c": (15, 60), "r": (5, 90)},
        "{name}'s book has {p} pages. {name} reads {a} pages a day for {b} days, then reads {c} pages on Saturday.",
        "How many pages does {name} still have to read?",
        lambda v: {"week": v["a"] * v["b"], "read": v["a"] * v["b"] + v["c"], "answer": v["p"] - v["a"] * v["b"] - v["c"]},
        ("On weekdays {name} reads {a} × {b} = {week} pages.", "With Saturday: {week} + {c} = {read} pages.", "{p} − {read} = {answer} pages are left."),
        ("week = a*b", "read = week + c", "answer + read = p"),
        "the number of pages {name} still has to read", "p", "the whole book's pages",
        derive=lambda v: {"p": v["a"] * v["b"] + v["c"] + v["r"]},
    ),
    T(
        "recipe_flour", "food", "cups",
        {"a": (2, 5), "b": (10, 24), "k": (2, 6), "h": (2, 4)},
        "{name}'s recipe uses {a} cups of flour to make {b} {objs}. {name} wants to make {n} {objs} and already has {h} cups of flour.",
        "How many more cups of flour does {name} need to buy?",
        lambda v: {"batches": v["n"] // v["b"], "cups": v["a"] * (v["n"] // v["b"]), "answer": v["a"] * (v["n"] // v["b"]) - v["h"]},
        ("{n} ÷ {b} = {batches} batches.", "{batches} × {a} = {cups} cups of flour.", "{cups} − {h} = {answer} cups to buy."),
        ("b*batches = n", "cups = a*batches", "answer = cups - h"),
        "the number of cups of flour {name} needs to buy", "cups", "all the flour the {objs} need",
        derive=lambda v: {"n": v["b"] * v["k"]},
        check=lambda v: v["a"] * v["k"] > v["h"],
    ),
    T(
        "classroom_share", "items", "objs",
        {"a": (4, 12), "e": (2, 9), "r": (1, 9)},
        "{name} has {total} {objs}, keeps {r} and shares the rest equally among {a} students. Then each student gives 1 {obj} back.",
        "How many {objs} does each student have now?",
        lambda v: {"shared": v["total"] - v["r"], "each": (v["total"] - v["r"]) // v["a"], "answer": (v["total"] - v["r"]) // v["a"] - 1},
        ("{total} − {r} = {shared} {objs} are shared.", "{shared} ÷ {a} = {each} each.", "After giving one back: {each} − 1 = {answer}."),
        ("shared = total - r", "a*each = shared", "answer = each - 1"),
        "the number of {objs} each student has now", "total", "the {objs} {name} had at the start",
        derive=lambda v: {"total": v["a"] * v["e"] + v["r"]},
        check=lambda v: v["e"] > 1,
    ),
    T(
        "fruit_stand", "none", "dollars",
        {"a": (10, 50), "b": (2, 6), "m": (1, 4), "f": (5, 20)},
        "{name} buys {a} kilograms of cherries at {b} dollars per kilogram and sells them all at {c} dollars per kilogram. The stall costs {f} dollars to rent.",
        "How much profit does {name} make, in dollars?",
        lambda v: {"cost": v["a"] * v["b"], "revenue": v["a"] * v["c"], "answer": v["a"] * (v["c"] - v["b"]) - v["f"]},
        ("Cost: {a} × {b} = {cost} dollars.", "Sales: {a} × {c} = {revenue} dollars.", "Profit: {revenue} − {cost} − {f} = {answer} dollars."),
        ("cost = a*b", "revenue = a*c", "answer + f + cost = revenue"),
        "the profit {name} makes, in dollars", "revenue", "the money from the sales",
        derive=lambda v: {"c": v["b"] + v["m"]},
        check=lambda v: v["a"] * v["m"] > v["f"],
    ),
    T(
        "parking_wheels", "none", "wheels",
        {"a": (5, 40), "b": (3, 30), "c": (2, 12)},
        "The parking lot at {name}'s school has {a} cars, {b} bicycles and {c} tricycles.",
        "How many wheels are there in total?",
        lambda v: {"cw": 4 * v["a"], "bw": 2 * v["b"], "tw": 3 * v["c"], "answer": 4 * v["a"] + 2 * v["b"] + 3 * v["c"]},
        ("Cars: {a} × 4 = {cw}.", "Bicycles: {b} × 2 = {bw}.", "Tricycles: {c} × 3 = {tw}.", "Total: {cw} + {bw} + {tw} = {answer} wheels."),
        ("cw = 4*a", "bw = 2*b", "tw = 3*c", "answer = cw + bw + tw"),
        "the total number of wheels", 500, "500 wheels",
    ),
    T(
        "ages", "none", "years",
        {"a": (5, 14), "b": (2, 6), "c": (2, 3), "d": (2, 9)},
        "{name} is {a} years old. {name}'s sister is {b} years older than {name}, and their grandfather is {c} times as old as the sister.",
        "How old will the grandfather be in {d} years?",
        lambda v: {"sister": v["a"] + v["b"], "grand": v["c"] * (v["a"] + v["b"]), "answer": v["c"] * (v["a"] + v["b"]) + v["d"]},
        ("The sister is {a} + {b} = {sister}.", "The grandfather is {c} × {sister} = {grand}.", "In {d} years: {grand} + {d} = {answer}."),
        ("sister - b = a", "grand = c*sister", "answer = grand + d"),
        "the grandfather's age in {d} years", 100, "a hundred years",
        check=lambda v: v["c"] * (v["a"] + v["b"]) >= 20,
        magnitude=False,  # ages in the hundreds
    ),
    T(
        "water_tank", "none", "liters",
        {"a": (5, 20), "b": (3, 15), "c": (2, 30), "s": (10, 99)},
        "{name}'s tank holds {s} liters of water. A hose adds {a} liters per minute for {b} minutes, and then {c} liters leak out.",
        "How many liters are in the tank now?",
        lambda v: {"added": v["a"] * v["b"], "full": v["s"] + v["a"] * v["b"], "answer": v["s"] + v["a"] * v["b"] - v["c"]},
        ("The hose adds {a} × {b} = {added} liters.", "{s} + {added} = {full} liters.", "{full} − {c} = {answer} liters."),
        ("added = a*b", "full = s + added", "answer = full - c"),
        "the amount of water in the tank now, in liters", "full", "the water in the tank just before the leak",
    ),
    T(
        "bus_stops", "none", "passengers",
        {"a": (15, 45), "b": (2, 12), "c": (3, 15), "d": (2, 12), "e": (1, 10)},
        "{name} drives a bus that leaves the station with {a} passengers. At the first stop {b} get off and {c} get on. At the second stop {d} get off and {e} get on.",
        "How many passengers are on the bus now?",
        lambda v: {"s1": v["a"] - v["b"] + v["c"], "answer": v["a"] - v["b"] + v["c"] - v["d"] + v["e"]},
        ("After the first stop: {a} − {b} + {c} = {s1}.", "After the second stop: {s1} − {d} + {e} = {answer}."),
        ("s1 + b = a + c", "answer + d = s1 + e"),
        "the number of passengers on the bus now", 100, "the bus's 100 seats",
    ),
    T(
        "buy_three_get_one", "items", "dollars",
        {"a": (2, 9), "m": (2, 6), "x": (1, 20)},
        "{objs_cap} cost {a} dollars each, and every fourth {obj} is free. {name} takes {n} {objs} and pays with {bill} dollars.",
        "How much change does {name} get, in dollars?",
        lambda v: {"free": v["n"] // 4, "paid": v["n"] - v["n"] // 4, "cost": (v["n"] - v["n"] // 4) * v["a"], "answer": v["bill"] - (v["n"] - v["n"] // 4) * v["a"]},
        ("{n} ÷ 4 = {free} are free.", "{name} pays for {n} − {free} = {paid}.", "They cost {paid} × {a} = {cost} dollars.", "Change: {bill} − {cost} = {answer}."),
        ("4*free = n", "paid = n - free", "cost = a*paid", "answer = bill - cost"),
        "the change {name} gets, in dollars", "bill", "the money {name} pays with",
        derive=lambda v: {"n": 4 * v["m"], "bill": 3 * v["m"] * v["a"] + v["x"]},
    ),
    T(
        "running_weeks", "none", "kilometers",
        {"a": (2, 9), "b": (5, 20), "w": (2, 8)},
        "{name} runs {a} kilometers every weekday (Monday to Friday) and {b} kilometers on Saturday, and rests on Sunday.",
        "How many kilometers does {name} run in {w} weeks?",
        lambda v: {"weekdays": 5 * v["a"], "week": 5 * v["a"] + v["b"], "answer": v["w"] * (5 * v["a"] + v["b"])},
        ("Weekdays: 5 × {a} = {weekdays} km.", "One week: {weekdays} + {b} = {week} km.", "{w} weeks: {w} × {week} = {answer} km."),
        ("weekdays = 5*a", "week = weekdays + b", "answer = w*week"),
        "the distance {name} runs in {w} weeks, in kilometers", 1000, "1000 kilometers",
    ),
    T(
        "library", "none", "books",
        {"a": (200, 900), "b": (20, 90), "c": (10, 60), "d": (2, 6), "e": (10, 25)},
        "{name}'s town library has {a} books. It lends out {b} books, gets {c} books back, and buys {d} boxes with {e} books in each box.",
        "How many books are in the library now?",
        lambda v: {"after": v["a"] - v["b"] + v["c"], "new": v["d"] * v["e"], "answer": v["a"] - v["b"] + v["c"] + v["d"] * v["e"]},
        ("After lending and returns: {a} − {b} + {c} = {after}.", "New books: {d} × {e} = {new}.", "{after} + {new} = {answer}."),
        ("after = a - b + c", "new = d*e", "answer - new = after"),
        "the number of books in the library now", 1000, "1000 books",
        check=lambda v: v["c"] <= v["b"],
    ),
    T(
        "coin_jar", "none", "cents",
        {"a": (3, 20), "b": (2, 15), "c": (2, 15)},
        "{name}'s jar holds {a} quarters (25 cents each), {b} dimes (10 cents each) and {c} nickels (5 cents each).",
        "How many cents are in the jar?",
        lambda v: {"q": 25 * v["a"], "dm": 10 * v["b"], "nk": 5 * v["c"], "answer": 25 * v["a"] + 10 * v["b"] + 5 * v["c"]},
        ("Quarters: {a} × 25 = {q}.", "Dimes: {b} × 10 = {dm}.", "Nickels: {c} × 5 = {nk}.", "Total: {q} + {dm} + {nk} = {answer} cents."),
        ("q = 25*a", "dm = 10*b", "nk = 5*c", "answer = q + dm + nk"),
        "the amount of money in the jar, in cents", 1000, "ten dollars (1000 cents)",
    ),
    T(
        "fence_cost", "none", "dollars",
        {"a": (5, 30), "b": (3, 20), "c": (2, 9), "d": (20, 80)},
        "{name}'s garden is a rectangle {a} meters long and {b} meters wide. Fencing costs {c} dollars per meter, and a gate costs {d} dollars more.",
        "How much does it cost to fence the whole garden and add the gate, in dollars?",
        lambda v: {"per": 2 * (v["a"] + v["b"]), "fence": 2 * (v["a"] + v["b"]) * v["c"], "answer": 2 * (v["a"] + v["b"]) * v["c"] + v["d"]},
        ("Perimeter: 2 × ({a} + {b}) = {per} m.", "Fencing: {per} × {c} = {fence} dollars.", "With the gate: {fence} + {d} = {answer} dollars."),
        ("per = 2*a + 2*b", "fence = c*per", "answer - d = fence"),
        "the total cost in dollars", 1000, "a budget of 1000 dollars",
    ),
    T(
        "floor_tiles", "none", "dollars",
        {"a": (3, 9), "b": (3, 9), "d": (2, 8), "c": (3, 12)},
        "{name}'s room is {a} meters by {b} meters. Each tile covers one square meter and costs {c} dollars. {name} buys enough tiles for the floor plus {d} spare tiles.",
        "How much does {name} spend on tiles, in dollars?",
        lambda v: {"area": v["a"] * v["b"], "tiles": v["a"] * v["b"] + v["d"], "answer": (v["a"] * v["b"] + v["d"]) * v["c"]},
        ("Area: {a} × {b} = {area} square meters.", "Tiles: {area} + {d} = {tiles}.", "Cost: {tiles} × {c} = {answer} dollars."),
        ("area = a*b", "tiles - d = area", "answer = c*tiles"),
        "the money {name} spends on tiles, in dollars", 1000, "a budget of 1000 dollars",
    ),
    T(
        "movie_tickets", "none", "dollars",
        {"a": (9, 15), "b": (4, 8), "x": (1, 4), "y": (1, 5), "p": (2, 6)},
        "Adult tickets cost {a} dollars and child tickets cost {b} dollars. {name} goes to the cinema with a family group of {x} adults and {y} children (counting {name}), and everyone also buys popcorn for {p} dollars.",
        "How much does the family spend, in dollars?",
        lambda v: {"adults": v["a"] * v["x"], "kids": v["b"] * v["y"], "pop": v["p"] * (v["x"] + v["y"]),
                   "answer": v["a"] * v["x"] + v["b"] * v["y"] + v["p"] * (v["x"] + v["y"])},
        ("Adults: {x} × {a} = {adults}.", "Children: {y} × {b} = {kids}.", "Popcorn: ({x} + {y}) × {p} = {pop}.", "Total: {adults} + {kids} + {pop} = {answer} dollars."),
        ("adults = a*x", "kids = b*y", "pop = p*(x + y)", "answer = adults + kids + pop"),
        "the family's spending, in dollars", 200, "200 dollars",
    ),
    T(
        "factory_boxes", "items", "boxes",
        {"a": (6, 48), "b": (2, 8), "c": (4, 12), "d": (1, 5)},
        "{name}'s machine makes {a} {objs} per hour for {b} hours. The {objs} are packed in boxes of {c}, and {d} boxes are shipped.",
        "How many boxes are left?",
        lambda v: {"made": v["a"] * v["b"], "boxes": v["a"] * v["b"] // v["c"], "answer": v["a"] * v["b"] // v["c"] - v["d"]},
        ("The machine makes {a} × {b} = {made} {objs}.", "{made} ÷ {c} = {boxes} boxes.", "{boxes} − {d} = {answer} boxes are left."),
        ("made = a*b", "c*boxes = made", "answer = boxes - d"),
        "the number of boxes left", "boxes", "all the boxes packed",
        check=lambda v: v["a"] * v["b"] % v["c"] == 0 and v["a"] * v["b"] // v["c"] > v["d"],
    ),
    T(
        "fuel_cost", "none", "dollars",
        {"a": (8, 20), "l": (5, 40), "c": (2, 3), "t": (3, 15)},
        "{name}'s car uses one liter of fuel every {a} kilometers. {name} drives {dist} kilometers, fuel costs {c} dollars per liter, and the road toll is {t} dollars.",
        "How much does the trip cost, in dollars?",
        lambda v: {"liters": v["dist"] // v["a"], "fuel": v["dist"] // v["a"] * v["c"], "answer": v["dist"] // v["a"] * v["c"] + v["t"]},
        ("Fuel used: {dist} ÷ {a} = {liters} liters.", "Fuel cost: {liters} × {c} = {fuel} dollars.", "With the toll: {fuel} + {t} = {answer} dollars."),
        ("a*liters = dist", "fuel = c*liters", "answer = fuel + t"),
        "the cost of the trip, in dollars", 200, "200 dollars",
        derive=lambda v: {"dist": v["a"] * v["l"]},
    ),
    T(
        "test_average", "none", "points",
        {"m": (70, 90), "a": (60, 99), "b": (60, 99), "c": (60, 99)},
        "{name} scored {a}, {b} and {c} on three tests.",
        "What score does {name} need on the fourth test to average exactly {m} over all four tests?",
        lambda v: {"goal": 4 * v["m"], "sum3": v["a"] + v["b"] + v["c"], "answer": 4 * v["m"] - v["a"] - v["b"] - v["c"]},
        ("Four tests averaging {m} total 4 × {m} = {goal}.", "So far: {a} + {b} + {c} = {sum3}.", "Needed: {goal} − {sum3} = {answer}."),
        ("goal = 4*m", "sum3 = a + b + c", "answer + sum3 = goal"),
        "the score {name} needs on the fourth test", 100, "the maximum score of 100",
        check=lambda v: 50 <= 4 * v["m"] - v["a"] - v["b"] - v["c"] <= 100,
        magnitude=False,  # scores stay out of 100
    ),
    T(
        "overtime_pay", "none", "dollars",
        {"a": (10, 25), "b": (4, 8), "c": (2, 9)},
        "{name} earns {a} dollars an hour and works {b} hours a day for 5 days. {name} also works {c} hours of overtime, paid at double the hourly rate.",
        "How much does {name} earn that week, in dollars?",
        lambda v: {"hours": 5 * v["b"], "regular": 5 * v["b"] * v["a"], "rate": 2 * v["a"], "over": 2 * v["a"] * v["c"],
                   "answer": 5 * v["b"] * v["a"] + 2 * v["a"] * v["c"]},
        ("Regular hours: 5 × {b} = {hours}.", "Regular pay: {hours} × {a} = {regular}.", "Overtime rate: 2 × {a} = {rate}.",
         "Overtime pay: {c} × {rate} = {over}.", "Total: {regular} + {over} = {answer} dollars."),
        ("hours = 5*b", "regular = a*hours", "rate = 2*a", "over = c*rate", "answer = regular + over"),
        "{name}'s pay that week, in dollars", 2000, "2000 dollars",
    ),
    T(
        "candy_jars", "food", "objs",
        {"a": (8, 40), "b": (2, 15)},
        "{name}'s first jar holds {a} {objs}. The second jar holds twice as many as the first, and the third jar holds {b} fewer than the second.",
        "How many {objs} are in the three jars altogether?",
        lambda v: {"second": 2 * v["a"], "third": 2 * v["a"] - v["b"], "answer": 5 * v["a"] - v["b"]},
        ("Second jar: 2 × {a} = {second}.", "Third jar: {second} − {b} = {third}.", "Altogether: {a} + {second} + {third} = {answer}."),
        ("second = 2*a", "third + b = second", "answer = a + second + third"),
        "the number of {objs} in the three jars", 200, "200 {objs}",
    ),
    T(
        "stamp_share", "items", "objs",
        {"k": (3, 20), "g": (2, 5)},
        "{name} has {a} {objs} and {name2} has three times as many. They put them together and give a third of the pile to the school, then split the rest equally between the two of them.",
        "How many {objs} does each of them get?",
        lambda v: {"other": 3 * v["a"], "pile": 4 * v["a"], "given": 4 * v["a"] // 3, "rest": 8 * v["a"] // 3, "answer": 4 * v["a"] // 3},
        ("{name2} has 3 × {a} = {other}.", "Together: {a} + {other} = {pile}.", "A third is {pile} ÷ 3 = {given}, leaving {rest}.", "Each gets {rest} ÷ 2 = {answer}."),
        ("other = 3*a", "pile = a + other", "3*given = pile", "rest = pile - given", "2*answer = rest"),
        "the number of {objs} each of them gets", "pile", "the whole pile",
        derive=lambda v: {"a": 3 * v["k"]},
    ),
    T(
        "paint_cans", "none", "dollars",
        {"a": (2, 6), "b": (3, 12), "c": (2, 5), "d": (8, 30)},
        "Each wall needs {a} liters of paint and {name} paints {b} walls. Paint comes in cans of {c} liters that cost {d} dollars each.",
        "How much does {name} spend on paint, in dollars?",
        lambda v: {"liters": v["a"] * v["b"], "cans": v["a"] * v["b"] // v["c"], "answer": v["a"] * v["b"] // v["c"] * v["d"]},
        ("Paint needed: {a} × {b} = {liters} liters.", "Cans: {liters} ÷ {c} = {cans}.", "Cost: {cans} × {d} = {answer} dollars."),
        ("liters = a*b", "c*cans = liters", "answer = d*cans"),
        "the money {name} spends on paint, in dollars", 1000, "1000 dollars",
        check=lambda v: v["a"] * v["b"] % v["c"] == 0,
    ),
    T(
        "egg_cartons", "none", "dollars",
        {"k": (1, 3), "j": (2, 7), "p": (2, 5)},
        "{name} keeps {a} hens. Each hen lays one egg a day. After {d} days {name} packs the eggs into cartons of 12 and sells each carton for {p} dollars.",
        "How many dollars does {name} get for the eggs?",
        lambda v: {"eggs": v["a"] * v["d"], "cartons": v["a"] * v["d"] // 12, "answer": v["a"] * v["d"] // 12 * v["p"]},
        ("Eggs: {a} × {d} = {eggs}.", "Cartons: {eggs} ÷ 12 = {cartons}.", "Money: {cartons} × {p} = {answer} dollars."),
        ("eggs = a*d", "12*cartons = eggs", "answer = p*cartons"),
        "the money {name} gets for the eggs, in dollars", 100, "100 dollars",
        derive=lambda v: {"a": 6 * v["k"], "d": 2 * v["j"]},
    ),
    T(
        "school_trip", "none", "dollars",
        {"s": (2, 5), "c": (20, 40), "t": (2, 6), "d": (100, 300), "e": (3, 9)},
        "{name}'s school sends {students} students and {t} teachers on a trip. Each bus carries {c} people and there is no empty seat. Each bus costs {d} dollars and every student pays {e} dollars for the museum.",
        "How much does the trip cost in total, in dollars?",
        lambda v: {"people": v["students"] + v["t"], "buses": (v["students"] + v["t"]) // v["c"],
                   "bus": (v["students"] + v["t"]) // v["c"] * v["d"], "museum": v["students"] * v["e"],
                   "answer": (v["students"] + v["t"]) // v["c"] * v["d"] + v["students"] * v["e"]},
        ("People: {students} + {t} = {people}.", "Buses: {people} ÷ {c} = {buses}.", "Buses cost {buses} × {d} = {bus}.",
         "Museum: {students} × {e} = {museum}.", "Total: {bus} + {museum} = {answer} dollars."),
        ("people = students + t", "c*buses = people", "bus = d*buses", "museum = e*students", "answer = bus + museum"),
        "the total cost of the trip, in dollars", 5000, "5000 dollars",
        derive=lambda v: {"students": v["s"] * v["c"] - v["t"]},
    ),
    T(
        "lemonade", "none", "dollars",
        {"a": (10, 40), "b": (3, 20), "c": (1, 3), "d": (5, 20)},
        "{name} sells {a} cups of lemonade on Saturday and {b} more cups on Sunday than on Saturday. Each cup costs {c} dollars, and the lemons and sugar cost {d} dollars.",
        "How much profit does {name} make, in dollars?",
        lambda v: {"sunday": v["a"] + v["b"], "cups": 2 * v["a"] + v["b"], "sales": (2 * v["a"] + v["b"]) * v["c"],
                   "answer": (2 * v["a"] + v["b"]) * v["c"] - v["d"]},
        ("Sunday: {a} + {b} = {sunday} cups.", "Both days: {a} + {sunday} = {cups} cups.", "Sales: {cups} × {c} = {sales}.", "Profit: {sales} − {d} = {answer} dollars."),
        ("sunday = a + b", "cups = a + sunday", "sales = c*cups", "answer + d = sales"),
        "the profit {name} makes, in dollars", "sales", "the money from the sales",
        check=lambda v: (2 * v["a"] + v["b"]) * v["c"] > v["d"],
    ),
    T(
        "sleep_hours", "none", "hours",
        {"a": (6, 9), "b": (8, 11), "w": (2, 6)},
        "{name} sleeps {a} hours each night from Sunday to Thursday and {b} hours each night on Friday and Saturday.",
        "How many hours does {name} sleep in {w} weeks?",
        lambda v: {"weeknights": 5 * v["a"], "weekend": 2 * v["b"], "week": 5 * v["a"] + 2 * v["b"], "answer": v["w"] * (5 * v["a"] + 2 * v["b"])},
        ("Five nights: 5 × {a} = {weeknights}.", "Two nights: 2 × {b} = {weekend}.", "One week: {weeknights} + {weekend} = {week}.", "{w} weeks: {w} × {week} = {answer} hours."),
        ("weeknights = 5*a", "weekend = 2*b", "week = weeknights + weekend", "answer = w*week"),
        "the hours {name} sleeps in {w} weeks", 500, "500 hours",
        magnitude=False,  # hours of sleep a night
    ),
    T(
        "bookshelf", "none", "books",
        {"a": (3, 8), "b": (10, 30), "c": (2, 9), "d": (5, 25)},
        "{name} has {a} shelves with {b} books on each. {name} adds {c} books to every shelf and then donates {d} books.",
        "How many books are on the shelves now?",
        lambda v: {"per": v["b"] + v["c"], "all": v["a"] * (v["b"] + v["c"]), "answer": v["a"] * (v["b"] + v["c"]) - v["d"]},
        ("Each shelf: {b} + {c} = {per}.", "All shelves: {a} × {per} = {all}.", "After donating: {all} − {d} = {answer}."),
        ("per = b + c", "all = a*per", "answer + d = all"),
        "the number of books on the shelves now", "all", "the books before the donation",
    ),
    T(
        "allowance_split", "none", "dollars",
        {"k": (3, 11)},
        "{name} gets {a} dollars of pocket money. {name} spends half of it on a game, then a quarter of what is left on snacks, and saves the rest.",
        "How many dollars does {name} save?",
        lambda v: {"half": v["a"] // 2, "snacks": v["a"] // 8, "answer": v["a"] // 2 - v["a"] // 8},
        ("Half of {a} is {half}, leaving {half}.", "A quarter of {half} is {snacks}.", "Saved: {half} − {snacks} = {answer} dollars."),
        ("2*half = a", "4*snacks = half", "answer = half - snacks"),
        "the money {name} saves, in dollars", "a", "the pocket money",
        derive=lambda v: {"a": 8 * v["k"]},
    ),
    T(
        "marbles_trade", "items", "objs",
        {"a": (20, 60), "b": (5, 20), "c": (2, 4), "d": (3, 15)},
        "{name} has {a} {objs}. {name} loses {b} of them, then wins {c} times as many as were lost, and finally trades {d} {objs} for a toy.",
        "How many {objs} does {name} have in the end?",
        lambda v: {"after_loss": v["a"] - v["b"], "won": v["c"] * v["b"], "after_win": v["a"] - v["b"] + v["c"] * v["b"],
                   "answer": v["a"] - v["b"] + v["c"] * v["b"] - v["d"]},
        ("After losing: {a} − {b} = {after_loss}.", "Won: {c} × {b} = {won}.", "{after_loss} + {won} = {after_win}.", "After the trade: {after_win} − {d} = {answer}."),
        ("after_loss = a - b", "won = c*b", "after_win = after_loss + won", "answer = after_win - d"),
        "the number of {objs} {name} has in the end", "after_win", "the {objs} {name} had before the trade",
        check=lambda v: v["b"] < v["a"],
    ),
    T(
        "garden_area_seeds", "none", "seeds",
        {"a": (4, 15), "b": (3, 12), "c": (2, 6), "d": (2, 9), "e": (3, 10)},
        "{name}'s garden bed is {a} meters long and {b} meters wide. {name} plants {c} seeds in every square meter, and leaves {d} square meters empty for a path. Then {e} more seeds are planted along the fence.",
        "How many seeds are planted in total?",
        lambda v: {"area": v["a"] * v["b"], "planted_area": v["a"] * v["b"] - v["d"], "bed": (v["a"] * v["b"] - v["d"]) * v["c"],
                   "answer": (v["a"] * v["b"] - v["d"]) * v["c"] + v["e"]},
        ("Area: {a} × {b} = {area}.", "Planted area: {area} − {d} = {planted_area}.", "Seeds in the bed: {planted_area} × {c} = {bed}.", "Total: {bed} + {e} = {answer}."),
        ("area = a*b", "planted_area + d = area", "bed = c*planted_area", "answer = bed + e"),
        "the total number of seeds planted", 2000, "2000 seeds",
    ),
    T(
        "gift_cost_split", "none", "dollars",
        {"f": (3, 8), "e": (4, 15), "w": (5, 20)},
        "{name} and {fm} other friends buy a gift for {price} dollars and a card for {w} dollars. They split the total cost equally.",
        "How many dollars does each of the {f} friends pay?",
        lambda v: {"total": v["price"] + v["w"], "answer": (v["price"] + v["w"]) // v["f"]},
        ("Total: {price} + {w} = {total} dollars.", "Each pays {total} ÷ {f} = {answer} dollars."),
        ("total = price + w", "f*answer = total"),
        "the amount each friend pays, in dollars", "total", "the total cost",
        derive=lambda v: {"price": v["f"] * v["e"] - v["w"], "fm": v["f"] - 1},
        check=lambda v: v["f"] * v["e"] - v["w"] >= 10,
    ),
    T(
        "ribbon_pieces", "none", "centimeters",
        {"n": (3, 9), "p": (12, 40), "r": (5, 30), "k": (2, 4)},
        "{name} has a ribbon {length} centimeters long. {name} cuts {n} pieces of {p} centimeters each from it, then cuts the rest into {k} equal pieces.",
        "How long is each of the last pieces, in centimeters?",
        lambda v: {"cut": v["n"] * v["p"], "rest": v["length"] - v["n"] * v["p"], "answer": (v["length"] - v["n"] * v["p"]) // v["k"]},
        ("The first pieces use {n} × {p} = {cut} cm.", "Left: {length} − {cut} = {rest} cm.", "Each last piece: {rest} ÷ {k} = {answer} cm."),
        ("cut = n*p", "rest + cut = length", "k*answer = rest"),
        "the length of each of the last pieces, in centimeters", "rest", "the ribbon left after the first cuts",
        derive=lambda v: {"length": v["n"] * v["p"] + v["k"] * v["r"]},
    ),
]


# The unit an answer is re-asked in (the "form" perturbation, level 1) and the factor to it.
UNIT_CONVERSIONS: dict[str, tuple[str, int | tuple[int, int]]] = {
    "dollars": ("cents", 100),
    "cents": ("dollars", (1, 100)),
    "kilometers": ("meters", 1000),
    "centimeters": ("millimeters", 10),
    "liters": ("milliliters", 1000),
    "hours": ("minutes", 60),
    "weeks": ("days", 7),
    "years": ("months", 12),
    "cups": ("tablespoons", 16),
}
COUNT_CONVERSION = ("dozens", (1, 12))  # for counts of things (objects, pages, books, ...)
