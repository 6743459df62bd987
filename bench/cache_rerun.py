"""A fully cached re-run of `harness eval` vs the first run, as a user runs it (CLI subprocess).

The first run generates with the default embedded model (hf backend) into a fresh response
cache; the re-run reads every answer from SQLite (no model load, no generation) and must
write identical samples.jsonl.

Run: python bench/cache_rerun.py [--limit 16] [--max-new-tokens 96]
Writes reports/cache_rerun.md. Goal: re-run ≤ 0.05 × first run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import write_report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--limit", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    args = parser.parse_args()
    harness = str(Path(sys.executable).parent / "harness")
    with tempfile.TemporaryDirectory() as tmp:
        def run(out: str) -> float:
            t = time.perf_counter()
            subprocess.run([harness, "eval", "--model", args.model, "--suite", "arithmetic", "--limit", str(args.limit),
                            "--max-new-tokens", str(args.max_new_tokens), "--cache-dir", f"{tmp}/cache",
                            "--out", f"{tmp}/{out}", "--no-progress"], check=True, capture_output=True, timeout=3600)
            return time.perf_counter() - t

        first = run("first")
        rerun = run("rerun")
        same = Path(f"{tmp}/first/samples.jsonl").read_text() == Path(f"{tmp}/rerun/samples.jsonl").read_text()
        cache = json.loads(Path(f"{tmp}/rerun/results.json").read_text())["extra"]["cache"]
    write_report(
        "cache_rerun",
        "Fully cached re-run vs first run",
        f"""
`harness eval --model {args.model} --suite arithmetic --limit {args.limit} --max-new-tokens {args.max_new_tokens}`
as a subprocess, twice, with a fresh response cache.

| run | wall (s) |
|---|---|
| first (generates) | {first:.2f} |
| re-run (all {cache['from_cache']} items from the cache, {cache['requested']} asked of the model) | {rerun:.2f} |

**Re-run / first: {rerun / first:.3f}** (goal ≤ 0.05). Identical samples.jsonl: {same}.
""",
    )


if __name__ == "__main__":
    main()
