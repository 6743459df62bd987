"""The edge_cases suite: twins, abstention detection, rates, and a refuser that does not win."""

from __future__ import annotations

import json

import pytest

from harness.records import score_generations
from harness.scoring.abstention import detect_abstention, rates_from_records
from harness.scoring.judges import ABSTENTION_JUDGES, DEFAULT_JUDGE, build_judge
from harness.suite import get_suite
from harness.types import Generation

REFUSAL = "I cannot answer this: there is not enough information to determine it."


@pytest.fixture(scope="module")
def suite():
    return get_suite("edge_cases", size=24)


def records_for(suite, items, outputs):
    return score_generations(suite, items, [[Generation(text=o)] for o in outputs])


def wrong_number(item) -> str:
    return "Let me compute step by step.\nThe answer is 123457."


def test_every_flawed_item_has_an_answerable_twin(suite):
    items = suite.all_items
    by_id = {it.id: it for it in items}
    kinds = {it.answer["kind"] for it in items}
    assert {"missing_quantity", "missing_premise", "contradictory", "false_premise", "no_solution", "multi_answer", "trap", "answerable"} <= kinds
    flawed = [it for it in items if not it.answer["answerable"]]
    assert flawed
    for item in flawed:
        twin = by_id[item.metadata["twin_id"]]
        assert twin.answer["answerable"] and twin.split == item.split and twin.variant.kind == item.variant.kind
        assert twin.messages[0].content != item.messages[0].content
    # a missing-quantity twin is the answerable story with one quantity removed
    missing = next(it for it in flawed if it.answer["kind"] == "missing_quantity")
    full = by_id[missing.metadata["twin_id"]].messages[0].content
    assert len(missing.messages[0].content) < len(full)
    assert set(missing.messages[0].content.split()) <= set(full.split())


@pytest.mark.parametrize(
    "text",
    [
        "We can’t determine this, because the bag size isn’t given.",
        "There isn't enough information to answer.",
        "The problem doesn't specify the speed of the train, so it cannot be calculated.",
        "These two statements contradict each other.",
        "The data is inconsistent: 7 + 9 is not 14.",
        "There is no such whole number, since 40 is not a perfect square.",
        "No solution exists: the sum of two consecutive numbers is always odd.",
        "This question rests on a false premise: she has no green marbles.",
        "<think>The answer is 5? no.</think>It is impossible to know without the width.",
    ],
)
def test_abstention_phrases_are_detected(text):
    assert detect_abstention(text).abstained


@pytest.mark.parametrize(
    "text",
    [
        "The answer is 12.",
        "Each friend gets 4 apples with no remainder. The answer is 4.",
        "At first I thought it could not be determined, but the width is 5, so the area is 25. The answer is 25.",
        "Ball = 5 cents. Final answer: 5",
        "",
    ],
)
def test_committed_answers_are_not_abstentions(text):
    assert not detect_abstention(text).abstained


def test_pluggable_judge_overrides_patterns():
    calls = []

    def strict_judge(question: str, output: str):
        calls.append(question)
        return "UNANSWERABLE" in output

    with ABSTENTION_JUDGES.temporarily("test-strict", strict_judge):  # not left in the registry for later tests
        judge = build_judge("test-strict")
        assert not detect_abstention("There isn't enough information.", "q?", judge).abstained
        verdict = detect_abstention("UNANSWERABLE", "q?", judge)
        assert detect_abstention("There isn't enough information.", "q?", "test-strict").judge == "test-strict"  # by name
    assert verdict.abstained and verdict.judge == "test-strict" and calls == ["q?", "q?", "q?"]
    assert "test-strict" not in ABSTENTION_JUDGES
    assert detect_abstention("There isn't enough information.").judge == DEFAULT_JUDGE  # no judge given: the default


def test_reference_is_perfect_and_rates_are_reported(suite):
    items = suite.items("test")
    records = records_for(suite, items, [it.reference_response for it in items])
    assert all(r.correct for r in records)
    rates = rates_from_records(records)
    assert rates["abstention_rate"] == 1.0 and rates["false_abstention_rate"] == 0.0 and rates["balanced"] == 1.0
    scores = suite.score_many(items, [it.reference_response for it in items])
    assert scores[0].details["batch_rates"]["balanced"] == 1.0


def test_always_refusing_model_does_not_win(suite):
    items = suite.items("test")
    refuser = records_for(suite, items, [REFUSAL] * len(items))
    refuser_rates = rates_from_records(refuser)
    assert refuser_rates["abstention_rate"] == 1.0
    assert refuser_rates["false_abstention_rate"] == 1.0
    assert refuser_rates["balanced"] == 0.0
    assert sum(r.correct for r in refuser) / len(refuser) < 0.5  # most items are answerable

    # a never-abstaining model that is right on every answerable item also scores 0 balanced
    answerer = records_for(suite, items, [it.reference_response if it.answer["answerable"] else wrong_number(it) for it in items])
    assert rates_from_records(answerer)["balanced"] == 0.0

    # a model that answers well and abstains on half of the flawed items beats the refuser on every summary
    flawed_seen = []

    def half(it):
        if it.answer["answerable"]:
            return it.reference_response
        flawed_seen.append(it.id)
        return it.reference_response if len(flawed_seen) % 2 else wrong_number(it)

    mixed = records_for(suite, items, [half(it) for it in items])
    mixed_rates = rates_from_records(mixed)
    assert 0.4 < mixed_rates["abstention_rate"] < 0.6 and mixed_rates["false_abstention_rate"] == 0.0
    assert mixed_rates["balanced"] > refuser_rates["balanced"]
    assert sum(r.correct for r in mixed) > sum(r.correct for r in refuser)


def test_traps_and_multi_answers(suite):
    items = suite.items("test", variants=["canonical"])
    trap = next(it for it in items if it.answer["kind"] == "trap")
    fell = suite.score(trap, f"That is easy. The answer is {trap.answer['trap']}.")
    assert not fell.correct and fell.details["took_trap"] and "trap" in fell.reason
    assert suite.score(trap, trap.reference_response).correct

    multi = next(it for it in items if it.answer["kind"] == "multi_answer")
    values = multi.answer["value"]
    assert len(values) >= 2
    assert suite.score(multi, f"The answers are {', '.join(map(str, reversed(values)))}.").correct
    assert not suite.score(multi, f"The answer is {values[0]}.").correct
    assert not suite.score(multi, f"The answers are {', '.join(map(str, values + [values[-1] + 1000]))}.").correct
    refused = suite.score(multi, REFUSAL)
    assert not refused.correct and "false abstention" in refused.reason


def test_answerable_twin_needs_the_number_and_flawed_twin_needs_the_flag(suite):
    items = suite.items("test", variants=["canonical"])
    flawed = next(it for it in items if it.answer["kind"] == "contradictory")
    twin = next(it for it in items if it.id == flawed.metadata["twin_id"])
    assert not suite.score(flawed, twin.reference_response).correct  # confidently answering a flawed twin
    assert suite.score(flawed, "Those statements contradict each other, so it cannot be answered.").correct
    assert suite.score(twin, f"The answer is {twin.answer['value']}.").correct
    assert not suite.score(twin, "Those statements contradict each other.").correct
    assert json.dumps(suite.score(twin, "x").answer)  # the recorded answer is JSON


@pytest.mark.slow
def test_eval_code_and_edge_cases_on_the_embedded_model(cli, tmp_path, embedded_model_dir):
    out = tmp_path / "run"
    proc = cli("eval", "--suite", "code", "--suite", "edge_cases", "--limit", "6", "--max-new-tokens", "96",
               "--out", str(out), "--no-progress", "--no-cache")
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    assert set(results["suites"]) == {"code", "edge_cases"}
    records = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(records) == 12
    code = [r for r in records if r["suite"] == "code"]
    assert all(r["correct"] or r["reason"] for r in code)
    edge = [r for r in records if r["suite"] == "edge_cases"]
    assert all(isinstance(r["answer"], dict) and "abstained" in r["answer"] for r in edge)
    rates = rates_from_records(edge)
    assert rates["n_answerable"] + rates["n_should_abstain"] == 6
