"""`harness gate`: pass or fail a student against a release policy (exit 0 pass, 1 fail, 2 bad input)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--teacher", required=True, help="teacher results.json or its directory (several runs of one model: A,B)")
    parser.add_argument("--student", required=True, help="student results.json or its directory (several runs of one model: A,B)")
    parser.add_argument("--baseline", default=None, help="the previous release's results, for the policy's max_regression rules")
    parser.add_argument("--lift-base", default=None,
                        help="the untreated student's results (before SFT/GRPO/...), for the policy's min_lift rules")
    parser.add_argument("--policy", default=None, help="gate policy YAML (see gate.yaml)")
    parser.add_argument("--min-retention", type=float, default=None,
                        help="shortcut without a policy: floor on every capability's retention point estimate (default 0.8)")
    parser.add_argument("--intersect", action="store_true", help="compare only the items both results hold")
    from harness.commands.retention import add_budget_argument

    add_budget_argument(parser)
    parser.add_argument("--json", dest="json_out", default=None, help="write the verdict as JSON to this file")
    parser.add_argument("--junit", default=None, help="write the verdict as JUnit XML to this file")


def _write(path: str, text: str) -> None:
    from pathlib import Path

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    from harness.errors import HarnessError
    from harness.gate import evaluate_gate
    from harness.policy import load_policy, parse_policy
    from harness.retention import load_merged as load_results
    from harness.retention import analyse

    if args.policy and args.min_retention is not None:
        raise HarnessError("use either --policy or --min-retention, not both (put the floor in the policy's retention_floors)")
    if args.policy:
        policy = load_policy(args.policy)
    else:
        floor = 0.8 if args.min_retention is None else args.min_retention
        if not 0 <= floor <= 2:
            raise HarnessError(f"--min-retention must be between 0 and 2 (0.8 means 80 %), got {floor}")
        policy = parse_policy({"retention_statistic": "point", "retention_floors": {"default": floor}}, "(--min-retention)")
    settings = policy.bootstrap.settings()
    teacher, t_records = load_results(args.teacher)
    student, s_records = load_results(args.student)
    allow = args.allow_budget_mismatch
    analysis = analyse(teacher, t_records, student, s_records, intersect=args.intersect, settings=settings, allow_budget_mismatch=allow)

    def other_student(path: str | None, what: str):
        """The teacher against another run of the student (the previous release, the untreated student)."""
        if not path:
            return None
        results, records = load_results(path)
        try:
            return analyse(teacher, t_records, results, records, intersect=args.intersect, settings=settings,
                           allow_budget_mismatch=allow)
        except HarnessError as exc:
            raise HarnessError(f"{what}: {exc}") from None

    baseline = other_student(args.baseline, "baseline")
    lift_base = other_student(args.lift_base, "lift base")
    verdict = evaluate_gate(policy, analysis, baseline, lift_base)
    print(verdict.summary(), end="")
    if args.json_out:
        _write(args.json_out, verdict.to_json())
    if args.junit:
        _write(args.junit, verdict.to_junit())
    return 0 if verdict.passed else 1
