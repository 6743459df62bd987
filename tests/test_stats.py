"""Paired bootstrap retention and exact McNemar against known cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.stats import BootstrapSettings, mcnemar_exact, paired_mean_ci, paired_ratio


def test_identical_results_give_retention_one_with_ci_containing_one():
    scores = [1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0] * 3
    est = paired_ratio(scores, scores)
    assert est.value == 1.0
    assert est.ci.contains(1.0)
    assert est.undefined_reason is None


def test_student_right_on_exactly_half_the_teachers_items_gives_half():
    teacher = [1.0] * 40
    student = [1.0, 0.0] * 20
    est = paired_ratio(teacher, student)
    assert est.value == pytest.approx(0.5)
    assert est.ci.low < 0.5 < est.ci.high
    assert 0.3 < est.ci.low and est.ci.high < 0.7  # binomial sd at n=40 is ~0.08


def test_teacher_zero_and_tiny_n_are_undefined_never_inf():
    zero = paired_ratio([0.0] * 20, [1.0] * 20)
    assert zero.value is None and zero.ci.low is None and "teacher score is 0" in zero.undefined_reason
    tiny = paired_ratio([1.0, 1.0], [1.0, 0.0], BootstrapSettings(min_items=5))
    assert tiny.value is None and "only 2 paired items" in tiny.undefined_reason
    empty = paired_ratio([], [])
    assert empty.value is None
    # One teacher success among 10: the ratio exists but most resamples divide by zero.
    shaky = paired_ratio([1] + [0] * 9, [1] * 10)
    assert shaky.value == pytest.approx(10.0) and shaky.ci.low is None
    assert "resamples" in shaky.undefined_reason
    for est in (zero, tiny, empty, shaky):
        for x in (est.value, est.ci.low, est.ci.high):
            assert x is None or math.isfinite(x)


def test_bootstrap_is_seeded_and_recorded():
    rng = np.random.default_rng(3)
    t = (rng.random(80) < 0.8).astype(float)
    s = (rng.random(80) < 0.5).astype(float)
    a = paired_ratio(t, s, BootstrapSettings(seed=1))
    b = paired_ratio(t, s, BootstrapSettings(seed=1))
    c = paired_ratio(t, s, BootstrapSettings(seed=2))
    assert a == b
    assert a.ci != c.ci
    assert a.ci.low < a.value < a.ci.high


def test_pairing_narrows_the_interval():
    # The student fails exactly where the teacher fails, plus a few more: pairing knows the
    # failures are shared, so the interval is narrower than for independent draws.
    teacher = [1.0] * 30 + [0.0] * 10
    student = [1.0] * 24 + [0.0] * 16
    paired = paired_ratio(teacher, student)
    shuffled = paired_ratio(teacher, list(np.random.default_rng(0).permutation(student)))
    assert paired.value == shuffled.value == pytest.approx(24 / 30)
    assert (paired.ci.high - paired.ci.low) < (shuffled.ci.high - shuffled.ci.low)


def test_exact_mcnemar_known_values():
    # 5 discordant pairs all favouring the teacher: p = 2 * 0.5**5.
    m = mcnemar_exact([1] * 10, [1, 0] * 5)
    assert (m.teacher_only, m.student_only) == (5, 0)
    assert m.p_value == pytest.approx(0.0625)
    # 10 vs 2 discordant: p = 2 * (C(12,0)+C(12,1)+C(12,2)) / 2**12 = 158/4096.
    t = [1] * 10 + [0] * 2 + [1] * 5
    s = [0] * 10 + [1] * 2 + [1] * 5
    m = mcnemar_exact(t, s)
    assert (m.teacher_only, m.student_only) == (10, 2)
    assert m.p_value == pytest.approx(158 / 4096)
    assert mcnemar_exact([1, 0, 1], [1, 0, 1]).p_value == 1.0


def test_mean_ci():
    ci = paired_mean_ci([1.0, 0.0] * 30)
    assert ci.low < 0.5 < ci.high
    assert paired_mean_ci([1.0] * 10).contains(1.0)
