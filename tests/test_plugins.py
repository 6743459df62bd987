"""Third-party plug-ins: tests/plugin_package is a real package that adds an entry to every harness
registry through entry points only. It is pip-installed (no network, no deps) into a temporary
--target directory that only the CLI subprocesses see on PYTHONPATH, so the venv stays clean."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.registry import Registry

PACKAGE = Path(__file__).resolve().parent / "plugin_package"


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("plugin")
    source = shutil.copytree(PACKAGE, root / "src")  # pip writes build/ and *.egg-info beside the sources
    target = root / "site"
    # offline with the venv's setuptools (torch and vllm depend on it); else pip fetches it from its index
    offline = ["--no-build-isolation", "--no-index"] if importlib.util.find_spec("setuptools") else []
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", *offline, "--quiet", "--target", str(target), str(source)],
                   check=True, capture_output=True, text=True)
    assert (next(target.glob("harness_echo_plugin-*.dist-info")) / "entry_points.txt").is_file()
    return {"PYTHONPATH": os.pathsep.join(p for p in (str(target), os.environ.get("PYTHONPATH", "")) if p)}


def python(code: str, env: dict[str, str]) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env}, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_eval_runs_the_plugin_backend_vote_method_and_judge_from_the_cli(cli, plugin_env, tmp_path):
    common = ["--suite", "arithmetic", "--suite", "edge_cases", "--limit", "3", "--samples", "3", "--judge", "always",
              "--cache-dir", str(tmp_path / "cache"), "--no-progress"]
    proc = cli("eval", "--model", "echo:canned", "--vote", "last", "--out", str(tmp_path / "last"), *common, env=plugin_env)
    assert proc.returncode == 0, proc.stderr
    results = json.loads((tmp_path / "last" / "results.json").read_text())
    assert results["model"]["backend"] == "echo"
    assert results["model"]["fingerprint"] == {"backend": "echo", "label": "canned", "wrong_answer": 1234567}
    assert results["judge"] == {"name": "always", "version": "7", "spec": "always"}
    math = results["sampling"]["math"]
    assert math["method"] == "last" and math["k"] == 3
    assert math["pass_at_1"] == pytest.approx(1 / 3) and math["maj_at_k"] == 1.0  # the last sample is the right one
    records = read_jsonl(tmp_path / "last" / "samples.jsonl")
    arithmetic = [r for r in records if r["suite"] == "arithmetic"]
    assert len(arithmetic) == 3 and all(r["vote_method"] == "last" and r["correct"] for r in arithmetic)
    edge = [r for r in records if r["suite"] == "edge_cases"]
    assert edge and all(r["answer"]["abstained"] for r in edge)  # the "always" judge read every reply
    assert any(r["reference_answer"]["answerable"] and not r["correct"] for r in edge)

    # control: the same canned answers under plain majority pick the wrong answer; the plug-in's own
    # "majority" entry (its last-sample method) does not replace the built-in
    proc = cli("eval", "--model", "echo:canned", "--vote", "majority", "--out", str(tmp_path / "majority"), *common, env=plugin_env)
    assert proc.returncode == 0, proc.stderr
    assert "vote method 'majority' from harness_echo_plugin.vote:vote_last is ignored: a built-in has that name" in proc.stderr
    assert json.loads((tmp_path / "majority" / "results.json").read_text())["sampling"]["math"]["maj_at_k"] == 0.0


def test_plugin_backend_options_are_flags_that_reach_the_backend(cli, plugin_env, tmp_path):
    help_text = cli("eval", "--help", env=plugin_env).stdout
    assert "echo: backend options:" in help_text and "--wrong-answer WRONG_ANSWER" in help_text
    assert "(default: 1234567)" in " ".join(help_text.split())  # the default from the plug-in's Options dataclass
    assert "--wrong-answer" not in cli("eval", "--help").stdout
    common = ["--suite", "arithmetic", "--limit", "2", "--samples", "2", "--no-cache", "--no-progress"]
    proc = cli("eval", "--model", "echo:x", "--wrong-answer", "42", *common, "--out", str(tmp_path / "a"), env=plugin_env)
    assert proc.returncode == 0, proc.stderr
    records = read_jsonl(tmp_path / "a" / "samples.jsonl")
    assert len(records) == 2 and all(r["samples"][0]["output"] == "The answer is 42." for r in records)
    assert json.loads((tmp_path / "a" / "results.json").read_text())["model"]["fingerprint"]["wrong_answer"] == 42
    proc = cli("eval", "--model", "reference", "--wrong-answer", "42", *common, "--out", str(tmp_path / "b"), env=plugin_env)
    assert proc.returncode == 2 and "--wrong-answer is not an option of the reference: backend" in proc.stderr
    proc = cli("eval", "--model", "echo:x", "--batch-size", "4", *common, "--out", str(tmp_path / "c"), env=plugin_env)
    assert proc.returncode == 2 and "--batch-size is not an option of the echo: backend (it takes --wrong-answer)" in proc.stderr
    listed = json.loads(cli("plugins", "--json", "--plugins-only", env=plugin_env).stdout)
    [echo] = next(d["entries"] for d in listed if d["kind"] == "backend")
    assert echo["options"] == [{"flag": "--wrong-answer", "default": 1234567, "help": "the number every sample but the last answers"}]
    assert "--wrong-answer" in cli("plugins", env=plugin_env).stdout


def test_no_backend_option_help_names_a_default_its_field_does_not_have_plugins_included(plugin_env):
    out = python("import json\n"
                 "from harness.backends.options import options_by_scheme\n"
                 "from harness.config import stated_default_mismatches\n"
                 "print(json.dumps({scheme: stated_default_mismatches(cls) for scheme, cls in options_by_scheme().items()}))\n",
                 plugin_env)
    found = json.loads(out)
    assert set(found) == {"anthropic", "echo", "hf", "openai", "reference", "vllm"}
    assert all(mismatches == [] for mismatches in found.values()), found


def test_the_docs_backend_example_is_one_module_that_brings_its_options(tmp_path):
    """docs/plugins.md's in-tree backend, imported as harness's registry scan imports harness/backends/*.py."""
    section = (PACKAGE.parent.parent / "docs" / "plugins.md").read_text().split("## A backend:")[1]
    (tmp_path / "fixed_backend.py").write_text(section.split("```python\n")[1].split("```")[0])
    script = f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import fixed_backend; from harness.cli import main; sys.exit(main(sys.argv[1:]))"

    def harness(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, check=False)

    help_text = harness("eval", "--help").stdout
    assert "fixed: backend options:" in help_text and "--prefix PREFIX" in help_text
    out = tmp_path / "run"
    proc = harness("eval", "--model", "fixed:12", "--prefix", "= ", "--suite", "arithmetic", "--limit", "4", "--no-cache",
                   "--no-progress", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert {r["output"] for r in read_jsonl(out / "samples.jsonl")} == {"= 12"}
    assert json.loads((out / "results.json").read_text())["model"]["fingerprint"] == {"backend": "fixed", "text": "12", "prefix": "= "}
    proc = harness("eval", "--model", "reference", "--prefix", "x", "--suite", "arithmetic", "--limit", "1", "--out", str(tmp_path / "x"))
    assert proc.returncode == 2 and "--prefix is not an option of the reference: backend" in proc.stderr


def test_without_the_plugin_its_names_are_refused_with_the_known_ones(cli, plugin_env, tmp_path):
    proc = cli("eval", "--model", "echo:canned", "--suite", "arithmetic", "--out", str(tmp_path / "x"))
    assert proc.returncode == 2 and "unknown model spec 'echo:canned'" in proc.stderr
    proc = cli("eval", "--model", "nope:x", "--suite", "arithmetic", "--out", str(tmp_path / "x"), env=plugin_env)
    assert proc.returncode == 2 and "plug-in backends: echo:TARGET" in proc.stderr


def test_plugin_suite_capability_is_gated_and_retention_writes_the_plugin_format(cli, plugin_env, tmp_path):
    for model, out in (("reference", "teacher"), ("echo:one", "student")):
        proc = cli("eval", "--model", model, "--suite", "parity", "--out", str(tmp_path / out), "--no-cache", "--no-progress",
                   env=plugin_env)
        assert proc.returncode == 0, proc.stderr
    student = json.loads((tmp_path / "student" / "results.json").read_text())
    assert student["capabilities"]["parity"]["score"] == 1.0 and student["suites"]["parity"]["capability"] == "parity"

    policy = tmp_path / "gate.yaml"
    policy.write_text("retention_statistic: point\nscore_floors: {parity: 0.9}\nrequired_capabilities: [parity]\n")
    pair = ["--teacher", str(tmp_path / "teacher"), "--student", str(tmp_path / "student"), "--policy", str(policy)]
    proc = cli("gate", *pair, "--json", str(tmp_path / "verdict.json"), env=plugin_env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS  score_floor[parity]" in proc.stdout
    assert json.loads((tmp_path / "verdict.json").read_text())["passed"] is True
    proc = cli("gate", *pair)  # without the plug-in nobody declares "parity"
    assert proc.returncode == 2 and "unknown capability 'parity'" in proc.stderr

    proc = cli("retention", "--teacher", str(tmp_path / "teacher"), "--student", str(tmp_path / "student"),
               "--output", str(tmp_path / "table.tsv"), env=plugin_env)
    assert proc.returncode == 0, proc.stderr
    assert "(tsv)" in proc.stdout  # picked by the plug-in format's suffix
    assert (tmp_path / "table.tsv").read_text().splitlines() == ["capability\tteacher\tstudent\tretention\tn",
                                                                 "parity\t1.0\t1.0\t1.0\t12"]


def test_plugin_command_is_listed_by_help_and_runs(cli, plugin_env):
    proc = cli("--help", env=plugin_env)
    assert proc.returncode == 0 and "echo-info" in proc.stdout and "print what the echo plug-in registered" in proc.stdout
    assert "echo-info" not in cli("--help").stdout
    proc = cli("echo-info", "--kind", "suite", env=plugin_env)
    assert proc.returncode == 0 and proc.stdout.strip() == "echo-info suite: parity"


def test_plugins_command_lists_what_the_package_added_per_registry(cli, plugin_env):
    proc = cli("plugins", "--json", "--plugins-only", env=plugin_env)
    assert proc.returncode == 0, proc.stderr
    added = {d["group"]: [(e["name"], e["package"]) for e in d["entries"]] for d in json.loads(proc.stdout)}
    expected = {"harness.backends": "echo", "harness.suites": "parity", "harness.vote_methods": "last",
                "harness.abstention_judges": "always", "harness.keep_policies": "last", "harness.output_formats": "tsv",
                "harness.commands": "echo-info"}
    assert added == {group: [(name, "harness-echo-plugin")] for group, name in expected.items()}


def test_help_reads_entry_point_metadata_only_when_a_package_declares_a_harness_group(plugin_env):
    code = ("import sys; from harness.cli import build_parser; from harness.registry import declared_groups; "
            "build_parser(only=''); print('importlib.metadata' in sys.modules, 'harness.commands' in declared_groups())")
    assert python(code, {}).split() == ["False", "False"]  # importlib.metadata reads every installed package
    assert python(code, plugin_env).split() == ["True", "True"]


def test_plugin_keep_policy_and_lazy_loading(plugin_env):
    out = python(
        "import sys\n"
        "from harness.backends.registry import BACKENDS\n"
        "from harness.trainers.distill import choose_sample\n"
        "from harness.types import Generation, Item, Message, Score\n"
        "names = BACKENDS.names()\n"
        "print('listed', 'echo' in names, 'harness_echo_plugin.backend' in sys.modules)\n"
        "print('loaded', BACKENDS.get('echo').name, 'harness_echo_plugin.backend' in sys.modules)\n"
        "item = Item(id='i', suite='s', capability='math', messages=[Message(role='user', content='q')])\n"
        "gens = [Generation(text='a'), Generation(text='b')]\n"
        "scores = [Score(correct=True), Score(correct=False)]\n"
        "print('verified', choose_sample(item, gens, scores, 'verified')[0].text, 'last', choose_sample(item, gens, scores, 'last')[0].text)\n",
        plugin_env,
    ).splitlines()
    assert out == ["listed True False", "loaded echo True", "verified a last b"]


# --- the registry itself (no plug-in needed) ---------------------------------------------------


def test_registry_names_its_entries_and_refuses_a_disagreeing_class_attribute():
    things: Registry[object] = Registry("thing")

    @things.register("alpha")
    class Alpha:
        pass

    @things.register("beta")
    def beta():
        pass

    assert Alpha.name == "alpha" and beta.name == "beta" and things.names() == ["alpha", "beta"]

    class Gamma:
        name = "gamma"

    with pytest.raises(ValueError, match="registered as 'delta' declares name 'gamma'"):
        things.register("delta")(Gamma)
    with pytest.raises(ValueError, match="registered twice"):
        things.register("alpha")(Gamma)
    with pytest.raises(ValueError, match="declares name 'alpha'"):
        things.register("alias")(Alpha)  # one object, one name

    class Sub(Alpha):  # inherits "alpha" but declares nothing itself
        pass

    things.register("sub")(Sub)
    assert Sub.name == "sub" and Alpha.name == "alpha"


def test_an_entry_registered_temporarily_is_gone_after_the_block_even_on_an_error():
    things: Registry[object] = Registry("thing")

    def alpha():
        pass

    with things.temporarily("alpha", alpha) as entry:
        assert entry is alpha and things.get("alpha") is alpha and alpha.name == "alpha"
    assert "alpha" not in things and things.names() == []
    with pytest.raises(RuntimeError), things.temporarily("alpha", alpha):
        raise RuntimeError("inside")
    assert "alpha" not in things

    @things.register("beta")
    def beta():
        pass

    assert things.unregister("beta") is beta and things.names() == []
    with pytest.raises(KeyError, match="'beta' is not registered"):
        things.unregister("beta")


def test_a_plugin_that_fails_to_import_is_a_clear_error_naming_its_entry():
    from importlib.metadata import EntryPoint

    from harness.errors import HarnessError

    things: Registry[object] = Registry("thing")
    things._load()
    things._plugins["broken"] = EntryPoint(name="broken", value="no_such_module_xyz:Thing", group="harness.things")
    assert "broken" in things and things.names() == ["broken"]  # listed without importing
    with pytest.raises(HarnessError, match=r"thing 'broken' could not be loaded from no_such_module_xyz:Thing.*ModuleNotFoundError"):
        things.get("broken")
