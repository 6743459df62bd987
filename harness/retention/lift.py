"""What a remedy bought: one student run against another on the same items, per capability.

Both runs are first scored against the same teacher (so a relative suite such as style scores
each run against the teacher's outputs, not against the other run); then each item's two
student scores are paired. The lift is the mean of (treated - base) over the paired items, with
the expanded-percentile bootstrap interval over problem groups that every retention CI uses,
and the clustered McNemar sign-flip test on the items one run got right and the other wrong (for
graded scores such as style's, the same sign flips over each group's summed score differences).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.retention.pairs import ScoredPair, group_key
from harness.retention.views import by_capability
from harness.stats import BootstrapSettings, mcnemar_clustered, mean_or_none, paired_mean_ci, sign_flip_mean_p_value


@dataclass
class LiftRow:
    """A treated run against a base run of the same student on one capability."""

    capability: str
    base: float | None  # the base run's mean score
    treated: float | None  # the treated run's mean score
    lift: float | None  # treated - base, in score points
    n: int
    n_groups: int
    ci_low: float | None = None
    ci_high: float | None = None
    gained: int = 0  # items the treated run got right and the base run wrong (graded scores: items whose score rose)
    lost: int = 0  # items the base run got right and the treated run wrong (graded scores: items whose score fell)
    p_value: float | None = None  # "the two runs differ": clustered McNemar, or the sign-flip test for graded scores

    @property
    def significant(self) -> bool:
        """The interval excludes 0 (no lift either way is the null)."""
        return self.ci_low is not None and self.ci_high is not None and (self.ci_low > 0 or self.ci_high < 0)


@dataclass(frozen=True)
class LiftPair:
    """One item scored in both runs against the same teacher."""

    base: ScoredPair
    treated: ScoredPair

    @property
    def capability(self) -> str:
        return self.base.teacher.capability


def join_runs(base: Sequence[ScoredPair], treated: Sequence[ScoredPair]) -> list[LiftPair]:
    """Items both runs answered (without error), in the base run's order."""
    by_id = {p.teacher.item_id: p for p in treated}
    return [LiftPair(p, by_id[p.teacher.item_id]) for p in base if p.teacher.item_id in by_id]


def lift_row(capability: str, pairs: Sequence[LiftPair], settings: BootstrapSettings) -> LiftRow:
    base = [p.base.student_score for p in pairs]
    treated = [p.treated.student_score for p in pairs]
    groups = [group_key(p.base) for p in pairs]
    row = LiftRow(capability, mean_or_none(base), mean_or_none(treated), None, len(pairs), len(set(groups)))
    if not pairs:
        return row
    row.lift = float(row.treated - row.base)  # type: ignore[operator]
    ci = paired_mean_ci([t - b for b, t in zip(base, treated, strict=True)], settings, groups)
    row.ci_low, row.ci_high = ci.low, ci.high
    if all(x in (0.0, 1.0) for x in base + treated):
        test = mcnemar_clustered([p.base.student_correct for p in pairs], [p.treated.student_correct for p in pairs], groups)
        row.lost, row.gained, row.p_value = test.teacher_only, test.student_only, test.p_value
    else:  # graded scores (style): items that rose / fell, and the sign-flip test on the differences
        row.gained = sum(t > b for b, t in zip(base, treated, strict=True))
        row.lost = sum(t < b for b, t in zip(base, treated, strict=True))
        row.p_value = sign_flip_mean_p_value([t - b for b, t in zip(base, treated, strict=True)], groups,
                                             seed=settings.seed)
    return row


def lift_rows(base: Sequence[ScoredPair], treated: Sequence[ScoredPair], settings: BootstrapSettings) -> list[LiftRow]:
    """Per capability (in retention's order), then "all" pooled over every paired item."""
    joined = join_runs(base, treated)
    rows = []
    for capability, cap_pairs in by_capability([p.base for p in joined]):
        wanted = {p.teacher.item_id for p in cap_pairs}
        rows.append(lift_row(capability, [p for p in joined if p.base.teacher.item_id in wanted], settings))
    if joined:
        rows.append(lift_row("all", joined, settings))
    return rows
