"""Distillation keep policies (`--keep`): which of a prompt's teacher samples becomes the training row.

    all        the first usable sample, verified or not
    verified   the first sample the suite's scorer marks correct (rejection sampling)
    best       of the correct samples, the highest score, then the highest mean log-probability

A policy gets the prompt's usable samples as (generation, score) pairs (errored and empty ones
are already dropped; every score is set) and returns the chosen pair, or None to reject the
prompt. A plug-in package adds one under the "harness.keep_policies" entry-point group.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from harness.registry import Registry

if TYPE_CHECKING:  # kept out of the import so the CLI can name KEEP_POLICIES cheaply
    from harness.types import Generation, Score

Sample = tuple["Generation", "Score"]
KeepPolicy = Callable[[Sequence[Sample]], "Sample | None"]
KEEP_POLICIES: Registry[KeepPolicy] = Registry("keep policy", entry_point_group="harness.keep_policies")


@KEEP_POLICIES.register("all")
def keep_all(samples: Sequence[Sample]) -> Sample | None:
    return samples[0] if samples else None


@KEEP_POLICIES.register("verified")
def keep_verified(samples: Sequence[Sample]) -> Sample | None:
    return next((gs for gs in samples if gs[1].correct), None)


@KEEP_POLICIES.register("best")
def keep_best(samples: Sequence[Sample]) -> Sample | None:
    correct = [gs for gs in samples if gs[1].correct]
    if not correct:
        return None
    return max(correct, key=lambda gs: (gs[1].value or 0.0, gs[0].logprob if gs[0].logprob is not None else float("-inf")))
