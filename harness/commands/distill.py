"""`harness distill`: verified teacher data for SFT, saved as a Hugging Face dataset + data card."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from harness.config import add_config_arguments
    from harness.trainers.distill import DistillConfig

    add_config_arguments(parser, DistillConfig)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace
    from pathlib import Path

    from tabulate import tabulate

    from harness.backends.options import check_spec_options
    from harness.config import config_from_args
    from harness.trainers.distill import DistillConfig, check_out_dir, distill
    from harness.trainers.focus import load_focus

    config = config_from_args(DistillConfig, args)
    check_spec_options(config.teacher, config.backend_options)  # a bad spec or option fails before any work
    check_out_dir(Path(config.out))  # before the focus results are read or any teacher request is sent
    if config.focus_from:
        focus = load_focus(config.focus_from, config.focus_teacher)
        print("focus weights: " + ", ".join(f"{k}={v:.2f}" for k, v in {**focus.capabilities, **focus.variants}.items()))
        config = replace(config, focus=focus.capabilities, variant_focus=focus.variants)
    card = distill(config)
    print(tabulate(sorted(card["per_capability"].items()), headers=["capability", "rows"]))
    contamination = card["contamination"]
    print(
        f"rows: {card['rows']}  rejected: {card['prompts_rejected']}/{card['prompts_generated']} prompts "
        f"({card['rejection_rate']:.1%})  contaminated dropped: {contamination['dropped']} "
        f"(max overlap kept {contamination['max_overlap_kept']:.2f})"
    )
    if card["prompts_failed"]:
        print(f"{card['prompts_failed']} prompts failed after retries: recorded in the data card, not used; rerun to retry them")
    print(f"wrote {config.out} (load with datasets.load_from_disk) and {Path(config.out) / 'data_card.json'}")
    return 0
