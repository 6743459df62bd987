"""`harness schema`: print the JSON Schema of results.json and samples.jsonl."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    import json

    from harness.results import json_schema

    print(json.dumps(json_schema(), indent=2))
    return 0
