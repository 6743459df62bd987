"""The module-level import graph of the `harness` package has no cycles, and no module imports another's
private names (issue 22, finding 6).

Read with `ast` from the source, nothing is imported. The package is `harness/` plus the folders that
pyproject.toml maps into it (`tasks/` is `harness.tasks`, `trainers/` is `harness.trainers`). An edge is an
import that runs when the module is imported: at the top level, or inside a top-level `if`, `try`, `with`
or class body; imports under `if TYPE_CHECKING:` and inside functions (lazy imports) are not edges.
`from harness.x import y` is an edge to `harness.x.y` when that is a module, else to `harness.x`.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# package name -> its folder (pyproject.toml's [tool.setuptools] package-dir)
ROOTS = {"harness": REPO / "harness", "harness.tasks": REPO / "tasks", "harness.trainers": REPO / "trainers"}


def module_files() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    modules: dict[str, Path] = {}
    for package, folder in ROOTS.items():
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join([package, *parts])] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_time_imports(body: list[ast.stmt]):
    """The import statements that run when a module with this body is imported."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from import_time_imports(node.body)
            yield from import_time_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from import_time_imports(block)
        elif isinstance(node, ast.With | ast.ClassDef):
            yield from import_time_imports(node.body)


def all_imports(tree: ast.Module):
    """Every import statement, lazy ones included."""
    return [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]


def imported_names(module: str, path: Path, node: ast.Import | ast.ImportFrom, modules: set[str]):
    """(target module, imported name or None) for each name one import statement binds."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name, None
        return
    if node.level:
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{node.module}" if node.module else package
    else:
        base = node.module or ""
    for alias in node.names:
        if f"{base}.{alias.name}" in modules:
            yield f"{base}.{alias.name}", None
        else:
            yield base, alias.name


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    names = set(files)
    graph: dict[str, set[str]] = {name: set() for name in files}
    for module, path in files.items():
        tree = ast.parse(path.read_text(), str(path))
        for node in import_time_imports(tree.body):
            for target, _ in imported_names(module, path, node, names):
                if target in names and target != module:
                    graph[module].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_graph_reader_sees_the_package():
    graph = import_graph()
    assert {"harness.cli", "harness.tasks.math", "harness.trainers.distill", "harness.sandbox.pool"} <= set(graph)
    assert "harness.sandbox.limits" in graph["harness.sandbox.execute"]  # `from harness.sandbox.limits import ...`


def test_find_cycle_names_the_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "module-level import cycle: " + " -> ".join(cycle or [])


def private_imports(module: str, path: Path, tree: ast.Module, modules: set[str]) -> list[str]:
    """`from harness.x import _name` anywhere in the module (lazy imports too), for another harness module x;
    dunders (`__version__`) and private modules (`harness.backends._api`, private to their package) are allowed."""
    found = []
    for node in all_imports(tree):
        for target, name in imported_names(module, path, node, modules):
            if name is None or target == module or not target.startswith("harness"):
                continue
            if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
                found.append(f"{module} imports {name} from {target} (line {node.lineno})")
    return found


def test_resolves_relative_and_submodule_imports():
    modules = {"harness.a", "harness.a.b", "harness.a.c", "harness.c"}
    tree = ast.parse("from . import c\nfrom .c import _x, __version__\nfrom harness.a import b, thing\nimport harness.c\n")
    path = REPO / "harness" / "a" / "mod.py"
    got = [pair for node in all_imports(tree) for pair in imported_names("harness.a.mod", path, node, modules)]
    assert got == [("harness.a.c", None), ("harness.a.c", "_x"), ("harness.a.c", "__version__"), ("harness.a.b", None),
                   ("harness.a", "thing"), ("harness.c", None)]
    assert private_imports("harness.a.mod", path, tree, modules) == ["harness.a.mod imports _x from harness.a.c (line 2)"]


def test_no_private_names_imported_across_modules():
    files = module_files()
    offences = [line for module, path in files.items()
                for line in private_imports(module, path, ast.parse(path.read_text(), str(path)), set(files))]
    assert not offences, "private names imported from other modules:\n" + "\n".join(offences)
