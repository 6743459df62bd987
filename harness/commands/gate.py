"""`harness gate`: exit 0 when every capability keeps enough of the teacher, 1 otherwise."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--teacher", required=True, help="teacher results.json (or its directory)")
    parser.add_argument("--student", required=True, help="student results.json (or its directory)")
    parser.add_argument("--min-retention", type=float, default=0.8, help="floor on every capability's retention")


def run(args: argparse.Namespace) -> int:
    from harness.errors import HarnessError
    from harness.gate import check_min_retention
    from harness.results import load_results
    from harness.retention import check_comparable, retention_rows

    if not 0 <= args.min_retention:
        raise HarnessError(f"--min-retention must be >= 0, got {args.min_retention}")
    teacher, t_records = load_results(args.teacher)
    student, s_records = load_results(args.student)
    check_comparable(teacher, student)
    rows = retention_rows(t_records, s_records)
    failures = check_min_retention(rows, args.min_retention)
    for row in rows:
        failed = any(f.capability == row.capability for f in failures)
        shown = "undefined" if row.retention is None else f"{row.retention:.1%}"
        print(f"{'FAIL' if failed else 'pass'}  {row.capability}: retention {shown} (floor {args.min_retention:.0%}, n={row.n})")
    if failures:
        print(f"gate: FAILED ({', '.join(f.capability for f in failures)})")
        return 1
    print("gate: passed")
    return 0
