"""The three ways one eval runs on this machine, side by side: one process, two shards one after another
plus `harness merge`, and `--executor ray` (one and two shards on a local Ray cluster); then a worked
estimate of a 10,000-item k = 8 run on 8 GPUs from the tokens this run measured.

Every run is the same `harness eval` as a user runs it (CLI subprocess), each with a fresh response cache,
so every one really generates. On a 2-core machine two shards cannot be faster than one process using
both cores: the table shows what sharding and Ray cost (model loads, worker start, cluster start, merge).

Run: python bench/scale_out.py [--model hf:smollm2-135m | tiny] [--limit 4]
(`tiny`: tests/tiny_model.py's random Llama, built in the temp dir: seconds per run where SmolLM2 takes minutes.)
Writes reports/scale_out.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import write_report

HARNESS = str(Path(sys.executable).parent / "harness")
ITEMS, K, GPUS = 10_000, 8, 8
# Published vLLM output throughput on one H100-80GB-SXM (LambdaLabsML/vllm-benchmark, benchmark_v0.md, "vLLM v0.5.4
# v.s. v0.6.0": vLLM 0.6.0, 10 scheduler steps, 5000 prompts, max-num-seqs 256, max-seq-len 2048, rps inf).
LAMBDA = "LambdaLabsML/vllm-benchmark, benchmark_v0.md (vLLM 0.6.0, num-scheduler-steps 10, 5000 prompts, max-num-seqs 256)"
H100_8B_TOK_S = 8088.35  # Llama 3.1 8B, tp=1, one H100
H100X4_70B_TOK_S = 3542.88  # Llama 3.1 70B, tp=4, four H100s


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return time.perf_counter() - started


def samples(path: Path) -> list[dict]:
    return [json.loads(line) for line in (path / "samples.jsonl").read_text().splitlines()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="hf:smollm2-135m")
    parser.add_argument("--limit", type=int, default=4, help="items per suite (arithmetic, logic)")
    args = parser.parse_args()
    tmp_root = Path(tempfile.mkdtemp(prefix="scale-out-"))
    model = args.model
    if model == "tiny":
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from tiny_model import build_tiny_model

        model = f"hf:{build_tiny_model(tmp_root / 'tiny-model')}"
    selection = ["--model", model, "--suite", "arithmetic", "--suite", "logic", "--limit", str(args.limit), "--no-progress"]
    env = dict(os.environ)
    load_before = os.getloadavg()
    try:
        root = tmp_root

        def run(name: str, *extra: str) -> float:
            return timed([HARNESS, "eval", *selection, *extra, "--cache-dir", str(root / f"cache-{name}"),
                          "--out", str(root / name)], env)

        single = run("single")
        shard_times = [run(f"shard{i}", "--shard", f"{i}/2") for i in (1, 2)]
        merge = timed([HARNESS, "merge", str(root / "shard1"), str(root / "shard2"), "--out", str(root / "merged")], env)
        ray1 = run("ray1", "--executor", "ray", "--shards", "1")
        ray2 = run("ray2", "--executor", "ray", "--shards", "2")

        results = json.loads((root / "single" / "results.json").read_text())
        reference = samples(root / "single")
        differing = {name: sum(a["output"] != b["output"] for a, b in zip(reference, samples(root / name), strict=True))
                     for name in ("merged", "ray1", "ray2")}
        ray2_extra = json.loads((root / "ray2" / "results.json").read_text())["extra"]
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    load_after = os.getloadavg()

    n = len(reference)
    completion = results["usage"]["completion_tokens"]
    prompt = results["usage"]["prompt_tokens"]
    engine = results["extra"]["engine"]["engine"]
    per_item_out, per_item_in = completion / n, prompt / n
    cpu_tok_s = completion / single
    sharded = sum(shard_times) + merge

    def same(name: str) -> str:
        return "yes" if differing[name] == 0 else f"no: {differing[name]} of {n} outputs differ"

    rows = [
        ("1 process: `harness eval`", single, "-", "yes (the reference)"),
        ("2 shards one after another + `harness merge`",
         sharded, f"shard 1 {shard_times[0]:.1f} + shard 2 {shard_times[1]:.1f} + merge {merge:.1f}", same("merged")),
        ("`--executor ray --shards 1` (local cluster, the shard holds both CPUs)", ray1, "", same("ray1")),
        ("`--executor ray --shards 2` (local cluster, one CPU per shard, both at once)", ray2, "", same("ray2")),
    ]
    table = "\n".join(f"| {what} | {wall:.1f} | {wall / single:.2f}x | {parts} | {ok} |" for what, wall, parts, ok in rows)

    analysis = (
        f"Two shards one after another cost {sharded - single:+.1f} s against one process: the model loaded twice, two CLI "
        f"starts and the merge. `--executor ray` cost {ray1 - single:+.1f} s with one shard and {ray2 - single:+.1f} s with "
        "two: each run starts a local Ray cluster (no dashboard) and a fresh worker process per shard (`max_calls=1`, so a "
        "GPU shard's memory is freed with it) that imports torch and transformers and loads the model, and the cache actor "
        "costs one round trip per committed chunk. With two shards on two cores each shard's torch runs one thread (Ray "
        "sets OMP_NUM_THREADS to the CPUs a task holds), so together they use the cores one process uses with two threads.")
    if min(ray1, ray2) < single:
        analysis += (
            " A Ray run faster than one process is not a speed-up Ray can give on two cores. These runs are mostly process "
            "start, imports and model load (the tiny model generates in seconds), which two shards do side by side on the "
            "two cores; and beside other jobs (see the load) one process's two torch threads are slowed by oversubscription "
            "(OpenMP threads spin-wait for each other) where each shard runs one. Read these rows as: no overhead measurable "
            "above this machine's noise.") if args.model == "tiny" else (
            " A Ray run faster than one process is not a speed-up Ray can give on two cores: beside other jobs (see the "
            "load) one process's two torch threads are slowed by oversubscription (OpenMP threads spin-wait for each other) "
            "where each shard runs one thread. Read these rows as: no overhead measurable above this machine's noise.")
    total_out = ITEMS * K * per_item_out
    total_in = ITEMS * per_item_in  # the vllm backend sends one n=k request per prompt: each prompt is prefilled once
    dp_8b = GPUS * H100_8B_TOK_S
    dp_70b = (GPUS // 4) * H100X4_70B_TOK_S
    cpu_days = total_out / cpu_tok_s / 86400
    scale_line = "" if args.model == "tiny" else f"- For scale: at this machine's {cpu_tok_s:.1f} tokens/s the same run would take {cpu_days:.1f} days."
    if args.model == "tiny":
        what = ("tests/tiny_model.py's random 2-layer Llama (hidden size 32), not the embedded SmolLM2-135M: on this shared "
                "machine under load 10 one SmolLM2 run of these items took over 8 minutes, so five of them did not fit. "
                "A random model never stops early: every answer runs to its suite's token budget, so the tokens per item "
                "below are the budgets' upper bound, and the per-token cost is the tiny model's")
    else:
        what = f"`{args.model}`" + (" (the embedded SmolLM2-135M)" if "smollm2-135m" in args.model else "")
    shown = " ".join(a if not a.startswith("hf:/") else "hf:TINY" for a in selection[:-1])
    body = f"""
`harness eval {shown}` ({n} items, each suite's own token budget), run four ways as a
user runs it (CLI subprocess), each with a fresh response cache so every run generates:
`python bench/scale_out.py{' --model tiny' if args.model == 'tiny' else ''} --limit {args.limit}`.
Model: {what}; on the **{engine}** engine (named in the spec, so every shard runs the same engine; merge
refuses mixed engines). Load average {load_before[0]:.1f} before, {load_after[0]:.1f} after (a shared
machine: other jobs ran beside this one, so differences of a few seconds are noise).

## Wall time on this 2-core machine

| how | wall (s) | vs 1 process | parts (s) | same outputs as 1 process |
|---|---|---|---|---|
{table}

{analysis}
The Ray run's cache counts: {json.dumps(ray2_extra.get('cache'))}.

Outputs: sharding changes which prompts share a batch; transformers' batched kernels with padding can then
differ in the last bits and, rarely, flip a greedy token (docs/scale_out.md, "Keep the shards comparable").
tests/test_ray_executor.py checks byte-identical files with one item per batch (`--batch-size 1`).

## Worked estimate: 10,000 items, k = 8, on 8 GPUs

Measured in the 1-process run above: {completion} completion tokens and {prompt} prompt tokens for {n} items, so
**{per_item_out:.1f} output tokens** and {per_item_in:.1f} prompt tokens per generation (arithmetic and logic at
their own budgets; a stronger student stops earlier or later, and the estimate scales with this number).
This machine generated {cpu_tok_s:.1f} output tokens/s end to end (model load included){' with the tiny model' if args.model == 'tiny' else ''}.

- Output tokens: {ITEMS:,} items x k = {K} x {per_item_out:.1f} = **{total_out:,.0f}** tokens
  (prompts: {ITEMS:,} x {per_item_in:.1f} = {total_in:,.0f} tokens, prefilled once per item: the vllm backend
  sends one n = k request per prompt).
- Assumed GPU throughput (not measured here; there is no GPU on this machine): {LAMBDA}:
  {H100_8B_TOK_S:,.0f} output tokens/s for Llama 3.1 8B on one H100 (tp = 1), and {H100X4_70B_TOK_S:,.0f} for
  Llama 3.1 70B on four H100s (tp = 4). The same report finds data parallelism scales close to linearly when the
  model fits one GPU, which is what one shard per GPU is.
- **8B student, 8 shards x 1 GPU** (`--executor ray`, `num_gpus=1` per shard, or 8 `--shard I/8` jobs):
  8 x {H100_8B_TOK_S:,.0f} = {dp_8b:,.0f} tokens/s; {total_out:,.0f} / {dp_8b:,.0f} = **{total_out / dp_8b / 60:.1f} min**
  of generation, plus each shard's engine start (minutes for vLLM on a GPU, paid once per shard, in parallel).
- **70B teacher, 2 shards x 4 GPUs** (`--tensor-parallel-size 4`, so each Ray shard asks for 4 GPUs):
  2 x {H100X4_70B_TOK_S:,.0f} = {dp_70b:,.0f} tokens/s; {total_out:,.0f} / {dp_70b:,.0f} = **{total_out / dp_70b / 60:.1f} min**.
{scale_line}

Those GPU figures are for 8B/70B models with 2048-token sequences at 256 sequences in flight; k = 8 samples per
prompt fill a batch well (8 sequences per prompt share one prefill). Sharding itself adds per shard one engine
start and, through Ray, the worker and cluster start measured above, which is small beside minutes of generation.
"""
    write_report("scale_out", "Scaling out: one process, shards + merge, and Ray, on this machine; and an 8-GPU estimate", body)


if __name__ == "__main__":
    main()
