"""Measure what SFT on reference-teacher data does to the embedded student (CPU, small).

    python bench/sft_effect.py [--steps 40] [--limit 80] [--work runs/sft-effect]

Runs the real CLI: distill (reference teacher) → eval the untouched student → train (which
evaluates the trained student and prints retention) → then compares, from samples.jsonl:
answer-format compliance ("The answer is N"), canonical vs perturbed accuracy, output length.
Writes reports/sft_effect.md and reports/sft_effect.json.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HARNESS = str(Path(sys.executable).parent / "harness")
STEP_TIMEOUT_S = 4 * 3600  # one harness step (distill, train, eval) on a 2-core CPU
FORMAT = re.compile(r"The answer is\s*\$?-?\d[\d,]*(\.\d+)?", re.IGNORECASE)


def run(args: list[str], log: list[dict]) -> None:
    started = time.perf_counter()
    print("$ harness " + shlex.join(args), flush=True)
    proc = subprocess.run([HARNESS, *args], cwd=REPO, text=True, capture_output=True, timeout=STEP_TIMEOUT_S)
    elapsed = time.perf_counter() - started
    log.append({"command": "harness " + shlex.join(args), "seconds": round(elapsed, 1)})
    print(proc.stdout[-3000:], flush=True)
    if proc.returncode != 0:
        print(proc.stderr[-5000:], file=sys.stderr)
        raise SystemExit(f"command failed ({proc.returncode}): harness {shlex.join(args)}")


def sample_metrics(results_dir: Path) -> dict:
    rows = [json.loads(line) for line in (results_dir / "samples.jsonl").read_text().splitlines() if line.strip()]

    def stats(subset: list[dict]) -> dict:
        n = len(subset)
        return {
            "n": n,
            "accuracy": sum(r["correct"] for r in subset) / n,
            "format_compliance": sum(bool(FORMAT.search(r["output"])) for r in subset) / n,
            "mean_output_chars": sum(len(r["output"]) for r in subset) / n,
        }

    canonical = [r for r in rows if r["variant"] == "canonical"]
    perturbed = [r for r in rows if r["variant"] != "canonical"]
    by_kind = {k: stats([r for r in rows if r["variant"] == k]) for k in sorted({r["variant"] for r in perturbed})}
    return {"all": stats(rows), "canonical": stats(canonical), "perturbed": stats(perturbed), "by_kind": by_kind}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=14)
    parser.add_argument("--limit", type=int, default=80, help="test items (canonical + its perturbations, in order)")
    parser.add_argument("--max-new-tokens", type=int, default=160)
    parser.add_argument("--rows", type=int, default=240)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--work", default="runs/sft-effect")
    opts = parser.parse_args()
    work = REPO / opts.work
    log: list[dict] = []
    common_eval = ["--suite", "arithmetic", "--limit", str(opts.limit), "--max-new-tokens", str(opts.max_new_tokens), "--no-progress"]
    if not (work / "data" / "data_card.json").is_file():
        run(["distill", "--teacher", "reference", "--suite", "arithmetic", "--n", str(opts.rows), "--out", f"{opts.work}/data", "--no-progress"], log)
    before_args = ["eval", "--model", "smollm2-135m", *common_eval, "--out", f"{opts.work}/before"]
    if (work / "before" / "results.json").is_file():
        log.append({"command": "harness " + shlex.join(before_args), "seconds": "run earlier"})
    else:
        run(before_args, log)
    train_args = [
        "train", "--student", "smollm2-135m", "--data", f"{opts.work}/data", "--out", f"{opts.work}/run",
        "--max-steps", str(opts.steps), "--batch-size", str(opts.batch_size), "--max-length", str(opts.max_length), "--lr", str(opts.lr),
        "--save-steps", str(opts.steps), "--eval-limit", str(opts.limit), "--eval-max-new-tokens", str(opts.max_new_tokens),
    ]
    if (work / "run" / "eval" / "results.json").is_file():  # already trained and evaluated (e.g. by hand, in parallel)
        log.append({"command": "harness " + shlex.join(train_args), "seconds": "see train_wall_s (run earlier)"})
    else:
        run(train_args, log)
    run(["retention", "--teacher", f"{opts.work}/run/eval-teacher", "--student", f"{opts.work}/before"], log)
    run(["retention", "--teacher", f"{opts.work}/run/eval-teacher", "--student", f"{opts.work}/run/eval"], log)

    before, after = sample_metrics(work / "before"), sample_metrics(work / "run" / "eval")
    summary = json.loads((work / "run" / "train_summary.json").read_text())
    card = json.loads((work / "data" / "data_card.json").read_text())
    report = {
        "setup": {"student": "smollm2-135m (SmolLM2-135M-Instruct)", "teacher": "reference", "train_rows": card["rows"],
                  "steps": summary["global_step"], "train_wall_s": summary["metrics"].get("wall_s"),
                  "train_loss_first_last": [summary["loss_history"][0]["loss"], summary["loss_history"][-1]["loss"]] if summary["loss_history"] else None,
                  "eval_items": before["all"]["n"], "max_new_tokens": opts.max_new_tokens, "lr": opts.lr},
        "before": before,
        "after": after,
        "commands": log,
    }
    (REPO / "reports").mkdir(exist_ok=True)
    (REPO / "reports" / "sft_effect.json").write_text(json.dumps(report, indent=2) + "\n")

    def row(name: str, key: str, subset: str) -> str:
        b, a = before[subset][key], after[subset][key]
        return f"| {name} | {b:.3f} | {a:.3f} | {a - b:+.3f} |"

    lines = [
        "# SFT effect: SmolLM2-135M trained on reference-teacher arithmetic data (CPU)",
        "",
        f"{card['rows']} verified rows from the arithmetic train split (reference teacher), {summary['global_step']} optimizer steps "
        f"(batch {opts.batch_size} packed sequence(s) of ≤{opts.max_length} tokens, lr {opts.lr}, full fine-tune; ≈{round(summary['metrics'].get('epoch', 0) * card['rows'])} rows seen), "
        f"{summary['metrics'].get('wall_s')} s of training on the shared CPU; training loss {report['setup']['train_loss_first_last']}. "
        f"Evaluated on the first {before['all']['n']} arithmetic test items (canonical items each followed by its numbers/names/distractor "
        f"perturbations), greedy, {opts.max_new_tokens} new tokens.",
        "",
        "| metric | before | after | change |",
        "|---|---|---|---|",
        row("answer-format compliance ('The answer is N'), all", "format_compliance", "all"),
        row("accuracy, canonical", "accuracy", "canonical"),
        row("accuracy, perturbed (all kinds)", "accuracy", "perturbed"),
        row("mean output length (chars)", "mean_output_chars", "all"),
        "",
        "Per perturbation kind (accuracy before → after): "
        + ", ".join(f"{k} {before['by_kind'][k]['accuracy']:.3f} → {after['by_kind'][k]['accuracy']:.3f}" for k in after["by_kind"]),
        "",
        "Commands (wall seconds on the shared 2-core CPU):",
        "",
        *[f"- `{c['command']}` ({c['seconds']} s)" for c in log],
        "",
        "Reproduce: `python bench/sft_effect.py` (`--steps`, `--limit`, `--rows` to resize).",
        "",
    ]
    (REPO / "reports" / "sft_effect.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
