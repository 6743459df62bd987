"""The seed's table, measured on a student harness trained itself (`make study`).

    python bench/seed_table_sft.py [--work runs/study] [--rows 400] [--limit 20] [--engine hf]

Runs the real CLI, one step after another, each step skipped when its output is already there
(so an interrupted study resumes; `--fresh` starts over):

1. `harness distill --teacher reference`: verified reference-teacher answers on the train split
   of every default suite (every capability), guarded against test-split contamination;
2. `harness eval --model reference` on the test split (`--limit`: whole problem groups, a
   canonical item and one perturbed twin each, so `--limit 20` is 10 groups per suite);
3. the untouched embedded student on the same items (before);
4. `harness train`: full fine-tune of SmolLM2-135M on the distilled rows (one epoch, packed);
5. the trained student on the same items (after);
6. self-consistency voting (k samples, majority) with the trained student on the math suites.

Then, in-process: retention before and after (harness.retention.analyse, clustered CIs and
McNemar tests), the lift after - before per capability (harness.retention.lift), the seed's five
rows with their verdicts before and after, the canonical-vs-perturbed gap, and the voting lift.
Writes reports/seed_table_sft.md and reports/seed_table_sft.json. The reading at the end of the
markdown is written from the numbers by `reading()`; nothing is tuned to make a claim come out.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPORTS, machine  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
HARNESS = str(Path(sys.executable).parent / "harness")
VOTE_SUITES = ("arithmetic", "math")
STEPS_FILE = Path("steps.json")  # set in main(): WORK/steps.json, the wall time of each step when it ran


def run_step(name: str, args: list[str], done: Path, log: list[dict[str, Any]], only: set[str] | None = None) -> None:
    """Run `harness ARGS` unless `done` exists (then its time is the one recorded when it ran)."""
    command = "harness " + shlex.join(args)
    if done.exists():
        print(f"[{name}] done earlier: {done}", flush=True)
        return
    if only is not None and name not in only:
        print(f"[{name}] skipped (--steps)", flush=True)
        return
    print(f"[{name}] $ {command}", flush=True)
    started = time.perf_counter()
    proc = subprocess.run([HARNESS, *args], cwd=REPO)  # its progress bars and tables go straight to the terminal
    seconds = round(time.perf_counter() - started, 1)
    if proc.returncode != 0:
        raise SystemExit(f"[{name}] failed ({proc.returncode}): {command}")
    log[:] = [s for s in log if s["step"] != name]
    log.append({"step": name, "command": command, "seconds": seconds, "load": [round(x, 1) for x in os.getloadavg()]})
    STEPS_FILE.write_text(json.dumps(log, indent=2))


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def ci(low: float | None, high: float | None) -> str:
    return "undefined" if low is None or high is None else f"[{100 * low:.0f}, {100 * high:.0f}]"


def pts(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:+.1f}"


def p_value(p: float | None) -> str:
    return "-" if p is None else f"{p:.3f}" if p >= 0.001 else "<0.001"


def analyse(teacher_dir: Path, student_dir: Path, intersect: bool = False):
    from harness.results import load_results
    from harness.retention import analyse as analyse_runs

    teacher, t_records = load_results(teacher_dir)
    student, s_records = load_results(student_dir)
    return analyse_runs(teacher, t_records, student, s_records, intersect=intersect)


def gap(analysis, capability: str) -> tuple[float | None, float | None]:
    """(canonical retention, pooled perturbed retention) of one capability."""
    rows = {r.variant: r for r in analysis.variants if r.capability == capability}
    canonical, perturbed = rows.get("canonical"), rows.get("perturbed")
    return (canonical.retention if canonical else None, perturbed.retention if perturbed else None)


def reading(before, after, lifts, vote_lifts) -> list[str]:
    """What moved and what did not, stated from the intervals alone."""
    lines = []
    moved = [r for r in lifts if r.capability != "all" and r.significant]
    still = [r for r in lifts if r.capability != "all" and not r.significant]
    for r in moved:
        direction = "rose" if r.lift > 0 else "fell"
        lines.append(f"- **{r.capability}**: the student's score {direction} by {pts(r.lift)} points "
                     f"(95% CI {ci(r.ci_low, r.ci_high)} points over {r.n_groups} problem groups; "
                     f"{r.gained} items up, {r.lost} down; paired test p = {p_value(r.p_value)}).")
    if still:
        lines.append("- **No significant change** (the lift's interval contains 0): "
                     + "; ".join(f"{r.capability} {pts(r.lift)} {ci(r.ci_low, r.ci_high)}" for r in still) + ".")
    verdicts = [(b.capability, b.verdict, a.verdict) for b, a in zip(before.seed_table, after.seed_table, strict=True)]
    lines.append("- **Seed rows** (verdict before → after): " + "; ".join(f"{n}: {b} → {a}" for n, b, a in verdicts) + ".")
    for r in vote_lifts:
        if r.capability == "all":
            word = "a significant" if r.significant else "no significant"
            lines.append(f"- **Voting** on the trained student ({', '.join(VOTE_SUITES)}): {word} lift over its greedy "
                         f"answer, {pts(r.lift)} points {ci(r.ci_low, r.ci_high)} (p = {p_value(r.p_value)}).")
    return lines


def write_report(opts: argparse.Namespace, work: Path, log: list[dict[str, Any]]) -> None:
    from harness.retention.lift import lift_rows

    before = analyse(work / "teacher", work / "before")
    after = analyse(work / "teacher", work / "after")
    voted = analyse(work / "teacher", work / "after-vote", intersect=True)
    lifts = lift_rows(before.pairs, after.pairs, before.settings)
    greedy_math = [p for p in after.pairs if p.teacher.suite in VOTE_SUITES]
    vote_lifts = lift_rows(greedy_math, voted.pairs, before.settings)
    card = json.loads((work / "data" / "data_card.json").read_text())
    summary = json.loads((work / "run" / "train_summary.json").read_text())
    losses = summary.get("loss_history") or []
    total_s = sum(s["seconds"] or 0 for s in log)
    first_loss = f"{losses[0]['loss']:.2f}" if losses else "-"
    last_loss = f"{losses[-1]['loss']:.2f}" if losses else "-"
    train_s = next((s["seconds"] for s in log if s["step"] == "train"), None)
    steps_n = summary.get("global_step") or 0
    per_step = f"{train_s / steps_n:.0f} s per optimizer step, {summary.get('train_tokens', 0) / train_s:.0f} training tokens/s" \
        if train_s and steps_n else "-"

    b_rows = {r.capability: r for r in before.rows}
    a_rows = {r.capability: r for r in after.rows}
    lift_by = {r.capability: r for r in lifts}
    table = ["| capability | teacher | before: student | before: retention [95% CI] | after: student | "
             "after: retention [95% CI] | lift (points) [95% CI] | gained / lost | p | groups |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for cap, b in b_rows.items():
        a, lift = a_rows.get(cap), lift_by.get(cap)
        if a is None or lift is None:
            continue
        table.append(f"| {cap} | {pct(b.teacher)} | {pct(b.student)} | {pct(b.retention)} {ci(b.ci_low, b.ci_high)} | "
                     f"{pct(a.student)} | {pct(a.retention)} {ci(a.ci_low, a.ci_high)} | {pts(lift.lift)} "
                     f"{ci(lift.ci_low, lift.ci_high)} | {lift.gained} / {lift.lost} | {p_value(lift.p_value)} | {b.n_groups} |")
    seed = ["| seed row | claimed | before [95% CI] | verdict before | after [95% CI] | verdict after | sources |",
            "|---|---|---|---|---|---|---|"]
    for b, a in zip(before.seed_table, after.seed_table, strict=True):
        seed.append(f"| {b.capability} | {pct(b.claimed_low)}-{pct(b.claimed_high)} | {pct(b.retention)} {ci(b.ci_low, b.ci_high)} | "
                    f"{b.verdict} | {pct(a.retention)} {ci(a.ci_low, a.ci_high)} | {a.verdict} | {a.sources} |")
    gaps = ["| capability | before: canonical | before: perturbed | after: canonical | after: perturbed |", "|---|---|---|---|---|"]
    for cap in b_rows:
        bc, bp = gap(before, cap)
        ac, ap = gap(after, cap)
        gaps.append(f"| {cap} | {pct(bc)} | {pct(bp)} | {pct(ac)} | {pct(ap)} |")
    vote = ["| method | student score | retention [95% CI] | groups |", "|---|---|---|---|"]
    for r in voted.mitigation:
        if r.capability == "math":
            vote.append(f"| {r.method} | {pct(r.student)} | {pct(r.retention)} {ci(r.ci_low, r.ci_high)} | {r.n_groups} |")
    vote_lift = ["| capability | greedy | voted | lift (points) [95% CI] | gained / lost | p |", "|---|---|---|---|---|---|"]
    for r in vote_lifts:
        vote_lift.append(f"| {r.capability} | {pct(r.base)} | {pct(r.treated)} | {pts(r.lift)} {ci(r.ci_low, r.ci_high)} | "
                         f"{r.gained} / {r.lost} | {p_value(r.p_value)} |")
    steps = ["| step | seconds | load at its end (1, 5, 15 min) | command | note |", "|---|---|---|---|---|"]
    for s in log:
        steps.append(f"| {s['step']} | {s['seconds']} | "
                     f"{', '.join(map(str, s.get('load', [])))} | `{s['command']}` | {s.get('note', '')} |")

    body = [
        f"_{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {machine()}_",
        "",
        f"**Setup.** Teacher: `{opts.teacher}`" + (" (the suites' verified worked solutions)" if opts.teacher == "reference" else "")
        + f". Student: `{opts.student}`" + (" (the embedded SmolLM2-135M-Instruct)" if opts.student == "smollm2-135m" else "") + ". "
        f"Data: {card['rows']} verified teacher rows from the train split of every default suite "
        f"({', '.join(f'{k} {v}' for k, v in card['per_capability'].items())}; {card['contamination']['dropped']} dropped "
        f"by the contamination guard). Training: full fine-tune, fp32, {summary.get('global_step')} optimizer steps "
        f"(batch {opts.batch_size} packed sequence of <= {opts.max_length} tokens, lr {opts.lr}, cosine, one epoch), "
        f"training loss {first_loss} (first log) → {last_loss} (last log). "
        f"Evaluation: the test split, `--limit {opts.limit}` per suite (whole problem groups: a canonical item and one perturbed "
        f"twin each, the twin's perturbation rotating), each suite's own token budget, greedy, `{opts.engine}` engine for both "
        f"before and after. Intervals: 95% expanded-percentile bootstrap over problem groups; tests: clustered McNemar "
        f"(sign-flip over groups) on right/wrong suites, sign flips of each group's summed score differences on style's "
        f"graded scores. Total wall time {total_s / 60:.1f} min on this CPU (training: {per_step}); the load average "
        f"at the end of each step is in the Steps table: a machine shared with other work measures slower.",
        "",
        "## Retention per capability, before and after SFT",
        "",
        *table,
        "",
        "Lift: the trained student's score minus the untouched student's on the same items (style is scored against "
        "the teacher's outputs in both runs). Retention: student score / teacher score.",
        "",
        "## The seed's table",
        "",
        *seed,
        "",
        "Verdicts come from the interval alone: below / above claimed only when the whole interval is; "
        "inconclusive when it is undefined or straddles the claimed range (harness/retention/seed.py).",
        "",
        "## Canonical vs perturbed retention (imitation or understanding?)",
        "",
        *gaps,
        "",
        f"## Voting on the trained student ({', '.join(VOTE_SUITES)}, k = {opts.samples}, majority)",
        "",
        *vote,
        "",
        "Voted answer against the greedy answer of the same trained student on the same items:",
        "",
        *vote_lift,
        "",
        "## Reading",
        "",
        *reading(before, after, lifts, vote_lifts),
        "",
        "## Steps",
        "",
        *steps,
        "",
        "Reproduce: `make study` (or `python bench/seed_table_sft.py --fresh`). GPU recipe for a larger run: see "
        "docs/training.md, 'The seed table at scale'.",
    ]
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "seed_table_sft.md").write_text("# The seed's table on a student harness trained (SFT, CPU)\n\n" + "\n".join(body) + "\n")
    payload = {
        "setup": {"rows": card["rows"], "per_capability": card["per_capability"], "steps": summary.get("global_step"),
                  "loss_history": losses, "limit": opts.limit, "engine": opts.engine, "lr": opts.lr,
                  "batch_size": opts.batch_size, "max_length": opts.max_length, "vote_samples": opts.samples,
                  "machine": machine(), "total_seconds": total_s},
        "before": {"rows": [asdict(r) for r in before.rows], "seed_table": [asdict(r) for r in before.seed_table],
                   "variants": [asdict(r) for r in before.variants]},
        "after": {"rows": [asdict(r) for r in after.rows], "seed_table": [asdict(r) for r in after.seed_table],
                  "variants": [asdict(r) for r in after.variants]},
        "lift": [asdict(r) for r in lifts],
        "voting": {"mitigation": [asdict(r) for r in voted.mitigation], "lift_over_greedy": [asdict(r) for r in vote_lifts]},
        "steps": log,
    }
    (REPORTS / "seed_table_sft.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print((REPORTS / "seed_table_sft.md").read_text())


def main() -> None:
    from harness.models.embedded import EMBEDDED

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", default="runs/study", help="working directory (resumable)")
    parser.add_argument("--fresh", action="store_true", help="delete the working directory first")
    parser.add_argument("--student", default="smollm2-135m", help="student checkpoint: an embedded name, a path or a hub name")
    parser.add_argument("--teacher", default="reference", help="teacher model spec (its answers are verified before training)")
    parser.add_argument("--rows", type=int, default=400, help="distilled training rows over every capability")
    parser.add_argument("--limit", type=int, default=20, help="test items per suite (whole groups of two)")
    parser.add_argument("--engine", choices=("hf", "vllm"), default="vllm", help="engine for the student evaluations (both runs on the same one)")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--max-length", type=int, default=1024)
    parser.add_argument("--samples", type=int, default=4, help="k for the voting run")
    parser.add_argument("--steps", default=None, help="run only these of distill,teacher,before,train,after,vote (the others are skipped)")
    opts = parser.parse_args()
    work = REPO / opts.work
    if opts.fresh and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    global STEPS_FILE
    STEPS_FILE = work / "steps.json"
    log: list[dict[str, Any]] = json.loads(STEPS_FILE.read_text()) if STEPS_FILE.is_file() else []
    only = None if opts.steps is None else {s.strip() for s in opts.steps.split(",")}
    w = opts.work
    evaluate = ["eval", "--limit", str(opts.limit), "--no-progress"]
    run_step("distill", ["distill", "--teacher", opts.teacher, "--n", str(opts.rows), "--out", f"{w}/data", "--no-progress"],
             work / "data" / "data_card.json", log, only)
    run_step("teacher", [*evaluate, "--model", opts.teacher, "--out", f"{w}/teacher"], work / "teacher" / "results.json", log, only)
    run_step("before", [*evaluate, "--model", f"{opts.engine}:{opts.student}", "--out", f"{w}/before"],
             work / "before" / "results.json", log, only)
    run_step("train", ["train", "--student", f"hf:{opts.student}" if opts.student not in EMBEDDED else opts.student, "--data", f"{w}/data", "--out", f"{w}/run", "--epochs", "1",
                       "--batch-size", str(opts.batch_size), "--max-length", str(opts.max_length), "--lr", str(opts.lr),
                       "--save-steps", "25", "--no-eval"] + (["--resume"] if (work / "run" / "checkpoints").is_dir() else []),
             work / "run" / "train_summary.json", log, only)
    run_step("after", [*evaluate, "--model", f"{opts.engine}:{w}/run/model", "--out", f"{w}/after"],
             work / "after" / "results.json", log, only)
    vote_suites = [arg for s in VOTE_SUITES for arg in ("--suite", s)]
    run_step("vote", [*evaluate, *vote_suites, "--model", f"{opts.engine}:{w}/run/model", "--samples", str(opts.samples),
                                "--vote", "majority", "--out", f"{w}/after-vote"], work / "after-vote" / "results.json", log, only)
    if only is not None:
        return  # a partial run: the report needs every step
    write_report(opts, work, log)


if __name__ == "__main__":
    main()
