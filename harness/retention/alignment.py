"""Which records two results files can compare: same suites, versions and items, or (with
`intersect`) only the common ones, with notes on what was left out and why."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from harness.errors import HarnessError
from harness.results import Results
from harness.token_budget import BudgetMismatch, budget_mismatches
from harness.types import SampleRecord


@dataclass
class Alignment:
    """Which records are compared, and what was left out and why."""

    teacher: list[SampleRecord]
    student: list[SampleRecord]
    suites: list[str]
    notes: list[str] = field(default_factory=list)
    budget_mismatches: list[BudgetMismatch] = field(default_factory=list)  # compared anyway (--allow-budget-mismatch)


def _ids_by_suite(records: Sequence[SampleRecord]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for r in records:
        out[r.suite].append(r.item_id)
    return out


def _sample(ids: Sequence[str], n: int = 3) -> str:
    shown = ", ".join(list(ids)[:n])
    return shown + (f", … ({len(ids)} in all)" if len(ids) > n else "")


def _labels_by_suite(records: Sequence[SampleRecord]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for r in records:
        out[r.suite].add("canonical" if r.variant == "canonical" else f"{r.variant}@{r.perturbation_level}")
    return out


def compared_budget_mismatches(
    teacher: Results,
    student: Results,
    teacher_records: Sequence[SampleRecord] | None = None,
    student_records: Sequence[SampleRecord] | None = None,
) -> list[BudgetMismatch]:
    """The suites on which the two runs were asked for different token budgets (harness/token_budget.py),
    over the variants both evaluated (every recorded one without records)."""
    labels = None
    if teacher_records and student_records:
        t, s = _labels_by_suite(teacher_records), _labels_by_suite(student_records)
        labels = {name: t[name] & s[name] for name in t.keys() & s.keys()}
    return budget_mismatches(teacher, student, labels)


def check_comparable(
    teacher: Results,
    student: Results,
    intersect: bool = False,
    teacher_records: Sequence[SampleRecord] | None = None,
    student_records: Sequence[SampleRecord] | None = None,
    allow_budget_mismatch: bool = False,
) -> list[str]:
    """Refuse results whose suites, versions or item sets differ, saying how; returns notes.

    With `intersect`, different suite sets and item sets (different --limit or --variant)
    are allowed and only common items are compared. Different suite versions, seeds, sizes
    or splits are refused even then: the same item id would name a different item. Runs asked
    for different token budgets on a suite are refused unless `allow_budget_mismatch`, which
    notes each difference instead.
    """
    from harness.scoring.judges import check_same_judge

    check_same_judge(teacher, student)
    t, s = teacher.suites, student.suites
    notes: list[str] = []
    common = sorted(set(t) & set(s))
    if set(t) != set(s):
        only_t, only_s = sorted(set(t) - set(s)), sorted(set(s) - set(t))
        detail = f"only teacher: {', '.join(only_t) or '-'}; only student: {', '.join(only_s) or '-'}"
        if not intersect or not common:
            hint = " and none in common" if intersect else "; pass --intersect to compare the suites both have"
            raise HarnessError(f"results cover different suites ({detail}){hint}")
        notes.append(f"intersect: compared suites {', '.join(common)} only ({detail})")
    t_ids = _ids_by_suite(teacher_records or [])
    s_ids = _ids_by_suite(student_records or [])
    for name in common:
        a, b = t[name], s[name]
        for attr in ("capability", "version", "split", "seed", "size"):
            if getattr(a, attr) != getattr(b, attr):
                raise HarnessError(
                    f"suite {name}: {attr} differs (teacher {getattr(a, attr)}, student {getattr(b, attr)}); "
                    f"the same item id would name different items, so these results cannot be paired"
                )
        if a.hash != b.hash and not intersect:
            why = f"suite {name}: item sets differ (hash {a.hash} vs {b.hash}; teacher {a.n_items} items, student {b.n_items} items"
            if name in t_ids and name in s_ids:
                only_t = [i for i in t_ids[name] if i not in set(s_ids[name])]
                only_s = [i for i in s_ids[name] if i not in set(t_ids[name])]
                if only_t:
                    why += f"; only teacher: {_sample(only_t)}"
                if only_s:
                    why += f"; only student: {_sample(only_s)}"
            raise HarnessError(
                why + "). Were they run with different --limit or --variant? "
                "Pass --intersect to compare the common items."
            )
    mismatches = compared_budget_mismatches(teacher, student, teacher_records, student_records)
    if mismatches and not allow_budget_mismatch:
        others = f" (also differing: {', '.join(m.suite for m in mismatches[1:])})" if len(mismatches) > 1 else ""
        raise HarnessError(
            f"{mismatches[0].describe()}{others}; truncation differs, so the scores are not comparable. Evaluate both with "
            "the same --max-new-tokens (or both without it), or pass --allow-budget-mismatch to compare them anyway"
        )
    notes += [f"token budgets differ (--allow-budget-mismatch): {m.describe()}" for m in mismatches]
    return notes


def align(
    teacher: Results,
    t_records: Sequence[SampleRecord],
    student: Results,
    s_records: Sequence[SampleRecord],
    intersect: bool = False,
    allow_budget_mismatch: bool = False,
) -> Alignment:
    notes = check_comparable(teacher, student, intersect, t_records, s_records, allow_budget_mismatch)
    suites = sorted(set(teacher.suites) & set(student.suites))
    keep = set(suites)
    t_recs = [r for r in t_records if r.suite in keep]
    s_recs = [r for r in s_records if r.suite in keep]
    t_by_id = {r.item_id: r for r in t_recs}
    s_by_id = {r.item_id: r for r in s_recs}
    for item_id in t_by_id.keys() & s_by_id.keys():
        a, b = t_by_id[item_id].reference_answer, s_by_id[item_id].reference_answer
        if json.dumps(a, sort_keys=True, default=str) != json.dumps(b, sort_keys=True, default=str):
            raise HarnessError(f"item {item_id} has different reference answers ({a!r} vs {b!r}): not the same item")
    if intersect:
        common = t_by_id.keys() & s_by_id.keys()
        if not common:
            raise HarnessError("--intersect: the two results share no item")
        dropped_t, dropped_s = len(t_by_id) - len(common), len(s_by_id) - len(common)
        if dropped_t or dropped_s:
            notes.append(
                f"intersect: kept {len(common)} common items; dropped {dropped_t} teacher-only and "
                f"{dropped_s} student-only items (with the same --variant, a smaller --limit's items are among a larger one's, "
                f"so the common items are the smaller run's)"
            )
        t_recs = [r for r in t_recs if r.item_id in common]
        s_recs = [r for r in s_recs if r.item_id in common]
    errors = sum(r.error is not None for r in t_recs) + sum(r.error is not None for r in s_recs)
    if errors:
        notes.append(f"left out {errors} records whose requests failed (teacher or student), with their pairs")
    return Alignment(t_recs, s_recs, suites, notes, compared_budget_mismatches(teacher, student, t_records, s_records))
