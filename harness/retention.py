"""Retention: student score / teacher score per capability, paired by item id."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from harness.errors import HarnessError
from harness.results import Results
from harness.types import SampleRecord


@dataclass
class RetentionRow:
    capability: str
    teacher: float | None
    student: float | None
    retention: float | None  # None: undefined (teacher score 0 or no items)
    n: int


def check_comparable(teacher: Results, student: Results) -> None:
    """Refuse results whose suites, versions or item sets differ, saying how."""
    t, s = teacher.suites, student.suites
    if set(t) != set(s):
        only_t, only_s = sorted(set(t) - set(s)), sorted(set(s) - set(t))
        raise HarnessError(f"results cover different suites (only teacher: {only_t or '-'}; only student: {only_s or '-'})")
    for name in sorted(t):
        a, b = t[name], s[name]
        for field in ("version", "split", "seed", "size"):
            if getattr(a, field) != getattr(b, field):
                raise HarnessError(f"suite {name}: {field} differs (teacher {getattr(a, field)}, student {getattr(b, field)})")
        if a.hash != b.hash:
            raise HarnessError(f"suite {name}: item sets differ (hash {a.hash} vs {b.hash}; {a.n_items} vs {b.n_items} items)")


def paired_records(
    teacher: list[SampleRecord], student: list[SampleRecord]
) -> dict[str, list[tuple[SampleRecord, SampleRecord]]]:
    """capability → [(teacher record, student record)] over items both answered without error."""
    s_by_id = {r.item_id: r for r in student}
    pairs: dict[str, list[tuple[SampleRecord, SampleRecord]]] = defaultdict(list)
    for t in teacher:
        s = s_by_id.get(t.item_id)
        if s is not None and t.error is None and s.error is None:
            pairs[t.capability].append((t, s))
    return pairs


def paired_scores(pairs: list[tuple[SampleRecord, SampleRecord]]) -> tuple[list[float], list[float]]:
    """Per-item (teacher, student) scores; relative suites (style) rescore from both outputs."""
    from harness.suite import SUITES

    by_suite: dict[str, list[tuple[SampleRecord, SampleRecord]]] = defaultdict(list)
    for pair in pairs:
        by_suite[pair[0].suite].append(pair)
    t_scores: list[float] = []
    s_scores: list[float] = []
    for suite_name, suite_pairs in by_suite.items():
        suite_cls = SUITES.get(suite_name) if suite_name in SUITES else None
        if suite_cls is not None and suite_cls.relative:
            t, s = suite_cls().rescore_pairs([p[0] for p in suite_pairs], [p[1] for p in suite_pairs])
        else:
            t, s = [p[0].score for p in suite_pairs], [p[1].score for p in suite_pairs]
        t_scores += t
        s_scores += s
    return t_scores, s_scores


def retention_rows(teacher: list[SampleRecord], student: list[SampleRecord]) -> list[RetentionRow]:
    rows = []
    for cap, pairs in sorted(paired_records(teacher, student).items()):
        t_scores, s_scores = paired_scores(pairs)
        n = len(t_scores)
        t_score, s_score = sum(t_scores) / n, sum(s_scores) / n
        rows.append(RetentionRow(cap, t_score, s_score, s_score / t_score if t_score > 0 else None, n))
    return rows
