"""`harness distill`: verified teacher data for SFT, saved as a Hugging Face dataset + data card."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--teacher", default="reference", help="teacher model spec (default: reference = the suites' worked solutions, offline)")
    parser.add_argument("--suite", action="append", default=[], help="suite name (repeatable; default: every suite)")
    parser.add_argument("--split", default="train", choices=["train", "dev"])
    parser.add_argument("--n", type=int, default=None, help="rows wanted (default: every candidate item)")
    parser.add_argument("--out", required=True, help="output dataset directory")
    parser.add_argument("--prompts", default=None, help="extra prompts (JSONL: {\"prompt\": ...} or {\"messages\": [...]}), kept unverified")
    from harness.registry import LazyChoices

    parser.add_argument("--keep", default="verified", choices=LazyChoices("harness.trainers.keep:KEEP_POLICIES"), metavar="POLICY",
                        help="rejection sampling policy: %(choices)s (best: best of --samples)")
    parser.add_argument("--samples", type=int, default=1, help="teacher samples per prompt (k for best-of-k)")
    parser.add_argument("--temperature", type=float, default=None, help="teacher temperature (default 0, or 0.7 with --samples > 1)")
    parser.add_argument("--max-new-tokens", type=int, default=1024)
    parser.add_argument("--reasoning", default="keep", choices=["keep", "drop"], help="keep the teacher's thinking as <think>...</think> before the answer")
    parser.add_argument("--edge-ratio", type=float, default=None, help="share of rows from edge cases (edge_cases suite and perturbed items)")
    parser.add_argument("--quota", action="append", default=[], metavar="CAP=SHARE", help="per-capability share, e.g. math=0.5 (repeatable)")
    parser.add_argument("--focus-from", default=None, metavar="RESULTS", help="student results: give more rows to capabilities/perturbations it retains least")
    parser.add_argument("--focus-teacher", default=None, metavar="RESULTS", help="teacher results paired with --focus-from (default: use the student's own scores)")
    parser.add_argument("--no-dedup", action="store_true")
    parser.add_argument("--contamination-n", type=int, default=13, help="word n-gram length for the contamination guard")
    parser.add_argument("--contamination-threshold", type=float, default=0.8, help="drop rows containing more than this share of any test item's n-grams")
    parser.add_argument("--seed", type=int, default=0, help="suite generation seed (must match the eval's)")
    parser.add_argument("--size", type=int, default=None, help="suite size (must match the eval's)")
    parser.add_argument("--mix-seed", type=int, default=0, help="seed for drawing items and sampling")
    parser.add_argument("--tokenizer", default=None, help="model spec whose tokenizer measures token lengths (default: the embedded model)")
    parser.add_argument("--price", default=None, metavar="IN,OUT", help="teacher price in USD per million input,output tokens (for the data card)")
    parser.add_argument("--batch-size", type=int, default=16, help="teacher batch size (hf/vllm teachers)")
    parser.add_argument("--no-progress", action="store_true")


def parse_quotas(values: list[str]) -> dict[str, float]:
    from harness.errors import HarnessError

    quotas = {}
    for value in values:
        cap, sep, share = value.partition("=")
        try:
            quotas[cap.strip()] = float(share)
        except ValueError:
            sep = ""
        if not sep or quotas.get(cap.strip(), -1) < 0:
            raise HarnessError(f"--quota expects CAPABILITY=SHARE with SHARE >= 0, got {value!r}")
    return quotas


def parse_price(value: str | None) -> tuple[float, float] | None:
    from harness.errors import HarnessError

    if value is None:
        return None
    try:
        first, second = (float(x) for x in value.split(","))
    except ValueError:
        raise HarnessError(f"--price expects IN,OUT (USD per million tokens), got {value!r}") from None
    return first, second


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tabulate import tabulate

    from harness.errors import HarnessError
    from harness.models.spec import parse_model_spec
    from harness.trainers.distill import DistillConfig, distill
    from harness.trainers.focus import load_focus

    parse_model_spec(args.teacher)
    if args.samples <= 0:
        raise HarnessError(f"--samples must be positive, got {args.samples}")
    focus = load_focus(args.focus_from, args.focus_teacher) if args.focus_from else None
    if focus is not None:
        print("focus weights: " + ", ".join(f"{k}={v:.2f}" for k, v in {**focus.capabilities, **focus.variants}.items()))
    temperature = args.temperature if args.temperature is not None else (0.7 if args.samples > 1 else 0.0)
    config = DistillConfig(
        teacher=args.teacher,
        suites=args.suite,
        split=args.split,
        n=args.n,
        prompts_file=args.prompts,
        keep=args.keep,
        samples=args.samples,
        temperature=temperature,
        max_new_tokens=args.max_new_tokens,
        reasoning=args.reasoning,
        edge_ratio=args.edge_ratio,
        quotas=parse_quotas(args.quota),
        focus=focus.capabilities if focus else {},
        variant_focus=focus.variants if focus else {},
        dedup=not args.no_dedup,
        contamination_n=args.contamination_n,
        contamination_threshold=args.contamination_threshold,
        suite_seed=args.seed,
        suite_size=args.size,
        seed=args.mix_seed,
        tokenizer=args.tokenizer,
        price_per_mtok=parse_price(args.price),
        backend_options={"batch_size": args.batch_size} if parse_model_spec(args.teacher).scheme in ("hf", "vllm") else {},
        progress=not args.no_progress,
    )
    card = distill(config, Path(args.out))
    print(tabulate(sorted(card["per_capability"].items()), headers=["capability", "rows"]))
    contamination = card["contamination"]
    print(
        f"rows: {card['rows']}  rejected: {card['prompts_rejected']}/{card['prompts_generated']} prompts "
        f"({card['rejection_rate']:.1%})  contaminated dropped: {contamination['dropped']} "
        f"(max overlap kept {contamination['max_overlap_kept']:.2f})"
    )
    print(f"wrote {args.out} (load with datasets.load_from_disk) and {Path(args.out) / 'data_card.json'}")
    return 0
