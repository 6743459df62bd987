"""`harness train`: fine-tune a student with TRL (SFT on distilled data, GRPO rewarded by the suites' scorers, or
on-policy distillation from a local teacher), then evaluate it."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from harness.config import add_config_arguments
    from harness.trainers.config import TrainRunConfig

    add_config_arguments(parser, TrainRunConfig)


def run(args: argparse.Namespace) -> int:
    from harness.trainers.config import TrainRunConfig, with_yaml_train_config
    from harness.trainers.run import train_and_evaluate

    config = with_yaml_train_config(TrainRunConfig, args)
    train_and_evaluate(config.train, config.student, config.data, config.out, resume=config.resume, teacher=config.teacher)
    return 0
