"""`make demo` step by step: today's demo (DEMO_LIMIT=10, embedded model on hf) vs the demo at
DEMO_LIMIT=40 with the engine chosen per workload (harness/models/engine_choice.py), side by side.

Each run is `make -o .venv/.installed demo` (no install step) with a fresh response cache
(HARNESS_CACHE; the converted model is linked in, so no run converts it), timed whole and per
recipe line through bench/_timed_shell.sh; the runs alternate per round.

Run: python bench/cpu_engine_demo.py [--limits 10 40] [--engines hf auto] [--rounds 1]
Writes reports/cpu_engine_demo.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from _common import write_report

ROOT = Path(__file__).resolve().parent.parent


def run_demo(limit: int, engine: str, tmp: Path, tag: str) -> dict:
    from harness.models.embedded import embedded_checkpoint

    cache = tmp / f"cache-{tag}"
    cache.mkdir()
    (cache / "models").symlink_to(embedded_checkpoint("smollm2-135m").parent)
    steps = tmp / f"steps-{tag}.tsv"
    env = {**os.environ, "HARNESS_CACHE": str(cache), "TIMED_SHELL_LOG": str(steps), "HARNESS_ENGINE": engine}
    cmd = ["make", "-o", ".venv/.installed", "demo", f"DEMO_LIMIT={limit}", f"DEMO_OUT={tmp / ('out-' + tag)}",
           f"SHELL={ROOT / 'bench' / '_timed_shell.sh'}"]
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"demo {tag} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    chosen = [line for line in proc.stderr.splitlines() if line.startswith("harness: engine ")]
    profile = [line.split("\t", 1) for line in steps.read_text().splitlines()]
    return {"limit": limit, "engine": engine, "wall": wall, "load": load, "profile": profile, "chosen": chosen}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limits", type=int, nargs=2, default=[10, 40], help="today's DEMO_LIMIT, the new one")
    parser.add_argument("--engines", nargs=2, default=["hf", "auto"], help="HARNESS_ENGINE for each")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()

    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        pairs = list(zip(args.limits, args.engines))
        for r in range(args.rounds):
            for limit, engine in pairs if r % 2 == 0 else pairs[::-1]:
                run = run_demo(limit, engine, Path(tmp), f"{limit}-{engine}-{r}")
                print(f"DEMO_LIMIT={limit} HARNESS_ENGINE={engine}: {run['wall']:.1f} s (load {run['load']:.1f})", flush=True)
                runs.append(run)

    def median_wall(limit: int) -> float:
        return statistics.median(x["wall"] for x in runs if x["limit"] == limit)

    old, new = median_wall(args.limits[0]), median_wall(args.limits[1])
    sections = []
    for x in runs:
        steps = "\n".join(f"| {float(s):.1f} | `{c.strip()[:110]}` |" for s, c in x["profile"])
        chosen = "; ".join(x["chosen"]) or "(no engine line)"
        sections.append(f"### DEMO_LIMIT={x['limit']}, HARNESS_ENGINE={x['engine']}: {x['wall']:.1f} s, load {x['load']:.1f}\n\n"
                        f"Engine lines: {chosen}\n\n| s | step |\n|---|---|\n{steps}\n")
    write_report(
        "cpu_engine_demo",
        f"make demo: DEMO_LIMIT={args.limits[1]} (engine per workload) vs today's DEMO_LIMIT={args.limits[0]}",
        f"""
`make -o .venv/.installed demo` (install step skipped), fresh response cache per run, runs alternating.

**Median wall: DEMO_LIMIT={args.limits[1]} / DEMO_LIMIT={args.limits[0]} = {new:.1f} s / {old:.1f} s = {new / old:.2f}x** (goal <= 1.00).

{chr(10).join(sections)}

Rerun: `.venv/bin/python bench/cpu_engine_demo.py --limits {' '.join(map(str, args.limits))} --engines {' '.join(args.engines)} --rounds {args.rounds}`
""",
    )


if __name__ == "__main__":
    main()
