"""`harness tasks list|show`: what suites exist and what their items look like."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="tasks_command", metavar="{list,show}", required=True)
    ls = sub.add_parser("list", help="list suites with capability, version, hash and item counts")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.add_argument("--seed", type=int, default=0)
    ls.add_argument("--size", type=int, default=None, help="canonical test items per suite (default: each suite's own)")
    show = sub.add_parser("show", help="print items with their reference solution")
    show.add_argument("suite")
    show.add_argument("--n", type=int, default=3, help="the first N items (a canonical item is followed by its twins)")
    show.add_argument("--split", default="test", choices=["train", "dev", "test"])
    show.add_argument("--variant", action="append", help="perturbation kind (repeatable); 'canonical' for canonical")
    show.add_argument("--seed", type=int, default=0)
    show.add_argument("--size", type=int, default=None)
    show.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    import json

    from harness.suite import SUITES, get_suite

    if args.tasks_command == "list":
        infos = []
        for name in SUITES.names():
            info = get_suite(name, seed=args.seed, size=args.size).info()
            info["default_selection"] = SUITES.get(name).default_selection  # False: runs only when named
            infos.append(info)
        if args.json:
            print(json.dumps(infos, indent=2))
            return 0
        from tabulate import tabulate

        rows = []
        for info in infos:
            counts = "; ".join(
                f"{split}: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())) for split, c in info["counts"].items()
            )
            default = "yes" if info["default_selection"] else "no (--suite)"
            rows.append([info["name"], info["capability"], info["version"], info["hash"], default, counts])
        print(tabulate(rows, headers=["suite", "capability", "version", "hash", "default", "items"]))
        return 0

    suite = get_suite(args.suite, seed=args.seed, size=args.size)
    items = suite.items(args.split, variants=args.variant)[: args.n]  # in build order, not eval's --limit pick
    for item in items:
        if args.json:
            print(item.model_dump_json())
            continue
        print(f"=== {item.id}  [{item.capability} · {item.split} · {item.variant.label}]")
        for m in item.messages:
            print(f"--- {m.role}\n{m.content}")
        print(f"--- reference answer: {json.dumps(item.answer, default=str)}\n--- reference solution\n{item.reference_response}\n")
    return 0
