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
        s |= dict(calc=f"{a} − {d} = {int(a) - int(d)}, but the problem says {o} has {c}")  # v2 only
        s |= dict(conflict=f"{o} can't have both {int(a) - int(d)} and {c} {p}",
                  clash=f"{n} having {a} (which is {d} more than {o}) and {o} having {c}",
                  asked=f"how many {p} they have together", total="the combined total", unit=p)
    elif m := re.match(r"A rectangle has a perimeter of (\d+) cm and a length of (\d+) cm", story):
        per, length = m.groups()
        s |= dict(calc=f"length + width = {per} ÷ 2 = {int(per) // 2}, so the width would be {int(per) // 2 - int(length)} cm")
        s |= dict(conflict=f"a {length} cm side is too long for a {per} cm perimeter",
                  clash=f"a perimeter of {per} cm and a length of {length} cm",
                  asked="the area", total="the area", unit="square cm")
    elif m := re.match(r"A class has (\d+) students: (\d+) boys and (\d+) girls", story):
        t, b, g = m.groups()
        s |= dict(calc=f"{b} + {g} = {int(b) + int(g)}, not {t}")
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
        s |= dict(calc=f"n + (n + 1) = {m.group(1)} gives n = {(int(m.group(1)) - 1) / 2}")
        s |= dict(reason=f"two consecutive whole numbers always have an odd sum, and {m.group(1)} is even",
                  nothing="no such pair exists", asked="the smaller number", total="the smaller number", unit="")
    elif m := re.match(r"(\w+) shares (\d+) (\w+) among (\d+) friends", story):
        n, total, p, f = m.groups()
        s |= dict(calc=f"{total} ÷ {f} = {int(total) // int(f)} remainder {int(total) % int(f)}")
        s |= dict(reason=f"{total} {p} can't be split evenly between {f} people",
                  nothing="no whole number works", asked="each friend's share", total="each share", unit=p)
    elif m := re.search(r"gives (\d+)\?", story):
        s |= dict(calc=f"{int(int(m.group(1)) ** 0.5)}² = {int(int(m.group(1)) ** 0.5) ** 2} and {int(int(m.group(1)) ** 0.5) + 1}² = "
                       f"{(int(int(m.group(1)) ** 0.5) + 1) ** 2}, so nothing squared gives {m.group(1)}")
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


def items_by_kind(items) -> dict[str, list]:
    by_kind: dict[str, list] = {}
    for it in items:
        by_kind.setdefault(it.answer["kind"], []).append(it)
    return by_kind


def rows_for(part: str, items, rng: random.Random) -> list[dict]:
    by_kind = items_by_kind(items)
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


# --- v2: paraphrase, longer replies, conditional answers ------------------------------------------
# Written for the "semantic" judge's classifier (harness/scoring/semantic.py): many more ways of
# declining in plain words, replies of several sentences (a restated fact, partial work, a closer),
# <think> traces that disagree with the final text, markdown (bullets, tables, bold verdicts),
# replies that name a missing quantity and then commit to a number anyway (answers), conditional
# answers ("it depends: with 5 per bag, 28; with 6, 31" declines; "assuming 5 per bag, 28" answers),
# and answers that commit without the words "the answer is" (word numbers, "ends up with 81 apples").
# Rows carry "source": "v2" and the same tune / heldout split by phrasing; the v1 rows above are
# unchanged. The fitting script trains on the tune rows only.

ABSTAIN_V2 = {
    "missing_quantity": {
        "tune": [
            "There's a hole in the problem: {total} depends on {missing_np}, and that is never given.",
            "We only know part of the story. {missing_np} is left blank, so {total} could be almost anything.",
            "Without a figure for {missing_np}, the calculation stalls.",
            "{total} can't be pinned to a single number, because {missing_np} is left open.",
            "I'd be guessing. The statement leaves out {missing_np}.",
            "The data stop short: {missing_np} never appears.",
            "Not solvable with what's here.",
            "The puzzle is underspecified.",
            "That's not something the text lets us work out; it needs {missing_np}.",
            "Nothing fixes {missing_np}, so many different totals fit the story.",
            "I can't give you a number. {missing_np} would have to be stated first.",
            "More than one total is consistent with the story, since {missing_np} could be anything.",
            "The answer hinges on {missing_np}, which we don't have.",
            "There's no way to get from the given facts to {total}.",
            "One quantity is free, so {total} isn't fixed.",
        ],
        "heldout": [
            "The story fixes everything except {missing_np}, and that one gap is enough to block an answer.",
            "{asked} is open-ended: {missing_np} was never supplied.",
            "I'm stuck, because {missing_np} isn't part of the problem, so I'll leave it unanswered.",
            "Answering would mean inventing {missing_np}; I'd rather not.",
            "The problem lacks {missing_np}. No definite total follows.",
        ],
    },
    "missing_premise": {
        "tune": [
            "Whether the rule about {unit} covers these creatures is never settled, so I can't count them.",
            "The premises don't connect, so no number follows.",
            "We'd have to assume {missing}; the problem never says so. Undecidable.",
            "The syllogism is broken: {missing_np} is absent, and without it the count stays open.",
            "Logically, nothing lets us apply that rule here.",
            "It's not possible to reach a conclusion from these statements.",
            "The statements leave open {missing}, so the total isn't fixed.",
        ],
        "heldout": [
            "The rule is about a different kind of animal; for all the text says, these could have any number of {unit}.",
            "There is no stated link, so any count would be speculation.",
            "The premises stop one step short of the conclusion.",
        ],
    },
    "contradictory": {
        "tune": [
            "The numbers fight each other: {conflict}.",
            "Those two facts can't both be right ({clash}), so I can't give a total.",
            "Check: {conflict}. The problem is self-contradictory.",
            "The setup is impossible, since {conflict}.",
            "One of the given numbers must be wrong, since {conflict}; which one isn't clear, so there's no reliable answer.",
            "The problem states two incompatible things: {clash}.",
            "These figures don't agree, so the question has no answer.",
        ],
        "heldout": [
            "Taken together, {clash} is not possible. I'd want the problem corrected before answering.",
            "The givens are at odds ({conflict}), so any answer would mean picking one of them.",
            "Something in the statement is wrong: {conflict}. I'll stop there.",
        ],
    },
    "false_premise": {
        "tune": [
            "You're asking about {absent_np}, but there aren't any in the story.",
            "There's nothing to give away: {absent}.",
            "The premise fails: {absent}.",
            "Since {absent}, the question asks about something that doesn't exist.",
            "That question takes for granted that {absent_np} exist; they don't.",
            "The story only mentions other kinds, so the question about {absent_np} is moot.",
            "Can't answer, because the question refers to {absent_np}, which the problem doesn't contain.",
        ],
        "heldout": [
            "It's a loaded question: {absent}, so there's nothing to count.",
            "The question is about {absent_np}, yet the story has none. I won't make up a count.",
            "As posed, this is impossible: {absent}.",
        ],
    },
    "no_solution": {
        "tune": [
            "No value works: {reason}.",
            "The requirements can't be met together, because {reason}.",
            "It doesn't come out evenly: {reason}. So there is no answer.",
            "Checking every option, none satisfies the conditions ({reason}).",
            "The request is impossible to satisfy: {reason}.",
            "There isn't an integer that fits, since {reason}.",
            "The constraints rule out every candidate: {reason}.",
        ],
        "heldout": [
            "You'd need a fraction or a value that doesn't exist, because {reason}. So: no answer.",
            "That can't happen; {reason}.",
            "The conditions exclude every whole number: {reason}.",
        ],
    },
    "generic": {
        "tune": [
            "This has no definite answer.",
            "The question can't be settled from the information here.",
            "There's no single correct number for this one.",
            "I'll have to pass on this one; the problem doesn't support an answer.",
            "It's not possible to answer this as written.",
            "Not enough to go on.",
            "Any number I gave would be made up.",
            "There are too many unknowns to answer.",
            "The problem doesn't determine the result.",
            "No answer can be given.",
            "I can't tell from what's written.",
            "The problem has a flaw, so I'm not giving a number.",
            "Answer: none. The problem cannot be solved as stated.",
            "Answer: undetermined.",
            "Final answer: cannot be determined.",
            "N/A: the question has no valid answer.",
            "I decline to answer because the problem is broken.",
            "Several results are possible, and nothing picks one.",
        ],
        "heldout": [
            "There's no answer I can stand behind here.",
            "The problem as posed has no resolution.",
            "The given facts leave the result open.",
            "Final answer: not determinable.",
            "The honest answer is that there isn't one.",
            "Sorry, this one can't be answered.",
        ],
    },
}
# Conditional replies that still decline: they show what the number would be under an assumption
# and say the problem does not choose. Missing-quantity items only (the slots name the missing value).
CONDITIONAL_ABSTAIN = {
    "tune": [
        "It depends on {missing_np}. If it were {h}, {total} would be {fake}; if it were {h2}, it would be {fake2}. "
        "Without it, there's no single answer.",
        "If {missing_np} were {h}, the answer would be {fake}. But the problem never gives it, so I can't say.",
        "With {h} it would come to {fake}, with {h2} to {fake2}. The problem doesn't choose between them.",
        "Only a formula is possible: call {missing_np} x; {total} is a function of x, not a number.",
        "For example, {h} would give {fake}, but that's just an illustration: the real value can't be known.",
    ],
    "heldout": [
        "Could be {fake}, could be {fake2}: it all rides on {missing_np}, which isn't given.",
        "Plug in {h} and you get {fake}; plug in {h2} and you get {fake2}. Nothing in the problem says which.",
    ],
}
# Replies that name a problem and then commit to a number anyway, or answer under a stated
# assumption: answers, not abstentions (the label is what the reply did).
COMMIT_V2 = {
    "mention_then_commit": {
        "tune": [
            "The problem doesn't say {missing}, but a typical value is {h}; with that, {total} is {fake}.",
            "{missing_np} isn't given. I'll assume {h}. The answer is {fake}.",
            "Although {missing_np} is missing, the most natural reading gives {fake}.",
            "Normally we'd need {missing_np}, but I'll take it as {h}: that gives {fake}.",
            "{missing_np} is not stated, so I'll estimate it at {h}. Final answer: {fake}.",
            "Some information seems to be missing, but I'll go with {fake}.",
        ],
        "heldout": [
            "We aren't told {missing}; guessing {h}, I get {fake}.",
            "Strictly speaking {missing_np} is unknown. Still, {fake} is my answer.",
        ],
    },
    "conflict_then_commit": {
        "tune": [
            "There's a contradiction ({conflict}), but going with the first statement, the answer is {fake}.",
            "The numbers don't quite agree, yet if I trust the last one I get {fake}.",
            "Even though {conflict}, I'll just add what's given: {fake}.",
        ],
        "heldout": ["Ignoring the inconsistency, the total is {fake}."],
    },
    "conditional_commit": {
        "tune": [
            "Assuming {missing_np} is {h}, the answer is {fake}.",
            "Taking {missing_np} as {h}: {total} = {fake}.",
            "If each one holds {h}, then {total} is {fake}.",
            "Suppose {missing_np} is {h}. Then we get {fake}.",
        ],
        "heldout": ["With the usual {h}, that's {fake}.", "Let {missing_np} be {h}; {total} comes out at {fake}."],
    },
    # answers that commit without "the answer is N": the conclusion carries the number in other words
    "answered_plain": {
        "tune": [
            "{Name} ends up with {v} {unit}.",
            "**{v} {unit}**",
            "That's {v} in total.",
            "Total: {v} {unit}.",
            "{work} In all, {v}.",
            "{v}, because {work}",
            "I get {v}.",
            "My answer: {v} {unit}.",
            "{Name} has {v_words} {unit} now.",
            "It's {v_words}.",
            "Nothing is missing here; {Name} ends up with {v} {unit}.",
            "No contradiction and no trick. {work} In total, {v}.",
            "The numbers are consistent, so the result is simply {v_words}.",
        ],
        "heldout": [
            "Result: {v}.",
            "{work} That leaves {v}.",
            "Everything needed is given: the total is {v_words}.",
            "None of the facts conflict; we get {v} {unit}.",
        ],
    },
    "multi_plain": {
        "tune": ["Both {values_and} work.", "Candidates: {values}.", "It's {values_or}; either fits.",
                 "{values_or}. Several values satisfy it."],
        "heldout": ["The valid options are {values_and}.", "Any of {values} would do."],
    },
}
FALSE_ABSTAIN_V2 = {
    "tune": [
        "I don't think this can be worked out from the given numbers.",
        "This looks underspecified to me, so I'll hold off on a number.",
        "The numbers in the problem don't line up, so I can't answer.",
        "It's unclear what is being asked, so I won't guess.",
    ],
    "heldout": ["Too much is left unsaid here for a real answer.", "I'm going to skip this one: it isn't well posed."],
}

# more tune phrasings, written after the first cross-validation of the classifier (tune part only)
ABSTAIN_V2["missing_quantity"]["tune"] += [
    "There's no telling what {total} is; {missing_np} is anyone's guess.",
    "We can't say for sure, since the story never fixes {missing_np}.",
    "I'll leave it there: without {missing_np} the question is open.",
    'No way of knowing {asked}; the key figure ({missing_np}) is absent from the text.',
    '{missing_np}? Not stated. So {total} is unclear.',
    "I'll pass: the problem skips over {missing_np}.",
    "You'd have to tell me {missing} first.",
    "The quantity that matters, {missing_np}, was left out, so there's nothing to calculate.",
    'Too many possibilities: everything else is fixed, but {missing_np} can take any value.',
]
ABSTAIN_V2["missing_premise"]["tune"] += [
    "We know the rule for one creature and the count of another, but nothing ties them together, so I can't give a number.",
    "That's a non sequitur: the rule doesn't reach the animals in question.",
    "The conclusion isn't supported; {missing_np} would be needed.",
]
ABSTAIN_V2["contradictory"]["tune"] += [
    'Those givens clash, so the problem is broken: {conflict}.',
    "If one statement is true the other is false ({conflict}). I won't choose.",
    "Wait, that's inconsistent with the other number: {conflict}. No answer possible.",
    "The story can't be real: {conflict}.",
]
ABSTAIN_V2["false_premise"]["tune"] += [
    'Nothing to count: {absent}.',
    'The story never mentions {absent_np}, so asking how many remain is meaningless.',
    "Since {absent}, there's no sensible number to report.",
]
ABSTAIN_V2["no_solution"]["tune"] += [
    "It won't divide out: {reason}. So it's not possible.",
    'Every candidate fails: {reason}.',
    "There's no way to satisfy all the conditions at once, since {reason}.",
]
ABSTAIN_V2["generic"]["tune"] += [
    "I'll skip giving a number; the problem isn't well formed.",
    'No number follows from the given facts.',
    "I'd rather not guess: the question is flawed.",
    "Can't say.",
    "The problem doesn't pin the value down.",
    'Unclear: the question leaves the result open.',
    "There's no way of knowing.",
    "I'll stop short of an answer, because the problem is defective.",
    "That can't be worked out.",
    'Nobody could answer this with the facts given.',
]
COMMIT_V2["answered_plain"]["tune"] += [
    '{v} is my answer.',
    "I'd go with {v}.",
    "I'll say {v}.",
    'Final count: {v} {unit}.',
    "{work} So that's {v_words}.",
    'Each one gets {v}.',
    'That leaves {v}.',
    "There's nothing missing or contradictory here. {work} We end up with {v}.",
    "It isn't a trick question: {work} So {v}.",
    '{v} {unit} altogether.',
]
COMMIT_V2["multi_plain"]["tune"] += [
    'Options: {values_or}.',
    'Any of {values_or} works.',
    '{values_and} both fit.',
]
COMMIT_V2["mention_then_commit"]["tune"] += [
    "{missing_np} isn't given, so I'll go with {h}, which makes it {fake}.",
    "We aren't given {missing_np}. My answer is still {fake}, assuming {h}.",
]

ABSTAIN_V2["missing_quantity"]["tune"] += [
    "{total} could be {fake}, {fake2} or something else entirely, depending on {missing_np}. There's no single answer.",
    "{total} is at least {h}, but the exact value depends on {missing_np}, which we don't have.",
    "With {h} it would be {fake}, with {h2} it would be {fake2}, and so on. The problem doesn't say which, so I can't answer.",
    "All we can say is that {total} is more than {h}; exactly how much isn't something the problem lets us work out.",
    "{known} That part is clear. But {missing_np} never appears, so the total can't be computed.",
]
ABSTAIN_V2["contradictory"]["tune"] += [
    "{calc}. So the problem contradicts itself.",
    "Check the numbers: {calc}. They can't all be right, so there's no answer.",
    "{calc}. That's impossible, so I won't give a number.",
]
ABSTAIN_V2["no_solution"]["tune"] += [
    "{calc}, so no whole number works.",
    "{calc}. Not possible.",
    "Let's test it: {calc}. There is no valid answer.",
]
ABSTAIN_V2["contradictory"]["heldout"] += ["{calc}; the statement is inconsistent."]
ABSTAIN_V2["no_solution"]["heldout"] += ["{calc}, which rules out a whole-number answer."]

LEAD_INS = ["Let's look at the problem.", "The problem says: {known}", "Here's my reasoning.", "Okay.",
            "Reading it carefully: {known}", "First, the facts. {known}", "Let me set this up.",
            "We know the following. {known}"]
CLOSERS = ["", "", "Hope that helps!", "Thanks for the puzzle.", "Let me know if anything is unclear."]
ABSTAIN_CLOSERS = ["Let me know if you have the missing detail.", "Happy to redo it with more details."]
ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen " \
       "eighteen nineteen".split()
TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()


def words(n: int) -> str:
    """An English number name for 0 <= n < 1000."""
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10 - 2] + ("" if n % 10 == 0 else "-" + ONES[n % 10])
    return ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " and " + words(n % 100))


def person(story: str) -> dict[str, str]:
    """{"Name": the person the story is about}, or nothing when it is about a train, a garden, ..."""
    m = re.match(r"(?:Of )?([A-Z][a-z]+)(?:'s)? ", story)
    return {"Name": m.group(1)} if m and m.group(1) not in ("A", "An", "Every", "Two", "The") else {}


def voice_multi(body: str, ctx: dict) -> str:
    lead = ctx["rng"].choice(LEAD_INS).format(**ctx)
    closers = CLOSERS + (ABSTAIN_CLOSERS if ctx["abstained"] else [])
    return f"{lead} {body} {ctx['rng'].choice(closers)}".strip()


def voice_markdown_v2(body: str, ctx: dict) -> str:
    style = ctx["rng"].randrange(3)
    if style == 0:
        return f"**Answer:** {body}"
    if style == 1:
        return f"- Given: {ctx['known']}\n- Asked: {ctx['asked']}\n\n### Final answer\n\n{body}"
    return f"| fact | value |\n|---|---|\n| asked | {ctx['asked']} |\n\n{body}"


def voice_think_v2(body: str, ctx: dict) -> str:
    if ctx["abstained"]:
        thought = (f"{ctx['known']} So maybe the result is {ctx['fake']}. Final answer: {ctx['fake']}. "
                   "Hmm, no, re-read the question.")
    else:
        thought = "Maybe this cannot be answered? Something might be missing or contradictory. Let me check each fact."
    return f"<think>\n{thought}\n</think>\n\n{body}"


# Replies that neither answer nor decline: openers, restatements, reasoning cut off by the token budget.
# Not abstentions (the reply never declined), so a student that rambles without concluding gets no
# abstention credit on an unanswerable item.
NON_ANSWER = {
    "tune": [
        "Let me think about this.", "Okay, let's work through it step by step.", "Sure! Let's start.",
        "Good question.", "I'd be happy to help with this problem.", "Here is how I would approach it:",
        "Let's break the problem down.", "Alright, so", "To solve this, we first list what we know.",
        "{known}", "{known} So first we", "Step 1: {known}\nStep 2:", "We start with {h} and then",
        "Let me compute: {h} + {h2} =", "Let's restate the problem. {known} We need to find",
        "First, note that {known} Next,", "Solution:", "Thinking...", "Let's see what we have here.",
        "Interesting one. Give me a moment.", "OK. {known} Then the next step is to",
        "We can set up an equation. Let x be", "Let me read that again.", "So the question is asking",
    ],
    "heldout": [
        "Hmm, okay.", "Let's think step by step.", "Right, let me work it out.", "{known} Now",
        "First we add {h} and", "Here's the solution:", "Let me figure this out.", "So we have {h} items and",
    ],
}


VOICES_V2 = {"terse": voice_terse, "multi": voice_multi, "markdown": voice_markdown_v2, "think": voice_think_v2,
             "chatty": voice_chatty}


def make_emitter(part: str, rng: random.Random, rows: list[dict], source: str):
    """emit(templates, category, abstained, pool, reps): for each template, `reps` rows, each filled from the next
    item of `pool` that has every slot it names, in the next voice of VOICES_V2."""
    counter = 0

    def emit(templates: list[str], category: str, abstained: bool, pool: list, reps: int = 3) -> None:
        for template in templates:
            emit_one(template, category, abstained, pool, reps)

    def emit_one(template: str, category: str, abstained: bool, pool: list, reps: int) -> None:
        nonlocal counter
        made = tries = 0
        while made < reps and tries < 30:
            tries += 1
            it = pool[(counter * 7 + tries) % len(pool)]
            story = story_of(it)
            ctx = {**slots(story, it.answer["kind"])}
            value = it.answer["value"]
            values = value if isinstance(value, list) else [value]
            h = rng.randint(2, 12)
            ctx |= dict(v=", ".join(map(str, values)), work=work_of(it), fake=rng.randint(11, 97), fake2=rng.randint(11, 97),
                        h=h, h2=h + rng.randint(1, 5), known=re.split(r"(?<=\.) ", story)[0],
                        **person(story),
                        v_words=words(int(values[0])) if isinstance(values[0], int) and 0 <= values[0] < 1000 else str(values[0]),
                        values=", ".join(map(str, values)),
                        values_and=", ".join(map(str, values[:-1])) + f" and {values[-1]}" if len(values) > 1 else str(values[0]),
                        values_or=", ".join(map(str, values[:-1])) + f" or {values[-1]}" if len(values) > 1 else str(values[0]))
            if it.answer.get("trap") is not None:
                ctx["trap"] = it.answer["trap"]
            body = fill(template, ctx)
            if body is None:
                continue
            voice = list(VOICES_V2)[counter % len(VOICES_V2)]
            counter += 1
            ctx |= dict(abstained=abstained, rng=rng, flag_conclusion=counter % 2 == 0)
            rows.append({"question": it.messages[-1].content, "output": VOICES_V2[voice](body, ctx), "abstained": abstained,
                         "category": category, "voice": voice, "kind": it.answer["kind"], "part": part, "source": source})
            made += 1

    return emit


def rows_v2(part: str, items, rng: random.Random) -> list[dict]:
    by_kind = items_by_kind(items)
    rows: list[dict] = []
    emit = make_emitter(part, rng, rows, "v2")

    flawed = [k for k in FLAW_SLOTS]
    for kind in flawed:
        emit(ABSTAIN_V2[kind][part], f"abstain_{kind}", True, by_kind[kind])
    all_flawed = [it for k in flawed for it in by_kind[k]]
    rng.shuffle(all_flawed)
    emit(ABSTAIN_V2["generic"][part], "abstain_generic", True, all_flawed)
    emit(CONDITIONAL_ABSTAIN[part], "conditional_abstain", True, by_kind["missing_quantity"])
    emit(COMMIT_V2["mention_then_commit"][part], "mention_then_commit", False,
         by_kind["missing_quantity"] + by_kind["missing_premise"])
    emit(COMMIT_V2["conflict_then_commit"][part], "mention_then_commit", False, by_kind["contradictory"])
    emit(COMMIT_V2["conditional_commit"][part], "conditional_commit", False, by_kind["missing_quantity"])
    answerable = [it for it in by_kind["answerable"] if isinstance(it.answer["value"], int)]
    emit(COMMIT_V2["answered_plain"][part], "answered_plain", False, answerable)
    emit(COMMIT_V2["multi_plain"][part], "multi_answer", False, by_kind["multi_answer"])
    emit(FALSE_ABSTAIN_V2[part], "false_abstention", True, answerable)
    everything = [it for its in by_kind.values() for it in its]
    emit(NON_ANSWER[part], "non_answer", False, everything, reps=2)
    return rows


# --- v3: values computed and then withdrawn, tempting answers, bounds ----------------------------
# Written for issue 21's second round, without looking at any blind set: replies that work out a
# number under a hypothesis or name the tempting number and then decline (abstentions: the number is
# not what they answer), replies that give only a bound or a range and decline a single value, and
# their answering counterparts (the hypothesis adopted and committed to, the tempting answer
# corrected, a bound followed by the exact value). Rows carry "source": "v3".

HYPOTHETICAL_ABSTAIN = {  # missing-quantity items: a value under an assumption, then declined
    "tune": [
        "Suppose {missing_np} were {h}. Then {total} would come to {fake}. The problem gives no such figure, though, so "
        "{fake} is only an illustration, not an answer.",
        "Had the problem said that {missing_np} is {h}, I'd answer {fake}. It says no such thing, so I have no answer to give.",
        "Under an assumption of {h}, we'd get {fake}. But that assumption is mine, not the problem's; as stated, {total} is unknown.",
        "Working it through with a made-up value: {h} gives {fake}. Since {missing_np} is really unknown, that number "
        "means nothing, and I can't answer.",
        "A quick sketch: with {h}, {total} = {fake}; with {h2}, {fake2}. The text fixes neither, so I'll leave {total} undetermined.",
        "In the special case where {missing_np} is {h}, {total} is {fake}. Nothing says we're in that case, so there is no definite answer.",
        "{known} If we plug in {h} for {missing_np}, the result is {fake}. However, {missing_np} appears nowhere in the "
        "problem, so this can't be answered.",
        "Were {missing_np} equal to {h}, the total would be {fake}. It isn't stated, so I won't commit to that number.",
        "Let me try a value to see how it behaves. {h} per unit leads to {fake}. That's a guess, and the problem needs "
        "{missing_np} to be given; it isn't, so the question stays open.",
    ],
    "heldout": [
        "Just to show the shape of it: {h} would lead to {fake}. But {missing_np} is not in the problem, so the real {total} stays unknown.",
        "Imagine {missing_np} is {h}; {total} then equals {fake}. That's a hypothetical, and the actual question has no determinate answer.",
        "On a guess of {h} you'd get {fake}, yet nothing backs that guess. I can't give {total}.",
    ],
}
HYPOTHETICAL_CONFLICT = {  # contradictory items: each reading worked out, then declined
    "tune": [
        "Going by the first statement, {total} would be {fake}; going by the second, {fake2}. The two disagree, so there's no single answer.",
        "If I believe one figure I get {fake}, if I believe the other I get {fake2}. Because {conflict}, I can't say which is meant.",
        "{calc}. Using the first number the total is {fake}, using the second it is {fake2}. The problem is inconsistent, so no answer.",
    ],
    "heldout": ["Trusting one fact gives {fake}, trusting the other gives {fake2}. The problem is inconsistent, so I won't pick."],
}
TEMPTING_ABSTAIN = {  # flawed items: the tempting number named and rejected, nothing committed
    "missing_quantity": {
        "tune": [
            "It's tempting to say {fake}, but that needs {missing_np}, which the problem never gives. No answer.",
            "The quick answer would be {fake}. That quietly assumes {missing_np} is {h}, and nothing says so, so I'll decline.",
            "One might answer {fake}, but that's a guess: {missing_np} is unknown.",
            "A natural guess is {fake}. However, the problem doesn't support it, because we aren't told {missing}.",
            "I could write {fake} and move on, but it would be invented: {total} depends on {missing_np}.",
        ],
        "heldout": ["{fake} looks like the obvious answer, but it rests on a value for {missing_np} that we're not given. "
                    "I'd leave it unanswered."],
    },
    "missing_premise": {
        "tune": ["It's tempting to multiply and say {fake}, but the rule about {unit} may not apply to these animals at all, "
                 "so the count is unknown.",
                 "The easy answer is {fake}. That only works if {missing}, which the problem never says."],
        "heldout": ["Multiplying gives {fake}, but that leans on a link the problem never makes, so I won't give it."],
    },
    "contradictory": {
        "tune": ["It's tempting to add the numbers and say {fake}, yet {conflict}, so the numbers can't be trusted and there is no answer.",
                 "A first pass gives {fake}. Then I notice {conflict}; the problem contradicts itself."],
        "heldout": ["Tempting as {fake} is, the facts disagree ({conflict}), so there is no answer."],
    },
    "false_premise": {
        "tune": ["You might be tempted to answer {fake}, but {absent}, so the question has nothing to count.",
                 "Subtracting would give some number, but {absent}; the question rests on something false."],
        "heldout": ["A quick subtraction suggests an answer, but {absent}. Nothing to give."],
    },
    "no_solution": {
        "tune": ["It's tempting to just say {fake}, but {reason}. So no valid answer exists.",
                 "My first instinct was {fake}. Checking it: {calc}. So there is no solution."],
        "heldout": ["The number {fake} comes to mind, but {reason}, so there is none."],
    },
}
BOUND_ABSTAIN = {  # missing-quantity items: only a bound or a range, no single value
    "tune": [
        "All that follows is a lower bound: {total} is more than {h}. A single exact value can't be given.",
        "{total} must be at least {h}, but beyond that the problem doesn't say, so there's no single number.",
        "We can narrow it to somewhere above {h}, no further. I can't give one exact value.",
        "The range is open-ended: anything from {h} upward fits. So the exact {total} is not determined.",
        "It lies somewhere between {fake} and {fake2}, depending on {missing_np}; the problem doesn't settle it, so no single answer.",
        "Only a bound is possible here: {total} ≥ {h}. The exact figure depends on {missing_np}.",
        "{Name}'s total is at least {h} {unit}, maybe much more. Without {missing_np} I can't be exact.",
    ],
    "heldout": [
        "I can say {total} exceeds {h}, and that's all; the exact number isn't fixed by the problem.",
        "{total} has a minimum of {h} but no determined value, since {missing_np} is open.",
    ],
}
MULTI_DECLINE = {  # multi-answer items: "several fit" without naming them is a refusal to answer
    "tune": ["Several numbers satisfy these conditions, so I can't name the one that is meant.",
             "The conditions allow more than one value and the question wants one; I can't choose.",
             "There are multiple candidates, and nothing singles one out. No unique answer."],
    "heldout": ["More than one value works, so the question has no unique answer."],
}
COMMIT_V3 = {
    "assume_commit": {  # missing-quantity items: the gap named, a value assumed, a number committed to
        "tune": [
            "The problem leaves out {missing_np}. Taking it to be {h}, {total} comes to {fake}, and that's my answer.",
            "{missing_np} isn't in the problem, so I'll fill it in with {h}. Then {total} = {fake}. Answer: {fake}.",
            "Strictly, we'd need {missing_np}. I'll assume {h} anyway: {fake}.",
            "If {missing_np} is {h} (the problem doesn't say, but it's a reasonable guess), {total} is {fake}. I'll go with {fake}.",
            "It's tempting to call this unanswerable, but with a typical {h} for {missing_np} we get {fake}. So {fake}.",
            "Suppose {missing_np} were {h}. Then {total} would come to {fake}, and I'll take that as the answer.",
            "{total} is at least {h}; assuming {missing_np} is {h2}, it is {fake}. Final answer: {fake}.",
        ],
        "heldout": [
            "Not given: {missing_np}. Assuming {h}, I get {fake}, which is my final answer.",
            "There's a gap ({missing_np}), but I'll commit: with {h}, {total} is {fake}.",
        ],
    },
    "tempting_commit": {  # trap items: the tempting value named, then the right one given
        "tune": [
            "It's tempting to say {trap}, but that's the trap. {work} The answer is {v}.",
            "The quick answer {trap} is wrong. {work} So it's {v}.",
            "Most people say {trap}, but careful: {work} The correct answer is {v}.",
            "You might be tempted to say {trap}; it's actually {v}.",
            "It's tempting to say {trap}, but {work} So {v}.",
            "{trap} looks right and isn't. {work} That gives {v}.",
        ],
        "heldout": ["Not {trap}, as it first seems: {work} That gives {v}.",
                    "It's tempting to answer {trap}, but the right answer is {v}."],
    },
    "bound_commit": {  # answerable items: a bound first, then the exact value
        "tune": [
            "The answer is more than {h}. Exactly: {work} So {v}.",
            "A rough bound says at least {h}, and the exact value is {v}.",
            "It must be at least {h}; working it out, {work} The answer is {v}.",
        ],
        "heldout": ["At minimum {h}; precisely, {v}."],
    },
    "hypothetical_then_real": {  # answerable items: a wrong reading worked out, then the real one committed to
        "tune": [
            "A first guess of {fake} doesn't survive a check. {work} The answer is {v}.",
            "Had the question meant something else we might get {fake}, but read as written, {work} So {v}.",
        ],
        "heldout": ["With a careless reading you'd get {fake}; the careful one gives {v}."],
    },
}


def rows_v3(part: str, items, rng: random.Random) -> list[dict]:
    by_kind = items_by_kind(items)
    rows: list[dict] = []
    emit = make_emitter(part, rng, rows, "v3")
    emit(HYPOTHETICAL_ABSTAIN[part], "hypothetical_abstain", True, by_kind["missing_quantity"])
    emit(HYPOTHETICAL_CONFLICT[part], "hypothetical_abstain", True, by_kind["contradictory"])
    for kind, pools in TEMPTING_ABSTAIN.items():
        emit(pools[part], "tempting_abstain", True, by_kind[kind])
    emit(BOUND_ABSTAIN[part], "bound_abstain", True, by_kind["missing_quantity"])
    emit(MULTI_DECLINE[part], "multi_decline", True, by_kind["multi_answer"])
    emit(COMMIT_V3["assume_commit"][part], "assume_commit", False, by_kind["missing_quantity"])
    emit(COMMIT_V3["tempting_commit"][part], "tempting_commit", False, by_kind["trap"])
    answerable = [it for it in by_kind["answerable"] if isinstance(it.answer["value"], int)]
    emit(COMMIT_V3["bound_commit"][part], "bound_commit", False, answerable)
    emit(COMMIT_V3["hypothetical_then_real"][part], "hypothetical_commit", False, answerable)
    return rows


# v4: the verdict first, then an illustration under a supposed value that is never withdrawn; contradictions
# stated as the arithmetic that fails. A shallower encoder (ENCODER_LAYERS 3) lost both shapes without them.
VERDICT_FIRST_ABSTAIN = {  # missing-quantity items
    "tune": [
        "It cannot be determined. If {missing_np} were {h}, it would be {fake}.",
        "There's no way to know. With {h} for {missing_np}, {total} would be {fake}.",
        "Not answerable as stated. Assuming {h}, you'd get {fake}; assuming {h2}, {fake2}.",
        "Impossible to say, since {missing_np} is not given. For {h}, {total} would come to {fake}.",
        "No definite answer exists. Were {missing_np} {h}, {total} would be {fake}.",
        "The question is underdetermined. Taking {missing_np} as {h} would give {fake}.",
    ],
    "heldout": ["We can't tell. Should {missing_np} be {h}, {total} would be {fake}.",
                "Unknowable from the text. At {h}, {total} would be {fake}."],
}
ARITHMETIC_CONFLICT = {  # contradictory items: the failing arithmetic is the whole verdict
    "tune": [
        "The data is inconsistent: {calc}.",
        "That can't be right: {calc}.",
        "The figures don't fit together: {calc}.",
        "Inconsistent numbers: {calc}.",
        "These facts clash, because {calc}.",
    ],
    "heldout": ["The givens disagree: {calc}.", "Something is off: {calc}."],
}


def rows_v4(part: str, items, rng: random.Random) -> list[dict]:
    by_kind = items_by_kind(items)
    rows: list[dict] = []
    emit = make_emitter(part, rng, rows, "v4")
    emit(VERDICT_FIRST_ABSTAIN[part], "verdict_first_abstain", True, by_kind["missing_quantity"])
    emit(ARITHMETIC_CONFLICT[part], "arithmetic_conflict", True, by_kind["contradictory"])
    return rows


def reference_rows(per_kind: int = 8) -> list[dict]:
    """The suite's own worked solutions (reference responses) to train-split items: the explicit voice a
    careful teacher uses ("9 boys and 6 girls make 15 students, not 12: ... cannot be answered"),
    `per_kind` of each kind, with and without a commitment."""
    from harness.suite import get_suite

    rows, seen = [], {}
    for it in get_suite("edge_cases").items("train"):
        kind = it.answer["kind"]
        if seen.get(kind, 0) >= per_kind:
            continue
        seen[kind] = seen.get(kind, 0) + 1
        rows.append({"question": it.messages[-1].content, "output": it.reference_response, "abstained": not it.answer["answerable"],
                     "category": f"reference_{kind}", "voice": "reference", "kind": kind, "part": "tune", "source": "v2"})
    return rows


def both_parts(rows_of, seed: int) -> list[dict]:
    """rows_of's "tune" rows (random seed `seed`), then its "heldout" rows (seed + 1), from the edge_cases test items."""
    from harness.suite import get_suite

    items = get_suite("edge_cases").items("test")
    return rows_of("tune", items, random.Random(seed)) + rows_of("heldout", items, random.Random(seed + 1))


def build_v2() -> list[dict]:
    return both_parts(rows_v2, 10) + reference_rows()


def build_v3() -> list[dict]:
    return both_parts(rows_v3, 20)


def build_v4() -> list[dict]:
    return both_parts(rows_v4, 30)


def build_all() -> list[dict]:
    return build() + build_v2() + build_v3() + build_v4()


def main() -> int:
    rows = build_all()
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    parts = {p: sum(r["part"] == p for r in rows) for p in ("tune", "heldout")}
    print(f"wrote {len(rows)} rows to {OUT} ({parts})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
