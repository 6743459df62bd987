"""Retention tables from scored pairs: per capability, per variant (the memorisation gap), and
one capability restricted to a variant kind. Every row carries a CI and a McNemar test
clustered by problem group (harness/stats.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.retention.pairs import ScoredPair, group_key, score_pairs
from harness.stats import CI_METHOD, CLUSTER_KEY, TEST_METHOD, BootstrapSettings, mcnemar_clustered, mean_or_none, paired_ratio
from harness.types import SampleRecord


@dataclass
class RetentionRow:
    """Retention of one capability: scores, ratio, CI, McNemar test and sample sizes."""

    capability: str
    teacher: float | None
    student: float | None
    retention: float | None  # None: undefined (teacher score 0, too few items)
    n: int
    n_groups: int = 0  # problem groups (a canonical item with its twins): the effective sample size
    ci_low: float | None = None
    ci_high: float | None = None
    undefined_reason: str | None = None
    teacher_only: int = 0  # McNemar discordant pairs: teacher right, student wrong
    student_only: int = 0  # student right, teacher wrong
    p_value: float | None = None  # clustered McNemar, "the student differs from the teacher"


@dataclass
class VariantRow(RetentionRow):
    """One capability restricted to one variant ('canonical', 'numbers@1', or pooled 'perturbed')."""

    variant: str = "canonical"
    kind: str = "canonical"
    level: int | None = 0


def clustering_info(pairs: Sequence[ScoredPair]) -> dict[str, Any]:
    """What every interval and test was clustered on, for results and verdict JSON."""
    return {
        "cluster": CLUSTER_KEY,
        "n_groups": len({group_key(p) for p in pairs}),
        "n_items": len(pairs),
        "ci_method": CI_METHOD,
        "test": TEST_METHOD,
    }


def compare(pairs: Sequence[ScoredPair], settings: BootstrapSettings) -> dict[str, Any]:
    """The RetentionRow fields of a set of pairs: scores, ratio with CI, clustered McNemar."""
    t = [p.teacher_score for p in pairs]
    s = [p.student_score for p in pairs]
    groups = [group_key(p) for p in pairs]
    est = paired_ratio(t, s, settings, groups)
    mc = (
        mcnemar_clustered([p.teacher_correct for p in pairs], [p.student_correct for p in pairs], groups)
        if pairs
        else None
    )
    return {
        "teacher": mean_or_none(t),
        "student": mean_or_none(s),
        "retention": est.value,
        "n": len(pairs),
        "n_groups": len(set(groups)),
        "ci_low": est.ci.low,
        "ci_high": est.ci.high,
        "undefined_reason": est.undefined_reason,
        "teacher_only": mc.teacher_only if mc else 0,
        "student_only": mc.student_only if mc else 0,
        "p_value": mc.p_value if mc else None,
    }


def group_by(pairs: Sequence[ScoredPair], key: Callable[[ScoredPair], Any]) -> dict[Any, list[ScoredPair]]:
    out: dict[Any, list[ScoredPair]] = defaultdict(list)
    for p in pairs:
        out[key(p)].append(p)
    return out


def by_capability(pairs: Sequence[ScoredPair]) -> list[tuple[str, list[ScoredPair]]]:
    return sorted(group_by(pairs, lambda p: p.teacher.capability).items())


def capability_rows(pairs: Sequence[ScoredPair], settings: BootstrapSettings) -> list[RetentionRow]:
    return [RetentionRow(capability=cap, **compare(group, settings)) for cap, group in by_capability(pairs)]


def variant_rows(pairs: Sequence[ScoredPair], settings: BootstrapSettings) -> list[VariantRow]:
    """The memorisation gap: each capability per variant, plus every perturbation pooled."""
    rows: list[VariantRow] = []
    for cap, group in by_capability(pairs):
        by_variant = group_by(group, lambda p: (p.teacher.variant != "canonical", p.teacher.perturbation_level, p.variant))
        for (_, level, label), sub in sorted(by_variant.items()):
            kind = sub[0].teacher.variant
            rows.append(VariantRow(capability=cap, variant=label, kind=kind, level=level, **compare(sub, settings)))
        perturbed = [p for p in group if p.teacher.variant != "canonical"]
        if perturbed:
            rows.append(VariantRow(capability=cap, variant="perturbed", kind="perturbed", level=None, **compare(perturbed, settings)))
    return rows


def subset_row(
    pairs: Sequence[ScoredPair], settings: BootstrapSettings, capability: str, variant_kind: str
) -> RetentionRow:
    """One capability restricted to a variant kind over all its levels ('perturbed': every perturbation)."""

    def wanted(p: ScoredPair) -> bool:
        kind = p.teacher.variant
        return kind != "canonical" if variant_kind == "perturbed" else kind == variant_kind

    chosen = [p for p in pairs if p.teacher.capability == capability and wanted(p)]
    return RetentionRow(capability=capability, **compare(chosen, settings))


def retention_rows(
    teacher: list[SampleRecord], student: list[SampleRecord], settings: BootstrapSettings | None = None
) -> list[RetentionRow]:
    return capability_rows(score_pairs(teacher, student), settings or BootstrapSettings())
