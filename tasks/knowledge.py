"""Common knowledge: short-answer questions over offline facts (countries, capitals and ISO
codes; chemical elements; calendar, unit, prime-number and programming-language facts).

Perturbations test the seed's point that a distilled student imitates rather than knows:
`paraphrase` asks the same fact in other words, `reversed` asks the relation backwards
(A's capital is B → which country's capital is B) and `two_hop` composes two facts
(the capital of the country with ISO code FRA). Facts are partitioned between splits, so
no test fact is asked in train or dev.
"""

from __future__ import annotations

import random
from collections import deque

from harness.scoring.context import ScoringContext
from harness.suite import SUITES, Suite
from harness.tasks._knowledge_facts import RELATIONS, Fact
from harness.tasks._knowledge_match import extract_span, matches_any
from harness.types import Item, Score, Variant

INSTRUCTION = "Answer the question briefly. Finish with a line of the form 'Answer: <your answer>'."


@SUITES.register("knowledge")
class KnowledgeSuite(Suite):
    """Common-knowledge questions, paraphrased, reversed and chained."""

    capability = "knowledge"
    version = "1"
    default_size = 100
    description = (
        "Short-answer facts (capitals, ISO codes, elements, calendar, units, primes, programming languages) "
        "with paraphrase, reversed-relation and two-hop perturbations."
    )

    def build(self) -> list[Item]:
        queues = {}
        for relation, make in RELATIONS.items():
            facts = make()
            random.Random(f"{self.seed}/{relation}").shuffle(facts)
            queues[relation] = deque(facts)
        items: list[Item] = []
        for split, quota in self.split_sizes().items():
            for index, (relation, fact) in enumerate(self._draw(queues, quota)):
                items.extend(self._instance(split, index, relation, fact))
        return items

    @staticmethod
    def _draw(queues: dict[str, deque[Fact]], quota: int) -> list[tuple[str, Fact]]:
        """Round-robin over relations so every split mixes every kind of fact."""
        drawn: list[tuple[str, Fact]] = []
        while len(drawn) < quota and any(queues.values()):
            for relation, queue in queues.items():
                if queue and len(drawn) < quota:
                    drawn.append((relation, queue.popleft()))
        return drawn

    def _instance(self, split: str, index: int, relation: str, fact: Fact) -> list[Item]:
        cid = f"knowledge/{split}/{index:05d}"
        meta = {"relation": relation, "fact": fact.key}
        out = [self._item(cid, split, Variant(), fact.question, fact.answer, fact.aliases, meta)]
        if split != "test":
            return out
        variants = [("paraphrase", 1, (fact.paraphrase, fact.answer, fact.aliases))]
        if fact.reverse:
            variants.append(("reversed", 1, fact.reverse))
        if fact.two_hop:
            variants.append(("two_hop", 2, fact.two_hop))
        for kind, level, (question, answer, aliases) in variants:
            variant = Variant(kind=kind, level=level, canonical_id=cid)
            out.append(self._item(f"{cid}/{kind}", split, variant, question, answer, aliases, meta))
        return out

    def _item(self, item_id: str, split: str, variant: Variant, question: str, answer: str, aliases: list[str], meta: dict) -> Item:
        return self.make_item(
            item_id, split, f"{INSTRUCTION}\n\n{question}", variant,
            answer=answer,
            solution=answer,
            reference_response=f"Answer: {answer}",
            metadata={**meta, "aliases": sorted(set(aliases) | {answer})},
        )

    def score(self, item: Item, output: str, context: ScoringContext | None = None) -> Score:
        span = extract_span(output)
        correct = bool(span) and matches_any(span, item.metadata["aliases"])
        return Score(answer=span[:200], correct=correct, reason=None if correct else f"expected {item.answer!r}, got {span[:80]!r}",
                     parsed=bool(span))

    def vote_key(self, score: Score) -> str:
        return str(score.answer).strip().lower()
