"""Where the next data budget goes: weights from per-capability and per-perturbation retention.

Lower retention → more weight. Every key keeps a floor so no capability is starved (forgetting
what is already retained is the usual price of a narrow data mix).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass, field

from harness.retention import paired_records, paired_scores
from harness.types import SampleRecord

FLOOR = 0.1


@dataclass
class Focus:
    """Data-budget weights from retention: more rows where the student retains least."""

    capabilities: dict[str, float] = field(default_factory=dict)  # capability → weight
    variants: dict[str, float] = field(default_factory=dict)  # "capability/kind" → weight
    retention: dict[str, float | None] = field(default_factory=dict)  # what the weights came from

    def to_dict(self) -> dict:
        return {"capabilities": self.capabilities, "variants": self.variants, "retention": self.retention}


def _weight(teacher: float, student: float) -> tuple[float, float | None]:
    if teacher <= 0:
        return FLOOR, None  # the teacher cannot do it either: teaching it gains nothing
    retention = student / teacher
    return max(0.0, 1.0 - min(retention, 1.0)) + FLOOR, retention


def focus_from_records(teacher: list[SampleRecord], student: list[SampleRecord]) -> Focus:
    focus = Focus()
    for capability, pairs in paired_records(teacher, student).items():
        t, s = paired_scores(pairs)
        focus.capabilities[capability], focus.retention[capability] = _weight(sum(t) / len(t), sum(s) / len(s))
        by_kind: dict[str, list] = defaultdict(list)
        for pair in pairs:
            by_kind[pair[1].variant].append(pair)
        for kind, kind_pairs in by_kind.items():
            t, s = paired_scores(kind_pairs)
            key = f"{capability}/{kind}"
            focus.variants[key], focus.retention[key] = _weight(sum(t) / len(t), sum(s) / len(s))
    return focus


def focus_from_scores(student: list[SampleRecord]) -> Focus:
    """Without teacher results: weight by the student's own failure rate."""
    by_cap: dict[str, list[float]] = defaultdict(list)
    by_kind: dict[str, list[float]] = defaultdict(list)
    for r in student:
        if r.error is None:
            by_cap[r.capability].append(r.score)
            by_kind[f"{r.capability}/{r.variant}"].append(r.score)
    focus = Focus()
    for key, scores in by_cap.items():
        focus.capabilities[key], focus.retention[key] = _weight(1.0, sum(scores) / len(scores))
    for key, scores in by_kind.items():
        focus.variants[key], focus.retention[key] = _weight(1.0, sum(scores) / len(scores))
    return focus


def load_focus(student_results: str, teacher_results: str | None = None) -> Focus:
    from harness.results import load_results
    from harness.retention import check_comparable

    student, s_records = load_results(student_results)
    if teacher_results is None:
        return focus_from_scores(s_records)
    teacher, t_records = load_results(teacher_results)
    # Runs at different token budgets still say where the student is weakest; distill says so instead of refusing.
    for note in check_comparable(teacher, student, teacher_records=t_records, student_records=s_records, allow_budget_mismatch=True):
        print(f"harness: distill: --focus-teacher: {note}", file=sys.stderr)
    return focus_from_records(t_records, s_records)
