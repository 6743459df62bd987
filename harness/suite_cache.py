"""A disk cache of built suites: every process that needs a suite's items (eval, distill's
contamination guard over all suites, `tasks list`) would otherwise rebuild it from its generators,
which takes seconds per suite (about 17 s for all of them).

A built suite is stored under the harness cache as a pickle (item answers and metadata keep their
exact Python types) keyed by the suite's name, version, seed and size and by a fingerprint of the
code that builds it: the source of the harness package (suites, scorers, templates) and the versions
of the libraries a build draws from. Any change to either is a miss, so a stale build is never
read. Only built-in suites are cached; a plug-in suite's code lives outside that fingerprint.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.suite import Suite
    from harness.types import Item

# Libraries whose output a build depends on (reasoning-gym generators, sympy-checked math templates).
BUILD_LIBRARIES = ("pydantic", "reasoning-gym", "sympy")


@cache
def code_fingerprint() -> str:
    """Hash of every source file of the harness package (with harness.tasks) and the library versions."""
    import harness
    import harness.tasks

    h = hashlib.sha256(sys.version.encode())
    for root in sorted({Path(harness.__file__).parent, *map(Path, harness.tasks.__path__)}):
        for path in sorted(root.rglob("*.py")):
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    for name in BUILD_LIBRARIES:
        try:
            h.update(f"{name}=={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{name} absent".encode())
    return h.hexdigest()[:16]


def cacheable(suite: Suite) -> bool:
    return type(suite).__module__.startswith("harness.")


def cache_path(suite: Suite) -> Path:
    from harness.paths import cache_dir

    return cache_dir() / "suites" / f"{suite.name}-v{suite.version}-seed{suite.seed}-size{suite.size}-{code_fingerprint()}.pkl"


def load(suite: Suite) -> list[Item] | None:
    """The cached build of `suite`, or None (not cached, unreadable, or another code version)."""
    if not cacheable(suite):
        return None
    try:
        with open(cache_path(suite), "rb") as f:
            items = pickle.load(f)
    except Exception:  # absent, truncated or written by other code: rebuild
        return None
    return items if isinstance(items, list) else None


def store(suite: Suite, items: list[Item]) -> None:
    """Write the build atomically (concurrent processes may race; the last rename wins, both are equal)
    and remove this suite's builds by other code versions."""
    if not cacheable(suite):
        return
    path = cache_path(suite)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as f:
            pickle.dump(items, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(f.name, path)
        stem = path.name.rsplit("-", 1)[0]
        for old in path.parent.glob(f"{stem}-*.pkl"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:  # a read-only or full cache only costs the next process a rebuild
        return
