"""`harness import lm-eval RESULTS_DIR`: turn an lm-eval output into harness results."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("format", choices=["lm-eval"], help="what to import from")
    parser.add_argument("path", help="lm-eval --output_path folder, its model subfolder, or a results_*.json")
    parser.add_argument("--out", required=True, help="harness results folder to write")
    parser.add_argument(
        "--capability",
        action="append",
        default=[],
        metavar="TASK=CAPABILITY",
        help="capability of a task (or group) without a default (repeatable)",
    )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tabulate import tabulate

    from harness.errors import HarnessError
    from harness.lmeval.importer import import_lm_eval
    from harness.results import write_results

    overrides = {}
    for entry in args.capability:
        task, sep, capability = entry.partition("=")
        if not sep or not task or not capability:
            raise HarnessError(f"--capability {entry!r}: write TASK=CAPABILITY")
        overrides[task] = capability
    results, records, source = import_lm_eval(args.path, overrides)
    out = Path(args.out)
    write_results(out, results, records)
    rows = [[name, info.capability, info.n_items] for name, info in results.suites.items()]
    print(f"read {source}")
    print(tabulate(rows, headers=["suite", "capability", "items"]))
    print(tabulate([[c, f"{s.score:.3f}", s.n] for c, s in results.capabilities.items()], headers=["capability", "score", "n"]))
    print(f"wrote {out / 'results.json'} and {out / 'samples.jsonl'}")
    return 0
