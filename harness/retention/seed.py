"""The seed's five-row table: its claimed retention ranges, and where the measurement falls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.retention.pairs import ScoredPair
from harness.retention.views import RetentionRow, compare, group_by
from harness.stats import BootstrapSettings


@dataclass
class SeedRow(RetentionRow):
    """One row of the seed's table; `capability` holds the row's name."""

    claimed_low: float = 0.0
    claimed_high: float = 0.0
    sources: str = ""  # which capabilities and variants fed the row
    verdict: str = "not measured"  # below / consistent / above the claimed range, or not measured


@dataclass(frozen=True)
class SeedClaim:
    """One row of the seed document's table: the capabilities it covers and the claimed retention range."""

    name: str
    capabilities: tuple[str, ...]
    perturbed_only: bool
    low: float
    high: float


SEED_CLAIMS = (
    SeedClaim("Writing style", ("style",), False, 0.85, 0.95),
    SeedClaim("Format/structure", ("format",), False, 0.90, 0.95),
    SeedClaim("Common knowledge", ("knowledge",), False, 0.70, 0.85),
    SeedClaim("Novel reasoning", ("math", "logic", "code"), True, 0.40, 0.60),
    SeedClaim("Edge cases", ("edge_cases",), False, 0.30, 0.50),
)


def verdict(row: RetentionRow, low: float, high: float) -> str:
    """Below / consistent with / above the claimed range [low, high], judged by the row's CI."""
    if row.retention is None:
        return "undefined" if row.n else "not measured"
    lo = row.ci_low if row.ci_low is not None else row.retention
    hi = row.ci_high if row.ci_high is not None else row.retention
    if hi < low:
        return "below claimed"
    if lo > high:
        return "above claimed"
    return "consistent"


def seed_rows(pairs: Sequence[ScoredPair], settings: BootstrapSettings) -> list[SeedRow]:
    rows = []
    for claim in SEED_CLAIMS:
        chosen = [
            p
            for p in pairs
            if p.teacher.capability in claim.capabilities and (not claim.perturbed_only or p.teacher.variant != "canonical")
        ]
        counts = group_by(chosen, lambda p: p.teacher.capability)
        scope = " perturbed" if claim.perturbed_only else ""
        sources = ", ".join(f"{cap} ({len(counts[cap])}{scope})" for cap in claim.capabilities if cap in counts)
        if chosen:
            row = SeedRow(capability=claim.name, claimed_low=claim.low, claimed_high=claim.high, sources=sources, **compare(chosen, settings))
            row.verdict = verdict(row, claim.low, claim.high)
        else:
            row = SeedRow(claim.name, None, None, None, 0, claimed_low=claim.low, claimed_high=claim.high, sources="-")
        rows.append(row)
    return rows
