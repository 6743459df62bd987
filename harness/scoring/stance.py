"""The structured reading of a reply: its final text split into sentences, each read as an abstention
cue, a commitment to an answer, a conditional commitment, or neutral.

- cues are wide phrase families: missing / unknown / conflict / false premise / no solution / refusal;
- a commitment is a stated final number or list ("The answer is 12", a boxed 12);
- within one sentence what comes last wins, and across the reply the last stance that is not conditional
  decides: "hedge, then The answer is 12" is an answer, "The answer is 12? No: the width is missing" an
  abstention.

`structured_abstention` is the "structured" abstention judge (harness/scoring/abstention.py); the
"semantic" judge (harness/scoring/semantic.py) reads replies with the same sentence stances.
"""

from __future__ import annotations

import re

_CUES = [
    # cannot / impossible to determine, answer, say, ...
    r"\b(?:cannot|can ?not|can't|could not|couldn't|unable to|impossible to|no way to|not possible to|not able to)\b"
    r"(?:\s+\w+){0,3}?\s+(?:be\s+)?(?:determin|calculat|comput|answer|know|solv|found|find|say|tell|told|figur|work|get|"
    r"give|pin|conclude|count|deriv|done|trust|happen|met|compute|assum|be )",
    r"\b(?:can't|cannot|can not|won't|will not|refrain from|not going to)\b(?:\s+\w+){0,3}?\s+(?:answer|give|guess|pick)",
    r"\b(?:impossible|unsolvable|unanswerable|undetermined|indeterminate|underdetermined|ill-posed|unknowable|"
    r"incomplete|unknown|not determinable|not answerable|can't be answered|no answer|no consistent answer)\b",
    # missing information
    r"\b(?:not|n't|isn't|aren't) (?:enough|sufficient) (?:information|info|data|details|given)",
    r"\binsufficient\b", r"\bmore information\b",
    r"\b(?:missing|omits?|leaves? out|left out|absent|one number short|key piece|essential)\b",
    r"\b(?:is|are|was|were|isn't|aren't|wasn't|weren't)(?: not| never)? (?:given|provided|specified|stated|mentioned|"
    r"known|told|determined|established)\b",
    r"\b(?:does|do|did|doesn't|don't|didn't)(?: not)? (?:say|tell|specify|mention|state|give|provide|include|know)\b",
    r"\bnever (?:says?|tells?|told|stated|mentions?|given|established|had)\b",
    r"\b(?:need|needs|needed) to know\b", r"\b(?:i'd|i would|we'd|we would) (?:need|have to)\b",
    r"\bwithout (?:knowing|the|it|this|that|a|an)\b", r"\bnothing (?:in|says|tells|fits|follows)\b",
    r"\bdepends (?:entirely )?on\b", r"\bgap\b(?! between)", r"\bmissing step\b",
    # contradiction
    r"\bcontradict", r"\binconsisten", r"\bconflict", r"\bclash", r"\bdiscrepanc", r"\bincompatible\b",
    r"\bdisagree", r"\bcan(?:'t|not) both\b", r"\b(?:does|do)(?:n't| not) add up\b", r"\bsomething'?s off\b",
    r"\bcan't (?:all )?hold\b",
    # false premise
    r"\bfalse (?:premise|assumption|presupposition|claim)", r"\bmistaken\b", r"\bmisunderstanding\b",
    r"\b(?:assumes|presupposes) (?:something|that|\w+ \w+ that)", r"\bpresuppos", r"\buntrue\b",
    r"\b(?:premise|assumption|question)\b[^.]{0,40}\b(?:false|incorrect|wrong|flawed|invalid|untrue)\b",
    r"\b(?:does|do|did)(?: not|n't) (?:have|exist)\b", r"\bdon't exist\b", r"\bnone of\b", r"\bzero \w+",
    r"\bthere (?:are|is|were|was) no\b", r"\bnever had\b", r"\bdoesn't (?:make sense|apply)\b",
    r"\bmake(?:s)? no sense\b", r"\btrick question\b", r"\bflawed\b",
    # no solution
    r"\bno (?:valid |possible |real |whole[- ]number |integer |positive |single |consistent )?(?:solution|answer|value|number)s?\b(?! (?:is|are) )",
    r"\bno such\b", r"\b(?:there )?(?:is|are)(?:n't| not) (?:one|any)\b", r"\bnot (?:a )?perfect square\b",
    r"\bnot (?:evenly )?divisible\b", r"\bcan't be (?:split|divided|shared)\b", r"\bno whole number\b",
    r"\bnothing fits\b",
    # refusal / uncertainty about answering at all
    r"\bi (?:cannot|can't|won't|am unable to) (?:answer|help|solve|provide)", r"\bi don't know\b",
    r"\bi don't think this question has an answer\b", r"\bwould be a guess\b",
]
_CUE = re.compile("|".join(f"(?:{c})" for c in _CUES), re.I)
NUM = r"\$?-?\d[\d,]*(?:\.\d+)?"  # a number as replies write it: $1,234.5, -3
_COMMIT = re.compile(
    rf"(?:\b(?:final )?answers?\s*(?:is|are|would be|=|:)\s*\**\s*{NUM}"
    rf"|\b(?:answers are|possible values|values work|could be any of|could be|either|namely|comes to|gives|gives us|"
    rf"that gives|makes it|result is|works out to|go with|i'd say|face value|estimate|obviously|easy|so|therefore)\b[^.\n]*?{NUM}"
    rf"|\b(?:is|are|be|has|get|gets)\s+\**{NUM}\**\s*(?:\w+\s*)?[.!]?\s*$"
    rf"|^\s*[=:]?\s*\**{NUM}\**\s*[.!]?\s*$"
    rf"|\\boxed\{{{NUM}\}})",
    re.I | re.M,
)
_CONDITIONAL = re.compile(r"^\s*(?:if|assuming|suppose|supposing|had)\b|\bwould (?:be|have|get)\b", re.I)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def final_text(output: str) -> str:
    text = output.split("</think>")[-1] if "</think>" in output else re.sub(r"<think>.*", "", output, flags=re.S)
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return re.sub(r"[*_`#>]+", "", text)


def sentence_stance(sentence: str) -> str | None:
    """"commit", "conditional" (a commitment under an if), "cue" (an abstention cue) or None (neutral)."""
    cue_at = [m.start() for m in _CUE.finditer(sentence)]
    commit_at = [m.end() for m in _COMMIT.finditer(sentence)]
    # within one sentence, what comes last wins: "no single answer: the answers are 2, 5" commits
    if commit_at and (not cue_at or max(commit_at) > max(cue_at)):
        return "conditional" if _CONDITIONAL.search(sentence) else "commit"
    return "cue" if cue_at else None


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def structured_abstention(output: str) -> tuple[bool, list[str]]:
    """(abstained, the sentences read as abstention cues)."""
    sentences = split_sentences(final_text(output))
    stances: list[str] = []
    cues: list[str] = []
    for s in sentences:
        stance = sentence_stance(s)
        if stance is not None:
            stances.append(stance)
        if stance == "cue":
            cues.append(s)
    if not cues:
        return False, []
    last = next((st for st in reversed(stances) if st != "conditional"), "cue")
    return last == "cue", cues
