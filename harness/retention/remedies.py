"""The mitigation table: what each remedy bought, per capability, against the base student.

Rows, per capability: the base student (untouched), each treated run (SFT, GRPO, on-policy
distillation, a later loop round: any `harness eval` results of the same items), and each voting
setting read from a run's stored samples (maj@4, maj@8 and verified@k: an oracle verifier that
picks any correct sample). Each row carries
- retention against the teacher, with the clustered paired-ratio CI of every retention table;
- the lift over the base student (lift.py): the mean per-item score difference with its CI over
  problem groups, and the clustered McNemar test (the sign-flip test for graded scores);
- the canonical-vs-perturbed gap of the row's own scores: per problem group, the canonical
  item's score minus the mean of its perturbed twins', averaged over groups, with the bootstrap
  CI over groups. A remedy that taught the surface raises canonical scores and widens the gap;
  one that taught the problem lifts both and leaves the gap where it was.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from harness.results import Results
from harness.retention.alignment import align
from harness.retention.lift import join_runs, lift_row
from harness.retention.mitigation import MethodFn, majority_of_first, verified_of_first
from harness.retention.pairs import ScoredPair, group_key, is_relative, score_pairs
from harness.retention.views import RetentionRow, by_capability, compare
from harness.stats import BootstrapSettings, mean_or_none, paired_mean_ci
from harness.types import SampleRecord

VOTE_KS = (4, 8)  # the maj@k rows read from a sampled run's stored samples (those it holds enough samples for)


@dataclass
class RemedyRun:
    """A treated student's results, shown in the table under `label` (sft, grpo, vote ...)."""

    label: str
    results: Results
    records: list[SampleRecord]


@dataclass
class RemedyRow(RetentionRow):
    """One remedy on one capability: retention (the inherited fields), lift over the base student, memorisation gap."""

    remedy: str = "base"  # "base", a run's label, or "LABEL maj@k" / "LABEL verified@k" for a sampled run
    lift: float | None = None  # score points over the base student on the same items (None on the base row)
    lift_ci_low: float | None = None
    lift_ci_high: float | None = None
    lift_p_value: float | None = None
    gained: int = 0  # items this remedy got right and the base student wrong
    lost: int = 0
    lift_n: int = 0  # items paired with the base student
    gap: float | None = None  # canonical minus perturbed score, averaged over problem groups holding both
    gap_ci_low: float | None = None
    gap_ci_high: float | None = None
    gap_groups: int = 0

    @property
    def lift_significant(self) -> bool:
        return self.lift_ci_low is not None and self.lift_ci_high is not None and (self.lift_ci_low > 0 or self.lift_ci_high < 0)


@dataclass
class Gap:
    """The memorisation gap of one set of pairs, in score points (fractions), with its CI over groups."""

    value: float | None
    ci_low: float | None
    ci_high: float | None
    n_groups: int


def memorisation_gap(pairs: Sequence[ScoredPair], settings: BootstrapSettings) -> Gap:
    """Canonical score minus the mean perturbed score, per problem group; mean and CI over groups."""
    canonical: dict[str, float] = {}
    perturbed: dict[str, list[float]] = defaultdict(list)
    for p in pairs:
        if p.teacher.variant == "canonical":
            canonical[group_key(p)] = p.student_score
        else:
            perturbed[group_key(p)].append(p.student_score)
    diffs = [canonical[g] - sum(perturbed[g]) / len(perturbed[g]) for g in canonical if perturbed.get(g)]
    ci = paired_mean_ci(diffs, settings)  # one value per group: the groups are the resampled units
    return Gap(mean_or_none(diffs), ci.low, ci.high, len(diffs))


def remedy_row(capability: str, remedy: str, pairs: Sequence[ScoredPair], base: Sequence[ScoredPair] | None,
               settings: BootstrapSettings) -> RemedyRow:
    """One row: retention of `pairs`, their lift over `base` (None: this is the base row), their gap."""
    gap = memorisation_gap(pairs, settings)
    row = RemedyRow(capability=capability, remedy=remedy, **compare(pairs, settings),
                    gap=gap.value, gap_ci_low=gap.ci_low, gap_ci_high=gap.ci_high, gap_groups=gap.n_groups)
    if base is not None:
        lift = lift_row(capability, join_runs(base, pairs), settings)
        row.lift, row.lift_ci_low, row.lift_ci_high, row.lift_p_value = lift.lift, lift.ci_low, lift.ci_high, lift.p_value
        row.gained, row.lost, row.lift_n = lift.gained, lift.lost, lift.n
    return row


def vote_settings(records: Sequence[SampleRecord]) -> list[tuple[str, MethodFn]]:
    """(suffix, per-record score) for each voting setting a sampled run's stored samples allow."""
    if not records or any(len(r.samples) < 2 for r in records):
        return []
    k_max = min(len(r.samples) for r in records)
    out: list[tuple[str, MethodFn]] = [(f"maj@{k}", majority_of_first(k)) for k in VOTE_KS if k <= k_max]
    out.append((f"verified@{k_max}", verified_of_first(k_max)))
    return out


def rescored(pairs: Sequence[ScoredPair], fn: MethodFn) -> list[ScoredPair]:
    """The same pairs with the student's score replaced by `fn` of its record."""
    out = []
    for p in pairs:
        s = fn(p.student)
        out.append(ScoredPair(p.teacher, p.student, p.teacher_score, s, p.teacher_correct, s >= 0.5))
    return out


def _capability_rows(label: str, pairs: Sequence[ScoredPair], base: dict[str, list[ScoredPair]] | None,
                     settings: BootstrapSettings) -> list[RemedyRow]:
    return [remedy_row(cap, label, group, None if base is None else base.get(cap, []), settings)
            for cap, group in by_capability(pairs)]


def remedy_rows(
    teacher: Results,
    t_records: Sequence[SampleRecord],
    base_pairs: Sequence[ScoredPair],
    runs: Sequence[RemedyRun],
    settings: BootstrapSettings,
    allow_budget_mismatch: bool = False,
) -> tuple[list[RemedyRow], list[str]]:
    """The mitigation table (rows grouped by capability, base first) and notes on what each run covered.

    Each run is paired with the teacher on the items both hold (a voting run on the math suites
    alone adds rows to math only), and with the base student on the items all three hold.
    A sampled run (several samples per item) gives its own row (its recorded vote) and one row
    per voting setting its samples allow; relative suites (style) get no voting rows.
    """
    base_by_cap = dict(by_capability(base_pairs))
    rows = _capability_rows("base", base_pairs, None, settings)
    notes: list[str] = []
    for run in runs:
        aligned = align(teacher, t_records, run.results, run.records, intersect=True,
                        allow_budget_mismatch=allow_budget_mismatch)
        notes += [f"{run.label}: {n}" for n in aligned.notes]
        pairs = score_pairs(aligned.teacher, aligned.student)
        rows += _capability_rows(run.label, pairs, base_by_cap, settings)
        per_sample = [p for p in pairs if not is_relative(p.teacher.suite)]
        for suffix, fn in vote_settings([p.student for p in per_sample]):
            rows += _capability_rows(f"{run.label} {suffix}", rescored(per_sample, fn), base_by_cap, settings)
    order = {cap: i for i, cap in enumerate(dict.fromkeys(r.capability for r in rows))}
    return sorted(rows, key=lambda r: order[r.capability]), notes
