"""Write tests/data/abstention_corpus.jsonl: labelled answers to real edge_cases items.

    .venv/bin/python tests/data/make_abstention_corpus.py

Each row is {"question", "output", "abstained", "category", "voice", "kind", "part"}: the
question is the exact user message the edge_cases suite sends, the output a plausible model
reply, and `abstained` whether that reply declines to give an answer (a careful human's
reading, not whether the reply is right: a refusal on an answerable twin is an abstention,
a made-up number on a flawed item is not).

Phrasings are hand-written and split into two disjoint pools: "tune" (used while writing
the default judge) and "heldout" (never looked at while tuning; agreement on them is the
honest figure). Replies are phrasing × question × voice, chosen deterministically.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
OUT = Path(__file__).with_name("abstention_corpus.jsonl")

# --- slots: what is missing / contradictory / false in each real question -----------------


def slots(story: str, kind: str) -> dict[str, str]:
    s: dict[str, str] = {}
    if m := re.match(r"(\w+) has \d+ (\w+)\. \w+ buys \d+ bags", story):
        n, p = m.groups()
        s |= dict(missing=f"how many {p} are in each bag", missing_np=f"the number of {p} per bag",
                  asked=f"how many {p} {n} has", total=f"{n}'s total", unit=p)
    elif story.startswith("A train travels"):
        s |= dict(missing="how fast the train was going", missing_np="the train's speed",
                  asked="the total distance", total="the total distance", unit="km")
    elif story.startswith("A rectangular garden"):
        s |= dict(missing="how wide the garden is", missing_np="the width of the garden",
                  asked="the cost of the fence", total="the fencing cost", unit="dollars")
    elif m := re.match(r"(\w+) is \d+ years old\. (\w+) is", story):
        n, o = m.groups()
        s |= dict(missing=f"how much older {o} is than {n}", missing_np="the age gap",
                  asked=f"{o}'s age", total=f"{o}'s future age", unit="years")
    elif m := re.search(r"Every (\w+) has exactly \d+ (\w+)\. (\w+) owns \d+ (\w+?)(?:es)?\. ", story):
        b, part, n, a = m.groups()
        s |= dict(missing=f"whether a {a} is a kind of {b}", missing_np=f"a rule linking {a}es to {b}es",
                  asked=f"how many {part} the {a}es have", total=f"the number of {part}", unit=part)
    elif m := re.match(r"(\w+) has (\d+) (\w+), which is (\d+) more than (\w+) has\. \w+ has (\d+)", story):
        n, a, p, d, o, c = m.groups()
        s |= dict(conflict=f"{o} can't have both {int(a) - int(d)} and {c} {p}",
                  clash=f"{n} having {a} (which is {d} more than {o}) and {o} having {c}",
                  asked=f"how many {p} they have together", total="the combined total", unit=p)
    elif m := re.match(r"A rectangle has a perimeter of (\d+) cm and a length of (\d+) cm", story):
        per, length = m.groups()
        s |= dict(conflict=f"a {length} cm side is too long for a {per} cm perimeter",
                  clash=f"a perimeter of {per} cm and a length of {length} cm",
                  asked="the area", total="the area", unit="square cm")
    elif m := re.match(r"A class has (\d+) students: (\d+) boys and (\d+) girls", story):
        t, b, g = m.groups()
        s |= dict(conflict=f"{b} boys and {g} girls don't add up to {t}",
                  clash=f"a class of {t} and a head count of {b} + {g}",
                  asked="how many girls wear glasses", total="the number of girls", unit="girls")
    elif m := re.match(r"(\w+) has \d+ (\w+) (\w+) and \d+ (\w+) \w+\. How many (\w+)", story):
        n, c1, p, c2, c3 = m.groups()
        s |= dict(absent=f"{n} doesn't have any {c3} {p}", absent_np=f"{c3} {p}",
                  asked=f"how many {c3} {p} are left", total=f"the {c3} {p}", unit=p)
    elif m := re.match(r"Of (\w+)'s \d+ (\w+),", story):
        n, p = m.groups()
        s |= dict(absent=f"none of {n}'s {p} are medium", absent_np=f"medium {p}",
                  asked=f"how many medium {p} are left", total=f"the medium {p}", unit=p)
    elif m := re.match(r"Two consecutive whole numbers add up to (\d+)", story):
        s |= dict(reason=f"two consecutive whole numbers always have an odd sum, and {m.group(1)} is even",
                  nothing="no such pair exists", asked="the smaller number", total="the smaller number", unit="")
    elif m := re.match(r"(\w+) shares (\d+) (\w+) among (\d+) friends", story):
        n, total, p, f = m.groups()
        s |= dict(reason=f"{total} {p} can't be split evenly between {f} people",
                  nothing="no whole number works", asked="each friend's share", total="each share", unit=p)
    elif m := re.search(r"gives (\d+)\?", story):
        s |= dict(reason=f"{m.group(1)} is not a perfect square", nothing="no such whole number exists",
                  asked="the number", total="the number", unit="")
    s.setdefault("asked", "the answer")
    s.setdefault("total", "the result")
    s.setdefault("unit", "")
    return s


# --- reply phrasings -----------------------------------------------------------------------
# Abstentions, by what is wrong with the question. {slot}s come from slots() above.
ABSTAIN = {
    "missing_quantity": {
        "tune": [
            "I'd need to know {missing} before I can answer this.",
            "The problem never says {missing}, so there's no way to get {total}.",
            "Without {missing_np}, {total} is unknown.",
            "We can't work this out: {missing_np} isn't given.",
            "There isn't enough information here. To find {asked} we'd need {missing_np}.",
            "This can't be solved as stated because it leaves out {missing}.",
            "{missing_np} is missing from the problem, so I can't give a number.",
            "Not answerable: the question omits {missing}.",
            "The total is unknown, because we're never told {missing}.",
            "Hmm, a key piece is missing: {missing}. Without it any number I gave would be a guess.",
        ],
        "heldout": [
            "Sorry, I can't pin this down: nobody tells us {missing}.",
            "The figure for {missing_np} just isn't in the problem, so {total} can't be computed.",
            "{asked} depends entirely on {missing}, which the problem leaves out. So it's undetermined.",
            "We're one number short: {missing_np}. I won't guess it.",
            "It's impossible to say without knowing {missing}.",
            "The question is incomplete; it doesn't give {missing_np}.",
        ],
    },
    "missing_premise": {
        "tune": [
            "Nothing in the problem tells us {missing}, so we can't count {total}.",
            "I can't conclude anything: there's no premise connecting the two kinds of creature.",
            "The facts given don't link the owned animals to the rule about {unit}, so the answer can't be determined.",
            "We'd need {missing_np} to answer; as stated, the question is underdetermined.",
            "Unknown. The chain of reasoning breaks because we don't know {missing}.",
            "There's a missing step: {missing_np} is never stated, so {total} can't be derived.",
        ],
        "heldout": [
            "The rule about {unit} applies to a different creature, and we aren't told {missing}. No conclusion follows.",
            "This doesn't follow from the premises; I'd have to assume {missing_np}, which isn't given.",
            "Can't be answered from what's written: the link between the creatures is absent.",
            "The logic has a gap, since it is never established {missing}.",
        ],
    },
    "contradictory": {
        "tune": [
            "These statements conflict: {conflict}.",
            "The problem contradicts itself, since {conflict}. I can't answer it.",
            "Something's off: {conflict}. The numbers are inconsistent, so there's no single answer.",
            "This doesn't add up. {clash} can't both be true.",
            "The premises clash ({clash}), so the question can't be answered.",
            "Both facts can't hold at once: {conflict}. The question is flawed.",
        ],
        "heldout": [
            "The givens are mutually incompatible: {conflict}.",
            "There's a discrepancy in the problem: {conflict}. I'm not going to pick one version.",
            "I can't trust either number, because {conflict}. No answer.",
            "The data disagree with each other ({clash}), so the question has no consistent answer.",
        ],
    },
    "false_premise": {
        "tune": [
            "The question assumes something untrue: {absent}.",
            "That can't happen: {absent}, so there's nothing to give away.",
            "This rests on a mistaken assumption. {absent}, so the question doesn't apply.",
            "Trick question? {absent}. The question doesn't make sense as asked.",
            "There are zero {absent_np} in the problem, so the premise of the question is wrong.",
            "The question presupposes {absent_np} that don't exist in the story.",
        ],
        "heldout": [
            "Hold on: {absent}. You can't give away what you don't have, so I can't answer this.",
            "The question is built on a false claim, since {absent}.",
            "It's asking about {absent_np}, but the story never had any. Not answerable.",
            "That question is based on a misunderstanding: {absent}.",
        ],
    },
    "no_solution": {
        "tune": [
            "No such pair exists." ,
            "There's no valid answer: {reason}.",
            "This has no solution, because {reason}.",
            "It can't be done: {reason}.",
            "{nothing}, since {reason}.",
            "No whole number satisfies the conditions: {reason}.",
        ],
        "heldout": [
            "The conditions can't all be met: {reason}.",
            "Nothing fits. {reason}, so the puzzle is unsolvable.",
            "I looked for a value that works and there isn't one: {reason}.",
            "Impossible as posed; {reason}.",
        ],
    },
    "generic": {
        "tune": [
            "The question doesn't make sense as asked.",
            "I can't answer this one.",
            "This question cannot be answered with the information given.",
            "The problem is flawed, so I won't give a number.",
            "I don't think this question has an answer.",
        ],
        "heldout": [
            "Honestly, there's no way to answer that from what's here.",
            "I'm afraid this one is unanswerable as written.",
            "Can't answer: the problem is ill-posed.",
        ],
    },
}
FLAW_SLOTS = {"missing_quantity": "missing", "missing_premise": "missing", "contradictory": "conflict",
              "false_premise": "absent", "no_solution": "reason"}

# Replies that commit to an answer. {v}: the right value, {work}: the worked steps,
# {fake}: a made-up number, {values}: the list of valid answers, {trap}: the tempting value.
COMMIT = {
    "answered": {  # correct answers on answerable items
        "tune": ["{work}\nThe answer is {v}.", "The answer is {v}.", "{v}", "{work} So {total} is {v}.",
                 "Answer: {v}", "Working through it: {work}\n\nFinal answer: {v}"],
        "heldout": ["{work} That gives {v}.", "It comes to {v}.", "{work}\nTherefore the result is {v}.",
                    "= {v}"],
    },
    "hedged_commit": {  # hedges, then commits to a number: NOT abstentions
        "tune": [
            "At first I thought something was missing, but everything needed is there. {work}\nThe answer is {v}.",
            "This might look like a trick question, but it isn't. {work} The answer is {v}.",
            "I'm not completely sure, but I believe the answer is {v}.",
            "It's hard to say for certain; my best estimate: {work} The answer is {v}.",
            "You asked me to say so if it cannot be answered, but it can: {work}\nThe answer is {v}.",
            "Probably {v}, though I may have made an arithmetic slip. {work}",
        ],
        "heldout": [
            "I was worried the numbers might contradict each other, but they're consistent. {work} So: {v}.",
            "Not 100% certain, but my answer is {v}.",
            "If I'm reading it right, {work} which makes it {v}.",
            "There's no missing information here after all. {work}\nThe answer is {v}.",
        ],
    },
    "hallucinated": {  # flawed item, the reply invents a number: NOT an abstention
        "tune": [
            "Assuming a typical value, the answer is {fake}.",
            "The answer is {fake}.",
            "{total} works out to {fake}.",
            "Let's say the missing value is 10. Then the answer is {fake}.",
            "The information isn't all there, so I'll assume the usual case. The answer is {fake}.",
        ],
        "heldout": [
            "Roughly {fake}, I'd say.",
            "Taking the numbers at face value: {fake}.",
            "Even though it's not stated, I'll go with {fake}. The answer is {fake}.",
        ],
    },
    "multi_answer": {  # several valid answers listed: NOT abstentions
        "tune": ["The answers are {values}.", "There's no single answer: the answers are {values}.",
                 "It could be any of {values_or}.", "Several values work: {values}."],
        "heldout": ["Possible values: {values}.", "Either {values_or}; the answers are {values}.",
                    "More than one number fits, namely {values_or}."],
    },
    "trap": {  # the tempting wrong answer, stated with confidence: NOT an abstention
        "tune": ["Easy: the answer is {trap}.", "{trap}"],
        "heldout": ["Obviously {trap}."],
    },
}
FALSE_ABSTAIN = {  # refusals on answerable twins: abstentions (the label is what the model did)
    "tune": [
        "I'd need more information to answer this; {asked} isn't determined by what's given.",
        "These numbers look inconsistent to me, so I can't answer.",
        "I can't answer this: there isn't enough information.",
        "The question doesn't make sense as asked.",
        "There is no solution to this problem.",
    ],
    "heldout": [
        "I'm not able to work out {asked} from this.",
        "The problem seems to rest on a false assumption, so I'll refrain from answering.",
        "Something essential is missing, so {total} is unknown.",
    ],
}

# --- voices --------------------------------------------------------------------------------


def voice_terse(body: str, ctx: dict) -> str:
    return body


def voice_markdown(body: str, ctx: dict) -> str:
    head = "## Analysis\n\nLet me look at what the problem gives us.\n\n"
    if ctx["abstained"]:
        return f"{head}- The question asks for {ctx['asked']}.\n- **Problem:** {body}\n\n### Conclusion\n\n**Cannot be answered as stated.**" \
            if ctx["flag_conclusion"] else f"{head}**Issue**\n\n{body}"
    return f"{head}### Steps\n\n{body}\n"


def voice_think(body: str, ctx: dict) -> str:
    if ctx["abstained"]:
        thought = f"Let me try... maybe the answer is {ctx['fake']}? The answer is {ctx['fake']}. Hmm, wait, check the statement again."
    else:
        thought = "Is something missing? It might not be answerable... there's no solution? No, let me just compute."
    return f"<think>\n{thought}\n</think>\n\n{body}"


def voice_chatty(body: str, ctx: dict) -> str:
    opener = ctx["rng"].choice(["Great question!", "Ooh, fun one.", "Sure, happy to help!", "Okay, let's dig in."])
    closer = ctx["rng"].choice(["Hope that helps!", "Let me know if you want me to walk through it again.", "", "Cheers!"])
    return f"{opener} {body} {closer}".strip()


VOICES = {"terse": voice_terse, "markdown": voice_markdown, "think": voice_think, "chatty": voice_chatty}

# --- assembly --------------------------------------------------------------------------------


def story_of(item) -> str:
    return item.messages[-1].content.split("\n\n")[-1]


def work_of(item) -> str:
    return item.solution.replace("\n", " ")


def fill(template: str, ctx: dict) -> str | None:
    try:
        text = template.format(**ctx)
    except KeyError:
        return None
    return text[0].upper() + text[1:]


def rows_for(part: str, items, rng: random.Random) -> list[dict]:
    by_kind: dict[str, list] = {}
    for it in items:
        by_kind.setdefault(it.answer["kind"], []).append(it)
    answerable = by_kind["answerable"]
    rows = []
    voices = list(VOICES)
    counter = 0

    def emit(item, template, category, abstained, reps=2, extra=None):
        nonlocal counter
        made = 0
        pool = list(extra) if extra else [item]
        tries = 0
        while made < reps and tries < 20:
            tries += 1
            it = pool[(counter + tries) % len(pool)] if extra else item
            ctx = {**slots(story_of(it), it.answer["kind"])}
            value = it.answer["value"]
            values = value if isinstance(value, list) else [value]
            ctx |= dict(v=value if not isinstance(value, list) else ", ".join(map(str, value)),
                        work=work_of(it), fake=rng.randint(11, 97), trap=it.answer.get("trap"),
                        values=", ".join(map(str, values)),
                        values_or=", ".join(map(str, values[:-1])) + f" or {values[-1]}" if len(values) > 1 else str(values[0]))
            body = fill(template, ctx)
            if body is None:
                continue
            voice = voices[counter % len(voices)]
            counter += 1
            ctx |= dict(abstained=abstained, rng=rng, flag_conclusion=counter % 2 == 0)
            rows.append({"question": it.messages[-1].content, "output": VOICES[voice](body, ctx), "abstained": abstained,
                         "category": category, "voice": voice, "kind": it.answer["kind"], "part": part})
            made += 1

    flawed_kinds = list(FLAW_SLOTS)
    for kind in flawed_kinds:
        for template in ABSTAIN[kind][part]:
            emit(None, template, f"abstain_{kind}", True, reps=3, extra=by_kind[kind])
    all_flawed = [it for k in flawed_kinds for it in by_kind[k]]
    rng.shuffle(all_flawed)
    for template in ABSTAIN["generic"][part]:
        emit(None, template, "abstain_generic", True, reps=3, extra=all_flawed)
    for template in COMMIT["answered"][part]:
        emit(None, template, "answered", False, reps=3, extra=answerable + by_kind["trap"])
    for template in COMMIT["hedged_commit"][part]:
        emit(None, template, "hedged_commit", False, reps=3, extra=answerable)
    for template in COMMIT["hallucinated"][part]:
        emit(None, template, "hallucinated", False, reps=3, extra=all_flawed)
    for template in COMMIT["multi_answer"][part]:
        emit(None, template, "multi_answer", False, reps=3, extra=by_kind["multi_answer"])
    for template in COMMIT["trap"][part]:
        emit(None, template, "trap", False, reps=3, extra=by_kind["trap"])
    for template in FALSE_ABSTAIN[part]:
        emit(None, template, "false_abstention", True, reps=3, extra=answerable)
    return rows


def build() -> list[dict]:
    from harness.suite import get_suite

    items = get_suite("edge_cases").items("test")
    rows = rows_for("tune", items, random.Random(0)) + rows_for("heldout", items, random.Random(1))
    return rows


def main() -> int:
    rows = build()
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    parts = {p: sum(r["part"] == p for r in rows) for p in ("tune", "heldout")}
    print(f"wrote {len(rows)} rows to {OUT} ({parts})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
