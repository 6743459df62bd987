"""Read an lm-eval output folder (`lm_eval --output_path OUT --log_samples`) into harness results.

lm-eval writes OUT/<model>/results_<timestamp>.json and, beside it, one
samples_<task>_<timestamp>.jsonl per task. RESULTS_DIR may be OUT, the model folder, or the
results file itself; within one folder the newest run is taken.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.lmeval.capabilities import parse_task_spec
from harness.lmeval.convert import Converted, TaskOutput, convert, is_exported_harness_task, make_results
from harness.results import ModelInfo, Results
from harness.types import GenerationParams, SampleRecord


def find_results_file(path: str | Path) -> Path:
    p = Path(path)
    if p.is_file():
        return p
    if not p.is_dir():
        raise HarnessError(f"lm-eval output not found: {p}")
    found = sorted(p.rglob("results_*.json"))  # (an --output_path ending in .json: name that file instead)
    if not found:
        raise HarnessError(f"{p} holds no lm-eval results_*.json (run lm_eval with --output_path and --log_samples)")
    folders = sorted({f.parent for f in found})
    if len(folders) > 1:
        listed = ", ".join(str(f) for f in folders)
        raise HarnessError(f"{p} holds lm-eval runs of several models ({listed}): name one folder")
    return found[-1]  # lm-eval's timestamped names sort in time order


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise HarnessError(f"{path}:{lineno}: not JSON ({exc.msg})") from None
    return rows


def read_samples(results_file: Path, task: str) -> list[dict[str, Any]]:
    stamp = results_file.stem.rsplit("_", 1)[-1]  # lm-eval's date id (results_<id>.json, or <name>_<id>.json)
    path = results_file.parent / f"samples_{task}_{stamp}.jsonl"
    if not path.is_file():
        raise HarnessError(f"{path} is missing: harness needs lm-eval's per-sample log (rerun lm_eval with --log_samples)")
    return _read_jsonl(path)


def task_capabilities(data: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, str | None]:
    """Leaf task → capability: an override, the task's default, or its group's."""
    groups: dict[str, list[str]] = data.get("group_subtasks") or {}
    parent = {sub: group for group, subs in groups.items() for sub in subs}

    def lookup(task: str) -> str | None:
        chain = [task]
        while chain[-1] in parent and parent[chain[-1]] not in chain:
            chain.append(parent[chain[-1]])
        for name in chain:  # an override for the task or any group above it
            if name in overrides:
                return parse_task_spec(f"{name}:{overrides[name]}")[1]
        for name in chain:  # else the first default along the chain
            capability = parse_task_spec(name, required=False)[1]
            if capability is not None:
                return capability
        return None

    return {task: lookup(task) for task in data.get("configs") or {}}


def generation_of(configs: Mapping[str, Any]) -> GenerationParams:
    for config in configs.values():
        kwargs = config.get("generation_kwargs") or {}
        if kwargs:
            sampled = bool(kwargs.get("do_sample")) and float(kwargs.get("temperature") or 0) > 0
            return GenerationParams(
                temperature=float(kwargs.get("temperature") or 0) if sampled else 0.0,
                top_p=float(kwargs.get("top_p") or 1.0),
                max_new_tokens=int(kwargs.get("max_gen_toks") or 256),
            )
    return GenerationParams()


def model_info(data: Mapping[str, Any]) -> ModelInfo:
    config = data.get("config") or {}
    args = config.get("model_args") or {}
    name = data.get("model_name") or (args.get("pretrained") if isinstance(args, dict) else str(args)) or "unknown"
    fingerprint = {
        "backend": "lm-eval",
        "lm_eval_model": config.get("model"),
        "model_args": args,
        "model_sha": config.get("model_sha"),
        "chat_template_sha": data.get("chat_template_sha"),
        "lm_eval_version": data.get("lm_eval_version"),
    }
    return ModelInfo(spec=str(name), backend=f"lm-eval:{config.get('model', '?')}", fingerprint=fingerprint)


def task_outputs(
    data: Mapping[str, Any], results_file: Path, overrides: Mapping[str, str], hint: str = "pass --capability TASK=CAPABILITY"
) -> list[TaskOutput]:
    capabilities = task_capabilities(data, overrides)
    outputs = []
    for task, config in (data.get("configs") or {}).items():
        samples = read_samples(results_file, task)
        outputs.append(
            TaskOutput(
                task=task,
                capability=capabilities[task],
                samples=samples,
                config=config,
                version=(data.get("versions") or {}).get(task),
                n_shot=(data.get("n-shot") or {}).get(task),
                aggregate=(data.get("results") or {}).get(task, {}),
            )
        )
    missing = [o.task for o in outputs if o.capability is None and not is_exported_harness_task(o.samples)]
    if missing:
        raise HarnessError(f"no default capability for lm-eval task(s) {', '.join(missing)}: {hint}")
    return outputs


def import_lm_eval(path: str | Path, capabilities: Mapping[str, str] | None = None) -> tuple[Results, list[SampleRecord], Path]:
    results_file = find_results_file(path)
    try:
        data = json.loads(results_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HarnessError(f"{results_file} is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or "configs" not in data or "results" not in data:
        raise HarnessError(f"{results_file} is not an lm-eval results file (no 'results'/'configs')")
    converted: Converted = convert(task_outputs(data, results_file, capabilities or {}))
    created = data.get("date")
    created_at = datetime.fromtimestamp(float(created), timezone.utc).isoformat(timespec="seconds") if created else None
    extra = {
        "lm_eval": {
            "source": str(results_file.resolve()),
            "tasks": converted.notes,
            "apply_chat_template": bool(data.get("chat_template")),
            "system_instruction": data.get("system_instruction"),
            "limit": (data.get("config") or {}).get("limit"),
        }
    }
    results = make_results(model_info(data), converted, generation_of(data.get("configs") or {}), extra, created_at)
    return results, converted.records, results_file
