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

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any

from harness import __version__
from harness.backends.base import Backend
from harness.backends.options import options_by_scheme
from harness.cache import CACHE_FILE, default_cache_path, open_response_cache
from harness.config import Arg
from harness.errors import HarnessError
from harness.generation import DEFAULT_CHUNK_SIZE, CacheStats, generate_cached
from harness.models.engine_choice import default_engine_backend, engine_record
from harness.results import Results, ModelInfo, SuiteInfo, summarise, write_results
from harness.scoring.context import ScoringContext
from harness.shard import SHARD_KEY, Shard, parse_shard, shard_info, shard_selections
from harness.suite import Suite, default_suite_names, get_suite, score_batch
from harness.token_budget import backend_thinks, budget_record, item_budget
from harness.types import Generation, GenerationParams, Item, SampleRecord, Score
from harness.voting import VOTE_METHODS, VoteOutcome, sampling_stats, vote

# Backends whose answers are computed from the suite itself: caching them could only serve
# stale answers after a suite changes.
UNCACHED_BACKENDS = {"reference"}
# The abstention judge when --judge is not given (read when an EvalConfig is made, so train and loop,
# which have no --judge, evaluate with it too); scoring itself reads no environment.
JUDGE_ENV = "HARNESS_ABSTENTION_JUDGE"


def default_judge_spec() -> str | None:
    """$HARNESS_ABSTENTION_JUDGE, or None (the default judge)."""
    return os.environ.get(JUDGE_ENV) or None


def default_temperature(samples: int) -> float:
    """Greedy for one sample per prompt; 0.7 when several are drawn (votes, best-of-k)."""
    return 0.7 if samples > 1 else 0.0


def sampling_params(**given: Any) -> GenerationParams:
    """GenerationParams from the flags given: without --temperature, default_temperature(--samples)."""
    given.setdefault("temperature", default_temperature(given.get("samples", 1)))
    return GenerationParams(**given)


def cache_file(cache_dir: str | Path) -> Path:
    return Path(cache_dir) / CACHE_FILE


CACHE_FLAGS = "response cache"


@dataclass(kw_only=True)
class CacheOptions:
    """The response cache settings of every command that generates (eval, distill)."""

    use_cache: Annotated[bool, Arg("neither read nor write the response cache", flag="--no-cache", title=CACHE_FLAGS)] = True
    refresh: Annotated[bool, Arg("ignore cached answers (new answers replace them)", title=CACHE_FLAGS)] = False
    cache_path: Annotated[Path | None, Arg("where responses.sqlite lives (default: the harness cache dir)", flag="--cache-dir",
                                           metavar="DIR", parse=cache_file, title=CACHE_FLAGS)] = None
    chunk_size: Annotated[int | None, Arg("items per backend call, each committed to the cache on arrival (default: per backend)",
                                          positive=True, title=CACHE_FLAGS)] = None


@dataclass
class EvalConfig(CacheOptions):
    """`harness eval`'s settings: its flags are generated from these fields (harness/config.py)."""

    model: Annotated[str | None, Arg("model spec (default: the embedded smollm2-135m)")] = None
    suites: Annotated[Sequence[str], Arg("suite name (repeatable; default: every suite)", flag="--suite")] = ()
    split: Annotated[str, Arg(choices=("train", "dev", "test"))] = "test"
    variants: Annotated[Sequence[str] | None, Arg("only these variants ('canonical' or a perturbation kind)", flag="--variant")] = None
    limit: Annotated[int | None, Arg(
        "at most N items per suite: evenly spread problem groups, each its canonical item and one perturbed twin "
        "(the twin's kind rotating), so 20 gives 10 groups of 2; deterministic (lm-eval tasks: lm-eval's own limit)",
        metavar="N", positive=True)] = None
    groups: Annotated[int | None, Arg(
        "G whole problem groups per suite (a canonical item with all its twins), evenly spread; with --limit, "
        "the groups first, then the limit among them", metavar="G", positive=True)] = None
    shard: Annotated[Shard | None, Arg(
        "evaluate only shard I of N (numbered from 1): the selected problem groups dealt round-robin, each group "
        "whole in one shard; `harness merge` joins the N output dirs into the unsharded run's results "
        "(docs/scale_out.md)", metavar="I/N", parse=parse_shard)] = None
    suite_seed: Annotated[int, Arg("suite generation seed", flag="--seed")] = 0
    suite_size: Annotated[int | None, Arg("canonical test items per suite", flag="--size")] = None
    generation: Annotated[GenerationParams, Arg(build=sampling_params, fields={
        "temperature": Arg("default 0 (greedy); 0.7 with --samples > 1"),
        "top_p": Arg("nucleus sampling probability mass"),
        "max_new_tokens": Arg("generated tokens at most, for every suite (default: each suite's own budget, "
                              "x4 for a model that thinks; harness/token_budget.py)", positive=True),
        "seed": Arg("sampling seed", flag="--gen-seed"),
        "samples": Arg("samples per prompt", positive=True),
    })] = field(default_factory=GenerationParams)
    backend_options: Annotated[dict, Arg(options=options_by_scheme)] = field(default_factory=dict)
    progress: Annotated[bool, Arg("no progress bars or per-suite lines on stderr")] = True
    vote: Annotated[str | None, Arg(
        "with --samples K: pick each item's answer by a registered vote method (majority: most common answer, "
        "weighted: log-prob-weighted majority, verify: among samples passing the suite's answer-independent verifier)",
        metavar="METHOD", title="self-consistency voting")] = None
    judge: Annotated[str | None, Arg(
        "edge_cases abstention judge: semantic (default, or $HARNESS_ABSTENTION_JUDGE), structured, patterns, or a model "
        "spec (anthropic:MODEL, openai:URL#MODEL, vllm:PATH, hf:PATH) graded with a cached template",
        metavar="NAME_OR_SPEC")] = field(default_factory=default_judge_spec)
    # read by `harness eval`; run_eval's own out_dir argument wins over `out`
    out: Annotated[Path | None, Arg("output dir (default: runs/eval-<model>)", metavar="DIR")] = None
    lm_eval_tasks: Annotated[Sequence[str], Arg(
        "also run this lm-eval task through lm-eval (repeatable; without --suite, only these)", flag="--lm-eval-task",
        metavar="NAME[:CAPABILITY]", title="lm-evaluation-harness tasks")] = ()
    lm_eval_include_path: Annotated[str | None, Arg("extra lm-eval task folder", metavar="DIR",
                                                    title="lm-evaluation-harness tasks")] = None


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


def score_samples(
    suite: Suite, items: Sequence[Item], generations: Sequence[list[Generation]], context: ScoringContext | None = None
) -> list[list[Score]]:
    """Each item's samples scored in one batch per suite; failed requests are not scored (never counted right).
    `context`: the run's scoring context (its abstention judge); None scores with the defaults."""
    flat = [(item, g) for item, gens in zip(items, generations, strict=True) for g in gens]
    ok = [(item, g) for item, g in flat if g.error is None]
    ok_scores = iter(score_batch(suite, [item for item, _ in ok], [g.text for _, g in ok], context))
    flat_scores = [
        next(ok_scores) if g.error is None else Score(answer=None, correct=False, reason=f"request failed: {g.error}")
        for _, g in flat
    ]
    out, pos = [], 0
    for gens in generations:
        out.append(flat_scores[pos : pos + len(gens)])
        pos += len(gens)
    return out


def score_generations(
    suite: Suite,
    items: Sequence[Item],
    generations: Sequence[list[Generation]],
    vote_method: str | None = None,
    context: ScoringContext | None = None,
) -> list[SampleRecord]:
    """Score every sample (failed ones are not scored), vote when asked, build the records."""
    records = []
    for item, gens, scores in zip(items, generations, score_samples(suite, items, generations, context), strict=True):
        keys = [suite.vote_key(s) for s in scores] if len(gens) > 1 else None
        outcome = None
        if vote_method and len(gens) > 1 and all(g.error is None for g in gens):
            outcome = vote(suite, item, gens, scores, vote_method)
        records.append(make_record(item, gens, scores, outcome, keys, vote_method))
    return records


class CachedGenerator:
    """A backend behind the response cache: what run_eval and distill generate through."""

    def __init__(self, backend: Backend, settings: CacheOptions, progress: bool = True):
        self.backend, self.refresh, self.progress = backend, settings.refresh, progress
        self.cache = None
        if settings.use_cache and backend.name not in UNCACHED_BACKENDS:
            self.cache = open_response_cache(settings.cache_path or default_cache_path())
        self.chunk_size = settings.chunk_size or getattr(backend, "chunk_size", None) or DEFAULT_CHUNK_SIZE
        self.stats = CacheStats()
        self.fingerprint = backend.fingerprint()

    def generate(self, items: Sequence[Item], params: GenerationParams, budgets: Sequence[int] | None = None) -> list[list[Generation]]:
        """Every item's generations; `budgets`: each item's max_new_tokens (None: `params`' own), all in one pass."""
        return generate_cached(self.backend, items, params, self.cache, self.fingerprint, self.refresh, self.chunk_size,
                               self.progress, self.stats, budgets)

    def close(self, backend_too: bool = False) -> None:
        if self.cache is not None:
            self.cache.close()
        if backend_too:
            self.backend.close()


def with_batch_ledger(options: dict[str, Any], cache_path: Path | None) -> dict[str, Any]:
    """Anthropic batch ids are kept beside a chosen response cache (a resumed run finds its batches)."""
    if options.get("batch") and cache_path is not None and "ledger_path" not in options:
        return {**options, "ledger_path": Path(cache_path).parent / "anthropic-batches.json"}
    return options


def _total_usage(generations: Sequence[list[Generation]]) -> dict[str, int]:
    flat = [g for gens in generations for g in gens]
    return {
        "prompt_tokens": sum(g.prompt_tokens or 0 for g in flat),
        "completion_tokens": sum(g.completion_tokens or 0 for g in flat),
    }


def quiet_weight_loading() -> None:
    """No "Loading weights" bars from transformers or the hub (--no-progress), whether or not they are imported yet."""
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"  # read by transformers when it is imported
    if "transformers.utils.logging" in sys.modules:
        sys.modules["transformers.utils.logging"].disable_progress_bar()


def run_eval(config: EvalConfig, out_dir: Path | None = None, backend: Backend | None = None) -> tuple[Results, list[SampleRecord]]:
    """Generate and score `config`'s suites with one model: what `harness eval` runs.

    `backend`: an already loaded model (default: loaded from `config.model`, closed at the end).
    With `out_dir`, results.json and samples.jsonl are written there atomically. Answers go
    through the response cache unless `config.use_cache` is False.
    """
    if config.vote is not None and config.vote not in VOTE_METHODS:
        raise HarnessError(f"unknown vote method {config.vote!r}: use {', '.join(VOTE_METHODS)}")
    if config.vote is not None and config.generation.samples < 2:
        raise HarnessError("--vote needs --samples K with K >= 2")
    suites = select_suites(config)
    whole_run = []  # what an unsharded run evaluates
    for suite in suites:
        items = suite.items(config.split, variants=config.variants, limit=config.limit, groups=config.groups)
        if not items:
            raise HarnessError(f"suite {suite.name} has no {config.split} items for variants {config.variants}")
        whole_run.append((suite, items))
    shard = parse_shard(config.shard) if config.shard is not None else None
    selections = shard_selections(whole_run, shard) if shard is not None else whole_run  # harness/shard.py

    if not config.progress:
        quiet_weight_loading()
    own_backend = backend is None
    backend = backend or default_engine_backend(  # the embedded default: hf or vllm, per workload
        config.model, whole_run, config.generation,  # a shard picks the engine the whole run would
        with_batch_ledger(config.backend_options, config.cache_path), config.cache_path, config.use_cache, config.refresh)
    generator = CachedGenerator(backend, config, config.progress)
    cache, stats, fingerprint = generator.cache, generator.stats, generator.fingerprint
    judge = None  # built only when a selected suite decides abstentions
    if any(suite.needs_judge for suite, _ in whole_run):
        from harness.scoring.judges import build_judge

        judge = build_judge(config.judge, cache_path=config.cache_path, use_cache=config.use_cache)
    context = ScoringContext(judge=judge)
    records: list[SampleRecord] = []
    usage = {"prompt_tokens": 0, "completion_tokens": 0}
    try:
        # Every suite's items in one pass, each within its own budget (its suite's, unless --max-new-tokens):
        # an engine that batches continuously fills its batch across suites (Backend.generate_budgeted).
        thinking = backend_thinks(backend)
        every_item: list[Item] = []
        budgets: list[int] = []
        for suite, items in selections:
            if config.progress:
                print(f"harness: {suite.name}: {len(items)} items ({config.split})", file=sys.stderr)
            every_item.extend(items)
            budgets.extend(item_budget(suite, item, config.generation, thinking) for item in items)
        every_generation = generator.generate(every_item, config.generation, budgets)
        if config.progress and cache is not None:
            print(f"harness: {stats.from_cache} of {len(every_item)} items from the cache", file=sys.stderr)
        start = 0
        for suite, items in selections:
            generations = every_generation[start : start + len(items)]
            start += len(items)
            for key, value in _total_usage(generations).items():
                usage[key] += value
            records.extend(score_generations(suite, items, generations, config.vote, context))
        backend_usage = getattr(backend, "usage", None)
        if callable(backend_usage):
            usage["this_run"] = backend_usage()  # what the backend was actually asked for (cost, cache reads)
    finally:
        generator.close(backend_too=own_backend)
        if judge is not None:
            judge.close()

    failures = sum(r.error is not None for r in records)
    if failures and config.progress:
        print(f"harness: {failures} items failed after retries (recorded, not scored; a re-run retries them)", file=sys.stderr)

    def suite_info(suite: Suite, items: list[Item]) -> SuiteInfo:
        return SuiteInfo(
            name=suite.name,
            capability=suite.capability,
            version=suite.version,
            seed=suite.seed,
            size=suite.size,
            split=config.split,
            hash=suite.content_hash(items),
            n_items=len(items),
            token_budget=budget_record(suite, items, config.generation, backend_thinks(backend)),
        )

    extra: dict[str, Any] = {"cache": {**stats.as_dict(), "enabled": cache is not None, "refresh": config.refresh},
                             "engine": engine_record(backend)}
    if shard is not None:
        extra[SHARD_KEY] = shard_info(shard, whole_run, selections, suite_info)
    results = Results(
        harness_version=__version__,
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        model=ModelInfo(spec=str(backend.spec), backend=backend.name, fingerprint=fingerprint, dtype=backend.weights_dtype()),
        suites={suite.name: suite_info(suite, items) for suite, items in selections},
        generation=config.generation,
        capabilities=summarise(records),
        failures=failures,
        usage=usage,
        sampling=sampling_stats(records),
        extra=extra,
        judge=judge.identity() if judge is not None else None,
    )
    out_dir = out_dir if out_dir is not None else config.out
    if out_dir is not None:
        write_results(out_dir, results, records)
    return results, records
