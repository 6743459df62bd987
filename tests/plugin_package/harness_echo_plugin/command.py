"""print what the echo plug-in registered"""

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kind", default="backend", choices=["backend", "suite"])


def run(args: argparse.Namespace) -> int:
    if args.kind == "backend":
        from harness.backends.registry import BACKENDS

        print("echo-info backends:", " ".join(BACKENDS.names()))
    else:
        from harness.suite import SUITES

        print("echo-info suite:", SUITES.get("parity").capability)
    return 0
