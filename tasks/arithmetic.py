"""Multi-step arithmetic word problems: the foundation's small suite that carries the slice.

Each template is a short story whose quantities are drawn from a seeded RNG; the answer is
computed by the same code that writes the worked solution. Perturbed variants redraw the
numbers (same digit counts), swap names and objects, or add an irrelevant clause.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from harness.scoring.context import ScoringContext
from harness.scoring.numeric import extract_answer, is_equivalent
from harness.suite import SUITES, Suite, worked_solution
from harness.types import Item, Score, Variant

NAMES = ["Ava", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Liam"]
OTHER_NAMES = ["Quill", "Rosalind", "Tavish", "Umeko", "Vasco", "Wren", "Xiomara", "Yusuf", "Zelda", "Oren"]
OBJECTS = [("apple", "apples"), ("marble", "marbles"), ("sticker", "stickers"), ("pencil", "pencils")]
OTHER_OBJECTS = [("acorn", "acorns"), ("button", "buttons"), ("seashell", "seashells"), ("stamp", "stamps")]
DISTRACTORS = [
    "{name}'s neighbour owns {d} cats, which has nothing to do with this.",
    "It rained for {d} minutes that morning.",
    "{name} also has {d} books on a shelf at home.",
]

INSTRUCTION = "Solve the problem. Show your steps, then give the final answer as 'The answer is N'."


@dataclass
class Story:
    """A generated word problem: its text, worked steps and answer."""

    text: str
    steps: list[str]
    answer: int


Template = Callable[[random.Random, str, tuple[str, str]], Story]


def _buy_and_give(rng: random.Random, name: str, obj: tuple[str, str]) -> Story:
    a, b, c = rng.randint(10, 60), rng.randint(2, 9), rng.randint(5, 30)
    s, p = obj
    total = a + b * 4
    return Story(
        f"{name} has {a} {p}. {name} buys {b} bags with 4 {p} in each bag, then gives away {c} {p}. "
        f"How many {p} does {name} have now?",
        [f"Bags hold {b} × 4 = {b * 4} {p}.", f"{a} + {b * 4} = {total}.", f"{total} − {c} = {total - c}."],
        total - c,
    )


def _share_equally(rng: random.Random, name: str, obj: tuple[str, str]) -> Story:
    friends = rng.randint(2, 6)
    each = rng.randint(3, 12)
    extra = rng.randint(1, friends - 1) if friends > 2 else 1
    total = friends * each + extra
    s, p = obj
    return Story(
        f"{name} has {total} {p} and shares them equally among {friends} friends, keeping the {extra} left over. "
        f"Then each friend gets 2 more {p} from {name}'s teacher. How many {p} does each friend have?",
        [f"{total} ÷ {friends} = {each} remainder {extra}.", f"{each} + 2 = {each + 2}."],
        each + 2,
    )


def _weekly_savings(rng: random.Random, name: str, obj: tuple[str, str]) -> Story:
    weekly, weeks, cost = rng.randint(3, 15), rng.randint(3, 9), rng.randint(5, 20)
    saved = weekly * weeks
    return Story(
        f"{name} saves {weekly} dollars every week for {weeks} weeks, then spends {cost} dollars on a gift "
        f"and doubles what is left with a birthday present. How many dollars does {name} have?",
        [f"{weekly} × {weeks} = {saved}.", f"{saved} − {cost} = {saved - cost}.", f"2 × {saved - cost} = {2 * (saved - cost)}."],
        2 * (saved - cost),
    )


def _rows_and_columns(rng: random.Random, name: str, obj: tuple[str, str]) -> Story:
    rows, cols, removed = rng.randint(3, 12), rng.randint(3, 12), rng.randint(1, 9)
    s, p = obj
    return Story(
        f"{name} arranges {p} in {rows} rows of {cols}, then removes {removed} {p} from the grid. "
        f"How many {p} are left in the grid?",
        [f"{rows} × {cols} = {rows * cols}.", f"{rows * cols} − {removed} = {rows * cols - removed}."],
        rows * cols - removed,
    )


def _two_people(rng: random.Random, name: str, obj: tuple[str, str]) -> Story:
    a, more, lost = rng.randint(5, 40), rng.randint(2, 20), rng.randint(1, 5)
    s, p = obj
    b = a + more
    return Story(
        f"{name} has {a} {p}. Sam has {more} more {p} than {name}, but then Sam loses {lost} of them. "
        f"How many {p} do {name} and Sam have together?",
        [f"Sam starts with {a} + {more} = {b}.", f"Sam then has {b} − {lost} = {b - lost}.", f"Together {a} + {b - lost} = {a + b - lost}."],
        a + b - lost,
    )


def _price_per_item(rng: random.Random, name: str, obj: tuple[str, str]) -> Story:
    price, count, paid_extra = rng.randint(2, 9), rng.randint(3, 12), rng.randint(1, 20)
    s, p = obj
    cost = price * count
    paid = cost + paid_extra
    return Story(
        f"Each {s} costs {price} dollars. {name} buys {count} {p} and pays with {paid} dollars. "
        f"How much change does {name} get, in dollars?",
        [f"{count} × {price} = {cost}.", f"{paid} − {cost} = {paid - cost}."],
        paid - cost,
    )


TEMPLATES: list[Template] = [_buy_and_give, _share_equally, _weekly_savings, _rows_and_columns, _two_people, _price_per_item]
SPLIT_OFFSETS = {"train": 1_000_000, "dev": 2_000_000, "test": 0}
PERTURBATIONS = ("numbers", "names", "distractor")


@SUITES.register("arithmetic")
class ArithmeticSuite(Suite):
    """Templated word problems whose numbers, names, distractors and step counts vary."""

    capability = "math"
    version = "1"
    default_size = 60
    description = "Multi-step arithmetic word problems (2-3 steps) with number, name and distractor perturbations."

    def build(self) -> list[Item]:
        items: list[Item] = []
        for split, size in self.split_sizes().items():
            for index in range(size):
                items.extend(self._instance(split, index))
        return items

    def _instance(self, split: str, index: int) -> list[Item]:
        template = TEMPLATES[index % len(TEMPLATES)]
        base_seed = (self.seed, SPLIT_OFFSETS[split] + index)
        rng = random.Random(repr(base_seed))
        name, obj = rng.choice(NAMES), rng.choice(OBJECTS)
        story = template(random.Random(repr(base_seed + ("story",))), name, obj)
        cid = f"arithmetic/{split}/{index:05d}"
        out = [self._item(cid, split, story, Variant())]
        if split != "test":
            return out
        numbers = template(random.Random(repr(base_seed + ("numbers",))), name, obj)
        names = template(random.Random(repr(base_seed + ("story",))), rng.choice(OTHER_NAMES), rng.choice(OTHER_OBJECTS))
        clause = rng.choice(DISTRACTORS).format(name=name, d=rng.randint(2, 30))
        first, _, rest = story.text.partition(". ")
        distractor = Story(f"{first}. {clause} {rest}", story.steps, story.answer)
        for kind, perturbed in zip(PERTURBATIONS, (numbers, names, distractor), strict=True):
            out.append(self._item(f"{cid}/{kind}", split, perturbed, Variant(kind=kind, level=1, canonical_id=cid)))
        return out

    def _item(self, item_id: str, split: str, story: Story, variant: Variant) -> Item:
        return self.make_item(item_id, split, f"{INSTRUCTION}\n\n{story.text}", variant, answer=story.answer,
                              **worked_solution(story.steps, story.answer))

    def score(self, item: Item, output: str, context: ScoringContext | None = None) -> Score:
        answer = extract_answer(output)
        correct = is_equivalent(answer, item.answer)
        return Score(answer=answer, correct=correct, reason=None if correct else f"expected {item.answer}, got {answer}",
                     parsed=answer is not None)
