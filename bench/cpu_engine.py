"""Calibrates harness/models/engine_choice.py: start cost and per-generation speed of hf vs vllm.

Each engine runs the real CLI (`harness eval --model ENGINE:smollm2-135m`, no response cache)
at two workload sizes, the four runs interleaved (hf small, vllm small, hf large, vllm large)
per round. A straight line through each engine's two points gives its start (intercept: import,
weights, engine spawn, suites, scoring, files) and its seconds per generation (slope); the
slope / max_new_tokens is EngineCost.token_s, the intercept EngineCost.start_s.

Run: python bench/cpu_engine.py [--small 1] [--large 6] [--max-new-tokens 256] [--rounds 1]
     [--suite NAME ...] [--engines hf vllm]
Writes reports/cpu_engine.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import write_report

HARNESS = str(Path(sys.executable).parent / "harness")


def run_eval(engine: str, limit: int, args: argparse.Namespace, out: Path) -> dict:
    suites = [x for name in args.suite for x in ("--suite", name)]
    cmd = [HARNESS, "eval", "--model", f"{engine}:smollm2-135m", "--limit", str(limit), *suites,
           "--max-new-tokens", str(args.max_new_tokens), "--no-cache", "--no-progress", "--out", str(out)]
    load = os.getloadavg()[0]
    start = time.perf_counter()
    env = {**os.environ}
    if engine == "hf" and args.hf_threads:
        env["OMP_NUM_THREADS"] = str(args.hf_threads)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    results = json.loads((out / "results.json").read_text())
    items = sum(s["n_items"] for s in results["suites"].values())
    return {"engine": engine, "limit": limit, "wall": wall, "items": items, "load": load,
            "tokens": results["usage"]["completion_tokens"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1, help="items per suite, small run")
    parser.add_argument("--large", type=int, default=6, help="items per suite, large run")
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--suite", action="append", default=[], help="default: every default suite")
    parser.add_argument("--engines", nargs="+", default=["hf", "vllm"])
    parser.add_argument("--hf-threads", type=int, default=None,
                        help="OMP_NUM_THREADS for the hf runs (default: torch's own, one per core)")
    parser.add_argument("--report", default="cpu_engine")
    args = parser.parse_args()

    from harness.models.engine_choice import (
        CPU_COSTS,
        EngineCost,
        crossover_generations,
    )

    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for limit in (args.small, args.large):
                for engine in args.engines:
                    row = run_eval(engine, limit, args, Path(tmp) / f"{engine}-{limit}-{r}")
                    print(row, flush=True)
                    runs.append(row)

    def median(engine: str, limit: int, key: str) -> float:
        return statistics.median(x[key] for x in runs if x["engine"] == engine and x["limit"] == limit)

    fitted = {}
    for engine in args.engines:
        n0, n1 = median(engine, args.small, "items"), median(engine, args.large, "items")
        t0, t1 = median(engine, args.small, "wall"), median(engine, args.large, "wall")
        per_gen = (t1 - t0) / (n1 - n0)
        fitted[engine] = EngineCost(start_s=t0 - n0 * per_gen, token_s=per_gen / args.max_new_tokens)
    rows = "\n".join(
        f"| {x['engine']} | {x['limit']} | {x['items']} | {x['tokens']} | {x['wall']:.1f} | {x['wall'] / x['items']:.2f} | {x['load']:.1f} |"
        for x in runs
    )
    fits = "\n".join(
        f"| {e} | {c.start_s:.1f} | {c.token_s * args.max_new_tokens:.3f} | {c.token_s:.5f} | "
        f"{CPU_COSTS[e].start_s:.1f} | {CPU_COSTS[e].token_s:.5f} |"
        for e, c in fitted.items()
    )
    cross = crossover_generations(fitted["hf"], fitted["vllm"], args.max_new_tokens) if len(fitted) == 2 else None
    in_use = crossover_generations(CPU_COSTS["hf"], CPU_COSTS["vllm"], args.max_new_tokens)
    big = median(args.engines[0], args.large, "items")
    ratio = (median("hf", args.large, "wall") / median("vllm", args.large, "wall")) if len(fitted) == 2 else float("nan")
    write_report(
        args.report,
        "CPU engine choice for the embedded default: hf vs vllm, start and per-generation cost",
        f"""
Embedded SmolLM2-135M through the real CLI (`harness eval --model ENGINE:smollm2-135m --no-cache`),
suites: {', '.join(args.suite) or 'every default suite'}, max_new_tokens={args.max_new_tokens}, greedy;
{args.small} and {args.large} items per suite, runs interleaved (hf, vllm, hf, vllm) per round.
Load average (1 min) at each run's start is in the last column.

| engine | limit/suite | items | generated tokens | wall (s) | s / item | load |
|---|---|---|---|---|---|---|
{rows}

Straight line through each engine's two points (median over rounds):

| engine | start (s, intercept) | s / generation (slope) | token_s = slope / {args.max_new_tokens} | in use: start_s | in use: token_s |
|---|---|---|---|---|---|
{fits}

**Side by side at {big:.0f} items: hf / vllm wall = {ratio:.2f}x.**
Crossover from this run: **{cross} generations** at {args.max_new_tokens} tokens
(constants in harness/models/engine_choice.py give {in_use}).

hf threads: {args.hf_threads or "torch default"}.

Rerun: `.venv/bin/python bench/cpu_engine.py {' '.join('--suite ' + s for s in args.suite)} --small {args.small} --large {args.large} --max-new-tokens {args.max_new_tokens} --rounds {args.rounds}{f' --hf-threads {args.hf_threads}' if args.hf_threads else ''}`
""",
    )


if __name__ == "__main__":
    main()
