"""The evaluation loop: suites → (response cache | backend) → scores → votes → results files.

Generation goes through the response cache (harness/cache.py): items already answered for
this model, prompt and parameters come from SQLite; the rest are asked of the backend in
chunks, and each chunk is committed as soon as it returns. A run killed at any point and
started again therefore asks the backend only for what is missing, and — because chunks
are formed the same way over the same pending items — ends with the same samples.jsonl an
uninterrupted run writes. Requests that failed after the backend's retries come back as
`Generation.error`; they are recorded as failures (never scored as wrong) and never cached,
so the next run retries exactly those.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness import __version__
from harness.backends.base import Backend, load_backend
from harness.cache import ResponseCache, default_cache_path, sample_keys
from harness.errors import HarnessError
from harness.results import Results, ModelInfo, SuiteInfo, summarise, write_results
from harness.suite import Suite, default_suite_names, get_suite
from harness.types import Generation, GenerationParams, Item, SampleRecord, Score
from harness.voting import VOTE_METHODS, VoteOutcome, sampling_stats, vote

# Backends whose answers are computed from the suite itself: caching them could only serve
# stale answers after a suite changes.
UNCACHED_BACKENDS = {"reference"}
DEFAULT_CHUNK_SIZE = 16


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
    vote: str | None = None  # majority | weighted | verify (with generation.samples > 1)
    use_cache: bool = True
    refresh: bool = False  # ignore cached answers (new answers still overwrite them)
    cache_path: Path | None = None  # default: <harness cache dir>/responses.sqlite
    chunk_size: int | None = None  # items per backend call (default: the backend's preference)
    judge: str | None = None  # edge_cases abstention judge: patterns | structured | a model spec (default: structured)


@dataclass
class CacheStats:
    from_cache: int = 0  # items answered entirely from the cache
    requested: int = 0  # items asked of the backend
    failed: int = 0  # items with a sample that failed after retries

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def select_suites(config: EvalConfig) -> list[Suite]:
    names = list(config.suites) or default_suite_names()
    suites = [get_suite(name, seed=config.suite_seed, size=config.suite_size) for name in names]
    if config.split not in ("train", "dev", "test"):
        raise HarnessError(f"unknown split {config.split!r} (use train, dev or test)")
    return suites


def _sample_row(g: Generation, s: Score, key: str) -> dict[str, Any]:
    row = {"output": g.text, "answer": s.answer, "correct": s.correct, "score": s.value, "logprob": g.logprob, "vote_key": key,
           "finish_reason": g.finish_reason, "unparsed": g.error is None and not s.parsed}
    if g.reasoning is not None:
        row["reasoning"] = g.reasoning
    if g.error is not None:
        row["error"] = g.error
    return row


def make_record(
    item: Item,
    generations: list[Generation],
    scores: list[Score],
    outcome: VoteOutcome | None = None,
    vote_keys: Sequence[str] | None = None,
    vote_method: str | None = None,
) -> SampleRecord:
    chosen = outcome.chosen if outcome else 0
    gen, score = generations[chosen], scores[chosen]
    samples = []
    if len(generations) > 1:
        keys = vote_keys or [""] * len(generations)
        samples = [_sample_row(g, s, k) for g, s, k in zip(generations, scores, keys, strict=True)]
    error = next((g.error for g in generations if g.error is not None), None)
    return SampleRecord(
        item_id=item.id,
        suite=item.suite,
        capability=item.capability,
        split=item.split,
        variant=item.variant.kind,
        perturbation_level=item.variant.level,
        canonical_id=item.variant.canonical_id,
        output=gen.text,
        answer=score.answer,
        correct=score.correct if error is None else False,
        score=float(score.value or 0.0) if error is None else 0.0,
        reason=score.reason if error is None else f"request failed: {error}",
        reference_answer=item.answer,
        samples=samples,
        error=error,
        finish_reason=gen.finish_reason,
        truncated=gen.finish_reason == "length",
        unparsed=error is None and not score.parsed,
        reasoning=gen.reasoning,
        vote_method=vote_method if outcome else None,
        vote_note=outcome.note if outcome else None,
        chosen_sample=outcome.chosen if outcome else None,
        votes=outcome.votes if outcome else {},
        agreement=outcome.agreement if outcome else None,
    )


def score_generations(
    suite: Suite, items: Sequence[Item], generations: Sequence[list[Generation]], vote_method: str | None = None
) -> list[SampleRecord]:
    """Score every sample (failed ones are not scored), vote when asked, build the records."""
    flat = [(item, g) for item, gens in zip(items, generations, strict=True) for g in gens]
    ok = [(item, g) for item, g in flat if g.error is None]
    ok_scores = iter(suite.score_many([item for item, _ in ok], [g.text for _, g in ok]))
    flat_scores = [
        next(ok_scores) if g.error is None else Score(answer=None, correct=False, reason=f"request failed: {g.error}")
        for _, g in flat
    ]
    records, pos = [], 0
    for item, gens in zip(items, generations, strict=True):
        scores = flat_scores[pos : pos + len(gens)]
        pos += len(gens)
        keys = [suite.vote_key(s) for s in scores] if len(gens) > 1 else None
        outcome = None
        if vote_method and len(gens) > 1 and all(g.error is None for g in gens):
            outcome = vote(suite, item, gens, scores, vote_method)
        records.append(make_record(item, gens, scores, outcome, keys, vote_method))
    return records


def generate_cached(
    backend: Backend,
    items: Sequence[Item],
    params: GenerationParams,
    cache: ResponseCache | None,
    fingerprint: dict[str, Any],
    refresh: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: bool = True,
    stats: CacheStats | None = None,
) -> list[list[Generation]]:
    """`params.samples` generations per item: cached ones from SQLite, the rest from the backend."""
    stats = stats if stats is not None else CacheStats()
    keys = [sample_keys(fingerprint, item, params) for item in items]
    cached = cache.get_many([k for ks in keys for k in ks]) if cache is not None and not refresh else {}
    results: list[list[Generation] | None] = [None] * len(items)
    pending = []
    for i, ks in enumerate(keys):
        if all(k in cached for k in ks):
            results[i] = [cached[k] for k in ks]
        else:
            pending.append(i)
    stats.from_cache += len(items) - len(pending)
    bar = None
    if progress and pending:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(pending), desc=f"generate {backend.spec}", unit="item")
    for start in range(0, len(pending), chunk_size):
        chunk = pending[start : start + chunk_size]
        answers = backend.generate([items[i] for i in chunk], params, progress=False)
        if len(answers) != len(chunk) or any(len(a) != params.samples for a in answers):
            raise HarnessError(f"backend {backend.name} returned the wrong number of generations")
        rows = []
        for i, gens in zip(chunk, answers, strict=True):
            results[i] = gens
            if all(g.error is None for g in gens):
                rows.extend(zip(keys[i], gens, strict=True))
            else:
                stats.failed += 1
        if cache is not None and rows:
            cache.put_many(rows)  # one transaction per chunk: a kill loses at most this chunk
        stats.requested += len(chunk)
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()
    return results  # type: ignore[return-value]


def _total_usage(generations: Sequence[list[Generation]]) -> dict[str, int]:
    flat = [g for gens in generations for g in gens]
    return {
        "prompt_tokens": sum(g.prompt_tokens or 0 for g in flat),
        "completion_tokens": sum(g.completion_tokens or 0 for g in flat),
    }


def _judge_identity(spec: str | None) -> dict[str, str]:
    from harness.scoring.judges import judge_identity, use_judge

    with use_judge(spec):
        return judge_identity()


def run_eval(config: EvalConfig, out_dir: Path | None = None, backend: Backend | None = None) -> tuple[Results, list[SampleRecord]]:
    if config.vote is not None and config.vote not in VOTE_METHODS:
        raise HarnessError(f"unknown vote method {config.vote!r}: use {', '.join(VOTE_METHODS)}")
    if config.vote is not None and config.generation.samples < 2:
        raise HarnessError("--vote needs --samples K with K >= 2")
    suites = select_suites(config)
    selections = []
    for suite in suites:
        items = suite.items(config.split, variants=config.variants, limit=config.limit)
        if not items:
            raise HarnessError(f"suite {suite.name} has no {config.split} items for variants {config.variants}")
        selections.append((suite, items))

    own_backend = backend is None
    backend = backend or load_backend(config.model, **config.backend_options)
    cache = None
    if config.use_cache and backend.name not in UNCACHED_BACKENDS:
        cache = ResponseCache(config.cache_path or default_cache_path())
    chunk_size = config.chunk_size or getattr(backend, "chunk_size", None) or DEFAULT_CHUNK_SIZE
    stats = CacheStats()
    records: list[SampleRecord] = []
    usage = {"prompt_tokens": 0, "completion_tokens": 0}
    try:
        fingerprint = backend.fingerprint()
        for suite, items in selections:
            if config.progress:
                print(f"harness: {suite.name}: {len(items)} items ({config.split})", file=sys.stderr)
            before = stats.from_cache
            generations = generate_cached(
                backend, items, config.generation, cache, fingerprint, config.refresh, chunk_size, config.progress, stats
            )
            if config.progress and cache is not None:
                print(f"harness: {suite.name}: {stats.from_cache - before} items from the cache", file=sys.stderr)
            for key, value in _total_usage(generations).items():
                usage[key] += value
            from harness.scoring.judges import use_judge

            with use_judge(config.judge, cache_path=config.cache_path, use_cache=config.use_cache):
                records.extend(score_generations(suite, items, generations, config.vote))
        backend_usage = getattr(backend, "usage", None)
        if callable(backend_usage):
            usage["this_run"] = backend_usage()  # what the backend was actually asked for (cost, cache reads)
    finally:
        if cache is not None:
            cache.close()
        if own_backend:
            backend.close()

    failures = sum(r.error is not None for r in records)
    if failures and config.progress:
        print(f"harness: {failures} items failed after retries (recorded, not scored; a re-run retries them)", file=sys.stderr)
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
        failures=failures,
        usage=usage,
        sampling=sampling_stats(records),
        extra={"cache": {**stats.as_dict(), "enabled": cache is not None, "refresh": config.refresh}},
        judge=_judge_identity(config.judge) if any(s.name == "edge_cases" for s, _ in selections) else None,
    )
    if out_dir is not None:
        write_results(out_dir, results, records)
    return results, records
