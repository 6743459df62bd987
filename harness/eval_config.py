"""The settings of an eval run: `EvalConfig` (`harness eval`'s flags are generated from its fields,
harness/config.py) and the response-cache settings every generating command shares (`CacheOptions`).

Light on purpose: building the `harness eval` parser imports this, not the evaluation loop.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from harness.backends.options import options_by_scheme
from harness.cache import CACHE_FILE
from harness.config import Arg
from harness.shard import Shard, parse_shard
from harness.types import GenerationParams

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
