"""`harness eval`: run a model on suites and write OUT/results.json + OUT/samples.jsonl."""

from __future__ import annotations

import argparse
import re


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from harness.config import add_config_arguments
    from harness.evaluate import EvalConfig
    from harness.executors import ExecutorConfig

    add_config_arguments(parser, EvalConfig)
    add_config_arguments(parser, ExecutorConfig)


def default_out_dir(spec: str | None) -> str:
    from harness.models.spec import DEFAULT_MODEL

    return "runs/eval-" + re.sub(r"[^A-Za-z0-9._-]+", "_", spec or DEFAULT_MODEL).strip("_")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tabulate import tabulate

    from harness.backends.options import check_spec_options
    from harness.config import config_from_args
    from harness.diagnostics import warn_output_health
    from harness.errors import HarnessError
    from harness.evaluate import EvalConfig
    from harness.executors import EXECUTORS, ExecutorConfig
    from harness.models.spec import parse_model_spec

    config = config_from_args(EvalConfig, args)
    executor = config_from_args(ExecutorConfig, args)
    check_executor(executor, config)
    check_spec_options(config.model, config.backend_options)  # a bad spec or option fails before suites are built
    if config.judge:
        from harness.scoring.judges import is_model_spec

        if is_model_spec(config.judge):
            parse_model_spec(config.judge)  # a typo in --judge fails here, not after generation
    if config.vote and config.generation.samples < 2:
        raise HarnessError("--vote needs --samples K with K >= 2")
    out = Path(config.out or default_out_dir(config.model))
    # checkpoint sweep (harness/sweep.py): hf:RUN_DIR holding checkpoint-* folders
    from harness.sweep import eval_sweep, sweep_run_dir

    if config.shard is not None and config.lm_eval_tasks:
        raise HarnessError("--shard splits harness suites only; run --lm-eval-task tasks unsharded")
    if config.shard is not None and sweep_run_dir(config.model) is not None:
        raise HarnessError(f"--shard does not split a checkpoint sweep; shard each checkpoint instead (--model hf:{config.model[3:]}/checkpoint-N)")
    if (run_dir := sweep_run_dir(config.model)) is not None:
        return eval_sweep(run_dir, out, config)
    if config.lm_eval_tasks:
        from harness.lmeval.run import eval_with_lm_eval

        results, records = eval_with_lm_eval(config, config.lm_eval_tasks, out_dir=out, include_path=config.lm_eval_include_path)
    else:
        results, records = EXECUTORS.get(executor.executor)(config, out, executor)
    rows = [
        [cap, variant, f"{s.score:.3f}" if s.score is not None else "-", s.n]
        for cap, summary in results.capabilities.items()
        for variant, s in [("all", summary), *summary.variants.items()]
    ]
    print(tabulate(rows, headers=["capability", "variant", "score", "n"]))
    if results.sampling:
        print_sampling(results)
        notes = sorted({f"{r.suite}: {r.vote_note}" for r in records if r.vote_note})
        for note in notes[:5]:
            print(f"note: {note}")
    if results.failures:
        print(f"{results.failures} items failed after retries: recorded as failures, not scored; rerun to retry them")
    print(f"wrote {out / 'results.json'} and {out / 'samples.jsonl'}")
    from harness.token_budget import explicit_budget

    warn_output_health(records, explicit_budget(config.generation))  # truncated / unparsed above 5 %: stderr
    return 0


def check_executor(executor, config) -> None:
    """Executor flags that do not fit the rest of the command fail before anything loads."""
    from harness.errors import HarnessError
    from harness.sweep import sweep_run_dir

    if executor.executor == "local":
        given = [flag for flag, value in (("--shards", executor.shards), ("--ray-address", executor.ray_address)) if value is not None]
        if given:
            raise HarnessError(f"{' and '.join(given)} go with --executor ray")
        return
    if config.shard is not None:
        raise HarnessError(f"--executor {executor.executor} makes the shards itself: drop --shard (use --shards N for how many)")
    if config.lm_eval_tasks:
        raise HarnessError(f"--executor {executor.executor} runs harness suites only; run --lm-eval-task tasks with the local executor")
    if sweep_run_dir(config.model) is not None:
        raise HarnessError(f"--executor {executor.executor} does not run a checkpoint sweep; evaluate each checkpoint "
                           f"(--model hf:{config.model[3:]}/checkpoint-N)")


def print_sampling(results) -> None:
    from tabulate import tabulate

    def pct(x):
        return "-" if x is None else f"{x:.3f}"

    rows = [
        [cap, s["k"], s["n"], pct(s["pass_at_1"]), pct(s["maj_at_k"]), pct(s["pass_at_k"]),
         pct(None if s["maj_at_k"] is None else s["maj_at_k"] - s["pass_at_1"])]
        for cap, s in results.sampling.items()
    ]
    method = next((s["method"] for s in results.sampling.values() if s["method"]), None)
    print(tabulate(rows, headers=["capability", "k", "n", "pass@1", f"maj@k ({method or 'no vote'})", "pass@k", "vote lift"]))
