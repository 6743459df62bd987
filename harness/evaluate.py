"""The evaluation loop: suites → backend → scores → results files."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from harness import __version__
from harness.backends.base import Backend, load_backend
from harness.errors import HarnessError
from harness.results import Results, ModelInfo, SuiteInfo, summarise, write_results
from harness.suite import SUITES, Suite, get_suite
from harness.types import Generation, GenerationParams, Item, SampleRecord, Score


@dataclass
class EvalConfig:
    model: str | None = None
    suites: Sequence[str] = ()  # empty: every registered suite
    split: str = "test"
    variants: Sequence[str] | None = None
    limit: int | None = None
    suite_seed: int = 0
    suite_size: int | None = None
    generation: GenerationParams = field(default_factory=GenerationParams)
    backend_options: dict = field(default_factory=dict)
    progress: bool = True


def select_suites(config: EvalConfig) -> list[Suite]:
    names = list(config.suites) or SUITES.names()
    suites = [get_suite(name, seed=config.suite_seed, size=config.suite_size) for name in names]
    if config.split not in ("train", "dev", "test"):
        raise HarnessError(f"unknown split {config.split!r} (use train, dev or test)")
    return suites


def make_record(item: Item, generations: list[Generation], scores: list[Score]) -> SampleRecord:
    first, first_score = generations[0], scores[0]
    samples = []
    if len(generations) > 1:
        samples = [
            {"output": g.text, "answer": s.answer, "correct": s.correct, "score": s.value, "logprob": g.logprob}
            for g, s in zip(generations, scores, strict=True)
        ]
    return SampleRecord(
        item_id=item.id,
        suite=item.suite,
        capability=item.capability,
        split=item.split,
        variant=item.variant.kind,
        perturbation_level=item.variant.level,
        canonical_id=item.variant.canonical_id,
        output=first.text,
        answer=first_score.answer,
        correct=first_score.correct,
        score=float(first_score.value or 0.0),
        reason=first_score.reason,
        reference_answer=item.answer,
        samples=samples,
        error=first.error,
    )


def score_generations(suite: Suite, items: Sequence[Item], generations: Sequence[list[Generation]]) -> list[SampleRecord]:
    flat_items = [item for item, gens in zip(items, generations, strict=True) for _ in gens]
    flat_outputs = [g.text for gens in generations for g in gens]
    flat_scores = suite.score_many(flat_items, flat_outputs)
    records, pos = [], 0
    for item, gens in zip(items, generations, strict=True):
        records.append(make_record(item, gens, flat_scores[pos : pos + len(gens)]))
        pos += len(gens)
    return records


def run_eval(config: EvalConfig, out_dir: Path | None = None, backend: Backend | None = None) -> tuple[Results, list[SampleRecord]]:
    suites = select_suites(config)
    selections = []
    for suite in suites:
        items = suite.items(config.split, variants=config.variants, limit=config.limit)
        if not items:
            raise HarnessError(f"suite {suite.name} has no {config.split} items for variants {config.variants}")
        selections.append((suite, items))

    own_backend = backend is None
    backend = backend or load_backend(config.model, **config.backend_options)
    records: list[SampleRecord] = []
    try:
        for suite, items in selections:
            if config.progress:
                print(f"harness: {suite.name}: {len(items)} items ({config.split})", file=sys.stderr)
            generations = backend.generate(items, config.generation, progress=config.progress)
            records.extend(score_generations(suite, items, generations))
        fingerprint = backend.fingerprint()
    finally:
        if own_backend:
            backend.close()

    results = Results(
        harness_version=__version__,
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        model=ModelInfo(spec=str(backend.spec), backend=backend.name, fingerprint=fingerprint),
        suites={
            suite.name: SuiteInfo(
                name=suite.name,
                capability=suite.capability,
                version=suite.version,
                seed=suite.seed,
                size=suite.size,
                split=config.split,
                hash=suite.content_hash(items),
                n_items=len(items),
            )
            for suite, items in selections
        },
        generation=config.generation,
        capabilities=summarise(records),
        failures=sum(r.error is not None for r in records),
    )
    if out_dir is not None:
        write_results(out_dir, results, records)
    return results, records
