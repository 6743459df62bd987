"""`harness export lm-eval`: write suites as a ready lm-eval task folder."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("format", choices=["lm-eval"], help="what to export to")
    parser.add_argument("--suite", action="append", required=True, help="suite name (repeatable)")
    parser.add_argument("--out", required=True, help="task folder to write (lm_eval --include_path OUT)")
    parser.add_argument("--split", default="test", choices=["train", "dev", "test"])
    parser.add_argument("--variant", action="append", help="only these variants ('canonical' or a perturbation kind)")
    parser.add_argument("--limit", type=int, default=None, metavar="N",
                        help="at most N items per suite, picked as harness eval --limit picks them "
                        "(evenly spread problem groups, a canonical item and one twin each)")
    parser.add_argument("--groups", type=int, default=None, metavar="G",
                        help="G whole problem groups per suite, evenly spread (as harness eval --groups)")
    parser.add_argument("--seed", type=int, default=0, help="suite generation seed")
    parser.add_argument("--size", type=int, default=None, help="canonical test items per suite")
    parser.add_argument("--max-new-tokens", type=int, default=256, help="max_gen_toks in the task config")
    parser.add_argument(
        "--prompt-style",
        choices=["chat", "plain"],
        default="chat",
        help="chat: run lm_eval with --apply_chat_template (matches harness eval on chat models); "
        "plain: the harness's prompt for models without a chat template",
    )


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from harness.errors import HarnessError
    from harness.lmeval.export import export_suite

    for name, value in (("--limit", args.limit), ("--groups", args.groups), ("--max-new-tokens", args.max_new_tokens)):
        if value is not None and value <= 0:
            raise HarnessError(f"{name} must be positive, got {value}")
    out = Path(args.out)
    tasks = []
    for suite in dict.fromkeys(args.suite):
        exported = export_suite(
            suite,
            out,
            split=args.split,
            variants=args.variant,
            limit=args.limit,
            groups=args.groups,
            seed=args.seed,
            size=args.size,
            prompt_style=args.prompt_style,
            max_new_tokens=args.max_new_tokens,
        )
        for warning in exported.warnings:
            print(f"harness: warning: {warning}", file=sys.stderr)
        print(f"{exported.task}: {exported.n_items} items → {exported.yaml_path}")
        tasks.append(exported.task)
    chat = " --apply_chat_template" if args.prompt_style == "chat" else ""
    print(f"run: lm_eval --model hf --model_args pretrained=MODEL --include_path {out} --tasks {','.join(tasks)}{chat} --log_samples --output_path OUT")
    return 0
