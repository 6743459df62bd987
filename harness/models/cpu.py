"""What this machine's processor does natively, and the weights dtype each engine should use on it.

On CPU the dtype decides which kernels run. bfloat16 is only fast where the processor computes in
it: x86 with AVX-512 BF16 (`avx512_bf16`) or AMX (`amx_bf16`), Arm with the BF16 extension
(`bf16` in the Features line). Without them a bfloat16 model is converted back and forth on every
matmul: vLLM cannot build its oneDNN linear layers and falls back to plain torch ones (on an
AVX2-only EPYC, 20.4 tok/s against 72.7 tok/s in float32 for the embedded SmolLM2), and
transformers pays the same conversions. So on CPU `auto` means bfloat16 with native support and
float32 otherwise, for both engines (vLLM's own `auto` picks bfloat16 on any x86 CPU). float16 is
never the CPU default (no fast float16 matmul without AMX-FP16).

Everything here reads /proc (cpuinfo; the NVIDIA driver's entry for `gpu_present`) and imports nothing heavy; the parsing and the choice
are pure functions of the text and flags, so they are tested with made-up processors.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DTYPES = ("auto", "float32", "bfloat16", "float16")
# Flags that mean the processor computes in bfloat16 itself (x86: AVX-512 BF16, AMX; Arm: FEAT_BF16).
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")
# Flags doctor shows: the vector and matrix extensions the engines' kernels are built for.
SHOWN_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16",
               "amx_int8", "amx_fp16", "asimd", "sve", "bf16", "i8mm")
ARM_FLAGS = ("asimd", "sve", "bf16", "i8mm")


@dataclass(frozen=True)
class CpuInfo:
    """The processor as the engines see it: model name, feature flags, cores this process may use."""

    model: str
    flags: frozenset[str]
    cores: int
    arch: str = "x86_64"

    @property
    def native_bf16(self) -> bool:
        return any(flag in self.flags for flag in NATIVE_BF16_FLAGS)

    def shown_flags(self) -> list[str]:
        """The extensions that matter to the engines, in a fixed order, present ones only."""
        return [flag for flag in SHOWN_FLAGS if flag in self.flags]

    def absent_flags(self) -> list[str]:
        """The shown extensions of this architecture the processor lacks (an AVX2-only CPU: no avx512_bf16, no amx)."""
        own = ARM_FLAGS if self.arch in ("aarch64", "arm64") else tuple(f for f in SHOWN_FLAGS if f not in ARM_FLAGS)
        return [flag for flag in own if flag not in self.flags]


def parse_cpuinfo(text: str) -> tuple[str, frozenset[str]]:
    """(model name, flags) of the first processor in /proc/cpuinfo text (x86 `flags`, Arm `Features`)."""
    model, flags = "", frozenset[str]()
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            if model and flags:  # end of the first processor's block
                break
            continue
        key = key.strip().lower()
        if key in ("model name", "hardware", "cpu model") and not model:
            model = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = frozenset(value.split())
    return model, flags


def cores_available() -> int:
    """Cores this process may run on (its affinity, which containers and `taskset` narrow), else all."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@lru_cache(maxsize=1)
def detect(cpuinfo: str | Path = "/proc/cpuinfo") -> CpuInfo:
    """This machine's processor (no flags where /proc/cpuinfo is missing: macOS, Windows)."""
    try:
        text = Path(cpuinfo).read_text(errors="replace")
    except OSError:
        text = ""
    model, flags = parse_cpuinfo(text)
    return CpuInfo(model=model or platform.processor() or platform.machine(), flags=flags, cores=cores_available(),
                   arch=platform.machine())


def cpu_dtype(cpu: CpuInfo) -> str:
    """The dtype `auto` means on this processor: bfloat16 where it is native, else float32."""
    return "bfloat16" if cpu.native_bf16 else "float32"


def resolve_dtype(requested: str | None, on_cpu: bool, cpu: CpuInfo | None = None) -> str:
    """The dtype an engine loads weights in: an explicit one as given; `auto` on CPU by the processor;
    `auto` on a GPU stays `auto` (the engine's own rule: the checkpoint's dtype, or bfloat16 for vLLM)."""
    requested = (requested or "auto").lower()
    if requested not in DTYPES:
        from harness.errors import HarnessError

        raise HarnessError(f"unknown dtype {requested!r}: use {', '.join(DTYPES)}")
    if requested != "auto" or not on_cpu:
        return requested
    return cpu_dtype(cpu or detect())


def gpu_present() -> bool:
    """Whether a CUDA GPU is here: torch's answer when torch is already imported, else the NVIDIA driver's
    proc entry (importing torch takes seconds)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        return bool(torch.cuda.is_available())
    return Path("/proc/driver/nvidia/version").exists()
