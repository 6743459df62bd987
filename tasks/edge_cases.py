"""Edge cases: knowing when not to answer, and not being fooled by the obvious answer.

Each canonical instance is one of:
- a twin pair: an answerable word problem and its flawed twin from the same draws, where a
  necessary quantity is removed (missing_quantity), a bridging rule of a logic chain is
  removed (missing_premise), a premise contradicts another
  (contradictory), the question presupposes something false (false_premise) or the
  conditions admit no solution (no_solution). Both twins are canonical items, linked
  through metadata["twin_id"];
- a problem with several valid answers (multi_answer), all of which must be listed;
- a trap whose natural first answer is wrong and must be corrected (trap).

On flawed items the right response is to say so (decided by the run's abstention judge, handed over in
the ScoringContext; harness.scoring.abstention);
on answerable ones, abstaining is a false abstention and counts as wrong. Every score's
answer records {"abstained", "value"}, so abstention_rates / rates_from_records give the
abstention rate, the false-abstention rate and the balanced score for any run.

Perturbations (test split): "numbers" redraws the quantities, "names" swaps people and objects.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from harness.scoring.abstention import Abstention, Outcome, abstention_rates
from harness.scoring.context import ScoringContext
from harness.scoring.numeric import extract_answer, is_equivalent
from harness.suite import SUITES, Suite, normalise_prompt
from harness.tasks._edge_templates import SINGLES, TWINS, Case
from harness.types import Item, Score, Variant

NAMES = ["Ava", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Liam"]
OTHER_NAMES = ["Quill", "Rosalind", "Tavish", "Umeko", "Vasco", "Wren", "Xiomara", "Yusuf", "Zelda", "Oren"]
OBJECTS = [("apple", "apples"), ("marble", "marbles"), ("sticker", "stickers"), ("pencil", "pencils")]
OTHER_OBJECTS = [("acorn", "acorns"), ("button", "buttons"), ("seashell", "seashells"), ("stamp", "stamps")]
INSTRUCTION = (
    "Solve the problem. If it cannot be answered (information is missing, the statements contradict each other, "
    "it rests on a false premise, or it has no solution), say so and explain why instead of giving a number. "
    "If several answers are valid, list all of them as 'The answers are A, B, C'. "
    "Otherwise show your steps and finish with 'The answer is N'."
)
SPLIT_OFFSETS = {"test": 0, "dev": 1_000_000, "train": 2_000_000}
PERTURBATIONS = ("numbers", "names")
# One cycle of canonical instances: each flawed kind with its twin, then the answerable singles.
SCHEDULE = [("twin", k) for k in TWINS] + [("single", k) for k in SINGLES]
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _template(kind: str, index: int):
    pool = TWINS.get(kind) or SINGLES[kind]
    return pool[(index // len(SCHEDULE)) % len(pool)]


def _multi_answer_values(output: str) -> list[float]:
    text = output.split("</think>")[-1]
    statements = re.findall(r"answers?\s*(?:are|is|:)\s*([^\n]*)", text, re.I)
    tail = statements[-1] if statements else (text.strip().splitlines() or [""])[-1]
    return sorted({float(x) for x in _NUMBER.findall(tail)})


@SUITES.register("edge_cases")
class EdgeCasesSuite(Suite):
    """Unanswerable, contradictory, false-premise and multi-answer problems beside answerable twins."""

    capability = "edge_cases"
    version = "1"
    default_size = 60
    needs_judge = True
    description = (
        "Unanswerable, contradictory, false-premise and unsolvable problems with answerable twins, multi-answer "
        "problems and traps; abstention is scored, false abstention counts against the model."
    )

    def build(self) -> list[Item]:
        items: list[Item] = []
        seen: dict[str, str] = {}  # normalised prompt -> split
        for split, size in self.split_sizes().items():
            for index in range(size):
                # Small templates can repeat a story across splits: redraw until the prompts are new there.
                for attempt in range(50):
                    made = self._instance(split, index, attempt)
                    keys = {normalise_prompt(it.messages[0].content) for it in made}
                    if all(seen.get(k, split) == split for k in keys):
                        break
                seen.update({k: split for k in keys})
                items.extend(made)
        return items

    def _cases(self, kind: str, index: int, state: tuple, names, obj) -> list[Case]:
        made = _template(kind, index)(random.Random(repr(state)), names, obj)
        return list(made) if isinstance(made, tuple) else [made]

    def _instance(self, split: str, index: int, attempt: int = 0) -> list[Item]:
        shape, kind = SCHEDULE[index % len(SCHEDULE)]
        base = (self.seed, SPLIT_OFFSETS[split] + index) + ((attempt,) if attempt else ())
        rng = random.Random(repr(base))
        names = tuple(rng.sample(NAMES, 2))
        obj = rng.choice(OBJECTS)
        cid = f"edge_cases/{split}/{index:05d}"
        ids = [f"{cid}/answerable", f"{cid}/{kind}"] if shape == "twin" else [cid]
        versions = {"canonical": self._cases(kind, index, base + ("story",), names, obj)}
        if split == "test":
            versions["numbers"] = self._cases(kind, index, base + ("numbers",), names, obj)
            versions["names"] = self._cases(kind, index, base + ("story",), tuple(rng.sample(OTHER_NAMES, 2)),
                                            rng.choice(OTHER_OBJECTS))
        items = []
        canonical_texts = {case.text for case in versions["canonical"]}
        for version, cases in versions.items():
            if version != "canonical" and {case.text for case in cases} == canonical_texts:
                continue  # the template uses no names (or redrew the same numbers): nothing was perturbed
            for item_id, case in zip(ids, cases, strict=True):
                twin = [other for other in ids if other != item_id]
                variant = Variant() if version == "canonical" else Variant(kind=version, level=1, canonical_id=item_id)
                full_id = item_id if version == "canonical" else f"{item_id}/{version}"
                twin_id = None if not twin else twin[0] if version == "canonical" else f"{twin[0]}/{version}"
                items.append(self._item(full_id, split, case, variant, twin_id))
        return items

    def _item(self, item_id: str, split: str, case: Case, variant: Variant, twin_id: str | None) -> Item:
        return self.make_item(
            item_id, split, f"{INSTRUCTION}\n\n{case.text}", variant,
            answer={"kind": case.kind, "answerable": case.answerable, "value": case.value, "trap": case.trap},
            solution=case.explanation,
            reference_response=case.reference(),
            metadata={"kind": case.kind, "twin_id": twin_id},
        )

    def score(self, item: Item, output: str, context: ScoringContext | None = None) -> Score:
        judge = (context or ScoringContext()).abstention_judge()
        return self.score_judged(item, output, judge.judge_many([item.messages[-1].content], [output])[0])

    def score_judged(self, item: Item, output: str, abstention: Abstention) -> Score:
        """Score one output whose abstention verdict is already known."""
        expected = item.answer
        details = {"kind": expected["kind"], "should_abstain": not expected["answerable"],
                   "abstained": abstention.abstained, "matched": abstention.groups, "judge": abstention.judge}
        if not expected["answerable"]:
            correct = abstention.abstained
            reason = None if correct else f"should say the question cannot be answered ({expected['kind']})"
            value = extract_answer(output) if not correct else None
            return Score(answer={"abstained": abstention.abstained, "value": value},
                         correct=correct, reason=reason, details=details, parsed=correct or value is not None)
        if abstention.abstained:
            details["false_abstention"] = True
            return Score(answer={"abstained": True, "value": None}, correct=False,
                         reason=f"false abstention on an answerable {expected['kind']} item", details=details)
        if expected["kind"] == "multi_answer":
            got = _multi_answer_values(output)
            correct = got == sorted(float(v) for v in expected["value"])
            reason = None if correct else f"expected all of {expected['value']}, got {got}"
            return Score(answer={"abstained": False, "value": got}, correct=correct, reason=reason, details=details, parsed=bool(got))
        answer = extract_answer(output)
        correct = is_equivalent(answer, expected["value"])
        if expected["trap"] is not None:
            details["took_trap"] = is_equivalent(answer, expected["trap"])
        reason = None if correct else f"expected {expected['value']}, got {answer}" + (
            " (the trap answer)" if details.get("took_trap") else "")
        return Score(answer={"abstained": False, "value": answer}, correct=correct, reason=reason, details=details,
                     parsed=answer is not None)

    def score_many(self, items: Sequence[Item], outputs: Sequence[str], context: ScoringContext | None = None) -> list[Score]:
        """Score each output, then attach the batch's abstention rates and balanced score to every score."""
        # one judge call for the whole batch (a model judge grades every output of the chunk at once)
        judge = (context or ScoringContext()).abstention_judge()
        verdicts = judge.judge_many([it.messages[-1].content for it in items], list(outputs))
        scores = [self.score_judged(item, output, verdict) for item, output, verdict in zip(items, outputs, verdicts, strict=True)]
        rates = abstention_rates(
            Outcome(not it.answer["answerable"], bool(s.answer["abstained"]), s.correct) for it, s in zip(items, scores, strict=False)
        )
        for s in scores:
            s.details["batch_rates"] = rates
        return scores

    def vote_key(self, score: Score) -> str:
        # All abstentions are one answer whatever their wording.
        return "abstain" if score.answer and score.answer.get("abstained") else super().vote_key(score)
