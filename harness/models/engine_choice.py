"""Which engine runs the embedded default model: transformers (hf) or vLLM, chosen per workload.

Only when the user named no engine (no --model, or an embedded name such as `smollm2-135m`);
an explicit `hf:` or `vllm:` spec always wins, and HARNESS_ENGINE=hf|vllm|auto overrides the
choice for a whole session. vLLM's engine start costs tens of seconds more than loading the
model into transformers, and how much faster it then generates depends on the processor, the
dtype and the workload, so both are measured on this machine (harness/models/engine_probe.py:
a short probe per engine and dtype, cached per machine) and the choice estimates the run on each:

- hf generates in batches of its batch size, in budget order (the order run_eval asks in,
  Backend.batch_key); a batch decodes until its longest row stops, so its steps are its largest
  budget times the chance that some row runs to it (`expected_steps`), each step at the batch's
  measured step time;
- vLLM decodes every request of the run together (up to `MAX_SEQS` at once, refilled as they
  finish): the tokens the answers are expected to use (`expected_tokens`) at the step time of
  that many rows, and no less than the longest budget's steps (the tail).

Both add the model load or engine start and the prefill. How long answers are is a property of
the model, not of the machine: `LOOP_SHARE` and `SHORT_SHARE` describe the embedded SmolLM2 on
the default suites (reports/cpu_engines.md). Only items the response cache does not hold for an
engine count, so a rerun served from the cache starts no engine and runs no probe.

A vLLM probe starts an engine, so it is run only when vLLM could win: when hf's estimate is above
the least a vLLM run could take (`vllm_floor_s`); the engine it started is then the run's if vLLM
wins. `choose_engine` is pure; `default_engine_backend` gathers the workload, probes and builds.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.models.cpu import gpu_present
from harness.models.engine_probe import Probe
from harness.models.vllm_cpu import vllm_device

ENGINES = ("hf", "vllm")
ENV_OVERRIDE = "HARNESS_ENGINE"  # hf | vllm | auto
MAX_SEQS = 256  # vLLM's max_num_seqs default on CPU for the offline engine: requests decoded at once
# The embedded SmolLM2's answers: a share loops until the budget cuts it, the others stop at about
# SHORT_SHARE of it (reports/cpu_engines.md counts them on the default suites).
LOOP_SHARE = 0.4
SHORT_SHARE = 0.25
# vLLM's engine start on CPU is never below this (import, engine-core process, weights, KV cache), and
# on one CPU it decodes at most this many times faster than transformers: what bounds a vLLM run from below.
VLLM_START_FLOOR_S = 20.0
MAX_VLLM_SPEEDUP = 4.0


@dataclass(frozen=True)
class Workload:
    """What an eval run still has to generate, per engine, and where each engine can run."""

    pending: Mapping[str, Sequence[int]]  # engine -> the budget of each item not in the response cache for it
    samples: int = 1  # generations per item
    sampling: bool = False  # temperature > 0: k distinct samples (greedy ones are copies of one)
    prompt_tokens: float = 150.0  # mean prompt length of an item, chat template included
    vllm_device: str | None = "cpu"  # "cpu" (vllm-cpu), "cuda" (vllm + a GPU), None: vLLM unusable here
    hf_device: str = "cpu"
    hf_batch: int = 16  # hf's batch size (prompts per batch)

    def describe(self, engine: str) -> str:
        budgets = self.pending.get(engine, ())
        span = f"{min(budgets)}-{max(budgets)}" if budgets and min(budgets) != max(budgets) else f"{max(budgets, default=0)}"
        samples = f" x {self.samples} samples" if self.samples > 1 else ""
        return f"{len(budgets)} items{samples} at {span} tokens"


@dataclass(frozen=True)
class EngineChoice:
    """The engine picked for a run (hf or vllm), why, and the time estimates behind it."""

    engine: str  # hf | vllm
    reason: str
    chosen_by: str = "workload"  # workload | environment | options
    estimates_s: dict[str, float] = field(default_factory=dict)
    measured: dict[str, dict[str, Any]] = field(default_factory=dict)  # engine -> its probe's numbers used

    def as_dict(self) -> dict[str, Any]:
        record = {"engine": self.engine, "chosen_by": self.chosen_by, "reason": self.reason,
                  "estimates_s": {k: round(v, 1) for k, v in self.estimates_s.items()}}
        if self.measured:
            record["measured"] = self.measured
        return record


def expected_steps(budget: int, rows: float) -> float:
    """Decoding steps of a batch of `rows` rows at one budget: it ends when its longest row does, which is
    the budget unless no row loops (then about SHORT_SHARE of it)."""
    none_loops = (1 - LOOP_SHARE) ** max(rows, 1)
    return budget * (1 - none_loops * (1 - SHORT_SHARE))


def expected_tokens(budget: int) -> float:
    """Tokens one answer is expected to generate within `budget`."""
    return budget * (LOOP_SHARE + (1 - LOOP_SHARE) * SHORT_SHARE)


def hf_batches(budgets: Sequence[int], batch: int) -> list[tuple[int, int]]:
    """(budget, items) of each batch hf runs: longest budget first, `batch` items a batch, which generates
    to its largest budget (HFBackend._generate_budgeted)."""
    ordered = sorted(budgets, reverse=True)
    return [(ordered[start], len(ordered[start : start + batch])) for start in range(0, len(ordered), batch)]


def estimate_hf(probe: Probe, workload: Workload) -> float:
    """Seconds hf would take for its pending items (0: nothing to generate, the model is not even loaded)."""
    budgets = workload.pending.get("hf", ())
    if not budgets:
        return 0.0
    per_item = workload.samples if workload.sampling else 1  # greedy samples are copies of one answer
    total = probe.start_s
    for budget, items in hf_batches(budgets, workload.hf_batch):
        rows = items * per_item
        steps = expected_steps(budget, rows)
        total += probe.call_s + rows * workload.prompt_tokens * probe.prefill_token_s
        total += steps * probe.step_s(rows, workload.prompt_tokens + steps / 2)  # the cache grows as it decodes
    return total


def estimate_vllm(probe: Probe, workload: Workload) -> float:
    """Seconds vLLM would take for its pending items, its engine start included (0: nothing to generate)."""
    budgets = workload.pending.get("vllm", ())
    if not budgets:
        return 0.0
    n = workload.samples  # one request per item, n samples sharing its prompt
    rows = min(len(budgets) * n, MAX_SEQS)
    tokens = sum(expected_tokens(b) for b in budgets) * n
    longest = max(budgets)
    loopers = max(LOOP_SHARE * budgets.count(longest) * n, 1.0)  # the answers still running at the end
    context = workload.prompt_tokens + tokens / (len(budgets) * n) / 2  # mean context while decoding
    decode = max(tokens / rows * probe.step_s(rows, context),
                 longest * probe.step_s(min(loopers, rows), workload.prompt_tokens + longest / 2))
    return probe.start_s + probe.call_s + len(budgets) * workload.prompt_tokens * probe.prefill_token_s + decode


def vllm_floor_s(hf_probe: Probe, workload: Workload) -> float:
    """The least a vLLM run of this workload could take, judged from hf's probe alone: an engine start
    and hf's decoding at MAX_VLLM_SPEEDUP. Below it vLLM cannot win and is not probed."""
    hf_work = estimate_hf(hf_probe, Workload({"hf": workload.pending.get("vllm", ())}, workload.samples,
                                             workload.sampling, workload.prompt_tokens, hf_batch=workload.hf_batch))
    return VLLM_START_FLOOR_S + max(hf_work - hf_probe.start_s, 0.0) / MAX_VLLM_SPEEDUP


def settled_without_probes(workload: Workload) -> EngineChoice | None:
    """The choice when no measurement is needed (vLLM unusable, answers cached), else None."""
    hf_n, vllm_n = len(workload.pending.get("hf", ())), len(workload.pending.get("vllm", ()))
    if workload.vllm_device is None:
        return EngineChoice("hf", "vllm is not installed for this machine")
    if workload.vllm_device == "cpu" and workload.hf_device == "cuda":
        return EngineChoice("hf", "a GPU is present and the installed vllm is the CPU build")
    if hf_n == 0 and vllm_n == 0:
        return EngineChoice("hf", "every answer is in the response cache")
    if hf_n == 0 or vllm_n == 0:  # one engine's answers are all cached: it is never even started
        engine = "hf" if hf_n == 0 else "vllm"
        return EngineChoice(engine, f"every answer for {engine} is in the response cache")
    return None


def _speed(probe: Probe, rows: float) -> str:
    return f"{probe.dtype}, {probe.start_s:.0f} s start, {probe.tokens_per_s(rows):.0f} tok/s at {rows:.0f} rows"


def choose_engine(workload: Workload, probes: Mapping[str, Probe | None]) -> EngineChoice:
    """hf or vllm for `workload`, from this machine's probes (`probes["vllm"]` None: vLLM was not probed,
    hf's estimate being below what any vLLM run would take)."""
    if (settled := settled_without_probes(workload)) is not None:
        return settled
    hf = probes.get("hf")
    if hf is None:
        raise ValueError("choose_engine needs hf's probe")
    hf_s = estimate_hf(hf, workload)
    measured = {"hf": {"dtype": hf.dtype, "start_s": round(hf.start_s, 1),
                       "tokens_per_s": round(hf.tokens_per_s(workload.hf_batch), 1)}}
    vllm = probes.get("vllm")
    if vllm is None:
        floor = vllm_floor_s(hf, workload)
        return EngineChoice("hf", f"{workload.describe('hf')}: est. {hf_s:.0f} s on hf ({_speed(hf, workload.hf_batch)}), "
                                  f"below the {floor:.0f} s any vllm run would take (vllm not probed)",
                            estimates_s={"hf": hf_s}, measured=measured)
    vllm_s = estimate_vllm(vllm, workload)
    rows = min(len(workload.pending["vllm"]) * workload.samples, MAX_SEQS)
    measured["vllm"] = {"dtype": vllm.dtype, "start_s": round(vllm.start_s, 1), "tokens_per_s": round(vllm.tokens_per_s(rows), 1)}
    engine = "vllm" if vllm_s < hf_s else "hf"
    reason = (f"{workload.describe(engine)}: est. {vllm_s:.0f} s on vllm ({_speed(vllm, rows)}) vs {hf_s:.0f} s on hf "
              f"({_speed(hf, workload.hf_batch)}), measured on this machine")
    return EngineChoice(engine, reason, estimates_s={"hf": hf_s, "vllm": vllm_s}, measured=measured)


def _pending(backend: Any, selections: Sequence[tuple[Any, Sequence[Any]]], params: Any, cache: Any) -> tuple[list[int], list[Any]]:
    """(budget of each item this backend would still have to generate, those items); an item with any
    sample missing from the cache is asked for whole, as run_eval asks."""
    from harness.cache import sample_keys
    from harness.token_budget import backend_thinks, item_budget

    thinking = backend_thinks(backend)
    fingerprint = backend.fingerprint() if cache is not None else None
    wanted = []  # (item, cache keys, its budget): keyed exactly as run_eval keys them
    for suite, items in selections:
        for item in items:
            budget = item_budget(suite, item, params, thinking)
            keys = sample_keys(fingerprint, item, params.model_copy(update={"max_new_tokens": budget})) if fingerprint is not None else []
            wanted.append((item, keys, budget))
    found = cache.get_many([k for _, keys, _ in wanted for k in keys]) if cache is not None else {}
    missing = [(item, budget) for item, keys, budget in wanted if cache is None or any(k not in found for k in keys)]
    return [budget for _, budget in missing], [item for item, _ in missing]


def prompt_tokens(hf_backend: Any, items: Sequence[Any], sample: int = 64) -> float:
    """Mean prompt length in tokens (chat template included) of up to `sample` items spread over `items`."""
    from harness.backends.hf import render_chat

    if not items:
        return 0.0
    tokenizer = hf_backend._load_tokenizer()
    step = max(1, math.ceil(len(items) / sample))
    picked = list(items[::step])
    texts = [render_chat(tokenizer, item, hf_backend.chat_template_kwargs) for item in picked]
    return sum(len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]) / len(picked)


def engine_probe(backend: Any, measure: bool) -> Probe | None:
    """This machine's probe of the backend's engine and dtype: the cached one, else (with `measure`) one
    measured now, which loads the model or starts the engine on `backend`."""
    from harness.models import engine_probe as probes

    if not measure:
        return probes.cached_probe(backend)
    if probes.cached_probe(backend) is None:
        print(f"harness: measuring {backend.name} ({backend.dtype}) on this machine, once"
              f"{' (starts the vLLM engine; the run keeps it)' if backend.name == 'vllm' else ''}", file=sys.stderr)
    return probes.measured_probe(backend)


def default_engine_backend(
    model: str | None,
    selections: Sequence[tuple[Any, Sequence[Any]]],
    params: Any,
    options: Mapping[str, Any],
    cache_path: Path | None = None,
    use_cache: bool = True,
    refresh: bool = False,
) -> Any:
    """The backend run_eval uses: for the embedded default, hf or vllm per workload; else the spec's.

    `selections`: (suite, items) pairs to be evaluated. The chosen backend carries `engine_choice`
    (an EngineChoice, or None for an explicit spec); one line on stderr says which engine and why.
    """
    from harness.backends.base import load_backend
    from harness.backends.options import check_options
    from harness.backends.registry import BACKENDS
    from harness.models.spec import EMBEDDED_NAMES, ModelSpec, parse_model_spec

    spec = parse_model_spec(model)
    if spec.raw not in EMBEDDED_NAMES:  # hf:..., vllm:..., any other scheme: exactly what was asked
        backend = load_backend(spec, **options)
        backend.engine_choice = None
        return backend

    candidates = {engine: ModelSpec(scheme=engine, target=spec.target, raw=spec.raw) for engine in ENGINES}
    forced = os.environ.get(ENV_OVERRIDE, "auto").strip().lower() or "auto"
    if forced not in (*ENGINES, "auto"):
        raise HarnessError(f"{ENV_OVERRIDE}={forced!r}: use hf, vllm or auto")
    device = vllm_device()
    usable = []  # engines that take every option the user gave
    for engine in ENGINES if device is not None else ("hf",):
        try:
            check_options(engine, getattr(BACKENDS.get(engine), "Options", None), dict(options))
            usable.append(engine)
        except HarnessError:
            pass
    built: dict[str, Any] = {}
    if forced != "auto":
        choice = EngineChoice(forced, f"{ENV_OVERRIDE}={forced}", chosen_by="environment")
    elif len(usable) <= 1:
        engine = usable[0] if usable else "hf"  # none: load_backend below names the offending option
        why = "vllm is not installed for this machine" if device is None else \
            f"only {engine} takes the options given ({', '.join(sorted(options))})"
        choice = EngineChoice(engine, why, chosen_by="workload" if device is None else "options")
    else:
        from harness.cache import default_cache_path, open_response_cache

        cache = open_response_cache(cache_path or default_cache_path()) if use_cache and not refresh else None
        try:
            pending: dict[str, list[int]] = {}
            for engine in usable:
                built[engine] = load_backend(candidates[engine], **options)  # lazy: no engine starts here
                pending[engine], items = _pending(built[engine], selections, params, cache)
        finally:
            if cache is not None:
                cache.close()
        workload = Workload(pending, params.samples, params.temperature > 0, prompt_tokens(built["hf"], items), device,
                            "cuda" if gpu_present() else "cpu", built["hf"].batch_size)
        choice = settled_without_probes(workload) or choose_measured(workload, built)
    backend = built.get(choice.engine) or load_backend(candidates[choice.engine], **options)
    for engine, other in built.items():  # a probe may have loaded the model or started the engine that lost
        if engine != choice.engine:
            other.close()
    backend.engine_choice = choice
    print(f"harness: engine {choice.engine} for {spec.raw}: {choice.reason}", file=sys.stderr)
    return backend


def choose_measured(workload: Workload, built: Mapping[str, Any]) -> EngineChoice:
    """choose_engine with this machine's probes: hf's (measured now if not cached: seconds), vLLM's only
    when vLLM could win (measuring it starts the engine on `built["vllm"]`, which the run then keeps)."""
    hf = engine_probe(built["hf"], measure=True)
    assert hf is not None
    probes: dict[str, Probe | None] = {"hf": hf, "vllm": engine_probe(built["vllm"], measure=False)}
    if probes["vllm"] is None and estimate_hf(hf, workload) > vllm_floor_s(hf, workload):
        try:
            probes["vllm"] = engine_probe(built["vllm"], measure=True)
        except HarnessError as exc:  # vLLM cannot start here: hf it is
            print(f"harness: vllm could not be measured: {exc}", file=sys.stderr)
    return choose_engine(workload, probes)


def engine_record(backend: Any) -> dict[str, Any]:
    """What results.json says about the engine: which one, and whether the workload picked it."""
    choice = getattr(backend, "engine_choice", None)
    if choice is None:
        return {"engine": backend.name, "chosen_by": "spec"}
    return choice.as_dict()
