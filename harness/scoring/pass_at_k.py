"""The unbiased pass@k estimator (Chen et al., 2021, "Evaluating Large Language Models Trained on Code")."""

from __future__ import annotations

from collections.abc import Iterable
from math import comb
from typing import Any


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of k samples drawn without replacement from n (c correct) passes."""
    if not 0 <= c <= n or k < 1 or n < 1:
        raise ValueError(f"need 0 <= c <= n, n >= 1 and k >= 1 (got n={n}, c={c}, k={k})")
    if k > n:
        raise ValueError(f"k={k} is larger than the number of samples n={n}")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def mean_pass_at_k(counts: Iterable[tuple[int, int]], k: int) -> float:
    """Average pass@k over problems given (samples, correct samples) per problem."""
    values = [pass_at_k(n, c, k) for n, c in counts]
    return sum(values) / len(values) if values else 0.0


def pass_at_k_from_records(records: Iterable[Any], k: int) -> float:
    """Mean pass@k over SampleRecords (objects or samples.jsonl dicts) of a run with --samples >= k."""
    counts = []
    for record in records:
        r = record if isinstance(record, dict) else record.model_dump()
        samples = r.get("samples") or [{"correct": r["correct"]}]
        counts.append((len(samples), sum(bool(s["correct"]) for s in samples)))
    return mean_pass_at_k(counts, k)
