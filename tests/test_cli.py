"""The CLI as a user runs it: subprocesses of the installed `harness` script."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

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
    proc = cli("eval", "--model", "reference", *args, "--out", str(teacher))
    assert proc.returncode == 0, proc.stderr
    proc = cli("eval", "--model", f"hf:{tiny_model_dir}", *args, "--max-new-tokens", "8", "--out", str(student))
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


@pytest.mark.parametrize("command", ["serve", "distill", "train", "report"])
def test_unfinished_commands_say_so_or_work(cli, command):
    proc = cli(command, "--help")
    assert proc.returncode == 0
