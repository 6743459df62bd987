"""`harness eval`: run a model on suites and write OUT/results.json + OUT/samples.jsonl."""

from __future__ import annotations

import argparse
import re


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from harness.config import add_config_arguments
    from harness.evaluate import EvalConfig

    add_config_arguments(parser, EvalConfig)


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
    from harness.evaluate import EvalConfig, run_eval
    from harness.models.spec import parse_model_spec

    config = config_from_args(EvalConfig, args)
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
        results, records = run_eval(config, out_dir=out)
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
