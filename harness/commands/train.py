"""`harness train`: not available yet (its own issue fills it)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("args", nargs=argparse.REMAINDER)


def run(args: argparse.Namespace) -> int:
    from harness.errors import HarnessError

    raise HarnessError("'harness train' is not available yet")
