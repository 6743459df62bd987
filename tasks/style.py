"""Writing style: open-ended prompts (explanations, summaries, short essays, advice) whose
score is how close an answer is to another answer in style and substance.

Style is relative (`relative = True`): at retention time the student's answers are compared
with the teacher's on the same items (`rescore_pairs`, defined in docs/style_metric.md). At
eval time, with one model, an answer is compared with the item's reference response, which
is written from the topic bank.

Default size 40 canonical prompts (120 test items with the `rephrased` and `brief`
variants): every item is a long open-ended generation, the most expensive kind on CPU, and
style similarity averages well over a hundred items.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any

from harness.errors import HarnessError
from harness.scoring.context import ScoringContext
from harness.scoring.style import compare_many, record_outputs, relative_scores
from harness.suite import SUITES, Suite
from harness.tasks._format_topics import TOPICS
from harness.types import Item, Score, Variant

THRESHOLD = 0.5  # a similarity at or above this counts as "correct" in summaries

GENRES: dict[str, tuple[str, str, str]] = {
    # genre: (canonical request, rephrased request, brief request)
    "explain": (
        "Explain {topic} in a short paragraph.",
        "Could you give me a short, clear explanation of {topic}?",
        "Explain {topic} in no more than two sentences.",
    ),
    "summary": (
        "Summarise the following passage in two sentences.\n\n{passage}",
        "Here is a passage:\n\n{passage}\n\nWrite a two-sentence summary of it.",
        "Summarise the following passage in one sentence.\n\n{passage}",
    ),
    "essay": (
        "Write a short essay of three paragraphs about {topic}.",
        "Compose a brief three-paragraph essay on the subject of {topic}.",
        "Write a very short essay about {topic}: two sentences at most.",
    ),
    "advice": (
        "I want to understand {topic} better. What would you suggest?",
        "What advice would you give someone who wants to learn about {topic}?",
        "In two sentences, how should a beginner start learning about {topic}?",
    ),
}


def reference_text(genre: str, sentences: list[str]) -> str:
    s = sentences
    if genre == "explain":
        return " ".join(s[:4])
    if genre == "summary":
        return f"{s[0]} {s[-1]}"
    if genre == "essay":
        return f"{s[0]} {s[1]}\n\n{s[2]} {s[3]}\n\n{s[4]} {s[5]}"
    return (
        f"Start with the core idea: {s[0]} Then learn how it works in practice. {s[1]} {s[2]}\n\n"
        f"It also helps to see why it matters. {s[4]} Finally, read a little about it regularly "
        "and ask questions whenever something is unclear."
    )


def brief(text: str, sentences: int) -> str:
    parts = re.split(r"(?<=[.!?])\s+", text.strip())
    return " ".join(parts[:sentences])


@SUITES.register("style")
class StyleSuite(Suite):
    """Writing in the teacher's style, measured by the style metric."""

    capability = "style"
    version = "1"
    default_size = 40
    relative = True
    description = "Open-ended explanations, summaries, essays and advice; scored by style similarity (relative to the teacher)."

    def build(self) -> list[Item]:
        combos = [(topic, genre) for topic in sorted(TOPICS) for genre in GENRES]
        random.Random(f"style/{self.seed}").shuffle(combos)
        n_test, n_dev = self.size, max(1, self.size // 4)
        if n_test + n_dev >= len(combos):
            raise HarnessError(f"suite style: --size {self.size} is too large (at most {len(combos) - 2} prompts exist)")
        items: list[Item] = []
        splits = [("test", combos[:n_test]), ("dev", combos[n_test : n_test + n_dev]), ("train", combos[n_test + n_dev :][: self.size * 4])]
        for split, chosen in splits:
            for index, (topic, genre) in enumerate(chosen):
                items.extend(self._instance(split, index, topic, genre))
        return items

    def _instance(self, split: str, index: int, topic: str, genre: str) -> list[Item]:
        sentences = TOPICS[topic]
        fill = {"topic": topic, "passage": " ".join(sentences)}
        canonical, rephrased, short = (t.format(**fill) for t in GENRES[genre])
        reference = reference_text(genre, sentences)
        cid = f"style/{split}/{index:05d}"
        out = [self._item(cid, split, Variant(), canonical, reference, topic, genre)]
        if split == "test":
            out.append(self._item(f"{cid}/rephrased", split, Variant(kind="rephrased", level=1, canonical_id=cid), rephrased, reference, topic, genre))
            short_ref = brief(reference, 1 if genre == "summary" else 2)
            out.append(self._item(f"{cid}/brief", split, Variant(kind="brief", level=1, canonical_id=cid), short, short_ref, topic, genre))
        return out

    def _item(self, item_id: str, split: str, variant: Variant, prompt: str, reference: str, topic: str, genre: str) -> Item:
        return self.make_item(
            item_id, split, prompt, variant,
            answer=None,
            solution=reference,
            reference_response=reference,
            metadata={"topic": topic, "genre": genre},
        )

    def score(self, item: Item, output: str, context: ScoringContext | None = None) -> Score:
        return self.score_many([item], [output], context)[0]

    def score_many(self, items: Sequence[Item], outputs: Sequence[str], context: ScoringContext | None = None) -> list[Score]:
        comparisons = compare_many([(out, it.reference_response) for it, out in zip(items, outputs, strict=True)])
        return [
            Score(answer=None, correct=c.total >= THRESHOLD, value=c.total, reason=None if c.total >= THRESHOLD else f"style similarity {c.total:.2f}", details=c.as_dict())
            for c in comparisons
        ]

    def rescore_pairs(self, teacher: Sequence[Any], student: Sequence[Any]) -> tuple[list[float], list[float]]:
        t_scores, s_scores, _ = relative_scores([record_outputs(r) for r in teacher], [record_outputs(r) for r in student])
        return t_scores, s_scores

    def contributions(self, teacher: Sequence[Any], student: Sequence[Any]) -> dict[str, dict[str, float]]:
        """Mean of every component (embedding, each stylometric feature) for student-vs-teacher
        and teacher-vs-teacher comparisons: what each contributes to the style score."""
        return relative_scores([record_outputs(r) for r in teacher], [record_outputs(r) for r in student])[2]
