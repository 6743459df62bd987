"""The one registry mechanism: a decorator for in-tree plugins plus an entry-point group
so that other installed packages can add their own.

    SUITES = Registry("suite", entry_point_group="harness.suites", builtin_packages=["harness.tasks"])

    @SUITES.register("math")
    class MathSuite(Suite): ...

The registered name is the only name: the registry writes it to the object's `name`
attribute (a class that declares a different `name` of its own is refused), so a decorator
and a class attribute can never disagree.

A plug-in package adds entries through its pyproject.toml; the entry-point name is the
registered name:

    [project.entry-points."harness.backends"]
    echo = "my_plugin.backend:EchoBackend"

A test or a script that registers an entry of its own for a while uses `with REGISTRY.temporarily(name,
obj):` (or `unregister(name)`), so nothing it adds outlives it.

Groups: harness.backends, harness.suites, harness.vote_methods, harness.abstention_judges,
harness.keep_policies, harness.output_formats, harness.commands, harness.executors. Built-in modules are imported
on first lookup and a plug-in's module only when its entry is used, so importing a registry
(and listing names) stays cheap. Built-in entries win over a plug-in of the same name.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
import types
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from harness.errors import HarnessError

T = TypeVar("T")


def bind_name(obj: Any, name: str, kind: str) -> None:
    """Make `name` the object's own name; refuse a class that already declares another one."""
    if isinstance(obj, types.ModuleType):
        return  # a module (a plug-in command) is named by its entry alone
    declared = vars(obj).get("name") if isinstance(obj, type) else getattr(obj, "name", None)
    if declared not in (None, "", name):
        raise ValueError(f"{kind} registered as {name!r} declares name {declared!r}: drop the attribute, the registry sets it")
    try:
        obj.name = name
    except (AttributeError, TypeError):
        pass  # objects without writable attributes (a builtin function) keep only the registry's name


@functools.cache
def declared_groups() -> frozenset[str] | None:
    """Entry-point groups some installed distribution declares, from a plain read of the
    entry_points.txt files on sys.path (None when a path entry is not a folder: then ask
    importlib.metadata). importlib.metadata reads every distribution's metadata, which would
    double the time of `harness --help`; this lets it run only for groups that have entries."""
    groups: set[str] = set()
    for entry in sys.path:
        folder = entry or "."
        if not os.path.isdir(folder):
            if os.path.exists(folder):
                return None  # a zip or an egg file: let importlib.metadata look inside
            continue
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                try:
                    with open(os.path.join(folder, name, "entry_points.txt"), encoding="utf-8") as f:
                        groups.update(line.strip()[1:-1].strip() for line in f if line.lstrip().startswith("["))
                except OSError:
                    continue
    return frozenset(groups)


class Registry(Generic[T]):
    """Named plug-ins of one kind: built-ins register with a decorator, other packages through an entry-point group."""

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
        self._plugins: dict[str, Any] = {}  # name -> importlib.metadata.EntryPoint, loaded on first use
        self._origins: dict[str, str] = {}  # name -> the distribution an entry point came from
        self._loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            return self.add(name, obj)

        return decorator

    def add(self, name: str, obj: T) -> T:
        existing = self._entries.get(name)
        if existing is not None and existing is not obj:
            raise ValueError(f"{self.kind} {name!r} is registered twice ({existing!r} and {obj!r})")
        bind_name(obj, name, self.kind)
        self._entries[name] = obj
        return obj

    def unregister(self, name: str) -> T:
        """Remove an entry this process registered (or loaded from a plug-in) and return it."""
        if name not in self._entries:
            raise KeyError(f"{self.kind} {name!r} is not registered in this process")
        self._origins.pop(name, None)
        return self._entries.pop(name)

    @contextmanager
    def temporarily(self, name: str, obj: T) -> Iterator[T]:
        """`obj` registered as `name` inside the block only (a test's or a script's own entry), removed on the way out."""
        self.add(name, obj)
        try:
            yield obj
        finally:
            self.unregister(name)

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for module in self.builtin_modules:
            importlib.import_module(module)
        if self.builtin_packages:
            import pkgutil

            for package in self.builtin_packages:
                pkg = importlib.import_module(package)
                for sub in pkgutil.iter_modules(pkg.__path__):
                    if not sub.name.startswith("_"):
                        importlib.import_module(f"{package}.{sub.name}")
        declared = declared_groups()
        if self.entry_point_group and (declared is None or self.entry_point_group in declared):
            from importlib.metadata import entry_points

            for ep in entry_points(group=self.entry_point_group):
                if ep.name in self._entries:
                    if getattr(self._entries[ep.name], "__module__", None) != getattr(ep, "module", None):
                        warnings.warn(f"{self.kind} {ep.name!r} from {ep.value} is ignored: a built-in has that name", stacklevel=2)
                    continue
                if ep.name not in self._plugins:
                    self._plugins[ep.name] = ep
                    self._origins[ep.name] = getattr(ep.dist, "name", None) or ep.value

    def _load_plugin(self, name: str) -> T:
        ep = self._plugins.pop(name)
        try:
            obj = ep.load()
        except Exception as exc:
            raise HarnessError(f"{self.kind} {name!r} could not be loaded from {ep.value} "
                               f"(package {getattr(ep.dist, 'name', '?')}): {type(exc).__name__}: {exc}") from exc
        try:
            return self.add(name, obj)
        except ValueError as exc:
            raise HarnessError(f"{self.kind} {name!r} from {ep.value}: {exc}") from None

    def get(self, name: str) -> T:
        self._load()
        if name in self._entries:
            return self._entries[name]
        if name in self._plugins:
            return self._load_plugin(name)
        raise HarnessError(f"unknown {self.kind} {name!r} (known: {', '.join(self.names()) or 'none'})")

    def names(self) -> list[str]:
        """Every registered name, plug-ins included, without importing any plug-in."""
        self._load()
        return sorted({*self._entries, *self._plugins})

    def origin(self, name: str) -> str | None:
        """The package that added `name` through an entry point; None for in-process entries."""
        self._load()
        return self._origins.get(name)

    def items(self) -> list[tuple[str, T]]:
        """(name, entry) for every entry; this imports every plug-in."""
        return [(name, self.get(name)) for name in self.names()]

    def values(self) -> list[T]:
        return [obj for _, obj in self.items()]

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._entries or name in self._plugins

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, entry_point_group={self.entry_point_group!r})"


class LazyChoices:
    """argparse `choices` naming a registry by "module:ATTRIBUTE": the registry module is imported
    only when a value is checked or the choices are listed, so `harness --help` imports nothing.
    Give the argument a `metavar` (argparse lists choices in the usage line otherwise)."""

    def __init__(self, where: str):
        self.where = where

    def _registry(self) -> Registry:
        module, _, attr = self.where.partition(":")
        return getattr(importlib.import_module(module), attr)

    def __contains__(self, name: object) -> bool:
        return name in self._registry()

    def __iter__(self) -> Iterator[str]:
        return iter(self._registry().names())

    def __repr__(self) -> str:
        return f"LazyChoices({self.where!r})"
