"""Synthetic teacher/student runs with correlated perturbation twins, to check the statistics.

A problem group is a canonical item and its twins. Each item has a latent normal difficulty
that is shared within its group to the degree `correlation` (0: twins are independent
items, 1: twins are answered identically); a model solves an item when the latent's normal
CDF falls below its accuracy. The student's latent is correlated with the teacher's (they
find the same problems hard), so the pairing matters too. Marginally every item is solved
with probability exactly the model's accuracy, so the true retention is known:
student_accuracy / teacher_accuracy.

`interval_coverage` and `mcnemar_rejection_rate` are what tests/test_clustered_stats.py and
bench/ci_coverage.py measure.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from harness.stats import BootstrapSettings, mcnemar_clustered, paired_ratio


@dataclass(frozen=True)
class TwinDesign:
    """A simulated evaluation: problem groups of correlated twins, with teacher and student accuracies."""

    n_groups: int
    group_size: int = 5  # a canonical item and its twins
    correlation: float = 0.5  # latent correlation between twins of one problem
    teacher_accuracy: float = 0.8
    student_accuracy: float = 0.5
    teacher_student_correlation: float = 0.5  # how much the two models find the same items hard

    @property
    def true_retention(self) -> float:
        return self.student_accuracy / self.teacher_accuracy


@dataclass(frozen=True)
class SimulatedRun:
    """0/1 teacher and student outcomes per item, with each item's problem group."""

    teacher: np.ndarray  # 0/1 per item
    student: np.ndarray
    groups: np.ndarray  # group number per item


def _latent(rng: np.random.Generator, design: TwinDesign, shared: np.ndarray, own: np.ndarray) -> np.ndarray:
    r = design.correlation
    return np.sqrt(r) * shared + np.sqrt(1 - r) * own


def simulate(design: TwinDesign, rng: np.random.Generator, shift: np.ndarray | None = None) -> SimulatedRun:
    """One teacher/student pair of runs. `shift` (per group, latent scale) favours the student
    by half of it and disfavours the teacher by the other half, so a symmetric shift keeps the
    two models exchangeable."""
    from scipy.stats import norm

    g, m, c = design.n_groups, design.group_size, design.teacher_student_correlation
    t_group, t_item = rng.standard_normal((g, 1)), rng.standard_normal((g, m))
    s_group = np.sqrt(c) * t_group + np.sqrt(1 - c) * rng.standard_normal((g, 1))
    s_item = np.sqrt(c) * t_item + np.sqrt(1 - c) * rng.standard_normal((g, m))
    t_latent = _latent(rng, design, t_group, t_item)
    s_latent = _latent(rng, design, s_group, s_item)
    half = 0.0 if shift is None else shift[:, None] / 2
    s_threshold = norm.ppf(design.student_accuracy) + half
    teacher = (t_latent < norm.ppf(design.teacher_accuracy) - half).astype(float)
    student = (s_latent < s_threshold).astype(float)
    groups = np.repeat(np.arange(g), m)
    return SimulatedRun(teacher.ravel(), student.ravel(), groups)


def interval_coverage(
    design: TwinDesign, n_students: int, settings: BootstrapSettings, clustered: bool = True, seed: int = 0
) -> tuple[float, int]:
    """Share of simulated students whose retention CI holds the true retention; and how many had a CI."""
    rng = np.random.default_rng(seed)
    hits = defined = 0
    for i in range(n_students):
        run = simulate(design, rng)
        est = paired_ratio(
            run.teacher, run.student, dataclasses.replace(settings, seed=seed + i), run.groups if clustered else None
        )
        if est.ci.low is not None:
            defined += 1
            hits += est.ci.contains(design.true_retention)
    return (hits / defined if defined else float("nan")), defined


def mcnemar_rejection_rate(
    design: TwinDesign, n_runs: int, alpha: float = 0.05, clustered: bool = True, seed: int = 0, effect_sd: float = 1.0
) -> float:
    """How often "the student differs" is declared when teacher and student are exchangeable.

    Both models get the same accuracy; each problem group favours one of them by a random,
    symmetric amount (`effect_sd` on the latent scale), so there is no difference on average
    but twins' discordances point the same way. A valid test rejects at most `alpha` of the time.
    """
    rng = np.random.default_rng(seed)
    same = TwinDesign(design.n_groups, design.group_size, design.correlation, design.teacher_accuracy,
                      design.teacher_accuracy, design.teacher_student_correlation)
    rejected = 0
    for _ in range(n_runs):
        run = simulate(same, rng, shift=rng.normal(0, effect_sd, same.n_groups))
        test = mcnemar_clustered(run.teacher > 0, run.student > 0, run.groups if clustered else None)
        rejected += test.p_value < alpha
    return rejected / n_runs
