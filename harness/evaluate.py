"""The evaluation run: select suites and items → generate (harness/generation.py) → score (harness/records.py)
→ results files. Its settings are EvalConfig (harness/eval_config.py).

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

import os
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import __version__
from harness.backends.base import Backend
from harness.errors import HarnessError
from harness.eval_config import EvalConfig
from harness.generation import CachedGenerator
from harness.models.engine_choice import default_engine_backend, engine_record
from harness.records import score_generations, token_usage
from harness.results import ModelInfo, Results, SuiteInfo, summarise, write_results
from harness.scoring.context import ScoringContext
from harness.shard import SHARD_KEY, Shard, parse_shard, shard_info, shard_selections
from harness.suite import Suite, default_suite_names, get_suite
from harness.token_budget import backend_thinks, budget_record, item_budget
from harness.types import Generation, Item, SampleRecord
from harness.voting import VOTE_METHODS, sampling_stats

if TYPE_CHECKING:
    from harness.scoring.judges import AbstentionJudge

Selection = list[tuple[Suite, list[Item]]]  # (suite, its items) in run order


def select_suites(config: EvalConfig) -> list[Suite]:
    names = list(config.suites) or default_suite_names()
    suites = [get_suite(name, seed=config.suite_seed, size=config.suite_size) for name in names]
    if config.split not in ("train", "dev", "test"):
        raise HarnessError(f"unknown split {config.split!r} (use train, dev or test)")
    return suites


def select_items(config: EvalConfig) -> Selection:
    """Every selected suite with its items: what an unsharded run evaluates."""
    if config.vote is not None and config.vote not in VOTE_METHODS:
        raise HarnessError(f"unknown vote method {config.vote!r}: use {', '.join(VOTE_METHODS)}")
    if config.vote is not None and config.generation.samples < 2:
        raise HarnessError("--vote needs --samples K with K >= 2")
    whole_run = []
    for suite in select_suites(config):
        items = suite.items(config.split, variants=config.variants, limit=config.limit, groups=config.groups)
        if not items:
            raise HarnessError(f"suite {suite.name} has no {config.split} items for variants {config.variants}")
        whole_run.append((suite, items))
    return whole_run


def quiet_weight_loading() -> None:
    """No "Loading weights" bars from transformers or the hub (--no-progress), whether or not they are imported yet."""
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"  # read by transformers when it is imported
    if "transformers.utils.logging" in sys.modules:
        sys.modules["transformers.utils.logging"].disable_progress_bar()


def load_eval_backend(config: EvalConfig, whole_run: Selection) -> Backend:
    """`config.model` loaded (the embedded default: hf or vllm, chosen for the whole run's workload, so a
    shard picks the engine the whole run would)."""
    from harness.backends.anthropic_backend import with_batch_ledger

    return default_engine_backend(config.model, whole_run, config.generation, with_batch_ledger(config.backend_options, config.cache_path),
                                  config.cache_path, config.use_cache, config.refresh)


def build_run_judge(config: EvalConfig, whole_run: Selection) -> AbstentionJudge | None:
    """The run's abstention judge (--judge), built only when a selected suite declares needs_judge."""
    if not any(suite.needs_judge for suite, _ in whole_run):
        return None
    from harness.scoring.judges import build_judge

    return build_judge(config.judge, cache_path=config.cache_path, use_cache=config.use_cache)


def generate_all(generator: CachedGenerator, selections: Selection, config: EvalConfig) -> list[list[Generation]]:
    """Every suite's items in one pass, each within its own budget (its suite's, unless --max-new-tokens):
    an engine that batches continuously fills its batch across suites (Backend.generate_budgeted)."""
    thinking = backend_thinks(generator.backend)
    every_item: list[Item] = []
    budgets: list[int] = []
    for suite, items in selections:
        if config.progress:
            print(f"harness: {suite.name}: {len(items)} items ({config.split})", file=sys.stderr)
        every_item.extend(items)
        budgets.extend(item_budget(suite, item, config.generation, thinking) for item in items)
    generations = generator.generate(every_item, config.generation, budgets)
    if config.progress and generator.cache is not None:
        print(f"harness: {generator.stats.from_cache} of {len(every_item)} items from the cache", file=sys.stderr)
    return generations


def score_all(selections: Selection, generations: Sequence[list[Generation]], config: EvalConfig,
              context: ScoringContext) -> tuple[list[SampleRecord], dict[str, Any]]:
    """Each suite's share of the generations scored (and voted on) into records; the tokens they used."""
    records: list[SampleRecord] = []
    usage = {"prompt_tokens": 0, "completion_tokens": 0}
    start = 0
    for suite, items in selections:
        share = generations[start : start + len(items)]
        start += len(items)
        for key, value in token_usage(share).items():
            usage[key] += value
        records.extend(score_generations(suite, items, share, config.vote, context))
    return records, dict(usage)


def eval_results(config: EvalConfig, generator: CachedGenerator, whole_run: Selection, selections: Selection, shard: Shard | None,
                 records: list[SampleRecord], usage: dict[str, Any], judge: AbstentionJudge | None) -> Results:
    """results.json's content for one run (or one shard of it)."""
    backend, thinking = generator.backend, backend_thinks(generator.backend)

    def suite_info(suite: Suite, items: list[Item]) -> SuiteInfo:
        return SuiteInfo(name=suite.name, capability=suite.capability, version=suite.version, seed=suite.seed, size=suite.size,
                         split=config.split, hash=suite.content_hash(items), n_items=len(items),
                         token_budget=budget_record(suite, items, config.generation, thinking))

    extra: dict[str, Any] = {"cache": {**generator.stats.as_dict(), "enabled": generator.cache is not None, "refresh": config.refresh},
                             "engine": engine_record(backend)}
    if shard is not None:
        extra[SHARD_KEY] = shard_info(shard, whole_run, selections, suite_info)
    return Results(
        harness_version=__version__,
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        model=ModelInfo(spec=str(backend.spec), backend=backend.name, fingerprint=generator.fingerprint, dtype=backend.weights_dtype()),
        suites={suite.name: suite_info(suite, items) for suite, items in selections},
        generation=config.generation,
        capabilities=summarise(records),
        failures=sum(r.error is not None for r in records),
        usage=usage,
        sampling=sampling_stats(records),
        extra=extra,
        judge=judge.identity() if judge is not None else None,
    )


def run_eval(config: EvalConfig, out_dir: Path | None = None, backend: Backend | None = None) -> tuple[Results, list[SampleRecord]]:
    """Generate and score `config`'s suites with one model: what `harness eval` runs.

    `backend`: an already loaded model (default: loaded from `config.model`, closed at the end).
    With `out_dir`, results.json and samples.jsonl are written there atomically. Answers go
    through the response cache unless `config.use_cache` is False.
    """
    whole_run = select_items(config)
    shard = parse_shard(config.shard) if config.shard is not None else None
    selections = shard_selections(whole_run, shard) if shard is not None else whole_run  # harness/shard.py
    if not config.progress:
        quiet_weight_loading()
    own_backend = backend is None
    generator = CachedGenerator(backend or load_eval_backend(config, whole_run), config, config.progress)
    judge = None
    try:
        judge = build_run_judge(config, whole_run)
        generations = generate_all(generator, selections, config)
        records, usage = score_all(selections, generations, config, ScoringContext(judge=judge))
        backend_usage = getattr(generator.backend, "usage", None)
        if callable(backend_usage):
            usage["this_run"] = backend_usage()  # what the backend was actually asked for (cost, cache reads)
    finally:
        generator.close(backend_too=own_backend)
        if judge is not None:
            judge.close()
    results = eval_results(config, generator, whole_run, selections, shard, records, usage, judge)
    if results.failures and config.progress:
        print(f"harness: {results.failures} items failed after retries (recorded, not scored; a re-run retries them)", file=sys.stderr)
    out_dir = out_dir if out_dir is not None else config.out
    if out_dir is not None:
        write_results(out_dir, results, records)
    return results, records
