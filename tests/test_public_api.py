"""The public Python API (harness/__init__.py): lazy, complete, documented, and the README example runs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import harness

REPO = Path(__file__).resolve().parent.parent


def _readme_example() -> str:
    section = (REPO / "README.md").read_text().split("## Python API", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, re.S)
    return code


def test_import_harness_loads_no_submodule_until_a_name_is_used():
    probe = (
        "import json, sys, harness; before = sorted(m for m in sys.modules if m.startswith('harness'));"
        "light = not {'pydantic', 'numpy', 'scipy', 'torch'} & set(sys.modules);"
        "harness.analyse; print(json.dumps([before, light, 'harness.retention' in sys.modules]))"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    before, light, retention_loaded = json.loads(proc.stdout)
    assert before == ["harness"] and light
    assert retention_loaded  # and the first use imports exactly what it needs


def test_every_exported_name_resolves_to_its_module_object_and_is_documented():
    assert set(harness.__all__) == {"__version__", *harness._EXPORTS}
    for name in harness._EXPORTS:
        value = getattr(harness, name)
        module = sys.modules[harness._EXPORTS[name]]
        assert value is getattr(module, harness._RENAMED.get(name, name)), name
        if callable(value):
            assert (value.__doc__ or "").strip(), f"harness.{name} has no docstring"
    assert "run_eval" in dir(harness)
    try:
        harness.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("unknown names must raise AttributeError")


def test_readme_example_runs_and_does_what_it_says(tmp_path, monkeypatch, capsys):
    code = _readme_example()
    assert 'STUDENT = "smollm2-135m"' in code
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path / "cache"))
    namespace: dict = {}
    exec(compile(code.replace('STUDENT = "smollm2-135m"', 'STUDENT = "reference"'), "README.md", "exec"), namespace)

    out = tmp_path / "runs" / "api"
    for who in ("teacher", "student"):
        written = json.loads((out / who / "results.json").read_text())
        assert set(written["suites"]) == {"arithmetic", "logic"} and written["model"]["spec"] == "reference"
    analysis, verdict = namespace["analysis"], namespace["verdict"]
    assert {r.capability for r in analysis.rows} == {"math", "logic"}
    assert all(r.retention == 1.0 for r in analysis.rows)  # the reference against itself keeps everything
    assert verdict.passed and not verdict.failures
    printed = capsys.readouterr().out
    assert "Retention per capability" in printed and printed.rstrip().endswith("release []")
    results, records = namespace["results"], namespace["records"]
    assert len(records) == sum(s.n_items for s in results.suites.values()) == 40


def test_every_package_directory_is_in_the_wheel():
    """pyproject lists packages by hand (tasks/ and trainers/ are mapped into harness): a subpackage
    left off that list works in the editable install and is missing from the wheel."""
    import tomllib

    setup = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setup["packages"])
    on_disk = set()
    for package, folder in setup["package-dir"].items():
        for init in (REPO / folder).rglob("__init__.py"):
            if "tests" in init.parts or "__pycache__" in init.parts:
                continue
            relative = init.parent.relative_to(REPO / folder).parts
            on_disk.add(".".join((package, *relative)))
    assert on_disk <= listed, sorted(on_disk - listed)
