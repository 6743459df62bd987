"""Retention against difficulty: accuracy per rung of each ladder, and where each model breaks.

A ladder is a perturbation kind with several levels (math `steps@1..12`, logic `hops@k`,
reasoning-gym `difficulty@k`, ...): level k is rung k, and rung 0 is the canonical twins of
the items on the ladder. For each rung the teacher's and the student's accuracy and the
retention come with intervals clustered by problem group (harness/stats.py).

A model's *breaking point* on a ladder is the first rung where its accuracy falls below half
of its rung-0 accuracy; the retention breaking point is the first rung where retention falls
below 50 %. Both are read off the point estimates, rung by rung; "not reached" means the
model held up to the top rung measured.

A rung measured on fewer problem groups than `min_groups` (the clustered intervals' floor)
is marked "too few groups (g)": its accuracies are kept in the data but never printed as
percentages, plotted, or used for a breaking point (a rung of one problem reads 0 % or 100 %).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from harness.stats import BootstrapSettings, mean_or_none, paired_mean_ci, paired_ratio

if TYPE_CHECKING:
    from harness.retention.pairs import ScoredPair

BREAK_SHARE = 0.5  # accuracy below this share of rung 0's breaks the model
RETENTION_BREAK = 0.5


@dataclass
class Rung:
    """Teacher and student accuracy (with CIs) on one level of a difficulty ladder."""

    rung: int
    n: int
    n_groups: int
    teacher: float | None
    student: float | None
    teacher_ci: tuple[float | None, float | None]
    student_ci: tuple[float | None, float | None]
    retention: float | None
    retention_ci: tuple[float | None, float | None]
    too_few_groups: bool = False  # n_groups < min_groups: marked, not read as an accuracy
    note: str = ""  # "too few groups (g)" then: what tables print instead of the rung's numbers

    @property
    def mark(self) -> str:
        return self.note or f"too few groups ({self.n_groups})"


@dataclass
class BreakingPoint:
    """The first rung where accuracy or retention falls below half, if the ladder reaches it."""

    rung: int | None  # None: not reached within the ladder, or undefined (see reason)
    reached: bool
    reason: str = ""


@dataclass
class Ladder:
    """One perturbation kind measured at several levels: its rungs and breaking points."""

    capability: str
    kind: str
    rungs: list[Rung] = field(default_factory=list)
    teacher_break: BreakingPoint = field(default_factory=lambda: BreakingPoint(None, False))
    student_break: BreakingPoint = field(default_factory=lambda: BreakingPoint(None, False))
    retention_break: BreakingPoint = field(default_factory=lambda: BreakingPoint(None, False))

    @property
    def top_rung(self) -> int:
        return max((r.rung for r in self.rungs), default=0)

    @property
    def top_measured_rung(self) -> int | None:
        """The highest rung with enough problem groups to be read (None: none has)."""
        return max((r.rung for r in self.rungs if not r.too_few_groups), default=None)


def _group(pair: ScoredPair) -> str:
    return pair.teacher.canonical_id or pair.teacher.item_id


def _rung(level: int, pairs: Sequence[ScoredPair], settings: BootstrapSettings) -> Rung:
    groups = [_group(p) for p in pairs]
    t = [p.teacher_score for p in pairs]
    s = [p.student_score for p in pairs]
    t_ci = paired_mean_ci(t, settings, groups)
    s_ci = paired_mean_ci(s, settings, groups)
    ratio = paired_ratio(t, s, settings, groups)
    n_groups = len(set(groups))
    few = n_groups < settings.min_groups
    return Rung(level, len(pairs), n_groups, mean_or_none(t), mean_or_none(s), (t_ci.low, t_ci.high),
                (s_ci.low, s_ci.high), ratio.value, (ratio.ci.low, ratio.ci.high), few,
                f"too few groups ({n_groups})" if few else "")


def accuracy_break(rungs: Sequence[tuple[int, float | None]], share: float = BREAK_SHARE) -> BreakingPoint:
    """First rung whose accuracy is below `share` of rung 0's; rungs are (rung, accuracy) by rung
    (accuracy None: not measured, or too few groups to read)."""
    if not rungs or rungs[0][0] != 0 or rungs[0][1] is None:
        return BreakingPoint(None, False, "no rung-0 (canonical) accuracy")
    base = rungs[0][1]
    if base <= 0:
        return BreakingPoint(None, False, "accuracy is 0 at rung 0: broken before the ladder starts")
    for rung, acc in rungs[1:]:
        if acc is not None and acc < share * base:
            return BreakingPoint(rung, True, f"accuracy {acc:.0%} < {share:.0%} of rung 0's {base:.0%}")
    measured = [rung for rung, acc in rungs[1:] if acc is not None]
    if not measured:
        return BreakingPoint(None, False, "no rung above 0 measured on enough problem groups")
    return BreakingPoint(None, False, f"holds to rung {measured[-1]}")


def _model_break(rungs: Sequence[Rung], who: str) -> BreakingPoint:
    """A model's breaking point from the rungs with enough problem groups to be read."""
    if rungs and rungs[0].rung == 0 and rungs[0].too_few_groups:
        return BreakingPoint(None, False, f"rung 0: {rungs[0].mark}")
    return accuracy_break([(r.rung, None if r.too_few_groups else getattr(r, who)) for r in rungs])


def retention_break(rungs: Sequence[Rung], floor: float = RETENTION_BREAK) -> BreakingPoint:
    readable = [r for r in rungs if not r.too_few_groups]
    for r in readable:
        if r.retention is not None and r.retention < floor:
            return BreakingPoint(r.rung, True, f"retention {r.retention:.0%} < {floor:.0%}")
    measured = [r.rung for r in readable if r.retention is not None]
    if not measured:
        why = "too few problem groups on every rung" if rungs and not readable else "retention undefined on every rung"
        return BreakingPoint(None, False, why)
    return BreakingPoint(None, False, f"retention holds to rung {measured[-1]}")


def ladders(pairs: Sequence[ScoredPair], settings: BootstrapSettings) -> list[Ladder]:
    """Every perturbation kind measured at two or more levels, per capability."""
    by_cap_kind: dict[tuple[str, str], dict[int, list[ScoredPair]]] = defaultdict(lambda: defaultdict(list))
    canonical: dict[str, ScoredPair] = {}
    for p in pairs:
        if p.teacher.variant == "canonical":
            canonical[p.teacher.item_id] = p
        else:
            by_cap_kind[(p.teacher.capability, p.teacher.variant)][p.teacher.perturbation_level].append(p)
    out = []
    for (cap, kind), levels in sorted(by_cap_kind.items()):
        if len(levels) < 2:
            continue
        bases = {p.teacher.canonical_id for ps in levels.values() for p in ps}
        rung0 = [canonical[i] for i in sorted(b for b in bases if b is not None) if i in canonical]
        rungs = ([_rung(0, rung0, settings)] if rung0 else []) + [
            _rung(level, ps, settings) for level, ps in sorted(levels.items())
        ]
        ladder = Ladder(cap, kind, rungs)
        ladder.teacher_break = _model_break(rungs, "teacher")
        ladder.student_break = _model_break(rungs, "student")
        ladder.retention_break = retention_break(rungs)
        out.append(ladder)
    return out
