"""What each component of the style metric contributes, on controlled students.

The teacher is the style suite's reference responses; the students change one thing each:
nothing (self), the form (same content as hedged bullet points), the topic (another item's
answer, same writing), or the length (first sentence only). Writes
reports/style_contributions.md with retention and every component's mean similarity.

    python bench/style_contributions.py [--n 40]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import cast

from harness.suite import get_suite
from harness.tasks.style import StyleSuite
from harness.types import SampleRecord

REPORT = Path(__file__).resolve().parent.parent / "reports" / "style_contributions.md"


def restyle(text: str) -> str:
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    return "**Key points**\n" + "\n".join(f"- It seems that, perhaps, {s[0].lower()}{s[1:]}" for s in sentences)


def first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s+", text.strip())[0]


def record(item, output: str) -> SampleRecord:
    return SampleRecord(item_id=item.id, suite="style", capability="style", split="test", variant=item.variant.kind, output=output, correct=True, score=1.0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=40)
    args = parser.parse_args()
    suite = cast(StyleSuite, get_suite("style"))
    items = suite.items("test", variants=["canonical"])[: args.n]
    teacher = [record(it, it.reference_response) for it in items]
    students = {
        "self (teacher's own answers)": [it.reference_response for it in items],
        "restyled (same content, hedged bullets)": [restyle(it.reference_response) for it in items],
        "off-topic (another item's answer)": [items[(i + 5) % len(items)].reference_response for i in range(len(items))],
        "truncated (first sentence only)": [first_sentence(it.reference_response) for it in items],
    }
    columns = ["total", "embedding", "features", "length", "sentence_length", "markdown", "lexical_diversity", "hedging"]
    lines = [
        f"# Style metric: component contributions ({len(items)} style test prompts)",
        "",
        "Teacher: the style suite's reference responses (one greedy sample, so teacher self-similarity = 1.0).",
        "Each cell is the mean similarity of that component; retention = mean(total) / teacher self-similarity.",
        "",
        "| student | retention | " + " | ".join(columns) + " |",
        "| --- | --- | " + " | ".join("---" for _ in columns) + " |",
    ]
    for name, outputs in students.items():
        student = [record(it, out) for it, out in zip(items, outputs, strict=True)]
        t, s = suite.rescore_pairs(teacher, student)
        parts = suite.contributions(teacher, student)["student"]
        lines.append(f"| {name} | {sum(s) / sum(t):.3f} | " + " | ".join(f"{parts[c]:.3f}" for c in columns) + " |")
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
