"""`harness train` against a bare TRL script on the same data, model and settings.

    python bench/train_throughput.py [--steps 6] [--repeats 2] [--model smollm2-135m]

Both arms run in fresh subprocesses, alternated (A B A B) so that load drift on a shared machine
hits both alike. Same student, same distilled rows, SFTConfig with BFD packing (--max-length,
--batch-size), same steps. The bare arm trains on whole sequences (TRL cannot mask SmolLM2's template);
the harness arm builds assistant masks first, so its extra work is the masking pass, which counts
in its wall time. Both arms use the same non-default settings (no gradient checkpointing, a
checkpoint written at the end, as `harness train` always does so that it can resume). Writes reports/train_throughput.md and .json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import machine

REPO = Path(__file__).resolve().parent.parent
HARNESS = str(Path(sys.executable).parent / "harness")


def bare(model_dir: str, data: str, out: str, steps: int, batch: int, max_length: int) -> dict:
    """The reference: the smallest script a TRL user would write for the same run."""
    started = time.perf_counter()
    from datasets import load_from_disk
    from trl import SFTConfig, SFTTrainer

    dataset = load_from_disk(data).select_columns(["messages"])
    args = SFTConfig(
        output_dir=out, max_steps=steps, per_device_train_batch_size=batch, max_length=max_length, packing=True,
        packing_strategy="bfd", padding_free=True, learning_rate=1e-4, logging_steps=5, save_strategy="steps",
        save_steps=10 * steps, report_to="none", seed=0, bf16=False, gradient_checkpointing=False,
    )
    trainer = SFTTrainer(model=model_dir, args=args, train_dataset=dataset)
    result = trainer.train()
    trainer.save_model(out + "/model")
    return {"train_runtime": result.metrics["train_runtime"], "wall_s": time.perf_counter() - started}


def run_harness(model: str, data: str, out: str, steps: int, batch: int, max_length: int) -> dict:
    started = time.perf_counter()
    proc = subprocess.run(
        [HARNESS, "train", "--student", model, "--data", data, "--out", out, "--max-steps", str(steps), "--batch-size", str(batch),
         "--max-length", str(max_length), "--lr", "1e-4", "--save-steps", str(10 * steps), "--no-eval"],
        cwd=REPO, text=True, capture_output=True, timeout=3600,
    )
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    summary = json.loads((Path(out) / "train_summary.json").read_text())
    return {"train_runtime": summary["metrics"]["train_runtime"], "wall_s": time.perf_counter() - started}


def run_bare(model_dir: str, data: str, out: str, steps: int, batch: int, max_length: int) -> dict:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--bare", model_dir, data, out, str(steps), str(batch), str(max_length)], cwd=REPO, text=True, capture_output=True,
        timeout=3600,
    )
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"train_runtime": result["train_runtime"], "wall_s": time.perf_counter() - started}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--bare":
        print(json.dumps(bare(sys.argv[2], sys.argv[3], sys.argv[4], *(int(x) for x in sys.argv[5:8]))))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--rows", type=int, default=64)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--max-length", type=int, default=512)
    opts = parser.parse_args()
    from harness.models.checkpoint import resolve_checkpoint
    from harness.models.spec import parse_model_spec

    model_dir = str(resolve_checkpoint(parse_model_spec(opts.model).target))  # both arms train the same folder
    work = Path(tempfile.mkdtemp(prefix="train-throughput-"))
    data = str(work / "data")
    subprocess.run([HARNESS, "distill", "--suite", "arithmetic", "--n", str(opts.rows), "--out", data, "--no-progress"],
                   cwd=REPO, check=True, capture_output=True, timeout=1800)
    runs: dict[str, list[dict]] = {"harness": [], "bare": []}
    for repeat in range(opts.repeats):
        runs["harness"].append(run_harness(f"hf:{model_dir}", data, str(work / f"harness-{repeat}"), opts.steps, opts.batch_size, opts.max_length))
        runs["bare"].append(run_bare(model_dir, data, str(work / f"bare-{repeat}"), opts.steps, opts.batch_size, opts.max_length))
        print(f"repeat {repeat}: harness {runs['harness'][-1]}, bare {runs['bare'][-1]}", flush=True)
    med = {arm: {k: statistics.median(r[k] for r in rs) for k in ("train_runtime", "wall_s")} for arm, rs in runs.items()}
    ratio_train = med["bare"]["train_runtime"] / med["harness"]["train_runtime"]
    ratio_wall = med["bare"]["wall_s"] / med["harness"]["wall_s"]
    report = {"model": opts.model, "steps": opts.steps, "batch_size": opts.batch_size, "max_length": opts.max_length, "rows": opts.rows, "repeats": opts.repeats, "runs": runs, "median": med,
              "throughput_ratio_train_loop": ratio_train, "throughput_ratio_wall": ratio_wall}
    (REPO / "reports").mkdir(exist_ok=True)
    (REPO / "reports" / "train_throughput.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        "# Training throughput: `harness train` vs a bare TRL script",
        "",
        f"_{machine()}_",
        "",
        f"Student `{opts.model}`, {opts.rows} distilled arithmetic rows, {opts.steps} steps of {opts.batch_size} packed sequence(s) (≤{opts.max_length} tokens), "
        f"fp32 on the shared 2-core CPU, {opts.repeats} alternating repeats per arm (medians).",
        "",
        "| arm | trainer.train() s | process wall s |",
        "|---|---|---|",
        f"| harness train | {med['harness']['train_runtime']:.1f} | {med['harness']['wall_s']:.1f} |",
        f"| bare TRL SFTTrainer | {med['bare']['train_runtime']:.1f} | {med['bare']['wall_s']:.1f} |",
        "",
        f"Throughput of harness relative to bare TRL: **{ratio_train:.2f}×** in the training loop, {ratio_wall:.2f}× end to end "
        "(goal ≥ 0.95×). The harness arm also builds assistant-only masks, which the bare arm cannot for SmolLM2's template.",
        "",
        f"Reproduce: `python bench/train_throughput.py --steps {opts.steps} --repeats {opts.repeats} --batch-size {opts.batch_size} --max-length {opts.max_length}`.",
        "",
    ]
    (REPO / "reports" / "train_throughput.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
