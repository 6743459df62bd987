"""Self-consistency voting over k samples of one item (the seed's "ensemble" mitigation).

    majority   the answer most samples give, pooled by the suite's own `vote_key`
    weighted   each sample weighs exp(mean token log-probability): confident samples count more
    verify     only samples that pass the suite's answer-independent verifier take part

`verify` needs a suite method `verify(item, output) -> bool` that checks an output WITHOUT the
gold answer (a code suite's visible example tests, a constraint check). The evaluator hands
it a copy of the item with `answer`, `solution` and `reference_response` blanked, so a
verifier cannot peek. Suites without one fall back to majority, and the record says so.
Samples whose answer could not be extracted abstain unless every sample abstains.

Every method is an entry of VOTE_METHODS (`--vote NAME`); a plug-in package adds its own under
the "harness.vote_methods" entry-point group. A method gets a `Ballot` (suite, item, samples,
their vote keys) and returns an `Electorate` (who votes, with what weight); `tally` counts it.
`majority(keys, answered)` is the same plain-majority rule for callers holding only stored
samples (retention's maj@k rows).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.registry import Registry

if TYPE_CHECKING:  # kept out of the import so the CLI can name VOTE_METHODS cheaply
    from harness.types import Generation, Item, SampleRecord, Score

VOTE_METHODS: Registry[VoteMethod] = Registry("vote method", entry_point_group="harness.vote_methods")


@dataclass
class VoteOutcome:
    """The result of voting over one item's samples: the chosen sample, the votes and the agreement."""

    chosen: int  # index of the sample whose answer wins
    method: str  # the method actually applied ("majority" when verify/weighted had to fall back)
    votes: dict[str, float]  # vote key -> count (or summed weight)
    agreement: float  # share of all samples that give the winning answer
    note: str | None = None
    verified: list[int] = field(default_factory=list)


@dataclass
class Ballot:
    """What one item's samples bring to a vote: the suite, the item, and every sample's vote key."""

    suite: Any
    item: Item
    generations: Sequence[Generation]
    scores: Sequence[Score]
    keys: list[str]  # suite.vote_key(score) per sample
    answered: list[int]  # samples whose answer could be extracted (all of them when none could)


@dataclass
class Electorate:
    """A vote method's decision: which samples vote, with what weight (1.0 each by default)."""

    eligible: list[int]
    weights: list[float] | None = None
    fallback: str | None = None  # why the method fell back to plain majority (recorded as the vote note)
    verified: list[int] = field(default_factory=list)


# A vote method: Ballot -> Electorate. Register in-tree with @VOTE_METHODS.register(name), or from
# another package under the "harness.vote_methods" entry-point group.
VoteMethod = Callable[[Ballot], Electorate]


def has_verifier(suite: Any) -> bool:
    return callable(getattr(suite, "verify", None))


def blind_copy(item: Item) -> Item:
    """The item without anything that reveals the gold answer."""
    return item.model_copy(update={"answer": None, "solution": "", "reference_response": ""})


def tally(keys: Sequence[str], weights: Sequence[float] | None = None, eligible: Iterable[int] | None = None) -> tuple[dict[str, float], int | None]:
    """Summed weight per key over the eligible samples (default: all, weight 1 each), and the
    first sample of the winning key (None when nobody votes). The highest total wins; ties go
    to the answer that appeared first, so the outcome is deterministic."""
    totals: dict[str, float] = defaultdict(float)
    first: dict[str, int] = {}
    for i in range(len(keys)) if eligible is None else eligible:
        totals[keys[i]] += 1.0 if weights is None else weights[i]
        first.setdefault(keys[i], i)
    if not totals:
        return {}, None
    winner = max(totals, key=lambda k: (totals[k], -first[k]))
    return dict(totals), first[winner]


def voters(answered: Sequence[bool]) -> list[int]:
    """The samples that vote: those with an answer, or all of them when every sample abstained."""
    return [i for i, a in enumerate(answered) if a] or list(range(len(answered)))


def majority(keys: Sequence[str], answered: Sequence[bool] | None = None) -> int:
    """Index of the first sample giving the majority answer. Samples with `answered[i]` False
    (no answer could be extracted) vote only when no sample answered. The one majority rule
    behind both `--vote majority` and retention's maj@k rows."""
    if not keys:
        raise ValueError("majority() needs at least one sample")
    return tally(keys, eligible=voters([True] * len(keys) if answered is None else answered))[1]  # type: ignore[return-value]


@VOTE_METHODS.register("majority")
def majority_method(ballot: Ballot) -> Electorate:
    """The answer most samples give, pooled by the suite's own `vote_key`."""
    return Electorate(eligible=ballot.answered)


@VOTE_METHODS.register("weighted")
def weighted_method(ballot: Ballot) -> Electorate:
    """Each sample weighs exp(mean token log-probability): confident samples count more."""
    if not all(g.logprob is not None for g in ballot.generations):
        return Electorate(ballot.answered, fallback="no log-probabilities from this backend: fell back to majority")
    return Electorate(ballot.answered, weights=[math.exp(g.logprob) for g in ballot.generations])  # type: ignore[arg-type]


@VOTE_METHODS.register("verify")
def verify_method(ballot: Ballot) -> Electorate:
    """Only samples passing the suite's answer-independent verifier take part."""
    suite = ballot.suite
    if not has_verifier(suite):
        return Electorate(ballot.answered, fallback=f"suite {suite.name} has no answer-independent verifier: fell back to majority")
    blind = blind_copy(ballot.item)
    verified = [i for i, g in enumerate(ballot.generations) if suite.verify(blind, g.text)]
    if not verified:
        return Electorate(ballot.answered, fallback="no sample passed the verifier: fell back to majority")
    return Electorate(verified, verified=verified)


def vote(suite: Any, item: Item, generations: Sequence[Generation], scores: Sequence[Score], method: str) -> VoteOutcome:
    if method not in VOTE_METHODS:
        raise ValueError(f"unknown vote method {method!r}; use one of {', '.join(VOTE_METHODS)}")
    k = len(generations)
    keys = [suite.vote_key(s) for s in scores]
    answered = voters([s.answer is not None for s in scores])
    ballot = Ballot(suite=suite, item=item, generations=generations, scores=scores, keys=keys, answered=answered)
    electorate = VOTE_METHODS.get(method)(ballot)
    eligible = electorate.eligible or answered  # a method that leaves nobody eligible gets plain majority
    votes, chosen = tally(keys, electorate.weights, eligible)
    assert chosen is not None  # eligible is never empty
    agreement = sum(1 for key in keys if key == keys[chosen]) / k
    applied = "majority" if electorate.fallback else method
    return VoteOutcome(chosen=chosen, method=applied, votes=votes, agreement=agreement, note=electorate.fallback,
                       verified=electorate.verified)


@dataclass
class SamplingStats:
    """pass@1, maj@k and pass@k of one capability over k samples per item."""

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
