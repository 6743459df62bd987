"""Shared bits of the bench scripts: the machine line and the report writer."""

from __future__ import annotations

import os
import platform
from datetime import datetime, timezone
from pathlib import Path

REPORTS = Path(__file__).resolve().parent.parent / "reports"


def machine() -> str:
    """The header line of every report: the processor, the flags its kernels use, cores and load. One machine's
    numbers say little about the next (an AVX2-only CPU runs bfloat16 at a quarter of float32's speed)."""
    from harness.models.cpu import detect

    cpu = detect()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    flags = " ".join(cpu.shown_flags()) or "none known"
    if absent := cpu.absent_flags():
        flags += f" (absent: {' '.join(absent)})"
    return (f"{cpu.model or platform.processor() or platform.machine()} ({cpu.arch}), {cpu.cores} of {os.cpu_count()} CPUs, "
            f"flags: {flags}, native bfloat16: {'yes' if cpu.native_bf16 else 'no'}; load average {load} (shared machine)")


def write_report(name: str, title: str, body: str) -> Path:
    REPORTS.mkdir(exist_ok=True)
    path = REPORTS / f"{name}.md"
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    path.write_text(f"# {title}\n\n_{stamp}; {machine()}_\n\n{body.strip()}\n")
    print(path.read_text())
    return path
