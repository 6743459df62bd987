"""Hand-made results files for the retention, gate and report tests (no model needed)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.results import ModelInfo, Results, SuiteInfo, summarise, write_results
from harness.types import GenerationParams, SampleRecord


@dataclass
class Row:
    """One item: which capability/suite, which variant, and whether the model got it right."""

    item_id: str
    correct: bool
    capability: str = "math"
    suite: str = "arithmetic"
    variant: str = "canonical"
    level: int = 0
    output: str = ""
    samples: list[dict] = field(default_factory=list)
    score: float | None = None


def items(n: int, correct: Sequence[bool] | bool, **kw) -> list[Row]:
    flags = [correct] * n if isinstance(correct, bool) else list(correct)
    assert len(flags) == n
    return [Row(f"{kw.get('suite', 'arithmetic')}/test/{i:05d}{'/' + kw['variant'] if kw.get('variant', 'canonical') != 'canonical' else ''}", c, **kw) for i, c in enumerate(flags)]


def record(row: Row) -> SampleRecord:
    canonical = row.variant == "canonical"
    return SampleRecord(
        item_id=row.item_id,
        suite=row.suite,
        capability=row.capability,
        split="test",
        variant=row.variant,
        perturbation_level=0 if canonical else (row.level or 1),
        canonical_id=None if canonical else row.item_id.rsplit("/", 1)[0],
        output=row.output or (f"The answer is {'right' if row.correct else 'wrong'}."),
        answer="right" if row.correct else "wrong",
        correct=row.correct,
        score=float(row.correct) if row.score is None else row.score,
        reference_answer="right",
        samples=row.samples,
    )


def make_results(out: Path, spec: str, rows: Sequence[Row], version: str = "1", seed: int = 0, size: int = 100) -> Path:
    records = [record(r) for r in rows]
    suites = {}
    for name in sorted({r.suite for r in rows}):
        ids = [r.item_id for r in rows if r.suite == name]
        suites[name] = SuiteInfo(
            name=name,
            capability=next(r.capability for r in rows if r.suite == name),
            version=version,
            seed=seed,
            size=size,
            split="test",
            hash=hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()[:16],
            n_items=len(ids),
        )
    results = Results(
        harness_version="test",
        created_at="2026-01-01T00:00:00+00:00",
        model=ModelInfo(spec=spec, backend="test", fingerprint={}),
        suites=suites,
        generation=GenerationParams(),
        capabilities=summarise(records),
    )
    write_results(out, results, records)
    return out
