"""Format and structure: IFEval-style verifiable instructions about everyday topics.

Each canonical item asks for a short text under one constraint (named sections, a word or
sentence limit, an exact bullet count, forbidden words, a closing phrase, JSON that
validates against a schema, or `<think>` reasoning followed by a final answer line).
Perturbations: `rephrased` states the same constraint in other words, `combined` adds one
(level 1) or two (level 2) compatible constraints, and `habit` adds a constraint that
fights a model's habits (no markdown; no commas where markdown bullets are required).

Scoring follows IFEval: strict and loose compliance per constraint and per prompt; the
item is correct when every constraint is followed strictly. Per-constraint results go in
Score.details and, as {constraint: [strict, loose]}, in the record's `answer`.
"""

from __future__ import annotations

import random

from harness.scoring.context import ScoringContext
from harness.scoring.instructions import check_all
from harness.suite import SUITES, Suite, normalise_prompt
from harness.tasks._format_build import REQUESTS, Draw, NoReference, compatible, draw, family, phrase, reference_response
from harness.types import Item, Score, Variant

PRIMARY = [
    "sections", "words_max", "words_min", "max_sentences", "number_bullets",
    "forbidden_words", "end_phrase", "json_schema", "think_answer",
]  # fmt: skip
EXTRAS = ["forbidden_words", "end_phrase", "include_keywords", "no_comma", "words_max", "words_min", "sections", "number_bullets"]
SPLIT_OFFSETS = {"test": 0, "dev": 1_000_000, "train": 2_000_000}


@SUITES.register("format")
class FormatSuite(Suite):
    """Instructions with checkable output formats (JSON, lists, lengths, casing)."""

    capability = "format"
    version = "1"
    default_size = 80  # 80 canonical test prompts → 400 test items with the four perturbations
    description = "IFEval-style verifiable format instructions with rephrased, combined and habit-conflicting variants."

    def build(self) -> list[Item]:
        items: list[Item] = []
        seen: set[str] = set()
        for split, size in self.split_sizes().items():
            for index in range(size):
                for attempt in range(50):  # redraw on a prompt already used anywhere (keeps splits disjoint)
                    try:
                        group = self._instance(split, index, attempt)
                    except NoReference:
                        continue
                    keys = {normalise_prompt(it.messages[0].content) for it in group}
                    if len(keys) == len(group) and not keys & seen:
                        break
                else:
                    raise AssertionError(f"format: could not draw a fresh prompt for {split}/{index}")
                seen |= keys
                items.extend(group)
        return items

    def _instance(self, split: str, index: int, attempt: int) -> list[Item]:
        rng = random.Random(repr((self.seed, SPLIT_OFFSETS[split] + index, attempt)))
        d = draw(rng)
        primary = PRIMARY[(index + attempt) % len(PRIMARY)]
        cid = f"format/{split}/{index:05d}"
        out = [self._item(cid, split, Variant(), d, [primary], style=0)]
        if split != "test":
            return out
        extras: list[str] = []
        for name in rng.sample(EXTRAS, len(EXTRAS)):
            chosen = [primary, *extras]
            if len(extras) < 2 and all(compatible(d.specs[name]["id"], d.specs[c]["id"]) for c in chosen):
                extras.append(name)
        habit = "no_markdown" if compatible(d.specs[primary]["id"], "no_markdown") else "no_comma"
        variants = [
            ("rephrased", 1, [primary], 1 + rng.randrange(2)),
            ("combined", 1, [primary, extras[0]], 0),
            ("combined", 2, [primary, *extras[:2]], 0),
            ("habit", 1, [primary, habit], 0),
        ]
        for kind, level, names, style in variants:
            variant = Variant(kind=kind, level=level, canonical_id=cid)
            out.append(self._item(f"{cid}/{kind}{level}", split, variant, d, names, style))
        return out

    def _item(self, item_id: str, split: str, variant: Variant, d: Draw, names: list[str], style: int) -> Item:
        specs = [d.specs[n] for n in names]
        requests = REQUESTS[family(specs)]
        request = requests[d.request % len(requests)].format(topic=d.topic)
        instructions = "\n".join(phrase(spec, style) for spec in specs)
        response = reference_response(d.topic, d.sentences, specs)
        return self.make_item(
            item_id, split, f"{request}\n{instructions}", variant,
            answer=specs,
            solution=response,
            reference_response=response,
            metadata={"topic": d.topic, "constraints": [s["id"] for s in specs]},
        )

    def score(self, item: Item, output: str, context: ScoringContext | None = None) -> Score:
        specs = item.answer
        if output.strip():
            result = check_all(specs, output)
        else:
            result = {mode: {s["id"]: False for s in specs} for mode in ("strict", "loose")}
        strict, loose = result["strict"], result["loose"]
        correct = all(strict.values())
        failed = [cid for cid, ok in strict.items() if not ok]
        details = {
            **result,
            "prompt_strict": correct,
            "prompt_loose": all(loose.values()),
            "instruction_strict": sum(strict.values()) / len(strict),
            "instruction_loose": sum(loose.values()) / len(loose),
        }
        return Score(
            answer={cid: [strict[cid], loose[cid]] for cid in strict},
            correct=correct,
            reason=None if correct else "not followed: " + ", ".join(failed),
            details=details,
        )
