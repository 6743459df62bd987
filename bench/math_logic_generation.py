"""How fast the math and logic suites generate (and verify) their items.

Each suite is built in a fresh subprocess (so sympy's import and the per-template symbolic
solves count), once at the default size and once at 4x; the figure is seconds per 100
items over every split. Writes reports/math_logic_generation.md. Target: well under 1 s
per 100 items.
"""

from __future__ import annotations

import json
import subprocess
import sys

from _common import write_report

SIZES = {"math": [None, 160], "logic": [None, 260]}
CODE = """
import json, time
t0 = time.perf_counter()
from harness.suite import get_suite
suite = get_suite({name!r}, size={size!r})
t1 = time.perf_counter()
items = suite.all_items
t2 = time.perf_counter()
print(json.dumps({{"items": len(items), "test": len(suite.items("test")), "import_s": t1 - t0, "build_s": t2 - t1}}))
"""


def main() -> None:
    rows = []
    for name, sizes in SIZES.items():
        for size in sizes:
            out = subprocess.run([sys.executable, "-c", CODE.format(name=name, size=size)], check=True,
                                 capture_output=True, text=True, timeout=1800).stdout
            r = json.loads(out.strip().splitlines()[-1])
            per100 = 100 * r["build_s"] / r["items"]
            rows.append(f"| {name} | {size or 'default'} | {r['items']} | {r['test']} | {r['import_s']:.2f} | "
                        f"{r['build_s']:.2f} | {per100:.2f} |")
    body = "\n".join([
        "`python bench/math_logic_generation.py`: each build in a fresh process; build time includes the",
        "sympy cross-check of every math item and the solver check of every logic puzzle.",
        "",
        "| suite | size | items (all splits) | test items | import s | build s | s per 100 items |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ])
    write_report("math_logic_generation", "Math and logic suite generation speed", body)


if __name__ == "__main__":
    main()
