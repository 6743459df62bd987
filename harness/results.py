"""The results format: OUT/results.json (summary) and OUT/samples.jsonl (one record per item).

Both files are written atomically (temp file + rename), so a crash never leaves a
half-written results file behind. `RESULTS_SCHEMA_VERSION` is bumped on breaking changes;
the JSON Schema in harness/schema/ is generated from these models (`harness schema`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from harness.diagnostics import health_by_capability
from harness.errors import HarnessError
from harness.token_budget import TokenBudget
from harness.types import GenerationParams, SampleRecord

RESULTS_SCHEMA_VERSION = 2  # 2: finish_reason/truncated/unparsed per sample, their counts and rates per capability
RESULTS_FILE = "results.json"
SAMPLES_FILE = "samples.jsonl"


class ModelInfo(BaseModel):
    """Which model produced a results file: its spec, backend, fingerprint and weights dtype."""

    spec: str
    backend: str
    fingerprint: dict[str, Any]
    # The dtype a local model (hf, vllm) computed in: float32, bfloat16, ... (on CPU chosen by the processor,
    # harness/models/cpu.py). None: an API model, or results written before it was recorded.
    dtype: str | None = None


class SuiteInfo(BaseModel):
    """One evaluated suite in results.json: capability, version, seed, size, split and content hash."""

    name: str
    capability: str
    version: str
    seed: int
    size: int
    split: str
    hash: str  # content hash over the evaluated items' ids, prompts and answers
    n_items: int
    token_budget: TokenBudget | None = None  # the max_new_tokens its items got (None: results written before it was recorded)


class ScoreSummary(BaseModel):
    """A mean score over n records (None when there are none)."""

    score: float | None
    n: int


class CapabilitySummary(ScoreSummary):
    """One capability's score, per-variant scores, problem groups and output health."""

    variants: dict[str, ScoreSummary] = Field(default_factory=dict)  # "canonical", "numbers@1", ...
    # Problem groups (a canonical item with its twins): the unit every interval resamples.
    cluster: str = "canonical_id"
    n_groups: int | None = None  # None in results written before groups were counted
    # Output health (harness/diagnostics.py). Rates are over the records where it is known; None
    # when it is known for none (schema-1 files, answers from an older cache).
    truncated: int = 0  # outputs cut off at max_new_tokens (finish_reason "length")
    unparsed: int = 0  # outputs in which the scorer found no answer
    truncation_rate: float | None = None
    unparsed_rate: float | None = None
    finish_unknown: int = 0  # records without a finish_reason


class Results(BaseModel):
    """The contents of results.json: model, suites, generation settings and per-capability summaries."""

    schema_version: int = RESULTS_SCHEMA_VERSION
    harness_version: str
    created_at: str
    model: ModelInfo
    suites: dict[str, SuiteInfo]
    generation: GenerationParams
    capabilities: dict[str, CapabilitySummary]
    failures: int = 0  # requests that failed after retries (not scored as wrong)
    usage: dict[str, Any] = Field(default_factory=dict)
    # Per capability, when samples > 1: k, n, pass_at_1, maj_at_k (with --vote), pass_at_k, method.
    sampling: dict[str, dict[str, Any]] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(default_factory=dict)
    judge: dict[str, Any] | None = None  # abstention judge of edge_cases {"name", "version", "spec"} (None: not recorded)


def summarise(records: Iterable[SampleRecord]) -> dict[str, CapabilitySummary]:
    records = list(records)
    health = health_by_capability(records)
    by_cap: dict[str, list[SampleRecord]] = defaultdict(list)
    for r in records:
        if r.error is None:
            by_cap[r.capability].append(r)
    out: dict[str, CapabilitySummary] = {}
    for cap, rows in sorted(by_cap.items()):
        by_variant: dict[str, list[float]] = defaultdict(list)
        for r in rows:
            label = "canonical" if r.variant == "canonical" else f"{r.variant}@{r.perturbation_level}"
            by_variant[label].append(r.score)
        out[cap] = CapabilitySummary(
            score=sum(r.score for r in rows) / len(rows),
            n=len(rows),
            n_groups=len({r.canonical_id or r.item_id for r in rows}),
            variants={k: ScoreSummary(score=sum(v) / len(v), n=len(v)) for k, v in sorted(by_variant.items())},
            truncated=health[cap].truncated,
            unparsed=health[cap].unparsed,
            truncation_rate=health[cap].truncation_rate,
            unparsed_rate=health[cap].unparsed_rate,
            finish_unknown=health[cap].finish_unknown,
        )
    return out


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_results(out_dir: Path, results: Results, records: Sequence[SampleRecord]) -> None:
    """Samples first, then the summary: a results.json always has its samples beside it."""
    out_dir = Path(out_dir)
    _atomic_write(out_dir / SAMPLES_FILE, "".join(r.model_dump_json() + "\n" for r in records))
    _atomic_write(out_dir / RESULTS_FILE, results.model_dump_json(indent=2) + "\n")


def resolve_results_path(path: str | Path) -> Path:
    p = Path(path)
    if p.is_dir():
        p = p / RESULTS_FILE
    if not p.is_file():
        raise HarnessError(f"results file not found: {p}")
    return p


def load_results(path: str | Path) -> tuple[Results, list[SampleRecord]]:
    """Load results.json and the samples.jsonl beside it; one clear error for anything foreign."""
    p = resolve_results_path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HarnessError(f"{p} is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or "harness_version" not in data:
        raise HarnessError(f"{p} is not a harness results file (no harness_version)")
    if data.get("schema_version", 0) > RESULTS_SCHEMA_VERSION:
        raise HarnessError(f"{p} uses results schema {data['schema_version']}; this harness reads up to {RESULTS_SCHEMA_VERSION}")
    try:
        results = Results.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise HarnessError(f"{p} is not a valid harness results file: {where}: {first['msg']}") from None
    samples_path = p.parent / SAMPLES_FILE
    if not samples_path.is_file():
        raise HarnessError(f"{samples_path} is missing (results.json needs its samples.jsonl)")
    records = []
    for lineno, line in enumerate(samples_path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(SampleRecord.model_validate_json(line))
        except ValidationError as exc:
            raise HarnessError(f"{samples_path}:{lineno}: not a valid sample record ({exc.errors()[0]['msg']})") from None
    return results, records


def json_schema() -> dict[str, Any]:
    """JSON Schema for results.json and for one samples.jsonl line."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "harness results",
        "version": RESULTS_SCHEMA_VERSION,
        "results": Results.model_json_schema(),
        "sample": SampleRecord.model_json_schema(),
    }
