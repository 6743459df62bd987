"""`harness merge SHARD_DIR... --out OUT`: join the shards of a `harness eval --shard I/N` run into its results."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shards", nargs="+", metavar="SHARD_DIR",
                        help="the output dirs of `harness eval ... --shard I/N`, every I from 1 to N once, in any order")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="where to write results.json and samples.jsonl, as the unsharded run would have")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.errors import HarnessError
    from harness.results import write_results
    from harness.shard import merge_shards

    out = Path(args.out)
    for shard in args.shards:
        if Path(shard).resolve() == out.resolve():
            raise HarnessError(f"--out {out} is one of the shards; merge into another dir")
    results, records = merge_shards(args.shards)
    write_results(out, results, records)
    groups = sum(c.n_groups or 0 for c in results.capabilities.values())
    print(f"merged {len(args.shards)} shards: {len(records)} items, {groups} problem groups, {len(results.suites)} suites")
    print(f"wrote {out / 'results.json'} and {out / 'samples.jsonl'}")
    return 0
