"""`harness plugins`: every registry, its entry-point group, and what is registered where."""

from __future__ import annotations

import argparse

# (registry, "module:ATTRIBUTE"): every pluggable kind of harness
REGISTRIES = (
    ("backend", "harness.backends.registry:BACKENDS"),
    ("suite", "harness.suite:SUITES"),
    ("vote method", "harness.voting:VOTE_METHODS"),
    ("abstention judge", "harness.scoring.judges:ABSTENTION_JUDGES"),
    ("keep policy", "harness.trainers.keep:KEEP_POLICIES"),
    ("output format", "harness.report.formats:OUTPUT_FORMATS"),
    ("command", "harness.cli:COMMANDS"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON: one object per registry")
    parser.add_argument("--plugins-only", action="store_true", help="only entries that installed packages add")


def listing(plugins_only: bool = False) -> list[dict]:
    """[{kind, group, entries: [{name, package}]}]; package None: built into harness. Plug-ins are
    listed from their entry points, not imported."""
    import importlib

    out = []
    for kind, where in REGISTRIES:
        module, _, attr = where.partition(":")
        registry = getattr(importlib.import_module(module), attr)
        entries = [{"name": name, "package": registry.origin(name)} for name in registry.names()]
        out.append({"kind": kind, "group": registry.entry_point_group,
                    "entries": [e for e in entries if e["package"] or not plugins_only]})
    return out


def run(args: argparse.Namespace) -> int:
    import json

    from tabulate import tabulate

    data = listing(args.plugins_only)
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    rows = [[d["kind"], d["group"], e["name"], e["package"] or "built-in"] for d in data for e in d["entries"]]
    print(tabulate(rows, headers=["registry", "entry-point group", "name", "from"]))
    return 0
