"""Paired statistics for student-vs-teacher comparisons, clustered by problem group.

Every canonical problem and its perturbed twins (numbers, names, distractor, ...) share one
underlying problem, so their scores are correlated: a student that cannot do a problem
tends to fail all its twins. Resampling or counting twins as independent items makes
intervals far too narrow (see reports/ci_coverage.md). Every interval and test here
therefore treats the *problem group* (a canonical item with all its twins, keyed by
`canonical_id`) as the unit:

- retention is the ratio of the student's and the teacher's total scores; its interval is a
  paired percentile bootstrap over groups (scipy.stats.bootstrap on per-group totals, which
  resamples whole groups, teacher and student together), with Hesterberg's small-sample
  expansion: the percentile interval is read at widened levels so that it has the width of a
  t interval with G - 1 degrees of freedom (the plain percentile interval under-covers with
  10 groups: 0.90 instead of 0.95 in reports/ci_coverage.md);
- the clustered McNemar test is an exact sign-flip permutation test over groups: under "the
  student and the teacher are exchangeable", each group's net discordance (teacher-only
  minus student-only items) is equally likely to have either sign. With one item per group
  it is exactly the exact McNemar test.

Without group labels every item is its own group, which is the item-level analysis.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Annotated

import numpy as np

from harness.config import Arg

DEFAULT_RESAMPLES = 2000
DEFAULT_CONFIDENCE = 0.95
DEFAULT_SEED = 0
# Below this many paired items a retention number says more about noise than about the model.
DEFAULT_MIN_ITEMS = 5
# Below this many problem groups even the expanded bootstrap under-covers (reports/ci_coverage.md):
# the interval is reported as undefined rather than too narrow.
DEFAULT_MIN_GROUPS = 10
# A teacher mean this close to zero makes the ratio meaningless (and the bootstrap explode).
MIN_TEACHER_SCORE = 1e-9
CLUSTER_KEY = "canonical_id"
CI_METHOD = "paired expanded-percentile bootstrap over problem groups"
TEST_METHOD = "clustered McNemar: exact sign-flip permutation over problem groups"


@dataclass(frozen=True)
class BootstrapSettings:
    """Also the bootstrap flags of `harness retention` and `harness report` (harness/config.py)."""

    n_resamples: Annotated[int, Arg("paired bootstrap resamples", flag="--resamples", minimum=100)] = DEFAULT_RESAMPLES
    confidence: Annotated[float, Arg("confidence level of the intervals")] = DEFAULT_CONFIDENCE
    seed: Annotated[int, Arg("resampling seed, recorded in every output", flag="--bootstrap-seed")] = DEFAULT_SEED
    min_items: Annotated[int, Arg("retention is 'undefined' below this many paired items", minimum=1)] = DEFAULT_MIN_ITEMS
    min_groups: Annotated[int, Arg("a CI is 'undefined' below this many problem groups (a canonical item with its twins)",
                                   minimum=2)] = DEFAULT_MIN_GROUPS
    expanded: bool = True  # Hesterberg's small-sample expansion of the percentile interval

    def tail(self, n_groups: int) -> float:
        """Tail mass on each side at which the bootstrap distribution is read."""
        return (expanded_alpha(self.confidence, n_groups) if self.expanded else 1 - self.confidence) / 2


@dataclass(frozen=True)
class Interval:
    """A confidence interval; either bound is None when it is undefined."""

    low: float | None
    high: float | None

    def contains(self, x: float) -> bool:
        return self.low is not None and self.high is not None and self.low <= x <= self.high


@dataclass(frozen=True)
class RatioEstimate:
    """student total / teacher total with its clustered interval; None values mean undefined."""

    value: float | None
    ci: Interval
    undefined_reason: str | None = None
    n_groups: int = 0


@dataclass(frozen=True)
class McNemar:
    """The paired test of teacher against student: discordant counts and the p-value over problem groups."""

    teacher_only: int  # items the teacher got right and the student wrong
    student_only: int  # items the student got right and the teacher wrong
    p_value: float  # two-sided; 1.0 when no group has a net discordance
    n_groups: int = 0
    method: str = TEST_METHOD


def mean_or_none(xs: Sequence[float]) -> float | None:
    return float(np.mean(xs)) if len(xs) else None


def group_index(groups: Sequence[Hashable] | np.ndarray | None, n: int) -> np.ndarray:
    """Group number of each item, in order of first appearance (None: every item alone)."""
    if groups is None:
        return np.arange(n)
    if len(groups) != n:
        raise ValueError(f"{len(groups)} group labels for {n} items")
    numbers: dict[Hashable, int] = {}
    return np.array([numbers.setdefault(g, len(numbers)) for g in groups], dtype=int)


def group_totals(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    return np.bincount(index, weights=values, minlength=int(index.max()) + 1 if len(index) else 0)


def expanded_alpha(confidence: float, n_groups: int) -> float:
    """Two-sided tail mass at which to read the bootstrap distribution (Hesterberg 2015).

    alpha' = 2 Phi(-sqrt(G / (G - 1)) t_{1 - alpha/2, G - 1}): corrects the bootstrap's
    (G - 1) / G variance bias and uses t rather than normal quantiles. It tends to the plain
    percentile interval's alpha as G grows.
    """
    from scipy.stats import norm, t

    alpha = 1 - confidence
    if n_groups < 2:
        return alpha
    return float(2 * norm.cdf(-((n_groups / (n_groups - 1)) ** 0.5) * t.ppf(1 - alpha / 2, n_groups - 1)))


def _ratio_of_totals(t: np.ndarray, s: np.ndarray, axis: int = -1) -> np.ndarray:
    t_sum = np.sum(t, axis=axis)
    s_sum = np.sum(s, axis=axis)
    safe = np.where(t_sum > MIN_TEACHER_SCORE, t_sum, 1.0)
    return np.where(t_sum > MIN_TEACHER_SCORE, s_sum / safe, np.nan)


def paired_ratio(
    teacher: Sequence[float] | np.ndarray,
    student: Sequence[float] | np.ndarray,
    settings: BootstrapSettings = BootstrapSettings(),
    groups: Sequence[Hashable] | np.ndarray | None = None,
) -> RatioEstimate:
    """Retention = mean(student) / mean(teacher) over paired items, with a clustered CI.

    The interval resamples whole problem groups (`groups[i]` labels item i; None: every item
    is its own group). Undefined (None) when there are fewer than `settings.min_items` pairs
    or the teacher's mean is 0. The CI alone is undefined below `settings.min_groups` groups,
    and when more than 1 % of the resamples have a zero teacher total (the interval would
    then hide how unstable the ratio is).
    """
    from scipy.stats import bootstrap

    t = np.asarray(teacher, dtype=float)
    s = np.asarray(student, dtype=float)
    if t.shape != s.shape:
        raise ValueError(f"paired scores differ in length ({len(t)} vs {len(s)})")
    n = len(t)
    index = group_index(groups, n)
    n_groups = int(index.max()) + 1 if n else 0
    none = Interval(None, None)
    if n == 0:
        return RatioEstimate(None, none, "no paired items")
    if n < settings.min_items:
        return RatioEstimate(None, none, f"only {n} paired items (< {settings.min_items})", n_groups)
    if t.mean() <= MIN_TEACHER_SCORE:
        return RatioEstimate(None, none, "teacher score is 0", n_groups)
    value = float(s.mean() / t.mean())
    if n_groups < settings.min_groups:
        return RatioEstimate(
            value, none, f"CI needs {settings.min_groups} problem groups, only {n_groups} measured", n_groups
        )
    if np.all(t == t[0]) and np.all(s == s[0]):
        # Every resample has the same ratio: the interval is the point (scipy would warn "degenerate").
        return RatioEstimate(value, Interval(value, value), None, n_groups)
    t_groups, s_groups = group_totals(t, index), group_totals(s, index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = bootstrap(
            (t_groups, s_groups),
            _ratio_of_totals,
            paired=True,
            vectorized=True,
            n_resamples=settings.n_resamples,
            confidence_level=settings.confidence,
            method="percentile",
            rng=np.random.default_rng(settings.seed),
        )
    dist = res.bootstrap_distribution
    undefined_share = float(np.mean(np.isnan(dist)))
    if undefined_share > 0.01:
        return RatioEstimate(
            value,
            none,
            f"teacher score is 0 in {undefined_share:.0%} of bootstrap resamples (too few teacher successes)",
            n_groups,
        )
    tail = settings.tail(n_groups)
    low, high = np.nanquantile(dist, [tail, 1 - tail])
    return RatioEstimate(value, Interval(float(low), float(high)), None, n_groups)


def paired_mean_ci(
    values: Sequence[float],
    settings: BootstrapSettings = BootstrapSettings(),
    groups: Sequence[Hashable] | None = None,
) -> Interval:
    """Expanded-percentile bootstrap interval of a mean over problem groups (as for the ratio)."""
    x = np.asarray(values, dtype=float)
    if len(x) < max(settings.min_items, 1):
        return Interval(None, None)
    index = group_index(groups, len(x))
    if int(index.max()) + 1 < settings.min_groups:
        return Interval(None, None)
    if np.all(x == x[0]):
        return Interval(float(x[0]), float(x[0]))
    totals, sizes = group_totals(x, index), np.bincount(index).astype(float)
    rng = np.random.default_rng(settings.seed)
    draws = rng.integers(0, len(totals), size=(settings.n_resamples, len(totals)))
    means = totals[draws].sum(axis=1) / sizes[draws].sum(axis=1)
    tail = settings.tail(len(totals))
    low, high = np.quantile(means, [tail, 1 - tail])
    return Interval(float(low), float(high))


def sign_flip_p_value(net: Sequence[int]) -> float:
    """Exact two-sided p of sum(net) under independent random signs of each group's net count.

    The null distribution of the sum of ±|d_k| is built by convolution over integer sums, so
    it is exact for any number of groups (no 2^K enumeration, no Monte Carlo).
    """
    d = np.abs(np.asarray(net, dtype=int))
    d = d[d > 0]
    if len(d) == 0:
        return 1.0
    total = int(d.sum())
    pmf = np.zeros(2 * total + 1)
    pmf[total] = 1.0  # index = sum + total
    for k in d:
        shifted = np.zeros_like(pmf)
        shifted[k:] += 0.5 * pmf[:-k]
        shifted[:-k] += 0.5 * pmf[k:]
        pmf = shifted
    observed = abs(int(np.sum(net)))
    sums = np.abs(np.arange(-total, total + 1))
    return float(min(1.0, pmf[sums >= observed].sum()))


def sign_flip_mean_p_value(
    differences: Sequence[float] | np.ndarray,
    groups: Sequence[Hashable] | np.ndarray | None = None,
    n_resamples: int = 20_000,
    seed: int = 0,
    exact_up_to: int = 16,
) -> float:
    """Two-sided p of "the paired differences are centred on 0", for scores that are not right/wrong.

    Each problem group contributes the sum of its items' differences; under the null every group's
    sum is as likely negated (the two runs are exchangeable within a group). The statistic is the
    absolute total; its null distribution is every sign pattern (exact, up to `exact_up_to` groups)
    or `n_resamples` random ones, counted with the observed pattern ((1 + hits) / (1 + draws)).
    On right/wrong scores it is the clustered McNemar test above.
    """
    x = np.asarray(differences, dtype=float)
    if len(x) == 0:
        return 1.0
    totals = group_totals(x, group_index(groups, len(x)))
    totals = totals[np.abs(totals) > 1e-12]
    if len(totals) == 0:
        return 1.0
    observed = abs(float(totals.sum()))
    tolerance = 1e-9 * max(1.0, observed)
    if len(totals) <= exact_up_to:
        patterns = ((np.arange(2 ** len(totals))[:, None] >> np.arange(len(totals))) & 1) * 2 - 1
        null = np.abs(patterns @ totals)
        return float(np.mean(null >= observed - tolerance))
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, n_resamples, 4096):
        signs = rng.choice(np.array([-1.0, 1.0]), size=(min(4096, n_resamples - start), len(totals)))
        hits += int(np.sum(np.abs(signs @ totals) >= observed - tolerance))
    return (1 + hits) / (1 + n_resamples)


def mcnemar_clustered(
    teacher_correct: Sequence[bool] | np.ndarray,
    student_correct: Sequence[bool] | np.ndarray,
    groups: Sequence[Hashable] | np.ndarray | None = None,
) -> McNemar:
    """Does the student differ from the teacher? Exact sign-flip test over problem groups.

    Each group contributes its net discordance (teacher-only minus student-only items). With
    one item per group this is the exact McNemar (binomial) test on the discordant pairs.
    """
    t = np.asarray(teacher_correct, dtype=bool)
    s = np.asarray(student_correct, dtype=bool)
    index = group_index(groups, len(t))
    teacher_only = group_totals((t & ~s).astype(float), index)
    student_only = group_totals((~t & s).astype(float), index)
    net = np.rint(teacher_only - student_only).astype(int)
    return McNemar(
        int(teacher_only.sum()),
        int(student_only.sum()),
        sign_flip_p_value(net),
        n_groups=int(index.max()) + 1 if len(index) else 0,
    )


def mcnemar_exact(teacher_correct: Sequence[bool], student_correct: Sequence[bool]) -> McNemar:
    """Item-level exact McNemar (every item its own group): valid only without twins."""
    return mcnemar_clustered(teacher_correct, student_correct, None)
