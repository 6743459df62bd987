"""Shared bits of the bench scripts: the machine line and the report writer."""

from __future__ import annotations

import os
import platform
from datetime import datetime, timezone
from pathlib import Path

REPORTS = Path(__file__).resolve().parent.parent / "reports"


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average {load} (shared machine)"


def write_report(name: str, title: str, body: str) -> Path:
    REPORTS.mkdir(exist_ok=True)
    path = REPORTS / f"{name}.md"
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    path.write_text(f"# {title}\n\n_{stamp}; {machine()}_\n\n{body.strip()}\n")
    print(path.read_text())
    return path
