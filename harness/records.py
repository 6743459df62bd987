"""Scoring a run's generations and the SampleRecords written to samples.jsonl.

Each suite scores its items' samples in one batch (`Suite.score_many`, with the run's ScoringContext);
failed requests are never scored; several samples per item are voted on when asked; `make_record`
joins an item, its generations, scores and vote into one record.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.scoring.context import ScoringContext
from harness.suite import Suite, score_batch
from harness.types import Generation, Item, SampleRecord, Score
from harness.voting import VoteOutcome, vote


def _sample_row(g: Generation, s: Score, key: str) -> dict[str, Any]:
    row = {"output": g.text, "answer": s.answer, "correct": s.correct, "score": s.value, "logprob": g.logprob, "vote_key": key,
           "finish_reason": g.finish_reason, "unparsed": g.error is None and not s.parsed}
    if g.reasoning is not None:
        row["reasoning"] = g.reasoning
    if g.error is not None:
        row["error"] = g.error
    return row


def make_record(
    item: Item,
    generations: list[Generation],
    scores: list[Score],
    outcome: VoteOutcome | None = None,
    vote_keys: Sequence[str] | None = None,
    vote_method: str | None = None,
) -> SampleRecord:
    """One item's record: the chosen sample (the vote's, else the first), every sample when there are several;
    a failed request makes the item a failure (never scored right)."""
    chosen = outcome.chosen if outcome else 0
    gen, score = generations[chosen], scores[chosen]
    samples = []
    if len(generations) > 1:
        keys = vote_keys or [""] * len(generations)
        samples = [_sample_row(g, s, k) for g, s, k in zip(generations, scores, keys, strict=True)]
    error = next((g.error for g in generations if g.error is not None), None)
    return SampleRecord(
        item_id=item.id,
        suite=item.suite,
        capability=item.capability,
        split=item.split,
        variant=item.variant.kind,
        perturbation_level=item.variant.level,
        canonical_id=item.variant.canonical_id,
        output=gen.text,
        answer=score.answer,
        correct=score.correct if error is None else False,
        score=float(score.value or 0.0) if error is None else 0.0,
        reason=score.reason if error is None else f"request failed: {error}",
        reference_answer=item.answer,
        samples=samples,
        error=error,
        finish_reason=gen.finish_reason,
        truncated=gen.finish_reason == "length",
        unparsed=error is None and not score.parsed,
        reasoning=gen.reasoning,
        vote_method=vote_method if outcome else None,
        vote_note=outcome.note if outcome else None,
        chosen_sample=outcome.chosen if outcome else None,
        votes=outcome.votes if outcome else {},
        agreement=outcome.agreement if outcome else None,
    )


def score_samples(
    suite: Suite, items: Sequence[Item], generations: Sequence[list[Generation]], context: ScoringContext | None = None
) -> list[list[Score]]:
    """Each item's samples scored in one batch per suite; failed requests are not scored (never counted right).
    `context`: the run's scoring context (its abstention judge); None scores with the defaults."""
    flat = [(item, g) for item, gens in zip(items, generations, strict=True) for g in gens]
    ok = [(item, g) for item, g in flat if g.error is None]
    ok_scores = iter(score_batch(suite, [item for item, _ in ok], [g.text for _, g in ok], context))
    flat_scores = [
        next(ok_scores) if g.error is None else Score(answer=None, correct=False, reason=f"request failed: {g.error}")
        for _, g in flat
    ]
    out, pos = [], 0
    for gens in generations:
        out.append(flat_scores[pos : pos + len(gens)])
        pos += len(gens)
    return out


def score_generations(
    suite: Suite,
    items: Sequence[Item],
    generations: Sequence[list[Generation]],
    vote_method: str | None = None,
    context: ScoringContext | None = None,
) -> list[SampleRecord]:
    """Score every sample (failed ones are not scored), vote when asked, build the records."""
    records = []
    for item, gens, scores in zip(items, generations, score_samples(suite, items, generations, context), strict=True):
        keys = [suite.vote_key(s) for s in scores] if len(gens) > 1 else None
        outcome = None
        if vote_method and len(gens) > 1 and all(g.error is None for g in gens):
            outcome = vote(suite, item, gens, scores, vote_method)
        records.append(make_record(item, gens, scores, outcome, keys, vote_method))
    return records


def token_usage(generations: Sequence[list[Generation]]) -> dict[str, int]:
    """Prompt and completion tokens the backend reported for these generations."""
    flat = [g for gens in generations for g in gens]
    return {
        "prompt_tokens": sum(g.prompt_tokens or 0 for g in flat),
        "completion_tokens": sum(g.completion_tokens or 0 for g in flat),
    }
