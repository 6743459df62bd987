"""Sharded runs that merge exactly: `harness eval --shard I/N` and `harness merge`.

A run too big for one machine is split into N shards, each evaluated on its own node with the
same flags plus `--shard I/N`, then merged back into what one unsharded run would have written.

- Shards are numbered from 1: `--shard 1/4` .. `--shard 4/4` (Slurm's `--array=1-4` gives the
  index as $SLURM_ARRAY_TASK_ID). `0/4`, `5/4` or `x` are errors (exit 2).
- The split is by problem group (a canonical item and all its perturbed twins,
  `Item.group_id`), so every group is evaluated whole by one shard and the clustered
  statistics (harness/stats.py) see the same groups as an unsharded run. It applies to what
  the selection chose (`--suite`, `--variant`, `--limit`, `--groups`, harness/selection.py):
  the selected groups of every suite, suites in run order and groups in order of first
  appearance, are dealt round-robin: the k-th group (counted from 0 over all suites) goes to
  shard k mod N + 1. Inside a shard the items keep the order of the full run. With N above the
  number of groups some shards are empty; they still run (loading the model, for its
  fingerprint) and merge.
- A shard's results.json describes the shard (its `suites` hash and count the shard's own
  items) and records in `extra["shard"]` (ShardInfo) its index and count, its groups, where
  each of its items stands in the full run's order, and every suite as the unsharded run
  records it (content hash over the whole selection, token budget). Shards therefore carry
  what merge needs; merge never rebuilds a suite.
- `merge_shards` checks that the shards agree (harness version, model fingerprint, suites and
  their content hashes, generation parameters and token budgets, abstention judge, shard
  count) and cover every group and every item exactly once, then returns the records in the
  full run's order and a Results built the way run_eval builds it. Only `created_at` (the
  newest shard's), `extra["cache"]` (how many answers came from the response cache: the
  shards' counts summed, which depend on what each node's cache held) and
  `extra["merged_from"]` (the shard folders) tell it from an unsharded run's
  (RUN_ONLY_FIELDS); `harness retention` prints the same table for both.

Model outputs equal an unsharded run's when the backend's answers do not depend on which
other prompts share a batch (the `reference` model, API models at temperature 0 mostly;
batched local kernels can differ in the last bits): merge is exact over the answers it is given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from harness.errors import HarnessError
from harness.results import Results, SuiteInfo, load_results, summarise
from harness.selection import problem_groups
from harness.types import Item, SampleRecord

if TYPE_CHECKING:
    from harness.suite import Suite

SHARD_KEY = "shard"  # results.json extra[SHARD_KEY]: a ShardInfo
MERGED_KEY = "merged_from"  # results.json extra[MERGED_KEY] of a merged run: the shard folders, in shard order
# What tells a merged results.json from an unsharded run's: when it was written, how many answers the
# response cache held, and from what shards.
RUN_ONLY_FIELDS = ("created_at", "extra.cache", f"extra.{MERGED_KEY}")


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count` (1 <= index <= count)."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def takes(self, k: int) -> bool:
        """Whether the k-th problem group of the run (from 0) is this shard's."""
        return k % self.count == self.index - 1


def parse_shard(text: Any) -> Shard:
    """`--shard I/N` (or a Shard, checked the same way): shard I of N, numbered from 1."""
    m = re.fullmatch(r"\s*(-?\d+)\s*/\s*(-?\d+)\s*", str(text))
    if not m:
        raise HarnessError(f"--shard {text!r}: write I/N, shard I of N numbered from 1 (e.g. --shard 1/4 .. --shard 4/4)")
    index, count = int(m.group(1)), int(m.group(2))
    if count < 1:
        raise HarnessError(f"--shard {text}: the shard count N must be at least 1")
    if not 1 <= index <= count:
        raise HarnessError(f"--shard {text}: shards are numbered from 1 to N ({count}), so I must be 1..{count}")
    return Shard(index, count)


class ShardInfo(BaseModel):
    """results.json extra["shard"] of a shard: which shard, what it holds, and the whole run it is part of."""

    index: int
    count: int
    n_groups: int  # problem groups in the whole selection (every suite)
    groups: dict[str, list[str]]  # suite -> this shard's problem groups (canonical ids), in run order
    positions: dict[str, list[int]]  # suite -> where each of this shard's items stands in the full run's order
    selection: dict[str, SuiteInfo]  # suite -> the suite as the unsharded run records it, in run order


def shard_selections(selections: Sequence[tuple[Suite, list[Item]]], shard: Shard) -> list[tuple[Suite, list[Item]]]:
    """Each suite's items of this shard, in run order: the run's groups dealt round-robin over the shards."""
    out = []
    k = 0
    for suite, items in selections:
        mine = set()
        for group in problem_groups(items):
            if shard.takes(k):
                mine.add(group[0].group_id)
            k += 1
        out.append((suite, [it for it in items if it.group_id in mine]))
    return out


def shard_info(
    shard: Shard,
    selections: Sequence[tuple[Suite, list[Item]]],
    shard_items: Sequence[tuple[Suite, list[Item]]],
    suite_info: Callable[[Suite, list[Item]], SuiteInfo],
) -> dict[str, Any]:
    """What a shard records in extra["shard"] (`suite_info` builds a suite's SuiteInfo as run_eval does)."""
    groups, positions, selection = {}, {}, {}
    n_groups = 0
    for (suite, items), (_, mine) in zip(selections, shard_items, strict=True):
        where = {id(it): i for i, it in enumerate(items)}
        groups[suite.name] = list(dict.fromkeys(it.group_id for it in mine))
        positions[suite.name] = [where[id(it)] for it in mine]
        selection[suite.name] = suite_info(suite, items)
        n_groups += len(problem_groups(items))
    info = ShardInfo(index=shard.index, count=shard.count, n_groups=n_groups, groups=groups, positions=positions,
                     selection=selection)
    return info.model_dump(mode="json")


# --- merging ---------------------------------------------------------------------------------


@dataclass
class _Loaded:
    path: Path
    results: Results
    records: list[SampleRecord]
    info: ShardInfo

    @property
    def label(self) -> str:
        return f"{self.path} (shard {self.info.index}/{self.info.count})"


def _load_shard(path: Path) -> _Loaded:
    results, records = load_results(path)
    raw = results.extra.get(SHARD_KEY)
    if raw is None:
        raise HarnessError(f"{path}: not a shard (results.json has no extra.shard; run `harness eval ... --shard I/N`)")
    try:
        info = ShardInfo.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise HarnessError(f"{path}: extra.shard is not valid: {'.'.join(str(x) for x in first['loc'])}: {first['msg']}") from None
    return _Loaded(Path(path), results, records, info)


def _differs(what: str, a: Any, b: Any) -> str:
    return f"{what} differs: {a!r} vs {b!r}"


def _fields_differ(what: str, a: dict[str, Any], b: dict[str, Any]) -> str:
    """`what` (a heading ending in its verb) and each key that differs, with both values."""
    keys = [k for k in dict.fromkeys([*a, *b]) if a.get(k) != b.get(k)]
    return f"{what}: " + "; ".join(f"{k} {a.get(k)!r} vs {b.get(k)!r}" for k in keys)


def _disagreement(first: _Loaded, other: _Loaded) -> str | None:
    """What `other` does not share with `first` (None when they agree)."""
    a, b = first.results, other.results
    for what, value in (("results schema_version", lambda r: r.schema_version), ("harness version", lambda r: r.harness_version),
                        ("model spec", lambda r: r.model.spec), ("model backend", lambda r: r.model.backend)):
        if value(a) != value(b):
            return _differs(what, value(a), value(b))
    if a.model.fingerprint != b.model.fingerprint:
        return _fields_differ("model fingerprint differs", a.model.fingerprint, b.model.fingerprint)
    if a.model.dtype != b.model.dtype:
        return _differs("model dtype", a.model.dtype, b.model.dtype)
    if a.generation != b.generation:
        return _fields_differ("generation parameters differ", a.generation.model_dump(), b.generation.model_dump())
    sa, sb = first.info.selection, other.info.selection
    if list(sa) != list(sb):
        return _differs("suites", list(sa), list(sb))
    for name, info in sa.items():
        mine = sb[name]
        if info.hash != mine.hash or info.n_items != mine.n_items:
            return (f"suite {name}: content hash differs ({info.hash}, {info.n_items} items vs {mine.hash}, {mine.n_items} items): "
                    "different suite version, seed, size, split, --variant, --limit or --groups")
        if info.token_budget != mine.token_budget:
            ta = info.token_budget.model_dump() if info.token_budget else None
            tb = mine.token_budget.model_dump() if mine.token_budget else None
            return f"suite {name}: token budget differs: {ta} vs {tb}"
        if info != mine:
            return _fields_differ(f"suite {name}", info.model_dump(), mine.model_dump())
    engine_a, engine_b = (a.extra.get("engine") or {}).get("engine"), (b.extra.get("engine") or {}).get("engine")
    for what, x, y in (("abstention judge", a.judge, b.judge), ("shard count", first.info.count, other.info.count),
                       ("problem groups in the run", first.info.n_groups, other.info.n_groups), ("engine", engine_a, engine_b)):
        if x != y:
            return _differs(what, x, y)
    return None


def _check_own_records(shard: _Loaded) -> None:
    """A shard's samples.jsonl holds exactly the items its extra.shard lists, suite by suite."""
    info = shard.info
    if list(info.groups) != list(info.selection) or list(info.positions) != list(info.selection):
        raise HarnessError(f"{shard.label}: extra.shard lists other suites in groups/positions than in selection")
    for name, positions in info.positions.items():
        rows = [r for r in shard.records if r.suite == name]
        if len(rows) != len(positions):
            raise HarnessError(f"{shard.label}: suite {name}: samples.jsonl holds {len(rows)} items, extra.shard lists {len(positions)}")
        groups = set(info.groups[name])
        stray = next((r for r in rows if (r.canonical_id or r.item_id) not in groups), None)
        if stray is not None:
            raise HarnessError(f"{shard.label}: item {stray.item_id} of suite {name} is of a group the shard does not list")
    unknown = sorted({r.suite for r in shard.records} - set(info.selection))
    if unknown:
        raise HarnessError(f"{shard.label}: samples.jsonl holds suite(s) {', '.join(unknown)} the run does not list")


def _sum_counts(values: Sequence[Any]) -> Any:
    """Numbers summed, dicts key by key, anything else the first value (usage, cache statistics)."""
    first = values[0]
    if isinstance(first, bool) or not all(type(v) is type(first) for v in values):
        return first
    if isinstance(first, (int, float)):
        return sum(values)
    if isinstance(first, dict):
        keys = list(dict.fromkeys(k for v in values for k in v))
        return {k: _sum_counts([v[k] for v in values if k in v]) for k in keys}
    return first


def merge_shards(paths: Sequence[str | Path]) -> tuple[Results, list[SampleRecord]]:
    """The results of the unsharded run from its shards' folders (any order), after checking they fit."""
    from harness.voting import sampling_stats

    if not paths:
        raise HarnessError("no shard folders given")
    shards = [_load_shard(Path(p)) for p in paths]
    first = min(shards, key=lambda s: s.info.index)
    for shard in shards:
        if (why := _disagreement(first, shard)) is not None:
            raise HarnessError(f"{shard.label} does not match {first.label}: {why}")
    by_index: dict[int, _Loaded] = {}
    for shard in shards:
        if shard.info.index in by_index:
            raise HarnessError(f"shard {shard.info.index}/{shard.info.count} given twice: {by_index[shard.info.index].path} and {shard.path}")
        by_index[shard.info.index] = shard
    count = first.info.count
    missing = [f"{i}/{count}" for i in range(1, count + 1) if i not in by_index]
    if missing:
        raise HarnessError(f"missing shard(s) {', '.join(missing)}: given {', '.join(s.label for s in sorted(shards, key=lambda s: s.info.index))}")
    shards = [by_index[i] for i in range(1, count + 1)]
    for shard in shards:
        _check_own_records(shard)

    # Every group once, every item once, then the records in the full run's order.
    owner: dict[tuple[str, str], _Loaded] = {}
    for shard in shards:
        for name, groups in shard.info.groups.items():
            for group in groups:
                if (name, group) in owner:
                    raise HarnessError(f"{shard.label}: problem group {group} of suite {name} is also in {owner[(name, group)].label}")
                owner[(name, group)] = shard
    if len(owner) != first.info.n_groups:
        raise HarnessError(f"the shards hold {len(owner)} problem groups, the run has {first.info.n_groups}: some shard lost groups")
    records: list[SampleRecord] = []
    for name, info in first.info.selection.items():
        slots: list[SampleRecord | None] = [None] * info.n_items
        slot_owner: dict[int, _Loaded] = {}
        for shard in shards:
            rows = [r for r in shard.records if r.suite == name]
            for position, record in zip(shard.info.positions[name], rows, strict=True):
                if not 0 <= position < info.n_items:
                    raise HarnessError(f"{shard.label}: suite {name}: item position {position} outside the run's {info.n_items} items")
                if position in slot_owner:
                    raise HarnessError(f"{shard.label}: suite {name}: item {record.item_id} is also in {slot_owner[position].label}")
                slots[position], slot_owner[position] = record, shard
        gaps = [i for i, r in enumerate(slots) if r is None]
        if gaps:
            raise HarnessError(f"suite {name}: {len(gaps)} of its {info.n_items} items are in no shard (first at position {gaps[0]})")
        records.extend(r for r in slots if r is not None)

    extra = {k: v for k, v in first.results.extra.items() if k not in (SHARD_KEY, "cache")}
    caches = [s.results.extra["cache"] for s in shards if "cache" in s.results.extra]
    merged_extra: dict[str, Any] = {}
    for key in first.results.extra:  # the unsharded run's keys, in its order
        if key == "cache" and caches:
            merged_extra[key] = _sum_counts(caches)
        elif key in extra:
            merged_extra[key] = extra[key]
    merged_extra[MERGED_KEY] = [str(s.path) for s in shards]
    results = first.results.model_copy(update={
        "created_at": max(s.results.created_at for s in shards),
        "suites": dict(first.info.selection),
        "capabilities": summarise(records),
        "failures": sum(s.results.failures for s in shards),
        "usage": _sum_counts([s.results.usage for s in shards]) if first.results.usage else {},
        "sampling": sampling_stats(records),
        "extra": merged_extra,
    })
    return results, records


def comparable(results: Results) -> dict[str, Any]:
    """results.json without RUN_ONLY_FIELDS: equal for a merged run and the unsharded run it stands for."""
    data = results.model_dump(mode="json")
    for name in RUN_ONLY_FIELDS:
        *parents, last = name.split(".")
        node = data
        for key in parents:
            node = node.get(key, {})
        node.pop(last, None)
    return data
