"""Programs per second through the code sandbox, trivial and typical, strong and fallback isolation.

trivial: `def f(x): return x + 1`, one call. typical: the code suite's reference solutions,
each with its 10-20 hidden tests (what scoring one model answer costs). Each program is a
fresh sandbox. Writes reports/sandbox_bench.md and reports/sandbox_bench.json.
Goal: >= 50 typical programs/s on the 2-core development machine.

    python bench/sandbox_bench.py [--programs 120]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPORTS, machine, write_report  # noqa: E402

from harness.sandbox import Job, isolation, judge, run_many, run_program  # noqa: E402
from harness.sandbox.execute import default_workers  # noqa: E402
from harness.suite import get_suite  # noqa: E402


def typical_jobs(n: int) -> tuple[list[Job], list[list]]:
    suite = get_suite("code", size=n)
    items = suite.items("test", variants=["canonical", "extra_tests"])[:n]
    jobs = [Job(it.solution, it.answer["entry_point"], [t["args"] for t in it.answer["tests"]]) for it in items]
    return jobs, [[t["expected"] for t in it.answer["tests"]] for it in items]


def throughput(jobs: list[Job], expected: list[list] | None, workers: int) -> dict:
    run_many(jobs[: workers * 2], workers=workers)  # warm-up
    start = time.perf_counter()
    results = run_many(jobs, workers=workers)
    elapsed = time.perf_counter() - start
    if expected is not None:
        bad = [r.problem() for r, e in zip(results, expected) if not judge(r, e).all_passed]
        assert not bad, bad[:3]
    latencies = sorted(r.seconds for r in results)
    return {
        "programs": len(jobs),
        "workers": workers,
        "seconds": round(elapsed, 3),
        "programs_per_s": round(len(jobs) / elapsed, 1),
        "median_latency_ms": round(1000 * statistics.median(latencies), 1),
        "p95_latency_ms": round(1000 * latencies[int(0.95 * (len(latencies) - 1))], 1),
    }


def bare_python_ms(python: str, runs: int = 20) -> float:
    start = time.perf_counter()
    for _ in range(runs):
        subprocess.run([python, "-I", "-S", "-c", "pass"], check=True)
    return round(1000 * (time.perf_counter() - start) / runs, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--programs", type=int, default=120)
    args = parser.parse_args()
    workers = default_workers()
    trivial = [Job("def f(x):\n    return x + 1\n", "f", [[i]]) for i in range(args.programs)]
    trivial_expected = [[i + 1] for i in range(args.programs)]
    typical, typical_expected = typical_jobs(args.programs)
    rows: dict[str, dict] = {}
    for mode in ("bubblewrap", "fallback"):
        if mode == "fallback":
            os.environ["HARNESS_SANDBOX_FALLBACK"] = "1"
        isolation.detect.cache_clear()
        if isolation.detect().name != mode:
            continue
        run_program(trivial[0])
        rows[f"{mode} trivial"] = throughput(trivial, trivial_expected, workers)
        rows[f"{mode} typical"] = throughput(typical, typical_expected, workers)
        rows[f"{mode} typical, 1 worker"] = throughput(typical[: args.programs // 2], typical_expected[: args.programs // 2], 1)
    os.environ.pop("HARNESS_SANDBOX_FALLBACK", None)
    isolation.detect.cache_clear()
    python = isolation.detect().python
    baseline = bare_python_ms(python)

    typical_tests = statistics.mean(len(j.calls) for j in typical)
    table = ["| run | programs | workers | programs/s | median latency ms | p95 latency ms |", "|---|---|---|---|---|---|"]
    for name, r in rows.items():
        table.append(f"| {name} | {r['programs']} | {r['workers']} | {r['programs_per_s']} | {r['median_latency_ms']} | {r['p95_latency_ms']} |")
    strong = rows.get("bubblewrap typical", {}).get("programs_per_s")
    verdict = "met" if strong and strong >= 50 else "NOT met"
    body = f"""
Each program runs in a fresh sandbox (`harness.sandbox.run_many`, bounded pool of {workers} workers).
trivial = one call of `def f(x): return x + 1`; typical = a code-suite reference solution with its hidden
tests ({typical_tests:.1f} calls on average). Bare `{python} -I -S -c pass` on this machine: {baseline} ms.

{chr(10).join(table)}

Goal >= 50 typical programs/s with bubblewrap: **{verdict}** ({strong} programs/s).
Machine is shared with other jobs: compare rows of the same run only.

Regenerate: `python bench/sandbox_bench.py --programs {args.programs}`
"""
    write_report("sandbox_bench", "Sandbox throughput", body)
    (REPORTS / "sandbox_bench.json").write_text(
        json.dumps({"machine": machine(), "workers": workers, "bare_python_ms": baseline, "runs": rows}, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
