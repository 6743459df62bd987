"""Write a harness suite as a ready lm-eval task folder.

    DIR/harness_<suite>.yaml        the task config (dataset_path: json, local data files)
    DIR/data/<suite>.<split>.jsonl  one doc per harness item (the full item as JSON)
    DIR/utils.py                    prompt building and scoring (a copy of task_utils.py)

`lm_eval --include_path DIR --tasks harness_<suite>` then runs the suite with the harness's
own scorer. Generation settings are pinned in the YAML (greedy, max_gen_toks, stop only at the
model's end-of-sequence token) so that the run matches `harness eval` with the same settings.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from harness.errors import HarnessError
from harness.lmeval import task_utils
from harness.suite import Suite, get_suite
from harness.types import Item

PROMPT_STYLES = ("chat", "plain")
TASK_PREFIX = "harness_"
TAG = "harness"


@dataclass
class ExportedTask:
    """One harness suite written as an lm-eval task folder."""

    task: str
    suite: str
    yaml_path: Path
    data_path: Path
    n_items: int
    warnings: list[str] = field(default_factory=list)


def task_name(suite: str) -> str:
    return TASK_PREFIX + suite.replace("-", "_")


def item_doc(suite: Suite, item: Item) -> dict[str, str | int]:
    """One data-file row. Only flat scalar columns: the json loader needs one schema for every row."""
    messages = item.messages
    return {
        "id": item.id,
        "suite": suite.name,
        "suite_version": suite.version,
        "suite_seed": suite.seed,
        "suite_size": suite.size,
        "capability": item.capability,
        "split": item.split,
        "variant": item.variant.label,
        "system": messages[0].content if messages and messages[0].role == "system" else "",
        "target": json.dumps(item.answer, default=str),
        "item_json": item.model_dump_json(),
    }


def task_config(task: str, data_path: Path, split: str, prompt_style: str, max_new_tokens: int) -> dict:
    config: dict = {
        "task": task,
        "tag": [TAG],  # `lm_eval --tasks harness` runs every exported suite in the folder
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {split: str(data_path.resolve())}},
        "test_split": split,
        "output_type": "generate_until",
        "doc_to_text": FunctionRef("utils.doc_to_text" if prompt_style == "chat" else "utils.doc_to_text_plain"),
        "doc_to_target": "target",
        "process_results": FunctionRef("utils.process_results"),
        # Empty stop list: lm-eval then stops only at the tokenizer's EOS, like `harness eval`.
        "generation_kwargs": {"until": [], "do_sample": False, "temperature": 0.0, "max_gen_toks": max_new_tokens},
        "num_fewshot": 0,
        "metric_list": [
            {"metric": "acc", "aggregation": "mean", "higher_is_better": True},
            {"metric": "score", "aggregation": "mean", "higher_is_better": True},
        ],
        "metadata": {"version": 1.0},
    }
    if prompt_style == "chat":
        config["description"] = "system"  # a doc field name: lm-eval sends doc["system"] as the system turn
    return config


class FunctionRef(str):
    """A `!function utils.NAME` reference, which lm-eval's YAML loader resolves to a callable."""


class _TaskDumper(yaml.SafeDumper):
    pass


_TaskDumper.add_representer(FunctionRef, lambda dumper, ref: dumper.represent_scalar("!function", str(ref)))


def _dump_yaml(config: dict) -> str:
    return yaml.dump(config, Dumper=_TaskDumper, sort_keys=False, allow_unicode=True, width=1000)


def export_suite(
    suite_name: str,
    out_dir: Path,
    *,
    split: str = "test",
    variants: list[str] | None = None,
    limit: int | None = None,
    groups: int | None = None,
    seed: int = 0,
    size: int | None = None,
    prompt_style: str = "chat",
    max_new_tokens: int = 256,
) -> ExportedTask:
    if prompt_style not in PROMPT_STYLES:
        raise HarnessError(f"unknown prompt style {prompt_style!r} (use {' or '.join(PROMPT_STYLES)})")
    suite = get_suite(suite_name, seed=seed, size=size)
    if suite.relative:
        raise HarnessError(f"suite {suite.name} is scored against a teacher's outputs, so it cannot run as a standalone lm-eval task")
    items = suite.items(split, variants=variants, limit=limit, groups=groups)  # the items harness eval --limit/--groups picks
    if not items:
        raise HarnessError(f"suite {suite.name} has no {split} items for variants {variants}")
    task = task_name(suite.name)
    out_dir = Path(out_dir)
    data_path = out_dir / "data" / f"{suite.name}.{split}.jsonl"
    data_path.parent.mkdir(parents=True, exist_ok=True)
    data_path.write_text("".join(json.dumps(item_doc(suite, it), ensure_ascii=False) + "\n" for it in items), encoding="utf-8")
    yaml_path = out_dir / f"{task}.yaml"
    yaml_path.write_text(_dump_yaml(task_config(task, data_path, split, prompt_style, max_new_tokens)), encoding="utf-8")
    shutil.copyfile(task_utils.__file__, out_dir / "utils.py")

    warnings = []
    multi_turn = sum(sum(m.role != "system" for m in it.messages) > 1 for it in items)
    if multi_turn and prompt_style == "chat":
        warnings.append(
            f"{multi_turn} {suite.name} items have several turns; lm-eval sends one user turn per doc, "
            f"so they are flattened and may score differently from harness eval"
        )
    return ExportedTask(task, suite.name, yaml_path, data_path, len(items), warnings)
