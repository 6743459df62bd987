"""The `harness` console script.

Each command lives in harness/commands/<name>.py with `add_arguments(parser)` and
`run(args) -> int`, registered in COMMANDS (plug-ins: the "harness.commands" entry-point
group). Those modules import nothing heavy at module level, so `harness --help` stays fast;
torch, transformers and friends load inside `run`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from dataclasses import dataclass, field
from types import ModuleType

from harness import __version__
from harness.registry import Registry


@dataclass
class Command:
    """A subcommand: a module with `add_arguments(parser)` and `run(args) -> int`, imported when
    the parser is built, so it must import nothing heavy at module level."""

    help: str
    module: str
    name: str = field(default="", init=False)  # set by the registry

    def load(self) -> ModuleType:
        return importlib.import_module(self.module)


# A plug-in package adds a command under the "harness.commands" entry-point group, pointing at its
# command module (help: the module docstring's first line) or at a Command.
COMMANDS: Registry[Command | ModuleType] = Registry("command", entry_point_group="harness.commands")

BUILTIN_COMMANDS = {  # name -> help, in the order `harness --help` lists them
    "tasks": "list and show the registered suites",
    "eval": "evaluate a model on suites and write results",
    "merge": "join the shard dirs of an `eval --shard I/N` run into the unsharded run's results",
    "retention": "print per-capability retention of a student against a teacher",
    "report": "write an HTML report or a model-card block from results",
    "gate": "pass or fail a student against release rules (exit 0/1, 2 on bad input)",
    "serve": "start a vLLM OpenAI-compatible server for a model",
    "distill": "generate verified teacher data for SFT",
    "train": "fine-tune a student with TRL: SFT on distilled data, or GRPO rewarded by the suites' scorers",
    "loop": "retention-driven rounds: distill where retention is lowest, train, evaluate",
    "schema": "print the JSON Schema of the results format",
    "doctor": "show the environment: code sandbox (bubblewrap or fallback), torch, vllm, CUDA",
    "export": "export suites as an lm-eval task folder",
    "import": "turn an lm-eval output folder into harness results",
    "plugins": "list every registry (backends, suites, vote methods, judges, ...) and which package added what",
}
MODULE_NAMES = {"import": "import_results"}  # commands whose name is a Python keyword
for _name, _help in BUILTIN_COMMANDS.items():
    COMMANDS.add(_name, Command(_help, f"harness.commands.{MODULE_NAMES.get(_name, _name)}"))


def command_help(entry: Command | ModuleType) -> str:
    """The one-line help (a built-in's module is not imported for it)."""
    if isinstance(entry, Command):
        return entry.help
    doc = (entry.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


def command_module(entry: Command | ModuleType) -> ModuleType:
    return entry.load() if isinstance(entry, Command) else entry


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole CLI; with `only`, just that command's flags are built (the others' configs are not imported)."""
    parser = argparse.ArgumentParser(prog="harness", description="Evaluation-centred benchmark harness for LLM distillation.")
    parser.add_argument("--version", action="version", version=f"harness {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    plugins = [name for name in COMMANDS.names() if name not in BUILTIN_COMMANDS]
    for name in [*BUILTIN_COMMANDS, *plugins]:
        entry = COMMANDS.get(name)
        help_text = command_help(entry)
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks for errors")
        if only is None or name == only:
            module = command_module(entry)
            module.add_arguments(cmd)
            cmd.set_defaults(_module=module)
    return parser


def chosen_command(argv: list[str]) -> str:
    """The command word of argv ("" for none): only its flags need building."""
    return next((word for word in argv if not word.startswith("-")), "")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(only=chosen_command(argv))
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if not args.debug and args.command != "serve":
        # vLLM's engine set-up chatter (INFO lines, CPU set-up WARNINGs, one weight-cast WARNING per tensor) would
        # cover harness's own output; a server keeps it, --debug shows it, a VLLM_LOGGING_LEVEL the user set wins.
        # At ERROR the engine also starts quietly otherwise (harness/backends/_engine_quiet.py).
        os.environ.setdefault("VLLM_LOGGING_LEVEL", "ERROR")
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
