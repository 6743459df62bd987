"""The seed's remedies side by side on the embedded student: base vs SFT vs GRPO vs voting (issue 23).

    python bench/mitigations.py [--work runs/study2] [--grpo-steps 10] [--samples 8]

Builds on the study's working directory (`make study`, bench/seed_table_sft.py: the reference
teacher, the untouched student "before", the SFT student "after" and its k = 4 voting run), running
it first when it is missing, then adds, each step skipped when its output is there (resumable):

1. `harness train --method grpo`: the untouched student reinforced with the suites' own scorers as
   rewards on the train split of the suites where a 135M student's rewards vary (logic, format);
2. that GRPO student on the study's test items;
3. self-consistency voting (k samples, majority) with the untouched student on arithmetic, math and logic;
4. voting by verification (k samples, `--vote verify`: only samples that pass the suite's answer-independent
   check take part: code's visible examples; math has none and falls back to majority) with the SFT student on code
   and math.

Then `harness.retention.analyse(..., remedies=...)`, the code behind `harness retention --remedy`,
writes the mitigation table to reports/mitigations.md and .json: per capability, retention, the lift
over the base student with its clustered CI and paired test, and the canonical-vs-perturbed gap.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import seed_table_sft  # noqa: E402
from _common import REPORTS, machine  # noqa: E402
from seed_table_sft import REPO, ci, p_value, pct, pts, run_step  # noqa: E402

GRPO_SUITES = ("logic", "format")
VOTE_SUITES = ("arithmetic", "math", "logic")
VERIFY_SUITES = ("code", "math")  # code has an answer-independent verifier (Suite.verify); math falls back to majority


def remedies_table(analysis) -> list[str]:
    table = ["| capability | remedy | student | retention [95% CI] | lift, points [95% CI] | gained / lost | p | "
             "gap canonical - perturbed, points [95% CI] | groups |", "|---|---|---|---|---|---|---|---|---|"]
    for r in analysis.remedies:
        base = r.remedy == "base"
        table.append(f"| {r.capability} | {r.remedy} | {pct(r.student)} | {pct(r.retention)} {ci(r.ci_low, r.ci_high)} | "
                     f"{'-' if base else pts(r.lift) + ' ' + ci(r.lift_ci_low, r.lift_ci_high)} | "
                     f"{'-' if base else f'{r.gained} / {r.lost}'} | {'-' if base else p_value(r.lift_p_value)} | "
                     f"{pts(r.gap)} {ci(r.gap_ci_low, r.gap_ci_high)} | {r.n_groups} |")
    return table


def reading(analysis) -> list[str]:
    """What each remedy bought, from the intervals alone; where it bought something, whether the
    canonical-vs-perturbed gap moved with it (the surface or the problem)."""
    lines = []
    base_gap = {r.capability: r for r in analysis.remedies if r.remedy == "base"}
    for label in dict.fromkeys(r.remedy for r in analysis.remedies if r.remedy != "base"):
        rows = [r for r in analysis.remedies if r.remedy == label]
        moved = [r for r in rows if r.lift_significant]
        still = [r for r in rows if not r.lift_significant]
        parts = [f"{r.capability} {pts(r.lift)} {ci(r.lift_ci_low, r.lift_ci_high)} (p = {p_value(r.lift_p_value)}"
                 + ("" if r.lift_p_value is None or r.lift_p_value < 0.05 else
                    ": the interval excludes 0 but the exact paired test over groups does not reject, too few groups "
                    "changed to call it")
                 + "; gap "
                 f"canonical - perturbed {pts(r.gap)} {ci(r.gap_ci_low, r.gap_ci_high)} against the base's "
                 f"{pts(base_gap[r.capability].gap)} {ci(base_gap[r.capability].gap_ci_low, base_gap[r.capability].gap_ci_high)})"
                 for r in moved]
        text = f"- **{label}**: " + ("lift whose interval excludes 0 on " + "; ".join(parts) if parts else
                                     "no lift whose interval excludes 0 on any capability")
        if still:
            text += "; the interval contains 0 on " + ", ".join(f"{r.capability} ({pts(r.lift)})" for r in still)
        lines.append(text + ".")
    return lines


def write_report(opts: argparse.Namespace, work: Path, log: list[dict[str, Any]]) -> None:
    from harness.results import load_results
    from harness.retention import analyse
    from harness.retention.remedies import RemedyRun

    teacher, t_records = load_results(work / "teacher")
    base, b_records = load_results(work / "before")
    runs = [RemedyRun(label, *load_results(work / sub)) for label, sub in
            (("sft", "after"), ("grpo", "grpo-eval"), ("sft vote", "after-vote"), ("vote", "base-vote"),
             ("sft verify", "sft-verify"))]
    analysis = analyse(teacher, t_records, base, b_records, remedies=runs)
    grpo = json.loads((work / "grpo" / "train_summary.json").read_text())
    rewards = [h.get("reward") for h in grpo.get("reward_history", []) if h.get("reward") is not None]
    steps = ["| step | seconds | load at its end (1, 5, 15 min) | command |", "|---|---|---|---|"]
    steps += [f"| {s['step']} | {s['seconds']} | {', '.join(map(str, s.get('load', [])))} | `{s['command']}` |" for s in log]
    grpo_s = next((s["seconds"] for s in log if s["step"] == "grpo"), None)
    body = [
        f"_{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {machine()}_",
        "",
        "**Scale (this 2-core CPU).** Student: the embedded SmolLM2-135M-Instruct; teacher: `reference` (the suites' "
        f"verified worked solutions). Test items: the study's `--limit 20` per suite (10 problem groups of a canonical item "
        f"and one perturbed twin each). SFT: the study's run ({work.name}/run: 400 verified teacher rows, one epoch). "
        f"GRPO: {grpo.get('global_step')} optimizer steps on the train split of {', '.join(GRPO_SUITES)} "
        f"({opts.grpo_batch // opts.num_generations} prompts x {opts.num_generations} completions per step, at most "
        f"{opts.max_completion_length} tokens, lr {opts.grpo_lr}, beta 0, transformers generation"
        + (f", {grpo_s / max(grpo.get('global_step') or 1, 1):.0f} s per step" if grpo_s else "") + "); mean reward per "
        f"logged step: {', '.join(f'{x:.2f}' for x in rewards) or '-'}. Voting: the untouched student, k = {opts.samples} "
        f"samples at the harness default temperature, on {', '.join(VOTE_SUITES)}; `sft vote` is the study's k = 4 run "
        f"of the SFT student on arithmetic and math; `sft verify` is the SFT student with k = {opts.samples} samples and "
        "`--vote verify` on "
        f"{', '.join(VERIFY_SUITES)} (only samples passing the suite's answer-independent check vote: code's visible "
        "examples; math has no such check, so there the vote falls back to majority, as its records say; the run's `maj@k` "
        "and `verified@k` rows come from the same samples). All evaluations on "
        "the vLLM CPU engine, greedy except the sampled runs. "
        "The untouched 135M student scores 0 % on arithmetic and math and its samples are almost never right there, so "
        "voting has nothing to choose on those rows at this size; the rows that can move are logic, format, knowledge, "
        "edge cases, code and style.",
        "",
        "## The mitigation table",
        "",
        *remedies_table(analysis),
        "",
        "Lift: the remedy's score minus the base student's on the same items, in points, 95% expanded-percentile bootstrap "
        "over problem groups; p: clustered McNemar (sign flips over groups; graded style scores: sign flips of each group's "
        "summed differences). Gap: canonical minus perturbed score per problem group, averaged, with its CI over groups. "
        "maj@k / verified@k rows are read from the sampled runs' stored samples (verified@k: an oracle verifier picks any "
        "correct sample, the ceiling of verification). Produced by `harness retention --teacher T --student BASE --remedy "
        "LABEL=RUN ...` (the same analysis).",
        "",
        "## Reading",
        "",
        *reading(analysis),
        "",
        "## At a scale where effects are expected (GPU recipe)",
        "",
        "Not run here: this task was lent no GPU machine. The same commands, on a student large enough to score on "
        "math (Qwen3-0.6B) and a teacher that shares its tokenizer (Qwen3-8B, for on-policy distillation):",
        "",
        "```bash",
        "make install STACK=gpu",
        "harness distill --teacher vllm:Qwen/Qwen3-8B --n 20000 --out runs/data          # verified teacher rows, every capability",
        "harness eval --model vllm:Qwen/Qwen3-8B --out runs/teacher                       # full test splits",
        "harness eval --model vllm:Qwen/Qwen3-0.6B --out runs/base",
        "harness train --student hf:Qwen/Qwen3-0.6B --data runs/data --out runs/sft --epochs 2 --batch-size 16",
        "harness train --method grpo --student hf:Qwen/Qwen3-0.6B --suite arithmetic --suite math --suite logic --suite code \\",
        "    --num-generations 8 --batch-size 64 --max-steps 500 --lr 1e-6 --out runs/grpo",
        "harness train --method distill-on-policy --student hf:Qwen/Qwen3-0.6B --teacher hf:Qwen/Qwen3-8B \\",
        "    --suite math --suite logic --max-steps 500 --out runs/onpolicy",
        "for r in sft grpo onpolicy; do harness eval --model vllm:runs/$r/model --out runs/$r-eval; done",
        "harness eval --model vllm:Qwen/Qwen3-0.6B --suite arithmetic --suite math --suite logic --samples 8 --vote majority --out runs/base-vote",
        "harness retention --teacher runs/teacher --student runs/base --remedy sft=runs/sft-eval --remedy grpo=runs/grpo-eval \\",
        "    --remedy onpolicy=runs/onpolicy-eval --remedy vote=runs/base-vote --output reports/mitigations-gpu.md",
        "```",
        "",
        "## Steps",
        "",
        *steps,
        "",
        "Reproduce: `python bench/mitigations.py` (resumable; `--fresh-remedies` reruns GRPO and the voting runs).",
    ]
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "mitigations.md").write_text("# The seed's remedies, measured: base vs SFT vs GRPO vs voting (CPU scale)\n\n"
                                             + "\n".join(body) + "\n")
    payload = {"machine": machine(), "work": str(work), "grpo": {"steps": grpo.get("global_step"), "reward_history": rewards},
               "remedies": [asdict(r) for r in analysis.remedies], "notes": analysis.notes, "steps": log}
    (REPORTS / "mitigations.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print((REPORTS / "mitigations.md").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", default="runs/study2", help="the study's working directory (made by `make study` when missing)")
    parser.add_argument("--limit", type=int, default=20, help="test items per suite, as the study's")
    parser.add_argument("--grpo-steps", type=int, default=10)
    parser.add_argument("--grpo-batch", type=int, default=8, help="completions per GRPO step")
    parser.add_argument("--num-generations", type=int, default=4)
    parser.add_argument("--max-completion-length", type=int, default=96)
    parser.add_argument("--grpo-lr", type=float, default=1e-5)
    parser.add_argument("--samples", type=int, default=8, help="k for the base student's voting run")
    parser.add_argument("--fresh-remedies", action="store_true", help="rerun GRPO and voting")
    opts = parser.parse_args()
    work = REPO / opts.work
    if not (work / "after-vote" / "results.json").is_file():
        seed_table_sft.subprocess.run([sys.executable, str(REPO / "bench" / "seed_table_sft.py"), "--work", opts.work],
                                      check=True, cwd=REPO)
    steps_file = work / "mitigation_steps.json"
    if opts.fresh_remedies:
        import shutil

        for sub in ("grpo", "grpo-eval", "base-vote", "sft-verify"):
            shutil.rmtree(work / sub, ignore_errors=True)
        steps_file.unlink(missing_ok=True)
    seed_table_sft.STEPS_FILE = steps_file
    log: list[dict[str, Any]] = json.loads(steps_file.read_text()) if steps_file.is_file() else []
    w = opts.work
    suites = [a for s in GRPO_SUITES for a in ("--suite", s)]
    run_step("grpo", ["train", "--method", "grpo", "--student", "smollm2-135m", *suites, "--rows", "64",
                      "--num-generations", str(opts.num_generations), "--batch-size", str(opts.grpo_batch),
                      "--max-completion-length", str(opts.max_completion_length), "--temperature", "1.0", "--beta", "0.0",
                      "--lr", str(opts.grpo_lr), "--max-steps", str(opts.grpo_steps), "--save-steps", str(opts.grpo_steps),
                      "--no-eval", "--out", f"{w}/grpo"], work / "grpo" / "train_summary.json", log)
    evaluate = ["eval", "--limit", str(opts.limit), "--no-progress"]
    run_step("grpo-eval", [*evaluate, "--model", f"vllm:{w}/grpo/model", "--out", f"{w}/grpo-eval"],
             work / "grpo-eval" / "results.json", log)
    vote = [a for s in VOTE_SUITES for a in ("--suite", s)]
    run_step("vote", [*evaluate, *vote, "--model", "vllm:smollm2-135m", "--samples", str(opts.samples), "--vote", "majority",
                      "--out", f"{w}/base-vote"], work / "base-vote" / "results.json", log)
    verify = [a for s in VERIFY_SUITES for a in ("--suite", s)]
    run_step("verify", [*evaluate, *verify, "--model", f"vllm:{w}/run/model", "--samples", str(opts.samples),
                        "--vote", "verify", "--out", f"{w}/sft-verify"], work / "sft-verify" / "results.json", log)
    write_report(opts, work, log)


if __name__ == "__main__":
    main()
