"""`harness report`: a self-contained HTML report, or a markdown block for a model card."""

from __future__ import annotations

import argparse

from harness.commands.retention import add_bootstrap_arguments, add_remedy_argument, bootstrap_settings, load_remedies


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", nargs="+", metavar="RESULTS",
                        help="students' results (files or dirs; a sweep dir of checkpoint-*/ gives retention over steps); "
                        "without --teacher the first one is the teacher; A,B merges separate runs of one model")
    parser.add_argument("--teacher", default=None, help="teacher results.json or its directory (several runs of one model: A,B)")
    parser.add_argument("--out", default=None, help="output file (default report.html; the model card goes to stdout)")
    parser.add_argument("--model-card", action="store_true", help="write a markdown block for a Hugging Face model card instead")
    parser.add_argument("--worst", type=int, default=5, help="worst items shown per capability (default 5)")
    parser.add_argument("--title", default="Distillation retention report")
    add_remedy_argument(parser)
    add_bootstrap_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.errors import HarnessError
    from harness.retention import load_merged as load_results
    from harness.retention import analyse
    from harness.sweep import is_sweep_dir, load_sweep

    settings = bootstrap_settings(args)
    paths = list(args.results)
    teacher_path = args.teacher or paths.pop(0)
    if not paths:
        raise HarnessError("name at least one student's results besides the teacher's")
    if args.worst < 0:
        raise HarnessError(f"--worst must be >= 0, got {args.worst}")
    teacher, t_records = load_results(teacher_path)
    remedies = load_remedies(args.remedy)
    if remedies and len(paths) != 1:
        raise HarnessError("--remedy compares treated runs with one base student: name exactly one student's results")

    def compare(path: str, results, records):
        try:
            return analyse(teacher, t_records, results, records, intersect=args.intersect, settings=settings,
                           allow_budget_mismatch=args.allow_budget_mismatch, remedies=remedies)
        except HarnessError as exc:
            raise HarnessError(f"{path}: {exc}") from None

    students, sweeps = [], []
    for path in paths:
        if is_sweep_dir(path):
            points = [(step, compare(f"{path} step {step}", r, recs)) for step, r, recs in load_sweep(path)]
            sweeps.append((path, points))
        else:
            results, records = load_results(path)
            students.append((results.model.spec if len(paths) == 1 else f"{results.model.spec} ({path})", compare(path, results, records)))

    if args.model_card:
        from harness.report.model_card import model_card

        if len(students) != 1 or sweeps:
            raise HarnessError("--model-card takes exactly one student's results (besides the teacher's)")
        text = model_card(teacher, students[0][1])
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8")
            print(f"wrote {args.out}")
        else:
            print(text, end="")
        return 0

    from harness.report.html import StudentReport, SweepReport, build_report

    html = build_report(
        teacher,
        [StudentReport(label, a) for label, a in students],
        [SweepReport(label, points) for label, points in sweeps],
        settings=settings,
        worst=args.worst,
        title=args.title,
    )
    out = Path(args.out or "report.html")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    print(f"wrote {out} ({len(html) // 1024} KiB)")
    return 0
