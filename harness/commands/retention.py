"""`harness retention`: per-capability student/teacher retention table."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--teacher", required=True, help="teacher results.json (or its directory)")
    parser.add_argument("--student", required=True, help="student results.json (or its directory)")


def format_rows(rows) -> list[list[object]]:
    def pct(x: float | None) -> str:
        return "undefined" if x is None else f"{x:.1%}"

    return [[r.capability, f"{r.teacher:.3f}", f"{r.student:.3f}", pct(r.retention), r.n] for r in rows]


def run(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from harness.results import load_results
    from harness.retention import check_comparable, retention_rows

    teacher, t_records = load_results(args.teacher)
    student, s_records = load_results(args.student)
    check_comparable(teacher, student)
    rows = retention_rows(t_records, s_records)
    print(f"teacher: {teacher.model.spec}   student: {student.model.spec}")
    print(tabulate(format_rows(rows), headers=["capability", "teacher", "student", "retention", "n"]))
    return 0
