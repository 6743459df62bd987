"""`harness plugins`: every registry, its entry-point group, and what is registered where; and each
backend's options (the flags `harness eval` offers for it, from its `Options` dataclass)."""

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
    listed from their entry points, not imported, except backends: each backend entry also has
    `options` ([{flag, default, help}], read from its Options class; None when it takes any keyword
    options), or `error` when its plug-in cannot be loaded."""
    import importlib

    out = []
    for kind, where in REGISTRIES:
        module, _, attr = where.partition(":")
        registry = getattr(importlib.import_module(module), attr)
        entries = [{"name": name, "package": registry.origin(name)} for name in registry.names()]
        entries = [e for e in entries if e["package"] or not plugins_only]
        if kind == "backend":
            for entry in entries:
                entry.update(backend_options(registry, entry["name"]))
        out.append({"kind": kind, "group": registry.entry_point_group, "entries": entries})
    return out


def backend_options(registry, name: str) -> dict:
    """{"options": [{flag, default, help}] or None} for one backend, or {"error": why} when it cannot be loaded."""
    from harness.config import flags
    from harness.errors import HarnessError

    try:
        options_cls = registry.get(name).Options
    except HarnessError as exc:
        return {"error": str(exc)}
    if options_cls is None:
        return {"options": None}
    return {"options": [{"flag": f.option, "default": f.default, "help": f.arg.help} for f in flags(options_cls)]}


def run(args: argparse.Namespace) -> int:
    import json

    from tabulate import tabulate

    data = listing(args.plugins_only)
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    rows = [[d["kind"], d["group"], e["name"], e["package"] or "built-in"] for d in data for e in d["entries"]]
    print(tabulate(rows, headers=["registry", "entry-point group", "name", "from"]))
    backends = next(d["entries"] for d in data if d["kind"] == "backend")
    rows = []
    for entry in backends:
        if "error" in entry:
            rows.append([entry["name"], "(cannot be loaded)", "", entry["error"]])
        elif entry["options"] is None:
            rows.append([entry["name"], "(any keyword options; no flags)", "", ""])
        else:
            rows += [[entry["name"], o["flag"], "" if o["default"] is None else o["default"], o["help"]] for o in entry["options"]]
            rows += [[entry["name"], "(no options)", "", ""]] if not entry["options"] else []
    if rows:
        print()
        print(tabulate(rows, headers=["backend", "option", "default", "help"], maxcolwidths=[None, None, None, 60]))
    return 0
