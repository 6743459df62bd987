"""The data mix: deduplication, edge-case ratio, per-capability quotas and retention focus.

Items are grouped ("edge" for edge cases when an edge-case ratio is set, else their capability);
each group gets a target share of the budget; a group short of candidates hands its surplus on.
Inside a group, items are drawn in a weighted random order (perturbation kinds with lower
retention come first), so a group can be topped up when the teacher's answers are rejected.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence

from harness.suite import normalise_prompt
from harness.types import Item

EDGE = "edge"


def is_edge_case(item: Item) -> bool:
    return item.capability == "edge_cases" or bool(item.metadata.get("edge_case")) or not item.variant.is_canonical


def dedup(items: Sequence[Item]) -> tuple[list[Item], int]:
    """Drop items whose normalised prompt repeats an earlier one; returns (kept, dropped count)."""
    seen: set[str] = set()
    kept = []
    for item in items:
        key = normalise_prompt(" ".join(m.content for m in item.messages))
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept, len(items) - len(kept)


def group_of(item: Item, edge_ratio: float | None) -> str:
    return EDGE if edge_ratio is not None and is_edge_case(item) else item.capability


def apportion(total: int, weights: Mapping[str, float], capacity: Mapping[str, int]) -> dict[str, int]:
    """Split `total` by weight (largest remainder), never past a group's capacity."""
    targets = {g: 0 for g in weights}
    open_groups = {g for g, w in weights.items() if w > 0 and capacity.get(g, 0) > 0}
    remaining = total
    while remaining > 0 and open_groups:
        weight_sum = sum(weights[g] for g in open_groups)
        shares = {g: remaining * weights[g] / weight_sum for g in open_groups}
        granted = {g: min(math.floor(s), capacity[g] - targets[g]) for g, s in shares.items()}
        leftover = remaining - sum(granted.values())
        for g in sorted(open_groups, key=lambda g: shares[g] - math.floor(shares[g]), reverse=True):
            if leftover <= 0:
                break
            if targets[g] + granted[g] < capacity[g]:
                granted[g] += 1
                leftover -= 1
        for g, extra in granted.items():
            targets[g] += extra
        remaining -= sum(granted.values())
        open_groups = {g for g in open_groups if targets[g] < capacity[g]}
        if sum(granted.values()) == 0:
            break
    return targets


def group_weights(
    groups: Sequence[str],
    edge_ratio: float | None,
    quotas: Mapping[str, float] | None,
    focus: Mapping[str, float] | None,
) -> dict[str, float]:
    """Relative weight per group; the edge group (when present) gets exactly `edge_ratio` of the total."""
    capability_groups = [g for g in groups if g != EDGE]
    weights = {}
    for g in capability_groups:
        w = 1.0
        if quotas:
            w *= quotas.get(g, 0.0)
        if focus:
            w *= focus.get(g, min(focus.values(), default=1.0))
        weights[g] = w
    total = sum(weights.values())
    if total > 0:
        weights = {g: w / total * (1 - (edge_ratio or 0.0)) for g, w in weights.items()}
    if EDGE in groups:
        weights[EDGE] = edge_ratio or 0.0
    return weights


def ordered_pool(items: Sequence[Item], variant_focus: Mapping[str, float] | None, rng: random.Random) -> list[Item]:
    """Weighted random order (Efraimidis–Spirakis): higher-weight variant kinds tend to come first."""

    def key(item: Item) -> float:
        weight = 1.0
        if variant_focus:
            weight = variant_focus.get(f"{item.capability}/{item.variant.kind}", 1.0)
        return rng.random() ** (1.0 / max(weight, 1e-6))

    return sorted(items, key=key, reverse=True)


def plan_mix(
    items: Sequence[Item],
    budget: int | None,
    edge_ratio: float | None = None,
    quotas: Mapping[str, float] | None = None,
    focus: Mapping[str, float] | None = None,
    variant_focus: Mapping[str, float] | None = None,
    seed: int = 0,
) -> tuple[dict[str, list[Item]], dict[str, int]]:
    """(group → candidate items in draw order, group → target row count)."""
    rng = random.Random(seed)
    pools: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        pools[group_of(item, edge_ratio)].append(item)
    ordered = {g: ordered_pool(pool, variant_focus, rng) for g, pool in sorted(pools.items())}
    if budget is None:
        return ordered, {g: len(pool) for g, pool in ordered.items()}
    weights = group_weights(list(ordered), edge_ratio, quotas, focus)
    targets = apportion(budget, weights, {g: len(p) for g, p in ordered.items()})
    return ordered, targets
