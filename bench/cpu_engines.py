"""The embedded default on this CPU: each engine at each dtype, and the automatic choice against the best.

Each run is the real CLI on the demo's mix of suites (`harness eval`, every default suite, `--limit L`,
no response cache): `--model hf:smollm2-135m --dtype float32`, the same at bfloat16, `vllm:` at both,
then the embedded default with nothing named (HARNESS_ENGINE=auto: engine and dtype chosen by
harness/models/engine_choice.py from this machine's probes). The probes are measured first, timed,
by `harness doctor --probe`, so the auto run is the steady state (a machine measures once).

Reports wall time, generated tokens, tokens per second of wall time; the auto run's wall against the
fastest engine/dtype run (goal: at most 1.1x); the answer-length profile the cost model assumes
(LOOP_SHARE, SHORT_SHARE) against the one measured here; and the CPU's model and flags.

Run: python bench/cpu_engines.py [--limit 4] [--skip ENGINE:DTYPE ...]
Writes reports/cpu_engines.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import write_report

HARNESS = str(Path(sys.executable).parent / "harness")
CONFIGS = [("hf", "float32"), ("hf", "bfloat16"), ("vllm", "float32"), ("vllm", "bfloat16")]


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env={**os.environ, **(env or {})}, timeout=3600)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return wall, proc


def run_eval(label: str, model_args: list[str], limit: int, out: Path) -> dict:
    load = os.getloadavg()[0]
    wall, proc = timed([HARNESS, "eval", *model_args, "--limit", str(limit), "--no-cache", "--no-progress", "--out", str(out)],
                       env={"HARNESS_ENGINE": "auto"})
    results = json.loads((out / "results.json").read_text())
    records = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    tokens = results["usage"]["completion_tokens"]
    chosen = next((line for line in proc.stderr.splitlines() if line.startswith("harness: engine ")), "")
    row = {"label": label, "wall": wall, "tokens": tokens, "items": len(records), "load": load, "chosen": chosen,
           "engine": results["model"]["backend"], "dtype": results["model"]["dtype"], "lengths": lengths(results, records)}
    print(f"{label}: {wall:.1f} s, {tokens} tokens, {tokens / wall:.1f} tok/s ({row['engine']} {row['dtype']}; load {load:.1f})",
          flush=True)
    return row


def lengths(results: dict, records: list[dict]) -> list[tuple[int, int, str]]:
    """(budget, tokens of the answer, finish reason) of every answer; the budget from results.json's token_budget,
    the tokens by the embedded model's tokenizer (samples.jsonl keeps the text, not its length)."""
    from transformers import AutoTokenizer

    from harness.models.embedded import embedded_checkpoint

    tokenizer = AutoTokenizer.from_pretrained(embedded_checkpoint("smollm2-135m"))
    out = []
    for r in records:
        budget_info = results["suites"][r["suite"]]["token_budget"]
        label = "canonical" if r["variant"] == "canonical" else f"{r['variant']}@{r['perturbation_level']}"
        budget = budget_info["by_variant"].get(label, budget_info["max_new_tokens"])
        out.append((budget, len(tokenizer(r["output"], add_special_tokens=False)["input_ids"]), r["finish_reason"] or ""))
    return out


def profile(rows: list[dict]) -> tuple[float, float, int]:
    """(share of answers cut at their budget, mean length of the others as a share of their budget, answers)."""
    answers = [a for row in rows for a in row["lengths"]]
    loops = [a for a in answers if a[2] == "length"]
    short = [n / b for b, n, reason in answers if reason != "length" and b]
    return len(loops) / max(len(answers), 1), sum(short) / max(len(short), 1), len(answers)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=4, help="items per suite (harness eval --limit)")
    parser.add_argument("--skip", nargs="*", default=[], help="ENGINE:DTYPE runs to leave out")
    args = parser.parse_args()

    from harness.models.cpu import detect
    from harness.models.engine_choice import LOOP_SHARE, SHORT_SHARE
    from harness.models.engine_probe import library_versions

    cpu = detect()
    started = time.perf_counter()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        probe_wall, doctor = timed([HARNESS, "doctor", "--probe"])
        engines = [line for line in doctor.stdout.splitlines() if line.startswith(("engine_", "cpu"))]
        print(f"probes: {probe_wall:.1f} s", *engines, sep="\n", flush=True)
        for engine, dtype in CONFIGS:
            if f"{engine}:{dtype}" in args.skip:
                continue
            runs.append(run_eval(f"{engine} {dtype}", ["--model", f"{engine}:smollm2-135m", "--dtype", dtype], args.limit,
                                 Path(tmp) / f"{engine}-{dtype}"))
        auto = run_eval("auto", [], args.limit, Path(tmp) / "auto")
    total = time.perf_counter() - started

    best = min(runs, key=lambda r: r["wall"])
    same = next((r for r in runs if (r["engine"], r["dtype"]) == (auto["engine"], auto["dtype"])), None)
    ratio = auto["wall"] / best["wall"]
    table = "\n".join(f"| {r['label']} | {r['engine']} | {r['dtype']} | {r['items']} | {r['tokens']} | {r['wall']:.1f} | "
                      f"{r['tokens'] / r['wall']:.1f} | {r['load']:.1f} |" for r in [*runs, auto])
    loop_share, short_share, answers = profile([*runs, auto])
    versions = ", ".join(f"{k} {v}" for k, v in library_versions().items())
    write_report(
        "cpu_engines",
        "The embedded default on this CPU: hf and vLLM at float32 and bfloat16, and the automatic choice",
        f"""
**CPU: {cpu.model}, {cpu.cores} cores; flags the engines use: {' '.join(cpu.shown_flags()) or 'none'};
native bfloat16: {'yes' if cpu.native_bf16 else 'no'}** (all flags: `{' '.join(sorted(cpu.flags))}`). {versions}.

Workload: `harness eval --limit {args.limit} --no-cache` on every default suite (the demo's mix), each item at
its suite's budget, greedy; one engine call per run across suites. tok/s = generated tokens / wall time of
the whole command (start, generation, scoring). Load average (1 min) at each run's start in the last column.

| run | engine | dtype | items | generated tokens | wall (s) | tok/s | load |
|---|---|---|---|---|---|---|---|
{table}

Probes (`harness doctor --probe`, both engines at the dtype auto picks; once per machine): {probe_wall:.1f} s.

{chr(10).join('    ' + line for line in engines)}

Auto's choice: `{auto['chosen']}`

**Auto / best = {auto['wall']:.1f} s / {best['wall']:.1f} s ({best['label']}) = {ratio:.2f}x** (goal <= 1.10)
{f"; auto / the same engine and dtype run by name = {auto['wall'] / same['wall']:.2f}x" if same else ""}.

Answer lengths over every run ({answers} answers): {loop_share:.0%} cut at their budget (the cost model assumes
LOOP_SHARE = {LOOP_SHARE:.0%}); the others used {short_share:.0%} of their budget on average (SHORT_SHARE =
{SHORT_SHARE:.0%}).

Bench wall time: {total:.0f} s. Rerun: `.venv/bin/python bench/cpu_engines.py --limit {args.limit}`
""",
    )


if __name__ == "__main__":
    main()
