"""Paired statistics for student-vs-teacher comparisons.

Retention is a ratio of two means over the same items, so its uncertainty comes from a
paired bootstrap: resample item indices with replacement and recompute both means on the
same resample (scipy.stats.bootstrap with paired=True does exactly this). The exact McNemar
test asks whether the student and the teacher differ on the items where they disagree.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_RESAMPLES = 2000
DEFAULT_CONFIDENCE = 0.95
DEFAULT_SEED = 0
# Below this many paired items a retention number says more about noise than about the model.
DEFAULT_MIN_ITEMS = 5
# A teacher mean this close to zero makes the ratio meaningless (and the bootstrap explode).
MIN_TEACHER_SCORE = 1e-9


@dataclass(frozen=True)
class BootstrapSettings:
    n_resamples: int = DEFAULT_RESAMPLES
    confidence: float = DEFAULT_CONFIDENCE
    seed: int = DEFAULT_SEED
    min_items: int = DEFAULT_MIN_ITEMS


@dataclass(frozen=True)
class Interval:
    low: float | None
    high: float | None

    def contains(self, x: float) -> bool:
        return self.low is not None and self.high is not None and self.low <= x <= self.high


@dataclass(frozen=True)
class RatioEstimate:
    """student mean / teacher mean with its paired-bootstrap interval; None values mean undefined."""

    value: float | None
    ci: Interval
    undefined_reason: str | None = None


@dataclass(frozen=True)
class McNemar:
    teacher_only: int  # items the teacher got right and the student wrong
    student_only: int  # items the student got right and the teacher wrong
    p_value: float  # exact two-sided binomial test on the discordant pairs (1.0 when there are none)


def mean_or_none(xs: Sequence[float]) -> float | None:
    return float(np.mean(xs)) if len(xs) else None


def _ratio_statistic(t: np.ndarray, s: np.ndarray, axis: int = -1) -> np.ndarray:
    t_mean = np.mean(t, axis=axis)
    s_mean = np.mean(s, axis=axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(t_mean > MIN_TEACHER_SCORE, s_mean / np.where(t_mean > MIN_TEACHER_SCORE, t_mean, 1.0), np.nan)


def paired_ratio(
    teacher: Sequence[float], student: Sequence[float], settings: BootstrapSettings = BootstrapSettings()
) -> RatioEstimate:
    """Retention = mean(student) / mean(teacher) over paired items, with a percentile CI.

    Undefined (None) when there are fewer than `settings.min_items` pairs or the teacher's
    mean is 0. The CI is undefined when more than 1 % of the resamples have a zero teacher
    mean: the interval would then hide how unstable the ratio is.
    """
    from scipy.stats import bootstrap

    t = np.asarray(teacher, dtype=float)
    s = np.asarray(student, dtype=float)
    if t.shape != s.shape:
        raise ValueError(f"paired scores differ in length ({len(t)} vs {len(s)})")
    n = len(t)
    none = Interval(None, None)
    if n == 0:
        return RatioEstimate(None, none, "no paired items")
    if n < settings.min_items:
        return RatioEstimate(None, none, f"only {n} paired items (< {settings.min_items})")
    if t.mean() <= MIN_TEACHER_SCORE:
        return RatioEstimate(None, none, "teacher score is 0")
    value = float(s.mean() / t.mean())
    if np.all(t == t[0]) and np.all(s == s[0]):
        # Every resample is identical: the interval is the point (scipy would warn "degenerate").
        return RatioEstimate(value, Interval(value, value))
    rng = np.random.default_rng(settings.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bootstrap(
            (t, s),
            _ratio_statistic,
            paired=True,
            vectorized=True,
            n_resamples=settings.n_resamples,
            confidence_level=settings.confidence,
            method="percentile",
            rng=rng,
        )
    dist = res.bootstrap_distribution
    undefined_share = float(np.mean(np.isnan(dist)))
    if undefined_share > 0.01:
        return RatioEstimate(
            value, none, f"teacher score is 0 in {undefined_share:.0%} of bootstrap resamples (too few teacher successes)"
        )
    alpha = (1 - settings.confidence) / 2
    low, high = np.nanquantile(dist, [alpha, 1 - alpha])
    return RatioEstimate(value, Interval(float(low), float(high)))


def paired_mean_ci(
    values: Sequence[float], settings: BootstrapSettings = BootstrapSettings()
) -> Interval:
    """Percentile bootstrap interval of a mean (same seed and resample count as the ratio)."""
    x = np.asarray(values, dtype=float)
    if len(x) < max(settings.min_items, 1):
        return Interval(None, None)
    if np.all(x == x[0]):
        return Interval(float(x[0]), float(x[0]))
    rng = np.random.default_rng(settings.seed)
    idx = rng.integers(0, len(x), size=(settings.n_resamples, len(x)))
    means = x[idx].mean(axis=1)
    alpha = (1 - settings.confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return Interval(float(low), float(high))


def mcnemar_exact(teacher_correct: Sequence[bool], student_correct: Sequence[bool]) -> McNemar:
    """Exact McNemar: under H0 each discordant pair is equally likely to favour either model."""
    from scipy.stats import binomtest

    t = np.asarray(teacher_correct, dtype=bool)
    s = np.asarray(student_correct, dtype=bool)
    b = int(np.sum(t & ~s))
    c = int(np.sum(~t & s))
    p = 1.0 if b + c == 0 else float(binomtest(b, b + c, 0.5).pvalue)
    return McNemar(b, c, p)
