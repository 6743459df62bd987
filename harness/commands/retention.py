"""`harness retention`: per-capability student/teacher retention with CIs and significance tests."""

from __future__ import annotations

import argparse


def add_bootstrap_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--intersect", action="store_true", help="compare only the items both results hold (says how many were dropped)")
    parser.add_argument("--resamples", type=int, default=2000, help="paired bootstrap resamples (default 2000)")
    parser.add_argument("--confidence", type=float, default=0.95, help="confidence level of the intervals (default 0.95)")
    parser.add_argument("--bootstrap-seed", type=int, default=0, help="resampling seed, recorded in every output (default 0)")
    parser.add_argument("--min-items", type=int, default=5, help="retention is 'undefined' below this many paired items (default 5)")
    parser.add_argument("--min-groups", type=int, default=10,
                        help="a CI is 'undefined' below this many problem groups (a canonical item with its twins; default 10)")


def bootstrap_settings(args: argparse.Namespace):
    from harness.errors import HarnessError
    from harness.stats import BootstrapSettings

    if args.resamples < 100:
        raise HarnessError(f"--resamples must be at least 100, got {args.resamples}")
    if not 0 < args.confidence < 1:
        raise HarnessError(f"--confidence must be between 0 and 1 (e.g. 0.95), got {args.confidence}")
    if args.min_items < 1:
        raise HarnessError(f"--min-items must be at least 1, got {args.min_items}")
    if args.min_groups < 2:
        raise HarnessError(f"--min-groups must be at least 2, got {args.min_groups}")
    return BootstrapSettings(args.resamples, args.confidence, args.bootstrap_seed, args.min_items, args.min_groups)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--teacher", required=True, help="teacher results.json or its directory (several runs of one model: A,B)")
    parser.add_argument("--student", required=True, help="student results.json or its directory (several runs of one model: A,B)")
    parser.add_argument("--seed-table", action="store_true", help="group capabilities into the seed's five rows next to its claimed ranges")
    from harness.registry import LazyChoices

    parser.add_argument("--format", choices=LazyChoices("harness.report.formats:OUTPUT_FORMATS"), default=None, metavar="FORMAT",
                        help="format of --output: %(choices)s (default: from its suffix, else md)")
    parser.add_argument("--output", default=None, help="also write the table to this file")
    add_bootstrap_arguments(parser)


def guess_format(path: str) -> str:
    from harness.report.formats import format_for_suffix

    return format_for_suffix(path)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.diagnostics import warn_output_health
    from harness.report.formats import render
    from harness.retention import load_merged as load_results
    from harness.retention import analyse

    settings = bootstrap_settings(args)
    teacher, t_records = load_results(args.teacher)
    student, s_records = load_results(args.student)
    analysis = analyse(teacher, t_records, student, s_records, intersect=args.intersect, settings=settings)
    warn_output_health(t_records, teacher.generation.max_new_tokens, "teacher")
    warn_output_health(s_records, student.generation.max_new_tokens, "student")
    if not args.output:
        print(render(analysis, args.format or "text", seed_only=args.seed_table), end="")
        return 0
    print(render(analysis, "text", seed_only=args.seed_table), end="")
    if args.output:
        fmt = args.format or guess_format(args.output)
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render(analysis, fmt, seed_only=args.seed_table), encoding="utf-8")
        print(f"wrote {out} ({fmt})")
    return 0
