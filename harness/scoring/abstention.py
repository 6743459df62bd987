"""Abstention: did the model decline to answer (or flag the question as flawed), and how well does it abstain.

The default judge is "semantic" (harness.scoring.semantic: the structured reading plus a
classifier over sentence embeddings); "structured" (harness.scoring.stance: sentence-level cues
vs the final commitment) stays selectable; the original detection, kept as the "patterns" judge, is phrase patterns over
the final text (after any thinking), grouped by what the model is saying (not enough
information, contradiction, no solution, false premise, refusal). A reply that commits to a
numeric final answer ("The answer is 12") is not an abstention even if it hedges on the way.
Every judge is an entry of ABSTENTION_JUDGES (harness.scoring.judges), selected by name (`--judge`), or a
model spec graded by harness.scoring.judges; a judge returns True/False, or None when it has no verdict
(the offline default then decides, and the verdict is marked unscored by that judge). A run builds one
AbstentionJudge (harness.scoring.judges.build_judge) and passes it to scoring; the functions below take
one, a judge name, or nothing (the default judge).
A plug-in package adds a judge under the "harness.abstention_judges" entry-point group: a
function (question, output) -> bool | None, optionally with a `version` attribute.

`abstention_rates` turns per-item outcomes into the rates the edge-case suite reports: how
often the model abstains when it should, how often it abstains when it should not (false
abstention), accuracy on answerable items, and a balanced score, the harmonic mean of the
abstention rate and the answerable accuracy, which is 0 for a model that always refuses
and 0 for one that never does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.scoring.judges import ABSTENTION_JUDGES, AbstentionJudge, build_judge
from harness.scoring.stance import structured_abstention

_CANNOT = r"(?:cannot|can ?not|can't|could not|couldn't|unable to|impossible to|not possible to|no way to)"
_VERB = r"(?:be )?(?:determined?|calculated?|computed?|answered|answer|known?|solved?|found|find|sa(?:y|id)|tell|told|figured? out|work(?:ed)? out)"
PATTERNS: dict[str, list[str]] = {
    "insufficient": [
        rf"{_CANNOT} {_VERB}",
        r"(?:\bnot|n't) (?:enough|sufficient) (?:information|info|data|details|given)",
        r"\binsufficient (?:information|data|details)",
        r"\b(?:information|data|details?|quantity|value|number) (?:is|are) missing",
        r"\bmissing (?:information|data|details?|quantity|value|number)",
        r"\b(?:is|are|was|were)(?: not|n't) (?:given|provided|specified|stated|mentioned|known)",
        r"\b(?:does|do|did)(?: not|n't) (?:say|tell|specify|mention|state|give|provide|include)",
        r"\b(?:unanswerable|undetermined|indeterminate|underdetermined|ambiguous)\b",
        r"\bwe (?:would )?need to know\b",
        r"\bwithout knowing\b",
    ],
    "contradiction": [
        r"\bcontradict(?:s|ory|ion|ing)?\b",
        r"\binconsistent\b",
        r"\bconflicting (?:information|statements|premises|data|facts)",
        r"\bcannot (?:both|all) be true\b",
        r"\bdoes(?: not|n't) add up\b",
    ],
    "no_solution": [
        r"\bno (?:valid |possible |real |whole[- ]number |integer |positive )?(?:solution|answer)s?\b",
        r"\bno such (?:\w+ )?(?:number|integer|value|way)",
        r"\bthere (?:is|are|exists?)(?: no|n't any| not any) (?:\w+ ){0,2}(?:number|integer|solution|way)",
        r"\b(?:is|are|it's) (?:impossible|not possible)\b",
        r"\bnot (?:a )?perfect square\b",
        r"\bnot (?:evenly )?divisible\b",
        r"\bcan(?:not|'t) be (?:divided|shared|split) (?:equally|evenly)",
    ],
    "false_premise": [
        r"\bfalse (?:premise|assumption|presupposition)",
        r"\b(?:premise|assumption|presupposition|question) (?:is|seems) (?:false|incorrect|wrong|mistaken|flawed|invalid)",
        r"\b(?:has|have|had) no \w+ \w+",
        r"\bthere (?:are|is|were|was) no \w+",
        r"\b(?:does|do|did)(?: not|n't) have any\b",
        r"\b(?:never|not) mentioned\b",
    ],
    "refusal": [
        r"\bi (?:cannot|can't|won't|am unable to) (?:answer|help|solve|provide)",
        r"\bi(?:'m| am) (?:not sure|unsure|not able)",
        r"\bi don't know\b",
    ],
}
_COMPILED = {group: [re.compile(p, re.I) for p in pats] for group, pats in PATTERNS.items()}
_COMMITTED = re.compile(r"\b(?:final )?answers? (?:is|are|:|=)\s*:?\s*\**\s*\$?-?\d", re.I)


@dataclass
class Abstention:
    """Whether a reply abstained, which cues said so, and whether it committed to an answer."""

    abstained: bool
    groups: list[str] = field(default_factory=list)  # which kinds of abstention phrase matched
    committed: bool = False  # the reply states a numeric final answer
    judge: str = "patterns"  # who decided: a judge name, or "<fallback> (unscored by <judge>)"
    unscored: bool = False  # the selected judge gave no verdict (an unreadable model grade); `judge` says who decided


def _final_text(output: str) -> str:
    return output.split("</think>")[-1].replace("\u2019", "'").replace("\u2018", "'")


def pattern_abstention(output: str) -> Abstention:
    text = _final_text(output)
    groups = [g for g, pats in _COMPILED.items() if any(p.search(text) for p in pats)]
    committed = bool(_COMMITTED.search(text))
    return Abstention(abstained=bool(groups) and not committed, groups=groups, committed=committed)


@ABSTENTION_JUDGES.register("patterns")
def patterns_judge(question: str, output: str) -> bool:
    return pattern_abstention(output).abstained


@ABSTENTION_JUDGES.register("structured")
def structured_judge(question: str, output: str) -> bool:
    return structured_abstention(output)[0]


@ABSTENTION_JUDGES.register("semantic")
def semantic_judge(question: str, output: str) -> bool:
    return semantic_judge_many([question], [output])[0]


def semantic_judge_many(questions: Sequence[str], outputs: Sequence[str]) -> list[bool]:
    from harness.scoring.semantic import judge_many

    return judge_many(questions, outputs)


def semantic_identity() -> dict[str, str]:
    from harness.scoring.semantic import identity

    return identity()


patterns_judge.version = structured_judge.version = "1"  # type: ignore[attr-defined]  # recorded in results.json
# A judge may also have `many(questions, outputs) -> list[bool | None]` (one call per batch: the
# semantic judge embeds a whole chunk at once) and `identity() -> dict[str, str]` (more than a
# version: what else its verdicts depend on, recorded in results.json and compared by check_same_judge).
semantic_judge.version = "5"  # type: ignore[attr-defined]  # harness.scoring.semantic.VERSION (a test checks they agree)
semantic_judge.many = semantic_judge_many  # type: ignore[attr-defined]
semantic_judge.identity = semantic_identity  # type: ignore[attr-defined]


def detect_abstention(output: str, question: str = "", judge: AbstentionJudge | str | None = None) -> Abstention:
    """Abstention by `judge`: a run's judge, a judge name or model spec, or None (the default judge)."""
    return judge_abstentions([question], [output], judge)[0]


def judge_abstentions(
    questions: Sequence[str], outputs: Sequence[str], judge: AbstentionJudge | str | None = None
) -> list[Abstention]:
    """One verdict per (question, output); a model judge grades the whole batch in one backend call. A judge
    given by name is built for this call and closed after it."""
    if isinstance(judge, AbstentionJudge):
        return judge.judge_many(questions, outputs)
    with build_judge(judge) as built:
        return built.judge_many(questions, outputs)


@dataclass(frozen=True)
class Outcome:
    """One edge_cases item: whether the model should have abstained, whether it did, and if it was right."""

    should_abstain: bool
    abstained: bool
    correct: bool


def abstention_rates(outcomes: Iterable[Outcome]) -> dict[str, Any]:
    outcomes = list(outcomes)
    flawed = [o for o in outcomes if o.should_abstain]
    sound = [o for o in outcomes if not o.should_abstain]
    abstain_rate = sum(o.abstained for o in flawed) / len(flawed) if flawed else None
    false_rate = sum(o.abstained for o in sound) / len(sound) if sound else None
    answer_acc = sum(o.correct for o in sound) / len(sound) if sound else None
    balanced = None
    if abstain_rate is not None and answer_acc is not None:
        total = abstain_rate + answer_acc
        balanced = 0.0 if total == 0 else 2 * abstain_rate * answer_acc / total
    return {
        "n_should_abstain": len(flawed),
        "n_answerable": len(sound),
        "abstention_rate": abstain_rate,
        "false_abstention_rate": false_rate,
        "answerable_accuracy": answer_acc,
        "balanced": balanced,
    }


def rates_from_records(records: Iterable[Any]) -> dict[str, Any]:
    """The same rates from edge_cases SampleRecords (samples.jsonl lines or objects)."""
    outcomes = []
    for r in records:
        r = r if isinstance(r, dict) else r.model_dump()
        if r.get("suite") != "edge_cases":
            continue
        answer = r.get("answer") or {}
        outcomes.append(Outcome(not r["reference_answer"]["answerable"], bool(answer.get("abstained")), bool(r["correct"])))
    return abstention_rates(outcomes)
