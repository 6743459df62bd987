"""`make demo` as a new user meets it: a fresh clone of the committed tree, its own empty virtualenv,
an empty harness cache (the embedded model is converted again), every recipe line timed.

Then what the demo printed is checked the way the issue asks: every row of the retention table and
of the seed table has a defined interval; the reference teacher against itself passes gate.yaml;
the SmolLM2 student is refused, and the reasons are measured ones (a floor or a gap), not undefined
intervals.

Run: python bench/demo_time.py [--limit 20] [--keep DIR]
Writes reports/demo_time.md. pip's own download cache is left as it is (a fresh machine has the
same package index; this measures the install, not the network).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from _common import write_report

ROOT = Path(__file__).resolve().parent.parent
DEMO_TIMEOUT_S = 3600


def run_fresh_demo(work: Path, limit: int) -> dict:
    clone = work / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=300)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True, text=True,
                            check=True, timeout=60).stdout.strip()
    steps = work / "steps.tsv"
    env = {**os.environ, "HARNESS_CACHE": str(work / "harness-cache"), "TIMED_SHELL_LOG": str(steps)}
    env.pop("HARNESS_ENGINE", None)
    cmd = ["make", "demo", f"DEMO_LIMIT={limit}", f"SHELL={ROOT / 'bench' / '_timed_shell.sh'}"]
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=clone, env=env, capture_output=True, text=True, check=False, timeout=DEMO_TIMEOUT_S)
    wall = time.perf_counter() - start
    (work / "demo.log").write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
    if proc.returncode:
        raise SystemExit(f"make demo failed ({proc.returncode}); log in {work / 'demo.log'}:\n{proc.stderr[-3000:]}")
    profile = [line.split("\t", 1) for line in steps.read_text().splitlines()]
    chosen = [line for line in proc.stderr.splitlines() if line.startswith("harness: engine ")]
    return {"commit": commit, "wall": wall, "load": load, "profile": profile, "chosen": chosen, "clone": clone,
            "stdout": proc.stdout}


def check_outputs(clone: Path) -> dict:
    """Defined intervals on every retention and seed row; the gate's verdicts (student, reference vs itself)."""
    from harness.results import load_results
    from harness.retention import analyse

    out = clone / "runs" / "demo"
    teacher, t_records = load_results(out / "teacher")
    student, s_records = load_results(out / "student")
    analysis = analyse(teacher, t_records, student, s_records)
    undefined = [r.capability for r in analysis.rows if r.ci_low is None or r.ci_high is None]
    seed_undefined = [r.capability for r in analysis.seed_table if r.ci_low is None or r.ci_high is None]
    gate = json.loads((out / "gate.json").read_text())
    harness = str(clone / ".venv" / "bin" / "harness")
    self_gate = subprocess.run([harness, "gate", "--policy", "gate.yaml", "--teacher", str(out / "teacher"),
                                "--student", str(out / "teacher")], cwd=clone, capture_output=True, text=True,
                               check=False, timeout=600)
    return {"rows": [(r.capability, r.n_groups, r.ci_low, r.ci_high) for r in analysis.rows], "undefined": undefined,
            "seed": [(r.capability, r.ci_low, r.ci_high, r.verdict) for r in analysis.seed_table],
            "seed_undefined": seed_undefined, "gate": gate, "self_gate_exit": self_gate.returncode,
            "self_gate_tail": self_gate.stdout.strip().splitlines()[-3:]}


def gate_failures(gate: dict) -> list[str]:
    return [f"{r['rule']}[{r.get('capability')}]: {r['message']}" for r in gate["results"] if r["status"] != "pass"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=20, help="DEMO_LIMIT")
    parser.add_argument("--keep", default=None, help="work here and keep the clone (default: a temporary folder)")
    args = parser.parse_args()

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="demo-time-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        run = run_fresh_demo(work, args.limit)
        checks = check_outputs(run["clone"])
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    # the install is every recipe line up to and including the stamp it ends with
    stamp = next((i for i, (_, c) in enumerate(run["profile"]) if c.strip().startswith("touch")), -1)
    install_s = sum(float(s) for s, _ in run["profile"][: stamp + 1])
    steps = "\n".join(f"| {float(s):.1f} | `{c.strip()[:120]}` |" for s, c in run["profile"])
    rows = "\n".join(f"| {cap} | {groups} | "
                     f"{'undefined' if lo is None else f'[{100 * lo:.0f}, {100 * hi:.0f}] %'} |"
                     for cap, groups, lo, hi in checks["rows"])
    seed = "\n".join(f"| {cap} | {'undefined' if lo is None else f'[{100 * lo:.0f}, {100 * hi:.0f}] %'} | {verdict} |"
                     for cap, lo, hi, verdict in checks["seed"])
    failures = gate_failures(checks["gate"])
    write_report(
        "demo_time",
        f"make demo from a fresh clone (DEMO_LIMIT={args.limit})",
        f"""
Commit {run['commit']}, fresh clone, empty `.venv` and harness cache; load average (1 min) at the start: {run['load']:.1f}.

**Total: {run['wall'] / 60:.1f} min** (goal: at most 12 min including the install); install
(system packages, venv, pip): {install_s / 60:.1f} min; the demo's own commands: {(run['wall'] - install_s) / 60:.1f} min.

Engine lines: {'; '.join(run['chosen']) or '(none printed)'}

| seconds | recipe line |
|---|---|
{steps}

## What the demo printed, checked

Retention rows with an undefined interval: {', '.join(checks['undefined']) or 'none'}; seed rows with an
undefined interval: {', '.join(checks['seed_undefined']) or 'none'}.

| capability | problem groups | retention 95 % CI |
|---|---|---|
{rows}

| seed row | 95 % CI | verdict |
|---|---|---|
{seed}

Gate on the student (`gate.yaml`): {'passed' if checks['gate'].get('passed') else 'refused'}; failed rules:

{chr(10).join(f'- {f}' for f in failures) or '- none'}

The reference teacher against itself: `harness gate` exit {checks['self_gate_exit']} (0 = release).

Rerun: `.venv/bin/python bench/demo_time.py --limit {args.limit}`
""",
    )


if __name__ == "__main__":
    main()
