"""The CLI as a user runs it: subprocesses of the installed `harness` script."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Annotated

import pytest

from harness.config import Arg

HEAVY = ("torch", "transformers", "vllm", "trl", "datasets", "scipy", "matplotlib", "sympy", "pandas")


def test_help_lists_every_command_and_imports_nothing_heavy():
    code = (
        "import sys, contextlib, io\n"
        "from harness.cli import build_parser\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    try: build_parser().parse_args(['--help'])\n"
        "    except SystemExit: pass\n"
        "print(out.getvalue())\n"
        f"print('HEAVY:', sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    for command in ("tasks", "eval", "retention", "report", "gate", "serve", "distill", "train"):
        assert f"    {command}" in proc.stdout
    assert "HEAVY: []" in proc.stdout


def test_tasks_list_json(cli):
    proc = cli("tasks", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    suites = {s["name"]: s for s in json.loads(proc.stdout)}
    arithmetic = suites["arithmetic"]
    assert arithmetic["capability"] == "math"
    assert {"name", "capability", "version", "hash", "counts"} <= set(arithmetic)
    assert arithmetic["counts"]["test"]["canonical"] == 60 and arithmetic["counts"]["test"]["numbers"] == 60


def test_tasks_show_prints_reference_solution(cli):
    proc = cli("tasks", "show", "arithmetic", "--n", "2", "--variant", "distractor")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("=== arithmetic/test/") == 2
    assert "distractor@1" in proc.stdout and "The answer is" in proc.stdout


def test_eval_retention_gate_on_tiny_model(cli, tiny_model_dir, tmp_path):
    teacher, student = tmp_path / "teacher", tmp_path / "student"
    args = ("--suite", "arithmetic", "--limit", "8", "--no-progress")
    args = (*args, "--max-new-tokens", "8")  # one budget for both: retention and gate refuse runs at different budgets
    proc = cli("eval", "--model", "reference", *args, "--out", str(teacher))
    assert proc.returncode == 0, proc.stderr
    proc = cli("eval", "--model", f"hf:{tiny_model_dir}", *args, "--out", str(student))
    assert proc.returncode == 0, proc.stderr
    results = json.loads((student / "results.json").read_text())
    assert results["model"]["backend"] == "hf"
    assert results["model"]["fingerprint"]["hash"]
    assert results["generation"]["max_new_tokens"] == 8
    assert results["capabilities"]["math"]["n"] == 8
    # a random tiny model gets nothing right: retention 0, gate fails with exit 1
    proc = cli("retention", "--teacher", str(teacher), "--student", str(student))
    assert proc.returncode == 0, proc.stderr
    assert "math" in proc.stdout and "0.0%" in proc.stdout
    assert cli("gate", "--teacher", str(teacher), "--student", str(student), "--min-retention", "0.5").returncode == 1
    # the teacher against itself passes
    assert cli("gate", "--teacher", str(teacher), "--student", str(teacher), "--min-retention", "0.99").returncode == 0


def _one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_bad_inputs_give_one_line_and_exit_2(cli, tmp_path):
    assert "unknown model spec" in _one_line_error(cli("eval", "--model", "gpt-17", "--limit", "1"))
    missing = tmp_path / "no-such-checkpoint"
    assert "not found" in _one_line_error(cli("eval", "--model", f"hf:{missing}", "--limit", "1", "--no-progress"))
    assert "unknown suite" in _one_line_error(cli("eval", "--model", "reference", "--suite", "nope", "--limit", "1"))
    assert "not a model checkpoint" in _one_line_error(cli("eval", "--model", f"hf:{tmp_path}", "--limit", "1", "--no-progress"))

    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "results.json").write_text("{not json")
    ref = tmp_path / "ref"
    assert cli("eval", "--model", "reference", "--suite", "arithmetic", "--limit", "4", "--out", str(ref), "--no-progress").returncode == 0
    assert "not valid JSON" in _one_line_error(cli("retention", "--teacher", str(ref), "--student", str(corrupt)))
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"results": {}, "versions": {}}))
    assert "not a harness results file" in _one_line_error(cli("gate", "--teacher", str(ref), "--student", str(foreign)))

    other = tmp_path / "other"
    assert cli("eval", "--model", "reference", "--suite", "arithmetic", "--limit", "6", "--out", str(other), "--no-progress").returncode == 0
    assert "differ" in _one_line_error(cli("retention", "--teacher", str(ref), "--student", str(other)))
    assert "differ" in _one_line_error(cli("gate", "--teacher", str(ref), "--student", str(other)))


def test_debug_shows_traceback(cli):
    proc = cli("--debug", "eval", "--model", "gpt-17")
    assert proc.returncode != 0 and "Traceback" in proc.stderr


@pytest.mark.parametrize("command, flag", [("serve", "--port"), ("distill", "--teacher"), ("train", "--student"),
                                           ("report", "--model-card")])
def test_unfinished_commands_say_so_or_work(cli, command, flag):
    proc = cli(command, "--help")
    assert proc.returncode == 0 and flag in proc.stdout  # a real command with its own options, not a placeholder


CONFIGS = {  # command -> the configs that generate its flags ("module:Class"), and its required arguments
    "eval": (("harness.evaluate:EvalConfig", "harness.executors:ExecutorConfig"), ()),  # the run, and where it runs
    "distill": (("harness.trainers.distill:DistillConfig",), ("--out", "d")),
    "train": (("harness.trainers.config:TrainRunConfig",), ("--data", "d", "--out", "o")),
    "loop": (("harness.trainers.loop:LoopConfig",), ("--out", "o")),
    "serve": (("harness.commands.serve:ServeConfig",), ()),
}


def _command_configs(command: str):
    import importlib

    names, required = CONFIGS[command]
    classes = []
    for name in names:
        module, _, attr = name.partition(":")
        classes.append(getattr(importlib.import_module(module), attr))
    return classes, required


def _subparser(command: str):
    import argparse

    from harness.cli import build_parser

    parser = build_parser(only=command)
    return parser, next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]


def _sample_value(flag):
    """A command-line value for a generated flag, and the field value it must become."""
    import typing

    from harness.config import _element_type

    if flag.type is bool:
        return [], not flag.default
    if flag.arg.choices is not None:
        choice = list(flag.arg.choices)[-1]
        return [choice], [choice] if _element_type(flag.type) is not None else choice
    element = _element_type(flag.type)
    base = element or flag.type
    text, value = {int: ("3", 3), float: ("0.25", 0.25)}.get(base, ("x", "x"))
    if typing.get_origin(base) is typing.Literal:
        text = value = typing.get_args(base)[-1]
    return [text], [value] if element is not None else value


@pytest.mark.parametrize("command", list(CONFIGS))
def test_every_flag_is_generated_from_the_commands_config(command):
    from harness.config import build_config, config_from_args, flags, given_values

    classes, required = _command_configs(command)
    parser, sub = _subparser(command)
    on_parser = {s for action in sub._actions for s in action.option_strings if s.startswith("--")} - {"--help", "--debug"}
    generated = [f for cls in classes for f in flags(cls)]
    # no flag written by hand, none missing (old names of a field stay as its deprecated aliases)
    assert on_parser == ({f.option for f in generated} | {old for f in generated for old in f.arg.deprecated}
                         | {alias for f in generated for alias in f.arg.aliases})
    for cls in classes:
        # Defaults live in the config only: parsing nothing gives the config's own defaults.
        args = parser.parse_args([command, *required])
        values = given_values(cls, args)
        assert config_from_args(cls, args) == build_config(cls, values)
        if command in ("eval", "distill"):
            assert config_from_args(cls, args) == cls(**values)
        # Each flag lands on its field.
        for flag in flags(cls):
            if flag.arg.parse is not None or flag.arg.build is not None:
                continue
            argv, expected = _sample_value(flag)
            given = given_values(cls, parser.parse_args([command, *required, flag.option, *argv]))
            node = given
            for key in flag.path:
                node = node[key]
            assert node == expected, flag.option


def test_loop_composes_distill_and_train_configs():
    from harness.config import config_from_args
    from harness.trainers.config import with_yaml_train_config
    from harness.trainers.loop import LoopConfig

    parser, _ = _subparser("loop")
    args = parser.parse_args(["loop", "--out", "o", "--n", "6", "--samples", "3", "--seed", "2", "--batch-size", "2", "--lr", "0.01"])
    config = with_yaml_train_config(LoopConfig, args)
    assert (config.distill.n, config.distill.samples, config.distill.suite_seed) == (6, 3, 2)
    assert (config.train.per_device_train_batch_size, config.train.learning_rate) == (2, 0.01)
    assert config_from_args(LoopConfig, parser.parse_args(["loop", "--out", "o"])).distill.n == 64  # loop's own default


def test_eval_derived_defaults_come_from_one_place():
    from harness.config import config_from_args
    from harness.evaluate import EvalConfig

    parser, _ = _subparser("eval")
    assert config_from_args(EvalConfig, parser.parse_args(["eval", "--samples", "4"])).generation.temperature == 0.7
    assert config_from_args(EvalConfig, parser.parse_args(["eval", "--samples", "4", "--temperature", "0.2"])).generation.temperature == 0.2
    assert config_from_args(EvalConfig, parser.parse_args(["eval"])).generation.temperature == 0.0


def test_backend_options_are_declared_once_by_each_backend_and_the_cli_offers_them(cli):
    from harness.backends.base import load_backend
    from harness.backends.options import options_by_scheme
    from harness.backends.registry import BACKENDS
    from harness.config import option_strings

    by_scheme = options_by_scheme()
    assert set(by_scheme) == set(BACKENDS.names())  # every built-in declares its options
    for scheme, options in by_scheme.items():
        assert options.__module__ == BACKENDS.get(scheme).__module__  # beside the backend, nowhere else
    help_text = cli("eval", "--help").stdout
    for options in by_scheme.values():
        assert all(flag in help_text for flag in option_strings(options).values())
    # one flag, two backends, two defaults: shown per backend, and each backend runs with its own
    assert "(default: anthropic: 8, openai: 16)" in " ".join(help_text.split())
    assert load_backend("anthropic:m").concurrency == 8 and load_backend("openai:http://127.0.0.1:9/v1#m").concurrency == 16
    assert load_backend("openai:http://127.0.0.1:9/v1#m", concurrency=3).concurrency == 3


@dataclass
class StaleHelp:
    """Help written by hand, then the default moved (the old API options said "default 16" for anthropic's 8)."""

    concurrency: Annotated[int, Arg("requests in flight at once (default 16)")] = 8
    timeout: Annotated[float | None, Arg("seconds per request (default: 600)")] = None
    batch_size: Annotated[int, Arg("prompts per call (default 16)")] = 16
    max_model_len: Annotated[int, Arg("context length (default: 4096 tokens)")] = 4096


@dataclass
class ClashingOptions:
    """A backend option named like one of harness eval's own flags, beside one that is not."""

    limit: Annotated[int, Arg("how many")] = 1
    depth: Annotated[int, Arg("how deep")] = 2


def test_a_backend_option_named_like_a_command_flag_is_left_out_with_a_warning(capsys):
    from harness.backends.base import Backend
    from harness.backends.registry import BACKENDS
    from harness.cli import build_parser

    class Clashing(Backend):
        Options = ClashingOptions

        def fingerprint(self):
            return {}

        def generate(self, items, params, progress=True):
            return []

    with BACKENDS.temporarily("clash", Clashing):
        parser = build_parser(only="eval")
    assert "--limit of the clash: backend is not offered: the command has a flag of that name" in capsys.readouterr().err
    args = vars(parser.parse_args(["eval", "--limit", "4", "--depth", "3"]))
    assert args["limit"] == 4 and args["backend_options.depth"] == 3


def test_no_backend_option_help_names_a_default_its_field_does_not_have():
    from harness.backends.options import options_by_scheme
    from harness.config import stated_default_mismatches

    for scheme, options in options_by_scheme().items():
        assert stated_default_mismatches(options) == [], scheme
    assert [m.split(":")[0] for m in stated_default_mismatches(StaleHelp)] == ["--concurrency", "--timeout"]


def test_an_option_the_backend_does_not_take_is_an_error(cli, tmp_path):
    line = _one_line_error(cli("eval", "--model", f"hf:{tmp_path / 'none'}", "--batch", "--suite", "arithmetic", "--limit", "1", "--no-progress"))
    assert "--batch is not an option of the hf: backend" in line and "--batch-size" in line
    line = _one_line_error(cli("eval", "--model", "openai:http://127.0.0.1:9/v1#m", "--tensor-parallel-size", "2",
                               "--suite", "arithmetic", "--limit", "1", "--no-progress"))
    assert "--tensor-parallel-size is not an option of the openai: backend" in line
    line = _one_line_error(cli("eval", "--batch", "--suite", "arithmetic", "--limit", "1", "--no-progress"))
    assert "--batch: not options of one engine of smollm2-135m" in line  # the embedded default runs on hf: or vllm:
    line = _one_line_error(cli("eval", "--model", "reference", "--chunk-size", "0", "--limit", "1"))
    assert "--chunk-size must be positive, got 0" in line


def test_embedded_default_takes_either_engines_options_but_not_a_mix():
    from harness.backends.options import check_spec_options
    from harness.errors import HarnessError

    check_spec_options(None, {"batch_size": 4, "device": "cpu"})
    check_spec_options(None, {"tensor_parallel_size": 2})
    with pytest.raises(HarnessError, match="not options of one engine"):
        check_spec_options(None, {"batch_size": 4, "tensor_parallel_size": 2})
    check_spec_options("anthropic:m", {"thinking_budget": 64, "batch": True, "concurrency": 2})
    with pytest.raises(HarnessError, match="--device is not an option of the anthropic: backend"):
        check_spec_options("anthropic:m", {"device": "cpu"})
