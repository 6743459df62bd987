"""`harness loop`: retention-driven rounds of distill → train → evaluate, with one report."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from harness.config import add_config_arguments
    from harness.trainers.loop import LoopConfig

    add_config_arguments(parser, LoopConfig)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.trainers.config import with_yaml_train_config
    from harness.trainers.loop import REPORT_FILE, LoopConfig, run_loop

    config = with_yaml_train_config(LoopConfig, args)
    run_loop(config)
    report = Path(config.out) / REPORT_FILE
    print(report.read_text(encoding="utf-8"))
    print(f"wrote {report} and {Path(config.out) / 'loop.json'}")
    return 0
