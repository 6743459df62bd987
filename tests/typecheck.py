"""mypy over the harness package as it is installed, mapped folders included.

pyproject.toml maps `tasks/` to `harness.tasks` and `trainers/` to `harness.trainers` (package-dir).
mypy knows nothing of that mapping: given `harness`, it finds no `harness/tasks`, and under
`ignore_missing_imports` every `harness.tasks` / `harness.trainers` import silently becomes `Any`
(their own files are never read). So this builds the installed layout as a tree of links under
build/mypy (`harness/` with `tasks/` and `trainers/` linked in where the package maps them), runs
mypy on it with the project's configuration, and prints mypy's report with the real paths.

    .venv/bin/python tests/typecheck.py [extra paths, e.g. bench]
"""

from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP = {"__pycache__"}


def package_dirs(root: Path = ROOT) -> dict[str, Path]:
    """Package name -> its source folder, from pyproject.toml's [tool.setuptools] package-dir."""
    config = tomllib.loads((root / "pyproject.toml").read_text())
    return {name: root / folder for name, folder in config["tool"]["setuptools"]["package-dir"].items()}


def link_tree(build: Path, root: Path = ROOT) -> Path:
    """build/<top package>: the installed package's layout, every entry a link to its source (each mapped
    folder a real folder of links, so a caller may add a file to it without touching the sources)."""
    dirs = package_dirs(root)
    top = min(dirs, key=len)
    shutil.rmtree(build / top, ignore_errors=True)
    for name in sorted(dirs, key=len):  # a package before the packages mapped into it
        folder = build.joinpath(*name.split("."))
        folder.mkdir(parents=True, exist_ok=True)
        for entry in sorted(dirs[name].iterdir()):
            if entry.name not in SKIP and not (folder / entry.name).exists():
                (folder / entry.name).symlink_to(entry)
    return build / top


def real_paths(report: str, build: Path, root: Path = ROOT) -> str:
    """mypy's report with each path under the link tree written as the source file's own path."""
    for name, folder in sorted(package_dirs(root).items(), key=lambda item: -len(item[0])):
        linked = build.joinpath(*name.split("."))
        for prefix in {str(linked) + "/", f"{linked.relative_to(root) if linked.is_relative_to(root) else linked}/"}:
            report = report.replace(prefix, f"{folder.relative_to(root)}/")
    return report


def run_mypy(args: list[str], build: Path = ROOT / "build" / "mypy", root: Path = ROOT) -> tuple[int, str]:
    """(mypy's exit status, its report) over the linked package plus `args` (more paths or flags)."""
    from mypy import api

    tree = link_tree(build, root)
    stdout, stderr, status = api.run([str(tree.relative_to(root) if tree.is_relative_to(root) else tree), *args,
                                      "--config-file", str(root / "pyproject.toml")])
    return status, real_paths(stdout + stderr, build, root)


if __name__ == "__main__":
    status, report = run_mypy(sys.argv[1:])
    print(report, end="")
    sys.exit(status)
