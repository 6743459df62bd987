"""The one registry mechanism: a decorator for in-tree plugins plus an entry-point group
so that other installed packages can add their own.

    SUITES = Registry("suite", entry_point_group="harness.suites", builtin_packages=["harness.tasks"])

    @SUITES.register("math")
    class MathSuite(Suite): ...

Built-in modules are imported on first lookup, so importing the registry stays cheap.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from harness.errors import HarnessError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(
        self,
        kind: str,
        entry_point_group: str | None = None,
        builtin_modules: Iterable[str] = (),
        builtin_packages: Iterable[str] = (),
    ):
        self.kind = kind
        self.entry_point_group = entry_point_group
        self.builtin_modules = list(builtin_modules)
        self.builtin_packages = list(builtin_packages)  # every public submodule is imported
        self._entries: dict[str, T] = {}
        self._loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            existing = self._entries.get(name)
            if existing is not None and existing is not obj:
                raise ValueError(f"{self.kind} {name!r} is registered twice ({existing!r} and {obj!r})")
            self._entries[name] = obj
            return obj

        return decorator

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for module in self.builtin_modules:
            importlib.import_module(module)
        for package in self.builtin_packages:
            pkg = importlib.import_module(package)
            for sub in pkgutil.iter_modules(pkg.__path__):
                if not sub.name.startswith("_"):
                    importlib.import_module(f"{package}.{sub.name}")
        if self.entry_point_group:
            for ep in entry_points(group=self.entry_point_group):
                if ep.name not in self._entries:
                    self._entries[ep.name] = ep.load()

    def get(self, name: str) -> T:
        self._load()
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "none"
            raise HarnessError(f"unknown {self.kind} {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        self._load()
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        self._load()
        return name in self._entries
