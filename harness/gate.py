"""The release gate: every capability's retention must reach a floor."""

from __future__ import annotations

from dataclasses import dataclass

from harness.retention import RetentionRow


@dataclass
class GateFailure:
    capability: str
    rule: str
    measured: float | None
    required: float


def check_min_retention(rows: list[RetentionRow], min_retention: float) -> list[GateFailure]:
    return [
        GateFailure(row.capability, "min_retention", row.retention, min_retention)
        for row in rows
        if row.retention is None or row.retention < min_retention
    ]
