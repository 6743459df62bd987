"""The lift of one student run over another: clustered interval coverage by simulation, the
paired test's size, and the pairing of real records (relative suites scored against the teacher)."""

from __future__ import annotations

import numpy as np
import pytest

from harness.retention.lift import lift_rows
from harness.retention.pairs import score_pairs
from harness.simulation import TwinDesign, simulate
from harness.stats import BootstrapSettings, mcnemar_clustered, paired_mean_ci, sign_flip_mean_p_value
from harness.types import SampleRecord

SETTINGS = BootstrapSettings(n_resamples=1000)


def lift_coverage(design: TwinDesign, runs: int, seed: int, clustered: bool = True) -> tuple[float, int]:
    """Share of simulated (base, treated) run pairs whose lift CI holds the true lift."""
    rng = np.random.default_rng(seed)
    true_lift = design.student_accuracy - design.teacher_accuracy
    hits = defined = 0
    for _ in range(runs):
        run = simulate(design, rng)
        groups = run.groups if clustered else None
        ci = paired_mean_ci(run.student - run.teacher, SETTINGS, groups)
        if ci.low is None:
            continue
        defined += 1
        hits += ci.low <= true_lift <= ci.high
    return hits / max(defined, 1), defined


@pytest.mark.parametrize("n_groups,group_size", [(10, 2), (40, 5)])
def test_lift_interval_covers_the_true_lift_with_twins(n_groups, group_size):
    # base run at 30 % and a treated run at 45 %: twins strongly correlated, as perturbations are
    design = TwinDesign(n_groups=n_groups, group_size=group_size, correlation=0.8,
                        teacher_accuracy=0.3, student_accuracy=0.45)
    coverage, defined = lift_coverage(design, 300, seed=3)
    assert defined == 300
    assert 0.91 <= coverage <= 0.99, coverage


def test_item_level_lift_interval_would_undercover():
    design = TwinDesign(n_groups=20, group_size=5, correlation=0.9, teacher_accuracy=0.3, student_accuracy=0.45)
    clustered, _ = lift_coverage(design, 200, seed=4)
    item_level, _ = lift_coverage(design, 200, seed=4, clustered=False)
    assert item_level < 0.88 < clustered, (item_level, clustered)


def test_paired_test_holds_its_size_when_nothing_changed():
    design = TwinDesign(n_groups=15, group_size=2, correlation=0.8, teacher_accuracy=0.4, student_accuracy=0.4,
                        teacher_student_correlation=0.6)
    rng = np.random.default_rng(5)
    p = [mcnemar_clustered(r.teacher.astype(bool), r.student.astype(bool), r.groups).p_value
         for r in (simulate(design, rng) for _ in range(400))]
    assert np.mean(np.asarray(p) < 0.05) <= 0.06


def record(item: str, group: str | None, capability: str, correct: bool, suite: str = "arithmetic", output: str = "") -> SampleRecord:
    return SampleRecord(item_id=item, suite=suite, capability=capability, split="test",
                        variant="canonical" if group is None else "numbers", perturbation_level=0 if group is None else 1,
                        canonical_id=group, output=output, correct=correct, score=float(correct))


def runs(correct_after: dict[str, bool]) -> tuple[list[SampleRecord], list[SampleRecord], list[SampleRecord]]:
    ids = [(f"g{g}", None) for g in range(12)] + [(f"g{g}-n", f"g{g}") for g in range(12)]
    teacher = [record(i, grp, "math", True) for i, grp in ids]
    before = [record(i, grp, "math", False) for i, grp in ids]
    after = [record(i, grp, "math", correct_after.get(i, False)) for i, grp in ids]
    return teacher, before, after


def test_lift_rows_count_gains_and_losses_per_capability():
    gained = {f"g{g}": True for g in range(8)} | {f"g{g}-n": True for g in range(8)}
    teacher, before, after = runs(gained)
    rows = lift_rows(score_pairs(teacher, before), score_pairs(teacher, after), SETTINGS)
    math_row, pooled = rows
    assert (math_row.capability, pooled.capability) == ("math", "all")
    assert math_row.n == 24 and math_row.n_groups == 12
    assert math_row.base == 0.0 and math_row.treated == pytest.approx(16 / 24)
    assert math_row.lift == pytest.approx(16 / 24)
    assert (math_row.gained, math_row.lost) == (16, 0)
    assert math_row.ci_low > 0 and math_row.significant
    assert math_row.p_value < 0.01


def test_no_change_is_not_significant():
    teacher, before, _ = runs({})
    row = lift_rows(score_pairs(teacher, before), score_pairs(teacher, before), SETTINGS)[0]
    assert row.lift == 0.0 and not row.significant and row.p_value == 1.0


def test_items_missing_from_one_run_are_left_out():
    teacher, before, after = runs({"g0": True})
    rows = lift_rows(score_pairs(teacher, before), score_pairs(teacher, after[:-3]), SETTINGS)
    assert rows[0].n == 21


def graded_differences(rng: np.random.Generator, n_groups: int, group_size: int, shift: float) -> tuple[np.ndarray, np.ndarray]:
    """Paired score differences of a graded metric: a shared group effect (twins move together) plus item noise."""
    groups = np.repeat(np.arange(n_groups), group_size)
    group_effect = rng.normal(0.0, 0.15, n_groups)[groups]
    return shift + group_effect + rng.normal(0.0, 0.05, len(groups)), groups


@pytest.mark.parametrize("n_groups,group_size", [(10, 2), (40, 5)])
def test_graded_sign_flip_test_holds_its_size_and_finds_a_real_shift(n_groups, group_size):
    """Exact (10 groups) and Monte Carlo (40 groups) sign flips: about 5 % rejections when nothing moved,
    most when every group moved by a quarter of its spread; the item-level test over-rejects under the null."""
    rng = np.random.default_rng(11)
    sims = 400

    def reject_rate(shift: float, clustered: bool = True) -> float:
        p = []
        for _ in range(sims):
            d, groups = graded_differences(rng, n_groups, group_size, shift)
            p.append(sign_flip_mean_p_value(d, groups if clustered else None, n_resamples=2000))
        return float(np.mean(np.asarray(p) < 0.05))

    assert reject_rate(0.0) <= 0.075
    assert reject_rate(0.15) >= 0.6
    assert reject_rate(0.0, clustered=False) > 0.12  # twins treated as independent: the test the clustering avoids


def test_graded_scores_count_items_that_rose_and_fell():
    ids = [(f"g{g}", None) for g in range(12)] + [(f"g{g}-n", f"g{g}") for g in range(12)]

    def graded(i: str, grp: str | None, score: float) -> SampleRecord:  # a graded score stored with the record
        return record(i, grp, "math", False).model_copy(update={"score": score})

    teacher = [graded(i, grp, 1.0) for i, grp in ids]
    before = [graded(i, grp, 0.5) for i, grp in ids]
    after = [graded(i, grp, 0.6 if n < 20 else 0.45) for n, (i, grp) in enumerate(ids)]
    row = lift_rows(score_pairs(teacher, before), score_pairs(teacher, after), SETTINGS)[0]
    assert (row.gained, row.lost) == (20, 4)
    assert row.lift > 0 and row.p_value is not None and row.p_value < 0.01
