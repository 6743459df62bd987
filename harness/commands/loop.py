"""`harness loop`: retention-driven rounds of distill → train → evaluate, with one report."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--teacher", default="reference", help="teacher model spec (default: reference, offline)")
    parser.add_argument("--student", default=None, help="student checkpoint spec (default: smollm2-135m)")
    parser.add_argument("--suite", action="append", default=[], help="suite name (repeatable; default: every suite)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--n", type=int, default=64, help="new training rows per round")
    parser.add_argument("--out", required=True, help="loop directory (round-N/ subdirectories, loop_report.md, loop.json)")
    parser.add_argument("--config", default=None, help="YAML training settings (see trainers/sft.yaml)")
    parser.add_argument("--teacher-results", default=None, help="teacher results on the same test items (default: evaluate the teacher)")
    from harness.registry import LazyChoices

    parser.add_argument("--keep", default="verified", choices=LazyChoices("harness.trainers.keep:KEEP_POLICIES"), metavar="POLICY",
                        help="distillation keep policy: %(choices)s")
    parser.add_argument("--samples", type=int, default=1)
    parser.add_argument("--edge-ratio", type=float, default=None)
    parser.add_argument("--lora", action="store_true", default=None)
    parser.add_argument("--max-steps", type=int, default=None, help="optimizer steps per round")
    parser.add_argument("--epochs", type=float, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--max-length", type=int, default=None)
    parser.add_argument("--eval-limit", type=int, default=None, help="test items per suite in each evaluation")
    parser.add_argument("--eval-max-new-tokens", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0, help="suite generation seed")
    parser.add_argument("--size", type=int, default=None, help="suite size")
    parser.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.errors import HarnessError
    from harness.suite import default_suite_names
    from harness.trainers.config import TrainConfig
    from harness.trainers.loop import REPORT_FILE, LoopConfig, run_loop

    if args.rounds <= 0 or args.n <= 0:
        raise HarnessError("--rounds and --n must be positive")
    train_config = TrainConfig.load(
        args.config,
        {
            "lora": args.lora,
            "max_steps": args.max_steps,
            "epochs": args.epochs,
            "learning_rate": args.lr,
            "per_device_train_batch_size": args.batch_size,
            "max_length": args.max_length,
            "eval_limit": args.eval_limit,
            "eval_max_new_tokens": args.eval_max_new_tokens,
        },
    )
    config = LoopConfig(
        suites=args.suite or default_suite_names(),
        teacher=args.teacher,
        student=args.student,
        rounds=args.rounds,
        rows_per_round=args.n,
        teacher_results=args.teacher_results,
        keep=args.keep,
        samples=args.samples,
        edge_ratio=args.edge_ratio,
        suite_seed=args.seed,
        suite_size=args.size,
        train=train_config,
        progress=not args.no_progress,
    )
    run_loop(config, Path(args.out))
    report = Path(args.out) / REPORT_FILE
    print(report.read_text(encoding="utf-8"))
    print(f"wrote {report} and {Path(args.out) / 'loop.json'}")
    return 0
