"""The one entry point: align two results, score every pair once, derive every view."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.difficulty import Ladder, ladders
from harness.errors import HarnessError
from harness.results import Results
from harness.retention.alignment import align
from harness.retention.mitigation import MitigationRow, mitigation_rows
from harness.retention.pairs import ScoredPair, score_pairs
from harness.retention.remedies import RemedyRow, RemedyRun, remedy_rows
from harness.retention.seed import SeedRow, seed_rows
from harness.retention.views import RetentionRow, VariantRow, capability_rows, clustering_info, variant_rows
from harness.stats import BootstrapSettings
from harness.token_budget import BudgetMismatch, recorded_budget
from harness.types import SampleRecord


@dataclass
class RetentionAnalysis:
    """Everything `harness retention` reports for one teacher and student pair."""

    teacher_spec: str
    student_spec: str
    suites: dict[str, dict[str, Any]]
    settings: BootstrapSettings
    notes: list[str]
    rows: list[RetentionRow]
    variants: list[VariantRow]
    seed_table: list[SeedRow]
    mitigation: list[MitigationRow]
    ladders: list[Ladder] = field(default_factory=list)  # accuracy per difficulty rung, breaking points
    judge: dict[str, Any] | None = None  # the abstention judge both runs' edge_cases were scored by
    # suites compared although teacher and student were asked for different token budgets (--allow-budget-mismatch)
    budget_mismatches: list[BudgetMismatch] = field(default_factory=list)
    pairs: list[ScoredPair] = field(repr=False, default_factory=list)
    # the mitigation table: the base student (this analysis's student), each remedy run and voting setting
    remedies: list[RemedyRow] = field(default_factory=list)

    @property
    def budget_mismatch_capabilities(self) -> set[str]:
        """Capabilities with a suite compared across different token budgets."""
        return {self.suites[m.suite]["capability"] for m in self.budget_mismatches if m.suite in self.suites}

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("pairs")
        out["bootstrap"] = out.pop("settings")
        out["clustering"] = clustering_info(self.pairs)
        return out


def _shared_judge(results: Results, suites: Sequence[str]) -> dict[str, Any] | None:
    """The judge of the compared suites that need one, edge_cases (check_comparable made sure both runs agree)."""
    from harness.scoring.judges import LEGACY_JUDGE
    from harness.suite import needs_judge

    return (results.judge or dict(LEGACY_JUDGE)) if needs_judge(suites) else None


def _suite_summary(results: Results, name: str) -> dict[str, Any]:
    info = results.suites[name]
    budget = recorded_budget(info.token_budget, results.generation)
    return {"version": info.version, "hash": info.hash, "capability": info.capability,
            "token_budget": None if budget is None else budget.model_dump()}  # the teacher's (the student was asked for the same unless in budget_mismatches)


def analyse(
    teacher: Results,
    t_records: Sequence[SampleRecord],
    student: Results,
    s_records: Sequence[SampleRecord],
    *,
    intersect: bool = False,
    settings: BootstrapSettings | None = None,
    allow_budget_mismatch: bool = False,
    remedies: Sequence[RemedyRun] = (),
) -> RetentionAnalysis:
    """Pair teacher and student records by item and derive every retention view: `harness retention`.

    The two results must have measured the same items; `intersect=True` keeps the common ones
    and says what it dropped. They must also have been asked for the same token budgets
    (harness/token_budget.py); `allow_budget_mismatch=True` compares them anyway and says so.
    `remedies`: treated runs of the same student (SFT, GRPO, voting ...), compared with this
    student as the base in the mitigation table (remedies.py).
    """
    settings = settings or BootstrapSettings()
    aligned = align(teacher, t_records, student, s_records, intersect, allow_budget_mismatch)
    pairs = score_pairs(aligned.teacher, aligned.student)
    if not pairs:
        raise HarnessError("the two results share no item answered without error by both models")
    remedy_table, remedy_notes = (
        remedy_rows(teacher, aligned.teacher, pairs, remedies, settings, allow_budget_mismatch) if remedies else ([], [])
    )
    return RetentionAnalysis(
        teacher_spec=teacher.model.spec,
        student_spec=student.model.spec,
        suites={n: _suite_summary(teacher, n) for n in aligned.suites},
        settings=settings,
        notes=aligned.notes + remedy_notes,
        rows=capability_rows(pairs, settings),
        variants=variant_rows(pairs, settings),
        seed_table=seed_rows(pairs, settings),
        mitigation=mitigation_rows(pairs, settings),
        ladders=ladders(pairs, settings),
        judge=_shared_judge(teacher, aligned.suites),
        budget_mismatches=aligned.budget_mismatches,
        pairs=pairs,
        remedies=remedy_table,
    )
