"""`harness retention`: per-capability student/teacher retention with CIs and significance tests."""

from __future__ import annotations

import argparse


def add_budget_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allow-budget-mismatch", action="store_true",
                        help="compare runs asked for different token budgets on a suite (refused by default; the table marks them)")


def add_bootstrap_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--intersect", action="store_true", help="compare only the items both results hold (says how many were dropped)")
    add_budget_argument(parser)
    from harness.config import add_config_arguments
    from harness.stats import BootstrapSettings

    add_config_arguments(parser, BootstrapSettings)


def bootstrap_settings(args: argparse.Namespace):
    from harness.config import config_from_args
    from harness.errors import HarnessError
    from harness.stats import BootstrapSettings

    settings = config_from_args(BootstrapSettings, args)
    if not 0 < settings.confidence < 1:
        raise HarnessError(f"--confidence must be between 0 and 1 (e.g. 0.95), got {settings.confidence}")
    return settings


def add_remedy_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--remedy", action="append", default=[], metavar="LABEL=RESULTS",
                        help="a treated run of the same student (e.g. sft=runs/after, grpo=runs/grpo, vote=runs/voted; "
                        "repeatable): the mitigation table compares each with --student as the base (lift with CI and "
                        "paired test, canonical-vs-perturbed gap); a run with several samples per item adds its "
                        "maj@4, maj@8 and verified@k rows")


def load_remedies(specs: list[str]):
    """RemedyRun per LABEL=RESULTS (RESULTS as --student takes it: a file, a directory, A,B merged)."""
    from harness.errors import HarnessError
    from harness.retention import load_merged
    from harness.retention.remedies import RemedyRun

    runs, seen = [], set()
    for spec in specs:
        label, sep, path = spec.partition("=")
        label, path = label.strip(), path.strip()
        if not sep or not label or not path:
            raise HarnessError(f"--remedy takes LABEL=RESULTS (e.g. sft=runs/after), got {spec!r}")
        if label in seen or label == "base":
            raise HarnessError(f"--remedy label {label!r} is used twice or is reserved ('base' is --student)")
        seen.add(label)
        try:
            results, records = load_merged(path)
        except HarnessError as exc:
            raise HarnessError(f"--remedy {label}: {exc}") from None
        runs.append(RemedyRun(label, results, records))
    return runs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--teacher", required=True, help="teacher results.json or its directory (several runs of one model: A,B)")
    parser.add_argument("--student", required=True, help="student results.json or its directory (several runs of one model: A,B)")
    parser.add_argument("--seed-table", action="store_true", help="group capabilities into the seed's five rows next to its claimed ranges")
    from harness.registry import LazyChoices

    parser.add_argument("--format", choices=LazyChoices("harness.report.formats:OUTPUT_FORMATS"), default=None, metavar="FORMAT",
                        help="format of --output: %(choices)s (default: from its suffix, else md)")
    parser.add_argument("--output", default=None, help="also write the table to this file")
    add_remedy_argument(parser)
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
    analysis = analyse(teacher, t_records, student, s_records, intersect=args.intersect, settings=settings,
                       allow_budget_mismatch=args.allow_budget_mismatch, remedies=load_remedies(args.remedy))
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
