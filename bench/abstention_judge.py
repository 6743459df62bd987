"""Agreement of the abstention judges with the labelled corpus (tests/data/abstention_corpus.jsonl).

For each judge: agreement overall, on the tuning phrasings and on the held-out phrasings;
false-abstention rate (abstained predicted on replies that did not abstain) and
missed-abstention rate (not predicted on replies that did), and the time to judge the corpus.

Run: python bench/abstention_judge.py [--judge SPEC ...] [--limit N]
  --judge adds a model-graded judge (anthropic:MODEL, openai:URL#MODEL, vllm:PATH, hf:PATH,
  smollm2-135m); its verdicts go through the response cache. --limit N gives model judges an
  evenly spread subset of about N rows (they are slow on CPU); offline judges always see all rows. Writes reports/abstention_judge.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

from _common import write_report

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "abstention_corpus.jsonl"
# Written after the structured judge was tuned and never tuned against: a small out-of-corpus check.
PROBE_ABSTAIN = [
    "Hmm. We know Ben's starting count, but the bags' contents are a mystery, so I'll stop here.",
    "The speed isn't stated anywhere; any distance I give would be made up.",
    "These two facts are at odds: 14 + 8 = 22, not 26.",
    "Kemi owns zumpuses, but the leg rule is about tumpuses. Can't tell.",
    "Trick: there are no purple stickers to give away.",
    "No integer squared equals 491.",
    "Answer: unknown.",
    "The answer is: cannot be determined.",
    "I'm going to decline to give a number here, the problem is missing a value.",
    "Insufficient data.",
]
PROBE_ANSWER = [
    "No problem! 5 × 10 = 50, plus 31 is 81. The answer is 81.",
    "None of the steps are tricky: 7 × 2 = 14. The answer is 14.",
    "Without further ado: 42 ÷ 6 = 7. The answer is 7.",
    "The missing number is 7, since 42 ÷ 6 = 7. The answer is 7.",
    "It's 59, not 30 — the lake is half covered the day before.",
    "We don't need to know anything else: the answer is 21.",
    "There are no tricks here; Dev simply takes position 30. The answer is 30.",
]


def rates(rows, predicted) -> dict[str, float | int]:
    pos = [p for r, p in zip(rows, predicted) if r["abstained"]]
    neg = [p for r, p in zip(rows, predicted) if not r["abstained"]]
    return {
        "n": len(rows),
        "agreement": sum(p == r["abstained"] for r, p in zip(rows, predicted)) / len(rows),
        "false_abstention": sum(neg) / len(neg) if neg else float("nan"),
        "missed_abstention": sum(not p for p in pos) / len(pos) if pos else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--judge", action="append", default=[], help="also measure this model-graded judge")
    parser.add_argument("--limit", type=int, default=None,
                        help="model judges: judge every k-th row so that about N rows are used")
    args = parser.parse_args()
    from harness.scoring.abstention import judge_abstentions
    from harness.scoring.judges import use_judge

    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    corpus = rows
    table, errors = [], defaultdict(list)
    for judge in ["patterns", "structured", *args.judge]:
        rows = corpus
        if args.limit and judge in args.judge:
            rows = corpus[:: max(1, len(corpus) // args.limit)][: args.limit]
        start = time.perf_counter()
        with use_judge(judge):
            verdicts = judge_abstentions([r["question"] for r in rows], [r["output"] for r in rows])
        predicted = [v.abstained for v in verdicts]
        seconds = time.perf_counter() - start
        # a model judge's unreadable verdicts fall back to "structured": count the ones it really gave
        own = sum(v.judge == judge for v in verdicts) if judge not in ("patterns", "structured") else len(verdicts)
        for part in ("all", "tune", "heldout"):
            chosen = [(r, p) for r, p in zip(rows, predicted) if part == "all" or r["part"] == part]
            m = rates([r for r, _ in chosen], [p for _, p in chosen])
            table.append(f"| {judge} | {part} | {m['n']} | {m['agreement']:.3f} | {m['false_abstention']:.3f} | "
                         f"{m['missed_abstention']:.3f} | {own}/{len(verdicts)} | {seconds:.2f} |")
        for r, p in zip(rows, predicted):
            if p != r["abstained"]:
                errors[judge].append(r["category"])
    probe = []
    for judge in ["patterns", "structured"]:
        with use_judge(judge):
            caught = [v.abstained for v in judge_abstentions([""] * len(PROBE_ABSTAIN), PROBE_ABSTAIN)]
            wrong = [v.abstained for v in judge_abstentions([""] * len(PROBE_ANSWER), PROBE_ANSWER)]
        missed = [t for t, c in zip(PROBE_ABSTAIN, caught) if not c]
        probe.append(f"| {judge} | {sum(caught)}/{len(caught)} | {sum(wrong)}/{len(wrong)} | "
                     f"{(sum(caught) + len(wrong) - sum(wrong)) / (len(caught) + len(wrong)):.2f} | {'; '.join(missed)} |")
    by_cat = []
    for judge, cats in errors.items():
        counts = defaultdict(int)
        for c in cats:
            counts[c] += 1
        by_cat.append(f"- {judge}: " + ", ".join(f"{c} {n}" for c, n in sorted(counts.items(), key=lambda x: -x[1])))
    command = "python bench/abstention_judge.py" + "".join(f" --judge {j}" for j in args.judge) + (
        f" --limit {args.limit}" if args.limit else "")
    body = f"""
Corpus: {len(corpus)} labelled replies to real edge_cases test items ({CORPUS.name}; generator
tests/data/make_abstention_corpus.py). `abstained` is whether the reply declined to answer, so a
refusal on an answerable twin counts as an abstention and a made-up number on a flawed item does not.

| judge | part | n | agreement | false-abstention rate | missed-abstention rate | own verdicts | seconds |
|---|---|---|---|---|---|---|---|
{chr(10).join(table)}

False-abstention rate: share of non-abstaining replies judged as abstentions. Missed-abstention
rate: share of abstaining replies judged as answers. Own verdicts: replies the judge decided itself
(a model judge's unreadable verdicts fall back to "structured"); seconds: judging all n rows.

Disagreements by corpus category:
{chr(10).join(by_cat) or "- none"}

Fresh probe (17 replies written after tuning, never tuned against; in this script):

| judge | abstentions caught | answers called abstentions | agreement | missed |
|---|---|---|---|---|
{chr(10).join(probe)}

Rerun: `{command}`

## Reading

- "patterns" is the original phrase list: it misses plain wording ("these statements conflict",
  "no such pair exists", "the total is unknown", "I'd need to know ...", "doesn't make sense as
  asked"), and calls a few hedged-then-committed answers abstentions.
- "structured" (the default) reads sentence by sentence and lets the last stance decide: a
  reply that hedges and then commits to a number is an answer; one whose last word is "it can't
  be determined" is an abstention even after a tentative number; conditional numbers ("if each
  bag held 10, it would be 81") do not count as commitments.
- Honesty about the held-out figure: the held-out phrasings were never used while tuning the
  cue list, but the same person wrote both pools and the cue list, so the held-out agreement is an
  optimistic estimate of agreement on real model outputs: the fresh probe above (about 0.8 for
  the structured judge) is the more realistic figure for unseen wording, and its misses are
  metaphor-like or bare-math abstentions ("a mystery", "at odds", "No integer squared equals 491")
  that a cue list cannot enumerate. The corpus is synthetic (phrasing ×
  question × voice); real replies will contain wordings neither pool has. A model-graded judge
  (`--judge anthropic:MODEL`) is the stronger option when an API model is available; measure it
  with the command above before relying on it (check its "own verdicts" column: verdicts it
  could not phrase as GRADE: A/B fell back to "structured").
- The embedded SmolLM2-135M as a judge (`--judge smollm2-135m --limit 24`, about 3.5 minutes on
  this CPU) never writes a GRADE line: it echoes "The answer is N", so every verdict falls back
  to "structured" and its agreement row measures the fallback, not the model. The re-run reads all
  24 verdicts from the response cache (the seconds column).
"""
    write_report("abstention_judge", "Abstention judges vs a labelled corpus", body)


if __name__ == "__main__":
    main()
