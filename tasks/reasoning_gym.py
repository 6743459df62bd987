"""reasoning-gym datasets as harness suites: `rg:<dataset>` for every entry of `_rg_catalog`.

Items come from reasoning-gym's own generators (`create_dataset`'s registry, configured by each
dataset's curriculum) and are scored by the dataset's own `score_answer`, whose graded value
becomes `Score.value`. Canonical items are drawn at the catalog's base curriculum level; each
canonical test item has perturbed twins `Variant(kind="difficulty", level=k)` drawn from the
same seed and index at curriculum level base + k (the curriculum's upper-bound band of each
attribute at that level, so every step is strictly harder, not a wider mix).

These suites are not part of the default selection (`harness eval` without --suite); name them.
reasoning_gym is imported only when a suite builds or scores; without the package installed
the suites are not registered at all.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from typing import Any, ClassVar

from harness.errors import HarnessError
from harness.scoring.context import ScoringContext
from harness.suite import SUITES, Suite
from harness.tasks._rg_catalog import CATALOG, RGEntry
from harness.types import Item, Score, Variant

# reasoning-gym's answer convention (its "default" system prompt), stated in every prompt.
INSTRUCTION = (
    "Think step by step. Then give your final answer between <answer> and </answer> tags, "
    "with no explanation inside the tags; when the question shows an answer format, follow it exactly."
)
# Fallback when a model forgets the tags: the last "Answer: ..." / "Final answer: ..." line.
FINAL_LINE = re.compile(r"^\s*(?:final\s+answer|answer)\s*[:：]\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)

# reasoning-gym draws item `idx` with Random(seed + idx): disjoint index ranges per split (and per
# redraw) give independent draws from one dataset seed.
SPLIT_OFFSETS = {"test": 0, "dev": 10_000_000, "train": 20_000_000}
REDRAW_STRIDE = 100_000  # redraw r of instance i uses index offset + r * stride + i
MAX_REDRAWS = 60


def extract_answer(output: str) -> str | None:
    """The last <answer>...</answer> (reasoning-gym's own extractor), else the last answer line."""
    from reasoning_gym.utils import extract_answer as rg_extract

    answer = rg_extract(output)
    if answer is None:
        lines = FINAL_LINE.findall(output)
        answer = lines[-1] if lines else None
    return answer


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


class ReasoningGymSuite(Suite):
    """One reasoning-gym dataset; subclasses (one per catalog entry) set `entry` and capability (the registry, the name)."""

    entry: ClassVar[RGEntry]
    version = "1"
    default_size = 50
    default_selection = False

    def __init__(self, seed: int = 0, size: int | None = None):
        super().__init__(seed=seed, size=size)
        if self.size * 4 > REDRAW_STRIDE:
            raise HarnessError(f"suite {self.name}: --size at most {REDRAW_STRIDE // 4}, got {self.size}")
        self._datasets: dict[tuple[int, int], Any] = {}
        self._entries: dict[str, dict[str, Any]] = {}  # item id -> reasoning-gym entry, filled by build

    # --- reasoning-gym ----------------------------------------------------------------
    @property
    def dataset_seed(self) -> int:
        """The reasoning-gym dataset seed of this (suite, version, seed)."""
        digest = hashlib.sha256(f"{self.name}|{self.version}|{self.seed}".encode()).digest()
        return int.from_bytes(digest[:4], "big") >> 1

    def level_config(self, level: int) -> Any:
        """The dataset config at one curriculum level: each attribute's band at that level."""
        from reasoning_gym.coaching.base_curriculum import DefaultCurriculumContext, RangeAttributeMode
        from reasoning_gym.factory import create_curriculum

        curriculum = create_curriculum(self.entry.dataset)
        curriculum.set_global_level(level)
        context = DefaultCurriculumContext(mode=RangeAttributeMode.UPPER_BOUND)
        return curriculum.generate_configuration({"seed": self.dataset_seed, "size": 2**31 - 1}, context)

    def dataset(self, level: int, seed: int | None = None) -> Any:
        seed = self.dataset_seed if seed is None else seed
        key = (level, seed)
        if key not in self._datasets:
            from reasoning_gym.factory import DATASETS

            config = self.level_config(level)
            config.seed = seed
            dataset_cls, _ = DATASETS[self.entry.dataset]
            self._datasets[key] = dataset_cls(config=config)
        return self._datasets[key]

    def levels(self) -> list[int]:
        """Curriculum levels: canonical first, then each rung of the difficulty ladder."""
        base = self.entry.base_level
        return [base + k for k in range(self.entry.ladder + 1)]

    # --- building -----------------------------------------------------------------------
    def build(self) -> list[Item]:
        self._entries.clear()
        return self.build_instances(self._instance)

    def _instance(self, split: str, index: int, seen: set[str]) -> list[Item]:
        base, *harder = self.levels()
        cid = f"{self.name}/{split}/{index:05d}"
        for redraw in range(MAX_REDRAWS):
            idx = SPLIT_OFFSETS[split] + redraw * REDRAW_STRIDE + index
            canonical = self._item(cid, split, Variant(), base, idx)
            if self.prompt_key(canonical) not in seen:
                break
        else:
            raise HarnessError(f"suite {self.name}: no new prompt for {cid} after {MAX_REDRAWS} draws (size too large?)")
        group = [canonical]
        if split == "test":
            for k, level in enumerate(harder, start=1):
                variant = Variant(kind="difficulty", level=k, canonical_id=cid)
                group.append(self._item(f"{cid}/difficulty-{k}", split, variant, level, idx))
        return group

    def _item(self, item_id: str, split: str, variant: Variant, level: int, idx: int) -> Item:
        entry = self.dataset(level)[idx]
        self._entries[item_id] = entry
        answer = entry["answer"]
        return self.make_item(
            item_id, split, f"{entry['question'].strip()}\n\n{INSTRUCTION}", variant,
            answer=answer,
            reference_response=f"<answer>{answer}</answer>",
            metadata={
                "rg": {"dataset": self.entry.dataset, "level": level, "seed": self.dataset_seed, "index": idx},
                "difficulty": _json_safe(entry.get("metadata", {}).get("difficulty", {})),
            },
        )

    # --- scoring ------------------------------------------------------------------------
    def rg_entry(self, item: Item) -> dict[str, Any]:
        """The reasoning-gym entry behind an item: from this build, else regenerated from its metadata."""
        entry = self._entries.get(item.id)
        if entry is None:
            meta = item.metadata["rg"]
            entry = self.dataset(meta["level"], meta["seed"])[meta["index"]]
            if entry["answer"] != item.answer or entry["question"].strip() not in item.messages[0].content:
                raise HarnessError(f"suite {self.name}: item {item.id} does not match reasoning-gym's entry")
        return entry

    def score(self, item: Item, output: str, context: ScoringContext | None = None) -> Score:
        entry = self.rg_entry(item)
        answer = extract_answer(output)
        if answer is None:
            return Score(answer=None, correct=False, value=0.0, reason="no <answer> tag or answer line", parsed=False)
        meta = item.metadata["rg"]
        try:
            value = float(self.dataset(meta["level"], meta["seed"]).score_answer(answer, entry))
        except Exception as exc:  # a reasoning-gym scorer choking on odd model output is a wrong answer
            return Score(answer=answer, correct=False, value=0.0, reason=f"score_answer failed: {exc!r}"[:300])
        value = min(1.0, max(0.0, value))
        correct = value >= self.entry.threshold
        reason = None if correct else f"expected {entry['answer']!r}, got {answer!r} (score {value:.2f})"
        return Score(answer=answer, correct=correct, value=value, reason=reason)


def _register(entry: RGEntry) -> type[ReasoningGymSuite]:
    class_name = "RG" + "".join(part.title() for part in entry.dataset.split("_")) + "Suite"
    suite_cls: type[ReasoningGymSuite] = type(class_name, (ReasoningGymSuite,), {
        "__module__": __name__,
        "__doc__": f"reasoning-gym's {entry.dataset} dataset.",
        "capability": entry.capability,
        "entry": entry,
        "description": (
            f"reasoning-gym {entry.dataset} ({entry.category}): canonical at curriculum level {entry.base_level}, "
            f"difficulty@1..{entry.ladder} at levels {entry.base_level + 1}..{entry.base_level + entry.ladder}; "
            "scored by its score_answer."
        ),
    })
    SUITES.register(entry.suite_name)(suite_cls)  # returns suite_cls itself, typed as the registry's type[Suite]
    return suite_cls


if importlib.util.find_spec("reasoning_gym") is not None:
    RG_SUITES = {entry.suite_name: _register(entry) for entry in CATALOG}
else:
    RG_SUITES = {}
