"""lm-eval's logged samples → harness SampleRecords, SuiteInfos and Results.

Two kinds of lm-eval task are understood:
  * tasks exported by `harness export lm-eval`: each doc carries the harness item, so records get
    the item's own id, suite, capability and variant, are rescored by the suite, and compare
    directly with `harness eval` results of the same suite (same suite name, same content hash);
  * any other lm-eval task: one record per doc, suite "lm-eval:<task>", item id
    "lm-eval:<task>/<doc_id>", scored by the task's first metric under its first filter.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from harness.errors import HarnessError
from harness.results import ModelInfo, Results, SuiteInfo, summarise
from harness.token_budget import TokenBudget
from harness.types import GenerationParams, Item, SampleRecord

SUITE_PREFIX = "lm-eval:"


@dataclass
class TaskOutput:
    """One lm-eval task's part of an lm-eval run: its config, version and logged samples."""

    task: str
    capability: str | None  # None: not needed for exported harness tasks, whose items name theirs
    samples: list[dict[str, Any]]
    config: dict[str, Any] = field(default_factory=dict)  # results["configs"][task]
    version: Any = None  # results["versions"][task]
    n_shot: int | None = None
    aggregate: dict[str, Any] = field(default_factory=dict)  # results["results"][task]


@dataclass
class Converted:
    """lm-eval samples turned into harness suites and sample records, with notes on what was scored."""

    suites: dict[str, SuiteInfo]
    records: list[SampleRecord]
    notes: dict[str, Any]  # per task: which metric and filter became the score, lm-eval's aggregate


def is_exported_harness_task(samples: list[dict[str, Any]]) -> bool:
    return bool(samples) and isinstance(samples[0].get("doc"), dict) and "item_json" in samples[0]["doc"]


def convert(outputs: Iterable[TaskOutput]) -> Converted:
    suites: dict[str, SuiteInfo] = {}
    records: list[SampleRecord] = []
    notes: dict[str, Any] = {}
    for out in outputs:
        if not out.samples:
            raise HarnessError(f"lm-eval task {out.task} logged no samples (run lm-eval with --log_samples)")
        convert_one = _convert_exported if is_exported_harness_task(out.samples) else _convert_generic
        info, task_records, note = convert_one(out)
        if info.name in suites:
            raise HarnessError(f"two lm-eval tasks map to the same harness suite {info.name}")
        suites[info.name] = info
        records += task_records
        notes[out.task] = note
    return Converted(suites, records, notes)


def _one_filter(out: TaskOutput) -> tuple[str, list[dict[str, Any]]]:
    """lm-eval logs one sample per (doc, filter); keep the task's first filter."""
    filters = [f["name"] for f in out.config.get("filter_list") or [] if isinstance(f, dict) and isinstance(f.get("name"), str)]
    present = list(dict.fromkeys(s.get("filter", "none") for s in out.samples))
    chosen = next((f for f in filters if f in present), present[0])
    rows = sorted((s for s in out.samples if s.get("filter", "none") == chosen), key=lambda s: s["doc_id"])
    return chosen, rows


def _raw_output(sample: dict[str, Any]) -> str:
    resps = sample.get("resps") or []
    first = resps[0] if resps else ""
    while isinstance(first, list) and first:
        first = first[0]
    return first if isinstance(first, str) else json.dumps(first)


# --- tasks exported from harness suites ------------------------------------------------------------


def _convert_exported(out: TaskOutput) -> tuple[SuiteInfo, list[SampleRecord], dict[str, Any]]:
    from harness.records import make_record
    from harness.lmeval.task_utils import suite_for
    from harness.types import Generation

    _, rows = _one_filter(out)
    doc = rows[0]["doc"]
    suite = suite_for(doc["suite"], int(doc["suite_seed"]), int(doc["suite_size"]), str(doc["suite_version"]))
    items = [Item.model_validate_json(s["doc"]["item_json"]) for s in rows]
    outputs = [_raw_output(s) for s in rows]
    scores = suite.score_many(items, outputs)
    records = [make_record(item, [Generation(text=text)], [score]) for item, text, score in zip(items, outputs, scores, strict=True)]
    disagreements = sum(float(r.correct) != float(s.get("acc", r.correct)) for r, s in zip(records, rows, strict=True))
    max_gen_toks = (out.config.get("generation_kwargs") or {}).get("max_gen_toks")
    info = SuiteInfo(
        name=suite.name,
        capability=suite.capability,
        version=suite.version,
        seed=suite.seed,
        size=suite.size,
        split=items[0].split,
        hash=suite.content_hash(items),
        n_items=len(items),
        # the exported YAML pins one budget for every item, as --max-new-tokens does
        token_budget=TokenBudget(max_new_tokens=int(max_gen_toks), source="flag") if max_gen_toks else None,
    )
    note = {"suite": suite.name, "metric": "acc", "rescored_by_harness": True, "disagreements_with_lm_eval": disagreements}
    return info, records, note


# --- any other lm-eval task ------------------------------------------------------------------------


def _metric_name(out: TaskOutput, sample: dict[str, Any]) -> str:
    metric_list = out.config.get("metric_list") or []
    names = [m["metric"] for m in metric_list if isinstance(m, dict) and isinstance(m.get("metric"), str)]
    names = names or list(sample.get("metrics") or [])
    for name in names:
        if name in sample:
            return name
    raise HarnessError(f"lm-eval task {out.task}: its samples carry none of the metrics {names}")


def _item_score(task: str, metric: str, value: Any) -> float:
    """A per-doc metric value as a score in [0, 1] (bools and lists of bools, e.g. ifeval, too)."""
    if isinstance(value, list):
        if not value:
            raise HarnessError(f"lm-eval task {task}: empty {metric} list for a doc")
        value = sum(float(v) for v in value) / len(value)
    try:
        score = float(value)
    except (TypeError, ValueError):
        raise HarnessError(f"lm-eval task {task}: metric {metric} is not a number per doc ({value!r})") from None
    if math.isnan(score) or not 0.0 <= score <= 1.0:
        raise HarnessError(f"lm-eval task {task}: metric {metric} gives {score} for a doc; harness needs per-item scores in [0, 1]")
    return score


def _chosen_output(sample: dict[str, Any]) -> tuple[str, Any]:
    """(output text, extracted answer): the generation, or the highest-likelihood choice."""
    filtered = sample.get("filtered_resps") or []
    args = sample.get("arguments") or {}
    is_choice = filtered and all(isinstance(f, list | tuple) and len(f) == 2 for f in filtered) and len(args) == len(filtered)
    if is_choice:
        lls = [float(f[0]) for f in filtered]
        best = max(range(len(lls)), key=lls.__getitem__)
        arg = args.get(f"gen_args_{best}", {}) if isinstance(args, dict) else args[best]
        continuation = arg.get("arg_1") if isinstance(arg, dict) else arg[1]
        return str(continuation).strip(), best
    answer = filtered[0] if filtered else None
    return _raw_output(sample), answer


def doc_set_hash(rows: list[dict[str, Any]], extra: str = "") -> str:
    """Equal hashes mean the same docs with the same targets (prompt rendering is left out on purpose:
    teacher and student may use different chat templates)."""
    h = hashlib.sha256(extra.encode())
    for s in rows:
        h.update(f"{s['doc_id']}|{s.get('doc_hash', '')}|{s.get('target_hash', '')}\n".encode())
    return h.hexdigest()[:16]


def _convert_generic(out: TaskOutput) -> tuple[SuiteInfo, list[SampleRecord], dict[str, Any]]:
    if out.capability is None:
        raise HarnessError(f"lm-eval task {out.task} has no default capability: name one (TASK:CAPABILITY)")
    filter_name, rows = _one_filter(out)
    metric = _metric_name(out, rows[0])
    name = SUITE_PREFIX + out.task
    records = []
    for s in rows:
        score = _item_score(out.task, metric, s[metric])
        output, answer = _chosen_output(s)
        records.append(
            SampleRecord(
                item_id=f"{name}/{s['doc_id']}",
                suite=name,
                capability=out.capability,
                split=str(out.config.get("test_split") or "test"),
                variant="canonical",
                output=output,
                answer=answer,
                correct=score >= 1.0,
                score=score,
                reason=None if score >= 1.0 else f"{metric} ({filter_name}) = {score:g}",
                reference_answer=s.get("target"),
            )
        )
    version = f"{out.version if out.version is not None else 0}+{out.n_shot or 0}shot"
    info = SuiteInfo(
        name=name,
        capability=out.capability,
        version=version,
        seed=0,
        size=len(rows),
        split=records[0].split,
        hash=doc_set_hash(rows, f"{metric},{filter_name}"),
        n_items=len(rows),
    )
    note = {"metric": metric, "filter": filter_name, "n_shot": out.n_shot, "lm_eval": out.aggregate}
    return info, records, note


def make_results(model: ModelInfo, converted: Converted, generation: GenerationParams, extra: dict[str, Any], created_at: str | None = None) -> Results:
    from datetime import datetime, timezone

    from harness import __version__

    return Results(
        harness_version=__version__,
        created_at=created_at or datetime.now(timezone.utc).isoformat(timespec="seconds"),
        model=model,
        suites=converted.suites,
        generation=generation,
        capabilities=summarise(converted.records),
        failures=sum(r.error is not None for r in converted.records),
        extra=extra,
    )
