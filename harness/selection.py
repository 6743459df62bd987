"""Which items a small run evaluates: `--limit N` and `--groups G` (Suite.items).

Every interval harness reports is clustered by problem group (a canonical item and its
perturbed twins, `Item.group_id`), and is undefined below `--min-groups` groups
(harness/stats.py). A small run must therefore spend its items on many groups, not on all
the twins of a few. The rule, deterministic in the suite alone (no random draws):

- Groups are taken in *spread order*: the split's M groups (in build order) visited in the
  van der Corput order of their positions (0, M/2, M/4, 3M/4, M/8, ...), so the first G of
  them are spread evenly over the whole split for every G (no gap wider than about 2M/G),
  and a smaller run's groups are always among a larger run's.
- `groups=G`: the first G groups in spread order, every item of each.
- `limit=N`: at most N items: groups in spread order, from each its canonical item and ONE
  perturbed twin, until N items are taken (N = 20: 10 groups of 2; an odd N leaves the last
  group its canonical item only). A group's twin is picked by rotation over the groups in
  spread order: the perturbation kind chosen least often so far (a kind whose level here was
  already chosen more often than its other levels counts as one more), then the kind fewer
  groups of the split carry (a kind only some groups have is not crowded out by common
  ones), then its least chosen level, so every kind (and, as groups allow, every level)
  appears. When N exceeds two items for every group, every group is taken and further twins
  are added to each in turn by the same rotation: a limit at or above the split's size is
  the whole split. The items of `limit=N` are among those of any larger limit.
- Both: the G groups first, then the limit among them (in the same order, with the same
  twins as the limit alone picks when it needs no more than G groups).
- `variants` (--variant) filters items first; the rule applies over the allowed variants
  (canonical only: one item per group; perturbations only: one twin per group).

Items come back in build order (the order of the split without a limit).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from harness.types import Item


def problem_groups(items: Sequence[Item]) -> list[list[Item]]:
    """Items by problem group, groups in order of first appearance, items in their own order."""
    out: dict[str, list[Item]] = {}
    for it in items:
        out.setdefault(it.group_id, []).append(it)
    return list(out.values())


def van_der_corput(k: int) -> float:
    """The k-th point of the base-2 van der Corput sequence: k's binary digits mirrored after the point."""
    x, scale = 0.0, 0.5
    while k:
        x += scale * (k & 1)
        k >>= 1
        scale /= 2
    return x


def spread_order(total: int) -> list[int]:
    """Every index of range(total), ordered so that each prefix is spread evenly over the range."""
    order: list[int] = []
    seen: set[int] = set()
    k = 0
    while len(order) < total:
        i = int(van_der_corput(k) * total)
        if i not in seen:
            seen.add(i)
            order.append(i)
        k += 1
    return order


class _Rotation:
    """Picks each group's next twin: least used kind, then rarest kind in the split, then least used level."""

    def __init__(self, groups: Sequence[Sequence[Item]]):
        twins = [it.variant for g in groups for it in g if not it.variant.is_canonical]
        self.rarity = Counter(kind for g in groups for kind in {it.variant.kind for it in g if not it.variant.is_canonical})
        self.levels: dict[str, set[int]] = {}
        for v in twins:
            self.levels.setdefault(v.kind, set()).add(v.level)
        self.kind_uses: Counter[str] = Counter()
        self.level_uses: Counter[tuple[str, int]] = Counter()

    def pick(self, twins: Sequence[Item]) -> Item:
        def key(pair: tuple[int, Item]) -> tuple:
            pos, it = pair
            kind, level = it.variant.kind, it.variant.level
            uses = self.level_uses[(kind, level)]
            # Among kinds used equally often, one whose level here is among its least used ones anywhere
            # goes first: a group offering only levels already seen leaves its turn to another kind.
            behind = uses - min(self.level_uses[(kind, lv)] for lv in self.levels[kind])
            return (self.kind_uses[kind] + (behind > 0), behind, self.rarity[kind], kind, uses, level, pos)

        _, chosen = min(enumerate(twins), key=key)
        self.kind_uses[chosen.variant.kind] += 1
        self.level_uses[(chosen.variant.kind, chosen.variant.level)] += 1
        return chosen


def select_items(items: Sequence[Item], limit: int | None = None, groups: int | None = None) -> list[Item]:
    """The items `--limit` / `--groups` evaluate (see the module docstring); `items` in build order."""
    all_groups = problem_groups(items)
    order = spread_order(len(all_groups))
    if groups is not None:
        order = order[:groups]
    if limit is None:
        kept = {id(it) for i in order for it in all_groups[i]}
        return [it for it in items if id(it) in kept]
    rotation = _Rotation(all_groups)  # twins rotate over the whole split's kinds, whatever --groups keeps
    picked: dict[int, list[Item]] = {}
    count = 0
    for i in order:
        if count >= limit:
            break
        g = all_groups[i]
        canonical = [it for it in g if it.variant.is_canonical][:1]
        twins = [it for it in g if not it.variant.is_canonical]
        picked[i] = list(canonical)
        count += len(canonical)
        if twins and count < limit:
            picked[i].append(rotation.pick(twins))
            count += 1
    # Every group is taken and N is not reached: more twins, one per group in turn.
    added = True
    while count < limit and added:
        added = False
        for i in order:
            if count >= limit:
                break
            left = [it for it in all_groups[i] if not it.variant.is_canonical and all(it is not p for p in picked[i])]
            if left:
                picked[i].append(rotation.pick(left))
                count += 1
                added = True
    kept = {id(it) for chosen in picked.values() for it in chosen}
    return [it for it in items if id(it) in kept]
