"""Peak memory of `harness eval` vs `lm_eval --model hf` on the same exported math items, side by side.

Both run the embedded SmolLM2-135M (its converted checkpoint in the harness cache) on the same
items, greedy, the same max_new_tokens, on CPU, one after the other. Each command is a subprocess;
its peak is measured two ways: the kernel's ru_maxrss of the process (os.wait4) and the largest sum
of RSS over the whole process tree, polled every 50 ms (psutil), so that helper processes count.

Run: python bench/memory_peak.py [--limit 32] [--max-new-tokens 64] [--batch-size 16] [--lm-eval-batch-size 16 1]
Writes reports/memory_peak.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _common import write_report

FINDINGS = """
## Where the memory went, and the fix

* **Every step's full-vocabulary scores.** The hf backend called `generate(output_scores=True)` and then
  `compute_transition_scores(normalize_logits=True)` for the mean token log-probability (used by weighted
  voting). That keeps batch x vocab float32 scores per generated token (16 x 49,152 x 4 B = 3 MB a step:
  0.8 GB for a batch of 16 at 256 new tokens), then stacks them (a second copy) and log-softmaxes them (a
  third): about 2.4 GB on top of the model at the default 256 tokens, which is the gap between the 4.8 GB
  reported and lm-eval's 1.6 GB. Fixed in `harness/backends/hf.py` (`chosen_token_logprobs`): a logits
  processor log-softmaxes each step (after the same temperature / top-p warpers generate applies) and keeps
  only the chosen token's log-probability, one (batch,) float per step. Values equal
  `compute_transition_scores` to 1e-5, greedy and sampled (tests/test_hf_logprobs.py); generated text is
  unchanged (32/32 identical outputs before and after on this workload).
* Measured with /usr/bin/time -v on the same 32 items, max_new_tokens 64, before -> after the fix:
  ru_maxrss 2,215 MB -> 1,738 MB. The saving grows linearly with max_new_tokens (about 2.4 GB at 256).
* What is left is shared with lm-eval: torch + transformers imports (~240 MB), the float32 weights
  (540 MB; the first forward pass pages the memory-mapped safetensors in and adds ~500 MB), and the KV cache
  plus prefill activations of the longest batch (batch 16 x up to ~330 tokens; ~0.3-0.4 GB, kept by glibc's
  allocator after the batch). `MALLOC_MMAP_THRESHOLD_` experiments lowered the end-of-run RSS but not the
  peak much, so no allocator tuning was added.
* Not the cause: vllm, sentence-transformers and lm-eval are not imported by `harness eval` on the hf
  backend (checked in sys.modules at exit; scipy/sklearn/pandas are, ~10 MB). The GGUF -> safetensors
  conversion of the embedded model runs in-process only on first use (harness/models/embedded.py builds
  the model twice, so that first run peaks higher); it is done before the measured runs here.
* Generation alone, before vs after the fix (same 16 items, batch 16, 48 new tokens, one process, twice):
  14.5 s / 13.5 s with output_scores + compute_transition_scores, 12.9 s / 12.2 s with the per-step
  recorder; identical sequences. So the fix is also ~10 % faster in generate.
* Open: harness is slower than lm_eval at batch 16 end to end (85 s vs 59 s in the table; the gap exists
  with or without this fix, which makes generate faster). Where it goes (start-up, building the math suite
  with its variants, scoring, or generation itself) was not measured here.
* On SmolLM2 the recorder's log-probabilities differ from compute_transition_scores by at most 2.2e-4
  (float32 rounding in a 49k-way log-softmax); on the tiny test model by less than 1e-5.
* Wall times are on a 2-core machine shared with other jobs: read them as rough. Peaks repeat within a few
  percent between runs; wall times do not.
"""

OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
MEASURE_TIMEOUT_S = 2 * 3600  # one measured eval; a hung engine would otherwise hold the bench forever


@dataclass
class Peak:
    """One measured run: its command, wall time and peak memory."""

    label: str
    command: list[str]
    wall_s: float
    maxrss_mb: float  # ru_maxrss of the process itself
    tree_mb: float  # largest polled sum of RSS of the process and its descendants
    score: float | None = None


def tree_rss(proc) -> int:
    import psutil

    total = 0
    try:
        for p in [proc, *proc.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return total


def measure(label: str, command: list[str], log: Path) -> Peak:
    import psutil

    with open(log, "w") as out:
        started = time.perf_counter()
        popen = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **OFFLINE})
        proc = psutil.Process(popen.pid)
        peak = 0
        while True:
            pid, status, usage = os.wait4(popen.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - started > MEASURE_TIMEOUT_S:
                popen.kill()
                popen.wait()
                sys.exit(f"{label} ran past {MEASURE_TIMEOUT_S} s and was killed; see {log}")
            peak = max(peak, tree_rss(proc))
            time.sleep(0.05)
        wall = time.perf_counter() - started
    popen.returncode = os.waitstatus_to_exitcode(status)
    if popen.returncode:
        sys.exit(f"{label} failed ({popen.returncode}); see {log}:\n{log.read_text()[-3000:]}")
    return Peak(label, command, wall, usage.ru_maxrss / 1024, max(peak, usage.ru_maxrss * 1024) / 2**20)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=32)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16, help="harness eval --batch-size")
    parser.add_argument("--lm-eval-batch-size", type=int, nargs="+", default=[16, 1])
    parser.add_argument("--keep", default=None, help="keep outputs in this folder")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from harness.models.embedded import embedded_checkpoint

    checkpoint = embedded_checkpoint("smollm2-135m")  # converted once, outside the measured runs
    bindir = Path(sys.executable).parent
    tmp = Path(args.keep or tempfile.mkdtemp(prefix="memory-peak-"))
    tmp.mkdir(parents=True, exist_ok=True)
    n, m = str(args.limit), str(args.max_new_tokens)
    subprocess.run([str(bindir / "harness"), "export", "lm-eval", "--suite", "math", "--limit", n, "--max-new-tokens", m,
                    "--out", str(tmp / "tasks")], check=True, capture_output=True, timeout=600)

    peaks = []
    harness_cmd = [str(bindir / "harness"), "eval", "--suite", "math", "--limit", n, "--max-new-tokens", m,
                   "--batch-size", str(args.batch_size), "--device", "cpu", "--no-cache", "--no-progress", "--out", str(tmp / "harness")]
    peak = measure("harness eval (hf)", harness_cmd, tmp / "harness.log")
    peak.score = json.loads((tmp / "harness" / "results.json").read_text())["capabilities"]["math"]["score"]
    peaks.append(peak)
    for bs in args.lm_eval_batch_size:
        out = tmp / f"lm-eval-bs{bs}"
        cmd = [str(bindir / "lm_eval"), "--model", "hf", "--model_args", f"pretrained={checkpoint}",
               "--include_path", str(tmp / "tasks"), "--tasks", "harness_math", "--apply_chat_template",
               "--batch_size", str(bs), "--device", "cpu", "--output_path", str(out)]
        peak = measure(f"lm_eval --model hf, batch {bs}", cmd, tmp / f"lm-eval-bs{bs}.log")
        peak.score = json.loads(next(out.rglob("results_*.json")).read_text())["results"]["harness_math"]["acc,none"]
        peaks.append(peak)

    ours = peaks[0]
    rows = ["| run | peak RSS, process tree (MB) | ru_maxrss (MB) | harness / this | wall (s) | math score |",
            "|---|---:|---:|---:|---:|---:|"]
    for p in peaks:
        ratio = "1.00" if p is ours else f"{ours.tree_mb / p.tree_mb:.2f}"
        rows.append(f"| {p.label} | {p.tree_mb:.0f} | {p.maxrss_mb:.0f} | {ratio} | {p.wall_s:.1f} | {p.score:.3f} |")
    commands = "\n".join(" ".join(p.command).replace(str(tmp), "$TMP") for p in peaks)
    body = f"""
{args.limit} math items exported with `harness export lm-eval`, greedy, max_new_tokens {args.max_new_tokens}
(reduced from the default 256 for both, so that the whole comparison fits a few minutes on 2 shared cores),
embedded SmolLM2-135M (float32 checkpoint in the harness cache, converted before the measured runs), CPU.

{chr(10).join(rows)}

Commands (run one after the other, `$TMP` a scratch folder):

```
{commands}
```

{FINDINGS}

Rerun: `.venv/bin/python bench/memory_peak.py --limit {args.limit} --max-new-tokens {args.max_new_tokens}`
"""
    write_report("memory_peak", "Peak memory: harness eval vs lm_eval on the same items", body)


if __name__ == "__main__":
    main()
