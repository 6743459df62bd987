"""Contamination guard: how much of any test item a training row contains, by word n-grams.

For each training row we find the test item it overlaps most and report the fraction of that test
item's n-grams that occur in the row (1.0: the test prompt is copied into the row). N-grams shared
by many test items are boilerplate (instructions, story templates): they say nothing about a leak
and are left out of both sides.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from harness.types import Item

WORD = re.compile(r"\w+")


def ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    words = WORD.findall(text.lower())
    if len(words) < n:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def item_text(item: Item) -> str:
    return "\n".join(m.content for m in item.messages if m.role != "assistant")


@dataclass
class Overlap:
    """How much of its closest test item a text contains."""

    score: float  # fraction of the closest test item's n-grams found in the row
    test_id: str | None


@dataclass
class ContaminationIndex:
    """Inverted index from n-gram to the test items containing it."""

    n: int = 13
    boilerplate_share: float = 0.02
    postings: dict[tuple[str, ...], list[int]] = field(default_factory=lambda: defaultdict(list))
    sizes: list[int] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, test_items: Iterable[Item], n: int = 13, boilerplate_share: float = 0.02, min_boilerplate: int = 8) -> "ContaminationIndex":
        """N-grams found in more than max(min_boilerplate, share × suite size) test items of one suite
        are that suite's boilerplate (instructions, templates) and are not indexed."""
        index = cls(n=n, boilerplate_share=boilerplate_share)
        grams_per_item, suites = [], []
        for item in test_items:
            index.ids.append(item.id)
            suites.append(item.suite)
            grams_per_item.append(ngrams(item_text(item), n))
        frequency: dict[str, Counter] = defaultdict(Counter)
        for suite, grams in zip(suites, grams_per_item, strict=True):
            frequency[suite].update(grams)
        suite_sizes = Counter(suites)
        limits = {suite: max(min_boilerplate, int(boilerplate_share * size)) for suite, size in suite_sizes.items()}
        boilerplate = {g for suite, counts in frequency.items() for g, df in counts.items() if df > limits[suite]}
        for position, grams in enumerate(grams_per_item):
            kept = grams - boilerplate
            index.sizes.append(len(kept))
            for g in kept:
                index.postings[g].append(position)
        return index

    def overlap(self, text: str) -> Overlap:
        hits: Counter[int] = Counter()
        for g in ngrams(text, self.n):
            for position in self.postings.get(g, ()):
                hits[position] += 1
        best, best_score = None, 0.0
        for position, count in hits.items():
            score = count / max(self.sizes[position], 1)
            if score > best_score:
                best, best_score = position, score
        return Overlap(best_score, self.ids[best] if best is not None else None)


def test_items_of_all_suites(
    seed: int = 0, size: int | None = None, names: Sequence[str] | None = None
) -> tuple[list[Item], dict[str, str]]:
    """The test split of every registered suite (the guard protects all of them, not only the trained
    ones), and {suite: error} for suites that failed to build (reported, not fatal)."""
    from harness.suite import SUITES, get_suite

    items: list[Item] = []
    failed: dict[str, str] = {}
    for name in names or SUITES.names():
        try:
            items.extend(get_suite(name, seed=seed, size=size).items("test"))
        except Exception as exc:  # a broken third-party suite must not stop data generation
            failed[name] = f"{type(exc).__name__}: {exc}"
    return items, failed
