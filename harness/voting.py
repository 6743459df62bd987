"""Self-consistency voting over k samples of one item (the seed's "ensemble" mitigation).

    majority   the answer most samples give, pooled by the suite's own `vote_key`
    weighted   each sample weighs exp(mean token log-probability): confident samples count more
    verify     only samples that pass the suite's answer-independent verifier take part

`verify` needs a suite method `verify(item, output) -> bool` that checks an output WITHOUT the
gold answer (a code suite's visible example tests, a constraint check). The evaluator hands
it a copy of the item with `answer`, `solution` and `reference_response` blanked, so a
verifier cannot peek. Suites without one fall back to majority, and the record says so.
Samples whose answer could not be extracted abstain unless every sample abstains.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.types import Generation, Item, SampleRecord, Score

VOTE_METHODS = ("majority", "weighted", "verify")


@dataclass
class VoteOutcome:
    chosen: int  # index of the sample whose answer wins
    method: str  # the method actually applied ("majority" when verify/weighted had to fall back)
    votes: dict[str, float]  # vote key -> count (or summed weight)
    agreement: float  # share of all samples that give the winning answer
    note: str | None = None
    verified: list[int] = field(default_factory=list)


def has_verifier(suite: Any) -> bool:
    return callable(getattr(suite, "verify", None))


def blind_copy(item: Item) -> Item:
    """The item without anything that reveals the gold answer."""
    return item.model_copy(update={"answer": None, "solution": "", "reference_response": ""})


def _tally(keys: Sequence[str], weights: Sequence[float], eligible: Iterable[int]) -> tuple[dict[str, float], int | None]:
    """Summed weight per key over eligible samples, and the first sample of the winning key."""
    totals: dict[str, float] = defaultdict(float)
    first: dict[str, int] = {}
    for i in eligible:
        totals[keys[i]] += weights[i]
        first.setdefault(keys[i], i)
    if not totals:
        return {}, None
    # Highest total wins; ties go to the answer that appeared first (deterministic).
    winner = max(totals, key=lambda k: (totals[k], -first[k]))
    return dict(totals), first[winner]


def voters(answered: Sequence[bool]) -> list[int]:
    """The samples that vote: those with an answer, or all of them when every sample abstained."""
    return [i for i, a in enumerate(answered) if a] or list(range(len(answered)))


def majority(keys: Sequence[str], answered: Sequence[bool]) -> int:
    """Index of the first sample giving the most common key among the voters; ties go to the
    key seen first. The one majority rule: `vote` and the retention mitigation view use it."""
    _, chosen = _tally(keys, [1.0] * len(keys), voters(answered))
    if chosen is None:
        raise ValueError("majority of no samples")
    return chosen


def vote(suite: Any, item: Item, generations: Sequence[Generation], scores: Sequence[Score], method: str) -> VoteOutcome:
    if method not in VOTE_METHODS:
        raise ValueError(f"unknown vote method {method!r}; use one of {', '.join(VOTE_METHODS)}")
    k = len(generations)
    keys = [suite.vote_key(s) for s in scores]
    answered = voters([s.answer is not None for s in scores])
    ones = [1.0] * k
    note = None
    applied = method

    eligible = answered
    weights = ones
    verified: list[int] = []
    if method == "weighted":
        if all(g.logprob is not None for g in generations):
            weights = [math.exp(g.logprob) for g in generations]  # geometric-mean token probability
        else:
            applied, note = "majority", "no log-probabilities from this backend: fell back to majority"
    elif method == "verify":
        if has_verifier(suite):
            blind = blind_copy(item)
            verified = [i for i, g in enumerate(generations) if suite.verify(blind, g.text)]
            if verified:
                eligible = verified
            else:
                applied, note = "majority", "no sample passed the verifier: fell back to majority"
        else:
            applied, note = "majority", f"suite {suite.name} has no answer-independent verifier: fell back to majority"

    votes, chosen = _tally(keys, weights, eligible)
    assert chosen is not None  # eligible is never empty
    agreement = sum(1 for key in keys if key == keys[chosen]) / k
    return VoteOutcome(chosen=chosen, method=applied, votes=votes, agreement=agreement, note=note, verified=verified)


@dataclass
class SamplingStats:
    k: int
    n: int
    pass_at_1: float  # mean share of correct samples per item (unbiased pass@1)
    maj_at_k: float | None  # share of items whose voted answer is correct (None without --vote)
    pass_at_k: float  # share of items with at least one correct sample
    method: str | None


def sampling_stats(records: Iterable[SampleRecord]) -> dict[str, dict[str, Any]]:
    """Per capability: pass@1, maj@k and pass@k over the records that hold k > 1 samples."""
    by_cap: dict[str, list[SampleRecord]] = defaultdict(list)
    for r in records:
        if r.error is None and len(r.samples) > 1:
            by_cap[r.capability].append(r)
    out: dict[str, dict[str, Any]] = {}
    for cap, rows in sorted(by_cap.items()):
        voted = [r for r in rows if r.vote_method is not None]
        stats = SamplingStats(
            k=max(len(r.samples) for r in rows),
            n=len(rows),
            pass_at_1=sum(sum(bool(s["correct"]) for s in r.samples) / len(r.samples) for r in rows) / len(rows),
            maj_at_k=sum(r.correct for r in voted) / len(voted) if voted else None,
            pass_at_k=sum(any(s["correct"] for s in r.samples) for r in rows) / len(rows),
            method=voted[0].vote_method if voted else None,
        )
        out[cap] = stats.__dict__
    return out
