"""The mitigation view: pass@1 vs maj@k vs verified@k, from the samples each record keeps."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.retention.pairs import ScoredPair, is_relative
from harness.retention.views import RetentionRow, by_capability, compare
from harness.stats import BootstrapSettings
from harness.types import SampleRecord
from harness.voting import majority


@dataclass
class MitigationRow(RetentionRow):
    """pass@1, maj@k or verified@k (an oracle verifier picks any correct sample)."""

    method: str = "pass@1"
    k: int = 1


def _vote_key(sample: dict[str, Any]) -> str:
    if "vote_key" in sample:
        return str(sample["vote_key"])
    return json.dumps(sample.get("answer"), sort_keys=True, default=str)


def majority_correct(samples: Sequence[dict[str, Any]]) -> bool:
    """Correctness of the majority answer (harness.voting.majority over the stored samples):
    abstentions (answer None) vote only when all abstain; ties go to the answer seen first."""
    chosen = majority([_vote_key(s) for s in samples], [s.get("answer") is not None for s in samples])
    return bool(samples[chosen].get("correct"))


def _sample_correct(record: SampleRecord) -> list[bool]:
    return [bool(s.get("correct")) for s in record.samples] if record.samples else [record.correct]


MethodFn = Callable[[SampleRecord], float]


def majority_of_first(k: int) -> MethodFn:
    """maj@k of a record: the majority answer of its first k stored samples is right."""
    return lambda r: float(majority_correct(r.samples[:k]))


def verified_of_first(k: int) -> MethodFn:
    """verified@k of a record: an oracle verifier finds a right answer among its first k samples."""
    return lambda r: float(any(_sample_correct(r)[:k]))


def _methods(k_max: int, voted: str | None) -> list[tuple[str, int, MethodFn]]:
    """(name, k, per-record score) for each mitigation, on a record with >= k_max samples."""
    out: list[tuple[str, int, MethodFn]] = [
        ("pass@1", 1, lambda r: sum(_sample_correct(r)) / len(_sample_correct(r))),  # unbiased: share of correct samples
    ]
    out += [(f"maj@{k}", k, majority_of_first(k)) for k in range(1, k_max + 1)]
    if voted:
        out.append((f"vote:{voted}@{k_max}", k_max, lambda r: float(r.correct)))  # the evaluator's own vote
    out.append((f"verified@{k_max}", k_max, verified_of_first(k_max)))
    return out


def mitigation_rows(pairs: Sequence[ScoredPair], settings: BootstrapSettings) -> list[MitigationRow]:
    """pass@1 vs maj@k vs verified@k (an oracle verifier picks any correct sample).

    Computed where the student's records hold several samples. A teacher run with one sample
    per item keeps its single-sample score as the denominator throughout, so those rows read
    "how much of the teacher's score the student recovers by sampling and voting".
    Relative suites are left out: their scores are not per-sample.
    """
    rows: list[MitigationRow] = []
    for cap, group in by_capability(pairs):
        group = [p for p in group if not is_relative(p.teacher.suite)]
        if not group or not all(len(p.student.samples) > 1 for p in group):
            continue
        k_max = min(len(p.student.samples) for p in group)
        methods = _methods(k_max, group[0].student.vote_method)
        teacher_sampled = all(len(p.teacher.samples) > 1 for p in group)
        t_methods = dict((name, fn) for name, _, fn in _methods(min(len(p.teacher.samples) for p in group), group[0].teacher.vote_method)) if teacher_sampled else {}
        for name, k, fn in methods:
            t_fn = t_methods.get(name)
            if t_fn is None:
                t_fn = (lambda r: float(r.correct)) if not teacher_sampled else t_methods["pass@1"]
            mp = []
            for p in group:
                ts, ss = t_fn(p.teacher), fn(p.student)
                mp.append(ScoredPair(p.teacher, p.student, ts, ss, ts >= 0.5, ss >= 0.5))
            rows.append(MitigationRow(capability=cap, method=name, k=k, **compare(mp, settings)))
    return rows
