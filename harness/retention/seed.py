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
    verdict: str = "not measured"  # below / above claimed, consistent, inconclusive (n items, g groups), not measured


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


def inconclusive(row: RetentionRow) -> str:
    groups = f", {row.n_groups} groups" if row.n_groups else ""
    return f"inconclusive ({row.n} items{groups})"


def verdict(row: RetentionRow, low: float, high: float) -> str:
    """Where the row's CI puts it against the claimed range [low, high]; only as strong as the interval.

    - "below claimed": the whole CI is below the range (its upper bound < low);
    - "above claimed": the whole CI is above it (its lower bound > high);
    - "consistent": the whole CI lies within the range;
    - "inconclusive (n items, g groups)": anything else — the CI is undefined (too few problem
      groups, teacher score 0), or it straddles a boundary of the range (the data allow both
      a value inside and one outside), or it is wider than the range that it contains. A point
      estimate inside the range does not make a straddling CI "consistent": the interval says
      the true retention may as well lie outside, and the verdict claims no more than it does.
    - "not measured": no items feed the row.
    """
    if not row.n:
        return "not measured"
    if row.retention is None or row.ci_low is None or row.ci_high is None:
        return inconclusive(row)
    if row.ci_high < low:
        return "below claimed"
    if row.ci_low > high:
        return "above claimed"
    if low <= row.ci_low and row.ci_high <= high:
        return "consistent"
    return inconclusive(row)


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
