"""How fast `harness --help` answers, side by side with a bare `python -c pass` in the same run.

Writes reports/cli_startup.md. Target: `harness --help` under 0.3 s.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import machine

REPORTS = Path(__file__).resolve().parent.parent / "reports"
RUNS = 15


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    return time.perf_counter() - start


def main() -> None:
    harness = str(Path(sys.executable).parent / "harness")
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "harness --help": [harness, "--help"],
        "harness tasks --help": [harness, "tasks", "--help"],
    }
    timings: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(RUNS):  # interleaved, so machine noise hits every command alike
        for name, cmd in commands.items():
            timings[name].append(timed(cmd))
    base = statistics.median(timings["python -c pass"])
    lines = [
        "# CLI start-up",
        "",
        f"_{machine()}_",
        "",
        f"Median of {RUNS} interleaved runs, `python bench/cli_startup.py`. Target: `harness --help` < 0.3 s.",
        "",
        "| command | median s | min s | × python -c pass |",
        "|---|---|---|---|",
    ]
    for name, values in timings.items():
        med = statistics.median(values)
        lines.append(f"| `{name}` | {med:.3f} | {min(values):.3f} | {med / base:.2f} |")
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "cli_startup.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
