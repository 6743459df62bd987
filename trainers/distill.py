"""Teacher data for SFT: sample the teacher on suite items, verify, mix, guard, save.

    rows = distill(DistillConfig(teacher="reference", suites=["arithmetic"], n=200), out_dir)

The output directory is a Hugging Face `datasets` dataset (`load_from_disk(out_dir)`) with a chat
`messages` column, plus `data_card.json` and `README.md` describing it.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any

from harness.backends.anthropic_backend import with_batch_ledger
from harness.backends.options import options_by_scheme
from harness.config import Arg
from harness.errors import HarnessError
from harness.eval_config import CacheOptions, default_temperature
from harness.generation import CachedGenerator
from harness.records import score_samples
from harness.registry import LazyChoices
from harness.token_budget import backend_thinks, budget_record, prompt_budget
from harness.types import Generation, GenerationParams, Item, Message, Score
from harness.trainers.contamination import ContaminationIndex, item_text, test_items_of_all_suites
from harness.trainers.keep import KEEP_POLICIES  # --keep; plug-ins: the harness.keep_policies entry-point group
from harness.trainers.mixing import dedup, plan_mix

CARD_FILE = "data_card.json"
PROMPTS_SUITE = "prompts"


def parse_quotas(values: list[str]) -> dict[str, float]:
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


def parse_price(value: str) -> tuple[float, float]:
    try:
        first, second = (float(x) for x in value.split(","))
    except ValueError:
        raise HarnessError(f"--price expects IN,OUT (USD per million tokens), got {value!r}") from None
    return first, second


@dataclass
class DistillConfig(CacheOptions):
    """`harness distill`'s settings: its flags are generated from these fields (harness/config.py)."""

    teacher: Annotated[str, Arg("teacher model spec (default: reference = the suites' worked solutions, offline)")] = "reference"
    suites: Annotated[Sequence[str], Arg("suite name (repeatable; default: every suite)", flag="--suite")] = ()
    split: Annotated[str, Arg(choices=("train", "dev"))] = "train"
    n: Annotated[int | None, Arg("rows wanted (default: every candidate item)", positive=True)] = None
    prompts_file: Annotated[str | None, Arg(
        "extra prompts (JSONL: {\"prompt\": ...} or {\"messages\": [...]}), kept unverified", flag="--prompts", metavar="JSONL")] = None
    keep: Annotated[str, Arg("rejection sampling policy: %(choices)s (best: best of --samples)", metavar="POLICY",
                             choices=LazyChoices("harness.trainers.keep:KEEP_POLICIES"))] = "verified"
    samples: Annotated[int, Arg("teacher samples per prompt (k for best-of-k)", positive=True)] = 1
    temperature: Annotated[float | None, Arg("teacher temperature (default 0, or 0.7 with --samples > 1)")] = None
    max_new_tokens: Annotated[int | None, Arg(
        "teacher tokens at most per answer, for every suite (default: each suite's own budget, as harness eval; "
        "--prompts items: 1024)", positive=True)] = None
    reasoning: Annotated[str, Arg("keep the teacher's thinking as <think>...</think> before the answer, or drop it",
                                  choices=("keep", "drop"))] = "keep"
    edge_ratio: Annotated[float | None, Arg("share of rows from edge cases (edge_cases suite and perturbed items)")] = None
    quotas: Annotated[dict[str, float], Arg("per-capability share, e.g. math=0.5 (repeatable)", flag="--quota",
                                            metavar="CAP=SHARE", parse=parse_quotas, repeat=True)] = field(default_factory=dict)
    focus_from: Annotated[str | None, Arg("student results: give more rows to capabilities/perturbations it retains least",
                                          metavar="RESULTS")] = None
    focus_teacher: Annotated[str | None, Arg("teacher results paired with --focus-from (default: use the student's own scores)",
                                             metavar="RESULTS")] = None
    focus: dict[str, float] = field(default_factory=dict)  # capability → weight (from retention)
    variant_focus: dict[str, float] = field(default_factory=dict)  # "capability/kind" → weight
    dedup: Annotated[bool, Arg("keep repeated prompts")] = True
    exclude_ids: frozenset[str] = frozenset()  # items already used (earlier loop rounds)
    contamination_n: Annotated[int, Arg("word n-gram length for the contamination guard", positive=True)] = 13
    contamination_threshold: Annotated[float, Arg("drop rows containing more than this share of any test item's n-grams")] = 0.8
    suite_seed: Annotated[int, Arg("suite generation seed (must match the eval's)", flag="--seed")] = 0
    suite_size: Annotated[int | None, Arg("suite size (must match the eval's)", flag="--size")] = None
    seed: Annotated[int, Arg("seed for drawing items and sampling", flag="--mix-seed")] = 0
    tokenizer: Annotated[str | None, Arg(
        "model spec whose tokenizer measures the data card's token lengths (default: the embedded model); "
        "'words' counts whitespace words instead", metavar="SPEC")] = None
    price_per_mtok: Annotated[tuple[float, float] | None, Arg(
        "teacher price in USD per million input,output tokens (for the data card)", flag="--price", metavar="IN,OUT",
        parse=parse_price)] = None
    backend_options: Annotated[dict[str, Any], Arg(options=options_by_scheme)] = field(default_factory=dict)
    progress: Annotated[bool, Arg("no progress bars or log lines on stderr")] = True
    out: Annotated[Path | None, Arg("output dataset directory", required=True, metavar="DIR")] = None  # distill()'s out_dir wins


# What the data card's "config" leaves out: how the data was fetched, not what it is.
NOT_IN_CARD = ("backend_options", "progress", "exclude_ids", "out", *(f.name for f in fields(CacheOptions)))


@dataclass
class Row:
    """One training conversation of the distilled dataset, with where it came from."""

    messages: list[dict[str, str]]
    id: str
    suite: str
    capability: str
    variant: str
    level: int
    verified: bool | None  # None: no verifier (user prompts)
    score: float | None
    contamination: float = 0.0
    contamination_test_id: str | None = None


def load_prompt_items(path: str) -> list[Item]:
    """JSONL lines: {"prompt": "..."} or {"messages": [...]}, optional "capability" and "id"."""
    p = Path(path)
    if not p.is_file():
        raise HarnessError(f"prompts file not found: {p}")
    items = []
    for lineno, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if "messages" in data:
                messages = [Message(**m) for m in data["messages"] if m["role"] != "assistant"]
            else:
                messages = [Message(role="user", content=str(data["prompt"]))]
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise HarnessError(f"{p}:{lineno}: expected {{'prompt': ...}} or {{'messages': [...]}} ({exc})") from None
        items.append(
            Item(
                id=str(data.get("id", f"{PROMPTS_SUITE}/{lineno:05d}")),
                suite=PROMPTS_SUITE,
                capability=str(data.get("capability", "general")),
                split="train",
                messages=messages,
            )
        )
    return items


def choose_sample(item: Item, generations: list[Generation], scores: list[Score] | None, keep: str) -> tuple[Generation | None, Score | None]:
    """The sample that becomes a training row, or (None, None) when the prompt is rejected."""
    if scores is None:  # user prompts: nothing to verify, whatever the policy
        return next((g for g in generations if g.error is None and g.text.strip()), None), None
    usable = [(g, s) for g, s in zip(generations, scores, strict=True) if g.error is None and g.text.strip()]
    if not usable:
        return None, None
    return KEEP_POLICIES.get(keep)(usable) or (None, None)


def assistant_content(generation: Generation, reasoning: str) -> str:
    if generation.reasoning and reasoning == "keep":
        return f"<think>\n{generation.reasoning.strip()}\n</think>\n{generation.text.strip()}"
    return generation.text.strip()


def make_row(item: Item, generation: Generation, score: Score | None, reasoning: str) -> Row:
    messages = [m.model_dump() for m in item.messages]
    messages.append({"role": "assistant", "content": assistant_content(generation, reasoning)})
    return Row(
        messages=messages,
        id=item.id,
        suite=item.suite,
        capability=item.capability,
        variant=item.variant.kind,
        level=item.variant.level,
        verified=None if score is None else score.correct,
        score=None if score is None else score.value,
    )


class Distiller:
    """One distillation run: candidates, contamination guard, mix, teacher, verification, card."""

    def __init__(self, config: DistillConfig):
        from harness.suite import default_suite_names, get_suite

        if config.keep not in KEEP_POLICIES:
            raise HarnessError(f"--keep must be one of {', '.join(KEEP_POLICIES)}, got {config.keep!r}")
        if config.n is not None and config.n <= 0:
            raise HarnessError(f"--n must be positive, got {config.n}")
        if config.edge_ratio is not None and not 0 <= config.edge_ratio <= 1:
            raise HarnessError(f"--edge-ratio must be in [0, 1], got {config.edge_ratio}")
        if config.split == "test":
            raise HarnessError("refusing to distill from the test split (it is what retention is measured on)")
        if config.temperature is None:
            config = replace(config, temperature=default_temperature(config.samples))
        self.config = config
        names = list(config.suites) or ([] if config.prompts_file else default_suite_names())
        self.suites = {name: get_suite(name, seed=config.suite_seed, size=config.suite_size) for name in names}
        self.stats: dict[str, Any] = defaultdict(int)
        self.usage: Counter[str] = Counter()
        self.contaminated: list[dict[str, Any]] = []
        self.unindexed: dict[str, str] = {}
        self.cache_stats: Any = None  # the response cache's counts (CacheStats), once run
        self.thinking = False  # whether the teacher thinks (REASONING_FACTOR on suite budgets), once run

    def log(self, message: str) -> None:
        if self.config.progress:
            print(f"harness: distill: {message}", file=sys.stderr)

    @property
    def params(self) -> GenerationParams:
        c = self.config
        return GenerationParams(temperature=c.temperature, max_new_tokens=c.max_new_tokens, samples=c.samples, seed=c.seed)

    def candidates(self) -> list[Item]:
        items = [it for suite in self.suites.values() for it in suite.items(self.config.split) if it.id not in self.config.exclude_ids]
        if self.config.prompts_file:
            items += load_prompt_items(self.config.prompts_file)
        if not items:
            raise HarnessError(f"no {self.config.split} items in suites {', '.join(self.suites) or '-'}")
        self.stats["candidates"] = len(items)
        if self.config.dedup:
            items, dropped = dedup(items)
            self.stats["duplicates_dropped"] = dropped
        return items

    def teach(self, generator: CachedGenerator, items: list[Item]) -> list[Row]:
        """Generate for a batch of items (through the response cache), verify with each suite's scorer, keep per the policy."""
        c = self.config
        params = self.params
        # each item within its suite's own budget unless --max-new-tokens, as harness eval (harness/token_budget.py)
        budgets = [prompt_budget(self.suites.get(item.suite), item, params, self.thinking) for item in items]
        generations = generator.generate(items, params, budgets)  # one pass, each item at its budget (its cache key holds it)
        by_suite: dict[str, list[int]] = defaultdict(list)
        for index, item in enumerate(items):
            by_suite[item.suite].append(index)
        scores: list[list[Score] | None] = [None] * len(items)
        for suite_name, indexes in by_suite.items():
            suite = self.suites.get(suite_name)
            if suite is None:
                continue  # user prompts: no verifier
            for i, item_scores in zip(indexes, score_samples(suite, [items[i] for i in indexes], [generations[i] for i in indexes]), strict=True):
                scores[i] = item_scores
        rows = []
        for item, gens, sample_scores in zip(items, generations, scores, strict=True):
            for g in gens:
                self.usage["requests"] += 1
                self.usage["prompt_tokens"] += g.prompt_tokens or 0
                self.usage["completion_tokens"] += g.completion_tokens or 0
                self.usage["failed"] += g.error is not None
            if all(g.error is not None for g in gens):  # failed after the backend's retries: not cached, a rerun asks again
                self.stats["prompts_failed"] += 1
                continue
            if sample_scores is not None:
                ok = [s for g, s in zip(gens, sample_scores, strict=True) if g.error is None]
                self.stats["samples_scored"] += len(ok)
                self.stats["samples_correct"] += sum(s.correct for s in ok)
            self.stats["prompts_generated"] += 1
            chosen, score = choose_sample(item, gens, sample_scores, c.keep)
            if chosen is None:
                self.stats["prompts_rejected"] += 1
                continue
            rows.append(make_row(item, chosen, score, c.reasoning))
        return rows

    def run(self, backend: Any = None) -> list[Row]:
        from harness.backends.base import load_backend

        c = self.config
        items = self.candidates()
        self.log(f"indexing the test split of every suite for the contamination guard (n={c.contamination_n})")
        test_items, self.unindexed = test_items_of_all_suites(c.suite_seed, c.suite_size)
        for name, error in self.unindexed.items():
            self.log(f"warning: suite {name} could not be built, its test split is not guarded ({error})")
        index = ContaminationIndex.build(test_items, n=c.contamination_n)
        clean = []
        for item in items:
            overlap = index.overlap(item_text(item))
            if overlap.score > c.contamination_threshold:
                self.contaminated.append({"id": item.id, "overlap": round(overlap.score, 3), "test_id": overlap.test_id, "stage": "prompt"})
            else:
                clean.append(item)
        pools, targets = plan_mix(clean, c.n, c.edge_ratio, c.quotas or None, c.focus or None, c.variant_focus or None, c.seed)
        self.stats["targets"] = targets
        own_backend = backend is None
        backend = backend or load_backend(c.teacher, **with_batch_ledger(c.backend_options, c.cache_path))
        generator = CachedGenerator(backend, c, c.progress)
        self.cache_stats = generator.stats
        rows: list[Row] = []
        try:
            self.teacher_fingerprint = generator.fingerprint
            self.thinking = backend_thinks(backend)
            for group, pool in pools.items():
                want, position = targets.get(group, 0), 0
                kept: list[Row] = []
                while len(kept) < want and position < len(pool):
                    # Ask for what is missing; rejected or contaminated rows are topped up from the pool.
                    take = want - len(kept)
                    batch = pool[position : position + take]
                    position += len(batch)
                    for row in self.teach(generator, batch):
                        overlap = index.overlap("\n".join(m["content"] for m in row.messages))
                        row.contamination, row.contamination_test_id = round(overlap.score, 4), overlap.test_id
                        if overlap.score > c.contamination_threshold:
                            self.contaminated.append({"id": row.id, "overlap": round(overlap.score, 3), "test_id": overlap.test_id, "stage": "row"})
                        elif len(kept) < want:
                            kept.append(row)
                self.log(f"{group}: {len(kept)}/{want} rows")
                rows.extend(kept)
        finally:
            generator.close(backend_too=own_backend)
        if self.stats["prompts_failed"]:
            self.log(f"{self.stats['prompts_failed']} prompts failed after retries (recorded in the data card; a rerun asks again)")
        if not rows:
            raise HarnessError("no training rows survived verification and the contamination guard")
        return rows

    def card(self, rows: list[Row], lengths: dict[str, Any]) -> dict[str, Any]:
        c = self.config
        generated = self.stats["prompts_generated"]
        per_capability = Counter(r.capability for r in rows)
        per_variant = Counter(f"{r.capability}/{r.variant}" for r in rows)
        usage = dict(self.usage)
        cost = None
        if c.price_per_mtok is not None:
            cost = (usage.get("prompt_tokens", 0) * c.price_per_mtok[0] + usage.get("completion_tokens", 0) * c.price_per_mtok[1]) / 1e6
        return {
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "teacher": c.teacher,
            "teacher_fingerprint": getattr(self, "teacher_fingerprint", None),
            "suites": {name: {"version": s.version, "seed": s.seed, "size": s.size, "capability": s.capability,
                              "token_budget": budget_record(s, s.items(c.split), self.params, self.thinking).model_dump()}
                       for name, s in self.suites.items()},
            "split": c.split,
            "rows": len(rows),
            "per_capability": dict(sorted(per_capability.items())),
            "per_variant": dict(sorted(per_variant.items())),
            "edge_case_rows": sum(1 for r in rows if r.capability == "edge_cases" or r.variant != "canonical"),
            "verified_rows": sum(1 for r in rows if r.verified),
            "unverified_rows": sum(1 for r in rows if r.verified is None),
            "candidates": self.stats["candidates"],
            "duplicates_dropped": self.stats.get("duplicates_dropped", 0),
            "targets": self.stats.get("targets", {}),
            "prompts_generated": generated,
            "prompts_rejected": self.stats["prompts_rejected"],
            "prompts_failed": self.stats["prompts_failed"],
            "cache": self.cache_stats.as_dict() if self.cache_stats else None,
            "rejection_rate": self.stats["prompts_rejected"] / generated if generated else 0.0,
            "teacher_sample_accuracy": self.stats["samples_correct"] / self.stats["samples_scored"] if self.stats["samples_scored"] else None,
            "contamination": {
                "n": c.contamination_n,
                "threshold": c.contamination_threshold,
                "dropped": len(self.contaminated),
                "dropped_rows": self.contaminated[:100],
                "suites_not_indexed": self.unindexed,
                "max_overlap_kept": max((r.contamination for r in rows), default=0.0),
                "mean_overlap_kept": statistics.fmean(r.contamination for r in rows) if rows else 0.0,
            },
            "token_lengths": lengths,
            "teacher_usage": usage,
            "teacher_cost_usd": cost,
            "config": {k: v for k, v in asdict(c).items() if k not in NOT_IN_CARD},
            "excluded_ids": len(c.exclude_ids),
        }


WORDS = "words"  # --tokenizer words: the data card counts whitespace words, no tokenizer is loaded


def length_tokenizer(tokenizer_spec: str | None) -> tuple[Any, str] | None:
    """(tokenizer, unit) that token_lengths measures with; None: whitespace words (--tokenizer words, or
    the default embedded model's tokenizer when it cannot be loaded, e.g. without the model stack).
    A tokenizer the user named that cannot be loaded is a HarnessError: a typo would otherwise turn
    the card's token lengths into word counts without a word."""
    if tokenizer_spec == WORDS:
        return None
    from harness.models.checkpoint import resolve_checkpoint
    from harness.models.spec import parse_model_spec

    try:
        spec = parse_model_spec(tokenizer_spec)
        checkpoint = resolve_checkpoint(spec.target)  # before importing transformers: a bad spec costs nothing

        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    except Exception as exc:
        if tokenizer_spec is None:  # no model stack for the default: words are still informative
            return None
        raise HarnessError(f"--tokenizer {tokenizer_spec!r}: its tokenizer cannot be loaded ({type(exc).__name__}: {exc}); "
                           f"name a model with a tokenizer (hf:PATH, an embedded name) or '{WORDS}' to count words") from exc
    return tokenizer, f"tokens ({spec.raw})"


def token_lengths(rows: list[Row], tokenizer: tuple[Any, str] | None) -> dict[str, Any]:
    """Token-length statistics of the rendered rows, by `length_tokenizer`'s tokenizer (None: whitespace words)."""
    lengths: list[int]
    if tokenizer is None:
        texts_unit = WORDS
        lengths = [sum(len(m["content"].split()) for m in r.messages) for r in rows]
    else:
        measure, texts_unit = tokenizer
        lengths = [len(measure.apply_chat_template(r.messages, tokenize=True, return_dict=True)["input_ids"]) for r in rows]
    ordered = sorted(lengths)
    return {
        "unit": texts_unit,
        "min": ordered[0],
        "mean": round(statistics.fmean(ordered), 1),
        "p50": ordered[len(ordered) // 2],
        "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
        "max": ordered[-1],
        "total": sum(ordered),
    }


def card_markdown(card: dict[str, Any]) -> str:
    cost = "unknown" if card["teacher_cost_usd"] is None else f"${card['teacher_cost_usd']:.4f}"
    lines = [
        "# Distilled SFT data",
        "",
        f"- teacher: `{card['teacher']}`; split: {card['split']}; rows: {card['rows']} "
        f"({card['verified_rows']} verified, {card['unverified_rows']} unverified, {card['edge_case_rows']} edge cases)",
        f"- rejection rate: {card['rejection_rate']:.1%} of {card['prompts_generated']} prompts; duplicates dropped: {card['duplicates_dropped']}",
        f"- contamination guard: {card['contamination']['dropped']} rows dropped "
        f"(word {card['contamination']['n']}-gram overlap with any test item > {card['contamination']['threshold']}); "
        f"max overlap kept {card['contamination']['max_overlap_kept']:.2f}",
        f"- token lengths ({card['token_lengths']['unit']}): mean {card['token_lengths']['mean']}, "
        f"p95 {card['token_lengths']['p95']}, max {card['token_lengths']['max']}, total {card['token_lengths']['total']}",
        f"- teacher usage: {card['teacher_usage']}; cost: {cost}",
        "",
        "| capability | rows |",
        "|---|---|",
        *[f"| {cap} | {n} |" for cap, n in card["per_capability"].items()],
        "",
    ]
    return "\n".join(lines)


def check_writable_dir(path: Path) -> None:
    """--out must be a folder this process can create or write (checked before any request is paid for)."""
    if path.exists() and not path.is_dir():
        raise HarnessError(f"--out {path} is a file, not a folder")
    ancestor = path
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise HarnessError(f"--out {path}: cannot write in {ancestor}")


def check_out_dir(out_dir: Path) -> None:
    """A distill --out is new, empty, or an earlier distilled dataset (which is replaced)."""
    check_writable_dir(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / CARD_FILE).is_file():
        raise HarnessError(f"{out_dir} exists and is not a distilled dataset; choose another --out")


def save_dataset(rows: list[Row], card: dict[str, Any], out_dir: Path) -> None:
    from datasets import Dataset

    out_dir = Path(out_dir)
    check_out_dir(out_dir)
    Dataset.from_list([asdict(r) for r in rows]).save_to_disk(str(out_dir))
    (out_dir / CARD_FILE).write_text(json.dumps(card, indent=2, default=str) + "\n", encoding="utf-8")
    (out_dir / "README.md").write_text(card_markdown(card), encoding="utf-8")


def distill(config: DistillConfig, out_dir: Path | None = None, backend: Any = None) -> dict[str, Any]:
    target = out_dir if out_dir is not None else config.out
    if target is None:
        raise HarnessError("distill needs an output folder (--out)")
    out_dir = Path(target)
    check_out_dir(out_dir)
    if not config.progress:
        import datasets

        datasets.disable_progress_bars()
    tokenizer = length_tokenizer(config.tokenizer)  # before the teacher runs: a mistyped --tokenizer fails at once
    distiller = Distiller(config)
    rows = distiller.run(backend)
    card = distiller.card(rows, token_lengths(rows, tokenizer))
    save_dataset(rows, card, out_dir)
    return card


def load_card(data_dir: str | Path) -> dict[str, Any]:
    path = Path(data_dir) / CARD_FILE
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))
