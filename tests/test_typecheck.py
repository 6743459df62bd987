"""mypy reads the folders pyproject.toml maps into the package (tasks/ is harness.tasks, trainers/ is
harness.trainers) when run as `make lint` runs it (tests/typecheck.py), instead of taking them as `Any`."""

from __future__ import annotations

from pathlib import Path

from typecheck import ROOT, link_tree, real_paths

PROBE = '''from harness.tasks.math import ladder_rungs
from harness.trainers.distill import WORDS

steps: str = ladder_rungs(0)  # a tuple, not a str
words: int = WORDS  # a str, not an int
'''


def test_mypy_reports_a_type_error_across_the_mapped_packages(tmp_path):
    from mypy import api

    build = tmp_path / "build"
    tree = link_tree(build)
    assert (tree / "tasks" / "math.py").resolve() == ROOT / "tasks" / "math.py"
    assert (tree / "trainers" / "distill.py").resolve() == ROOT / "trainers" / "distill.py"
    probe = tree / "tasks" / "_typecheck_probe.py"  # in the link tree only: the sources are not touched
    probe.write_text(PROBE)
    stdout, stderr, status = api.run([str(probe), "--config-file", str(ROOT / "pyproject.toml"), "--follow-imports", "silent",
                                      "--cache-dir", str(tmp_path / "cache")])
    report = real_paths(stdout + stderr, build)
    assert status == 1, report
    assert 'tasks/_typecheck_probe.py:4: error: Incompatible types in assignment (expression has type "tuple[tuple[int, ...], ' in report
    assert 'tasks/_typecheck_probe.py:5: error: Incompatible types in assignment (expression has type "str", variable has type "int")' in report
    assert not (ROOT / "tasks" / "_typecheck_probe.py").exists()
    assert Path(report.split(":", 1)[0]).parts[0] == "tasks"  # reported at the source's path, not the link tree's
