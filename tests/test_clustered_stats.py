"""Clustered intervals and tests: coverage and size checked by simulation, plus exact cases."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import binomtest

from harness.simulation import TwinDesign, interval_coverage, mcnemar_rejection_rate, simulate
from harness.stats import BootstrapSettings, mcnemar_clustered, paired_mean_ci, paired_ratio, sign_flip_p_value

SETTINGS = BootstrapSettings()


@pytest.mark.parametrize("correlation", [0.5, 1.0])
def test_group_bootstrap_covers_true_retention_where_item_bootstrap_fails(correlation):
    # 400 simulated students, 40 problems with 5 twins each, skill varying by problem.
    design = TwinDesign(n_groups=40, group_size=5, correlation=correlation)
    clustered, defined = interval_coverage(design, 400, SETTINGS, clustered=True, seed=0)
    item_level, _ = interval_coverage(design, 400, SETTINGS, clustered=False, seed=0)
    assert defined == 400
    assert 0.92 <= clustered <= 0.98, clustered
    assert item_level < 0.90, item_level  # the old item-level interval is far too narrow


def test_without_correlation_both_intervals_cover():
    design = TwinDesign(n_groups=40, group_size=5, correlation=0.0)
    clustered, _ = interval_coverage(design, 300, SETTINGS, clustered=True, seed=1)
    item_level, _ = interval_coverage(design, 300, SETTINGS, clustered=False, seed=1)
    assert 0.91 <= clustered <= 0.99 and 0.91 <= item_level <= 0.99


def test_clustered_mcnemar_holds_its_size_where_item_level_does_not():
    design = TwinDesign(n_groups=40, group_size=5, correlation=0.5)
    assert mcnemar_rejection_rate(design, 400, clustered=True, seed=0) <= 0.07
    assert mcnemar_rejection_rate(design, 400, clustered=False, seed=0) > 0.12


def test_clustered_mcnemar_has_power_against_a_real_gap():
    rng = np.random.default_rng(4)
    design = TwinDesign(n_groups=40, teacher_accuracy=0.85, student_accuracy=0.5)
    p_values = [mcnemar_clustered(r.teacher > 0, r.student > 0, r.groups).p_value
                for r in (simulate(design, rng) for _ in range(50))]
    assert np.mean(np.array(p_values) < 0.05) > 0.9


def test_sign_flip_with_one_item_per_group_is_the_exact_mcnemar():
    rng = np.random.default_rng(0)
    for _ in range(30):
        n = int(rng.integers(5, 60))
        t, s = rng.random(n) < 0.7, rng.random(n) < 0.5
        b, c = int(np.sum(t & ~s)), int(np.sum(~t & s))
        expected = 1.0 if b + c == 0 else binomtest(b, b + c, 0.5).pvalue
        got = mcnemar_clustered(t, s)
        assert (got.teacher_only, got.student_only) == (b, c)
        assert got.p_value == pytest.approx(expected, rel=1e-9)


def test_sign_flip_counts_groups_not_items():
    # Two groups, each with 5 teacher-only items: 10 discordant items, but only 2 independent signs.
    assert sign_flip_p_value([5, 5]) == pytest.approx(0.5)
    t = [1] * 10
    s = [0] * 10
    clustered = mcnemar_clustered(t, s, ["a"] * 5 + ["b"] * 5)
    item_level = mcnemar_clustered(t, s)
    assert clustered.p_value == pytest.approx(0.5) and clustered.n_groups == 2
    assert item_level.p_value == pytest.approx(2 * 0.5**10)
    # Opposite groups cancel: 3 teacher-only in one, 3 student-only in another.
    assert sign_flip_p_value([3, -3]) == 1.0


def test_twins_widen_the_interval_and_groups_are_counted():
    rng = np.random.default_rng(2)
    run = simulate(TwinDesign(n_groups=30, correlation=1.0), rng)
    clustered = paired_ratio(run.teacher, run.student, SETTINGS, run.groups)
    item_level = paired_ratio(run.teacher, run.student, SETTINGS)
    assert clustered.value == item_level.value
    assert clustered.n_groups == 30 and item_level.n_groups == 150
    width = lambda e: e.ci.high - e.ci.low  # noqa: E731
    assert width(clustered) > 1.5 * width(item_level)


def test_ci_undefined_below_min_groups_but_point_estimate_kept():
    teacher = [1.0, 1.0, 0.0, 1.0, 1.0, 1.0] * 3
    student = [1.0, 0.0, 0.0, 1.0, 0.0, 1.0] * 3
    groups = [i // 2 for i in range(18)]  # 9 groups
    est = paired_ratio(teacher, student, BootstrapSettings(min_groups=10), groups)
    assert est.value == pytest.approx(9 / 15)
    assert est.ci.low is None and "10 problem groups, only 9" in est.undefined_reason
    assert paired_ratio(teacher, student, BootstrapSettings(min_groups=9), groups).ci.low is not None
    assert paired_mean_ci(student, BootstrapSettings(min_groups=10), groups).low is None


def test_group_mean_ci_respects_group_sizes():
    # One big group all right, many singletons all wrong: the mean is item-weighted.
    values = [1.0] * 20 + [0.0] * 20
    groups = ["big"] * 20 + list(range(20))
    ci = paired_mean_ci(values, BootstrapSettings(min_groups=5), groups)
    assert ci.low < 0.5 < ci.high
    assert ci.low < 0.1  # resamples without the big group reach 0


def test_retention_and_gate_json_record_the_clustering(tmp_path):
    from harness.gate import evaluate_gate
    from harness.policy import GatePolicy
    from harness.report.tables import render
    from harness.results import load_results
    from harness.retention import analyse
    from tests.retention_data import items, make_results

    canon = items(12, [True] * 12)
    twins = items(12, [True] * 12, variant="numbers")
    student_twins = items(12, [i % 2 == 0 for i in range(12)], variant="numbers")
    make_results(tmp_path / "t", "teacher", canon + twins)
    make_results(tmp_path / "s", "student", canon + student_twins)
    t, tr = load_results(tmp_path / "t")
    s, sr = load_results(tmp_path / "s")
    analysis = analyse(t, tr, s, sr)
    row = analysis.rows[0]
    assert (row.n, row.n_groups) == (24, 12)
    data = json.loads(render(analysis, "json"))
    assert data["clustering"]["cluster"] == "canonical_id" and data["clustering"]["n_groups"] == 12
    assert data["rows"][0]["n_groups"] == 12
    assert "24 (12 groups)" in render(analysis, "text")
    verdict = evaluate_gate(GatePolicy(retention_floors={"math": 0.5}), analysis).to_dict()
    assert verdict["clustering"]["n_groups"] == 12
    # The 6 student-only failures sit in 6 groups, one each: the test counts 6 signs, not 6 items per group.
    assert row.teacher_only == 6 and row.p_value == pytest.approx(2 * 0.5**6)
