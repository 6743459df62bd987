"""The `harness` console script.

Each command lives in harness/commands/<name>.py with `add_arguments(parser)` and
`run(args) -> int`. Those modules import nothing heavy at module level, so `harness --help`
stays fast; torch, transformers and friends load inside `run`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from harness import __version__

COMMANDS = {
    "tasks": "list and show the registered suites",
    "eval": "evaluate a model on suites and write results",
    "retention": "print per-capability retention of a student against a teacher",
    "report": "write an HTML report or a model-card block from results",
    "gate": "pass or fail a student against release rules (exit 0/1, 2 on bad input)",
    "serve": "start a vLLM OpenAI-compatible server for a model",
    "distill": "generate verified teacher data for SFT",
    "train": "fine-tune a student on distilled data (TRL SFT)",
    "loop": "retention-driven rounds: distill where retention is lowest, train, evaluate",
    "schema": "print the JSON Schema of the results format",
    "doctor": "show the environment: code sandbox (bubblewrap or fallback), torch, vllm, CUDA",
    "export": "export suites as an lm-eval task folder",
    "import": "turn an lm-eval output folder into harness results",
}

# Commands whose name is a Python keyword live in a module named otherwise.
MODULE_NAMES = {"import": "import_results"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harness", description="Evaluation-centred benchmark harness for LLM distillation.")
    parser.add_argument("--version", action="version", version=f"harness {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        module = importlib.import_module(f"harness.commands.{MODULE_NAMES.get(name, name)}")
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks for errors")
        module.add_arguments(cmd)
        cmd.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return int(args._module.run(args) or 0)
    except KeyboardInterrupt:
        print("harness: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        from harness.errors import HarnessError

        if args.debug:
            raise
        if isinstance(exc, HarnessError):
            print(f"harness: error: {exc}", file=sys.stderr)
            return 2
        print(f"harness: internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)", file=sys.stderr)
        return 3


if __name__ == "__main__":
    raise SystemExit(main())
