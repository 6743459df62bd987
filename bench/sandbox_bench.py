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
import resource
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
    before = cpu_seconds()
    start = time.perf_counter()
    results = run_many(jobs, workers=workers)
    elapsed = time.perf_counter() - start
    cpu_per_program = (cpu_seconds() - before) / len(jobs)
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
        "cpu_ms_per_program": round(1000 * cpu_per_program, 1),
        # What the CPUs allow when nothing else runs: available cores / CPU time per program.
        "idle_estimate_programs_per_s": round(default_workers() / cpu_per_program, 1),
    }


class CpuMeter:
    """CPU seconds used by this process and everything it starts.

    rusage misses the processes inside bubblewrap (the outer bwrap does not reap them), so
    when cgroup v1 cpuacct is writable (root), the bench moves itself into its own cgroup,
    which every descendant inherits, and reads cpuacct.usage; otherwise it falls back to rusage.
    """

    ROOT = Path("/sys/fs/cgroup/cpuacct")

    def __init__(self):
        self.group = None
        try:
            group = self.ROOT / f"harness-sandbox-bench-{os.getpid()}"
            group.mkdir()
            (group / "cgroup.procs").write_text(str(os.getpid()))
            self.group = group
        except OSError:
            pass
        self.method = "cgroup cpuacct (whole process tree)" if self.group else "rusage (self + reaped children)"

    def seconds(self) -> float:
        if self.group:
            return int((self.group / "cpuacct.usage").read_text()) / 1e9
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime

    def close(self) -> None:
        if self.group:
            (self.ROOT / "cgroup.procs").write_text(str(os.getpid()))
            time.sleep(0.5)
            try:
                self.group.rmdir()
            except OSError:
                pass


METER: CpuMeter | None = None


def cpu_seconds() -> float:
    return METER.seconds()


def bare_python_ms(python: str, runs: int = 20) -> float:
    start = time.perf_counter()
    for _ in range(runs):
        subprocess.run([python, "-I", "-S", "-c", "pass"], check=True)
    return round(1000 * (time.perf_counter() - start) / runs, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--programs", type=int, default=120)
    args = parser.parse_args()
    global METER
    METER = CpuMeter()
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
    METER.close()
    os.environ.pop("HARNESS_SANDBOX_FALLBACK", None)
    isolation.detect.cache_clear()
    python = isolation.detect().python
    baseline = bare_python_ms(python)

    typical_tests = statistics.mean(len(j.calls) for j in typical)
    table = [
        "| run | programs | workers | programs/s (measured) | median latency ms | p95 latency ms | CPU ms/program "
        "| programs/s the CPUs allow (idle estimate) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        table.append(f"| {name} | {r['programs']} | {r['workers']} | {r['programs_per_s']} | {r['median_latency_ms']} "
                     f"| {r['p95_latency_ms']} | {r['cpu_ms_per_program']} | {r['idle_estimate_programs_per_s']} |")
    typical_row = rows.get("bubblewrap typical", {})
    strong, estimate = typical_row.get("programs_per_s"), typical_row.get("idle_estimate_programs_per_s")
    verdict = "met" if strong and strong >= 50 else "NOT met"
    body = f"""
Each program runs in a fresh sandbox (`harness.sandbox.run_many`, bounded pool of {workers} workers).
trivial = one call of `def f(x): return x + 1`; typical = a code-suite reference solution with its hidden
tests ({typical_tests:.1f} calls on average). Bare `{python} -I -S -c pass` on this machine: {baseline} ms.

{chr(10).join(table)}

Goal >= 50 typical programs/s with bubblewrap: **{verdict}** as measured ({strong} programs/s) on this
shared machine; CPU time per program says {estimate} programs/s when the {workers} cores are free
(cores / CPU per program, CPU of the harness and the sandboxes measured by {METER.method};
an estimate, since contention also inflates CPU time).
Machine is shared with other jobs: compare rows of the same run only.

Regenerate: `python bench/sandbox_bench.py --programs {args.programs}`
"""
    write_report("sandbox_bench", "Sandbox throughput", body)
    (REPORTS / "sandbox_bench.json").write_text(
        json.dumps({"machine": machine(), "workers": workers, "bare_python_ms": baseline, "runs": rows}, indent=2) + "\n"
    )


if __name__ == "__main__":
    main()
