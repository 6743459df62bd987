"""`harness eval`: run a model on suites and write OUT/results.json + OUT/samples.jsonl."""

from __future__ import annotations

import argparse
import re


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None, help="model spec (default: the embedded smollm2-135m)")
    parser.add_argument("--suite", action="append", default=[], help="suite name (repeatable; default: every suite)")
    parser.add_argument("--split", default="test", choices=["train", "dev", "test"])
    parser.add_argument("--variant", action="append", help="only these variants ('canonical' or a perturbation kind)")
    parser.add_argument("--limit", type=int, default=None, help="at most N items per suite")
    parser.add_argument("--seed", type=int, default=0, help="suite generation seed")
    parser.add_argument("--size", type=int, default=None, help="canonical test items per suite")
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--top-p", type=float, default=1.0)
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--gen-seed", type=int, default=0, help="sampling seed")
    parser.add_argument("--samples", type=int, default=1, help="samples per prompt")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: cuda when present)")
    parser.add_argument("--out", default=None, help="output dir (default: runs/eval-<model>)")
    parser.add_argument("--no-progress", action="store_true")


def default_out_dir(spec: str | None) -> str:
    from harness.models.spec import DEFAULT_MODEL

    return "runs/eval-" + re.sub(r"[^A-Za-z0-9._-]+", "_", spec or DEFAULT_MODEL).strip("_")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tabulate import tabulate

    from harness.errors import HarnessError
    from harness.evaluate import EvalConfig, run_eval
    from harness.models.spec import parse_model_spec
    from harness.types import GenerationParams

    parse_model_spec(args.model)  # fail fast on a bad spec, before suites are built
    for name, value in (("--limit", args.limit), ("--samples", args.samples), ("--max-new-tokens", args.max_new_tokens)):
        if value is not None and value <= 0:
            raise HarnessError(f"{name} must be positive, got {value}")
    config = EvalConfig(
        model=args.model,
        suites=args.suite,
        split=args.split,
        variants=args.variant,
        limit=args.limit,
        suite_seed=args.seed,
        suite_size=args.size,
        generation=GenerationParams(
            temperature=args.temperature,
            top_p=args.top_p,
            max_new_tokens=args.max_new_tokens,
            seed=args.gen_seed,
            samples=args.samples,
        ),
        backend_options={"batch_size": args.batch_size, "device": args.device},
        progress=not args.no_progress,
    )
    out = Path(args.out or default_out_dir(args.model))
    results, _ = run_eval(config, out_dir=out)
    rows = [
        [cap, variant, f"{s.score:.3f}" if s.score is not None else "-", s.n]
        for cap, summary in results.capabilities.items()
        for variant, s in [("all", summary), *summary.variants.items()]
    ]
    print(tabulate(rows, headers=["capability", "variant", "score", "n"]))
    print(f"wrote {out / 'results.json'} and {out / 'samples.jsonl'}")
    return 0
