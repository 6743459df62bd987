"""`harness train`: fine-tune a student on distilled data with TRL, then evaluate it and print retention."""

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
    train_and_evaluate(config.train, config.student, config.data, config.out, resume=config.resume)
    return 0
