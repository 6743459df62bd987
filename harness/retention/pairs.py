"""Pairing teacher and student records by item id, and scoring every pair once."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from harness.types import SampleRecord


@dataclass
class ScoredPair:
    """One item answered by both teacher and student, with both scores."""

    teacher: SampleRecord
    student: SampleRecord
    teacher_score: float
    student_score: float
    teacher_correct: bool
    student_correct: bool

    @property
    def variant(self) -> str:
        r = self.teacher
        return "canonical" if r.variant == "canonical" else f"{r.variant}@{r.perturbation_level}"


def group_key(pair: ScoredPair) -> str:
    """The problem group of a pair: its canonical item (itself when canonical)."""
    return pair.teacher.canonical_id or pair.teacher.item_id


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


def _relative_suite(suite_name: str):
    from harness.suite import SUITES

    suite_cls = SUITES.get(suite_name) if suite_name in SUITES else None
    return suite_cls if suite_cls is not None and suite_cls.relative else None


def is_relative(suite_name: str) -> bool:
    """Relative suites (style) score an output against the other model's, not per sample."""
    return _relative_suite(suite_name) is not None


def _by_suite(pairs: list[tuple[SampleRecord, SampleRecord]]) -> dict[str, list[tuple[SampleRecord, SampleRecord]]]:
    out: dict[str, list[tuple[SampleRecord, SampleRecord]]] = defaultdict(list)
    for pair in pairs:
        out[pair[0].suite].append(pair)
    return out


def paired_scores(pairs: list[tuple[SampleRecord, SampleRecord]]) -> tuple[list[float], list[float]]:
    """Per-item (teacher, student) scores; relative suites (style) rescore from both outputs."""
    t_scores: list[float] = []
    s_scores: list[float] = []
    for suite_name, suite_pairs in _by_suite(pairs).items():
        suite_cls = _relative_suite(suite_name)
        if suite_cls is not None:
            t, s = suite_cls().rescore_pairs([p[0] for p in suite_pairs], [p[1] for p in suite_pairs])
        else:
            t, s = [p[0].score for p in suite_pairs], [p[1].score for p in suite_pairs]
        t_scores += t
        s_scores += s
    return t_scores, s_scores


def score_pairs(teacher: list[SampleRecord], student: list[SampleRecord]) -> list[ScoredPair]:
    """Score every pair once. Relative suites have graded scores; 'correct' is score >= 0.5 there."""
    out: list[ScoredPair] = []
    for _cap, pairs in sorted(paired_records(teacher, student).items()):
        for suite_name, suite_pairs in sorted(_by_suite(pairs).items()):
            t_scores, s_scores = paired_scores(suite_pairs)
            relative = is_relative(suite_name)
            for (t, s), ts, ss in zip(suite_pairs, t_scores, s_scores, strict=True):
                tc, sc = (ts >= 0.5, ss >= 0.5) if relative else (t.correct, s.correct)
                out.append(ScoredPair(t, s, float(ts), float(ss), bool(tc), bool(sc)))
    return out
