"""Abstention judges: agreement with the labelled corpus, plain-word abstentions, the
model-graded judge against a local anthropic_server Anthropic server (cached verdicts), judge identity
in results.json, and refusing to compare runs judged differently. The semantic judge's own tests
(embeddings, weights, GRADE parsing, unscored verdicts) are in test_abstention_semantic.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_anthropic import user_text

from harness.errors import HarnessError
from harness.evaluate import EvalConfig, run_eval
from harness.results import Results
from harness.scoring.abstention import detect_abstention, judge_abstentions
from harness.scoring.judges import LEGACY_JUDGE, check_same_judge, judge_identity

CORPUS = Path(__file__).parent / "data" / "abstention_corpus.jsonl"
ROWS = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


def agreement(rows, judge):
    verdicts = judge_abstentions([r["question"] for r in rows], [r["output"] for r in rows], judge)
    return sum(v.abstained == r["abstained"] for v, r in zip(verdicts, rows, strict=True)) / len(rows)


V1 = [r for r in ROWS if r.get("source", "v1") == "v1"]  # the rows the structured judge was written against


def test_corpus_is_real_and_balanced():
    assert len(ROWS) >= 900 and len(V1) == 330 and sum(r["part"] == "heldout" for r in ROWS) >= 200
    assert {r["voice"] for r in V1} == {"terse", "markdown", "think", "chatty"}
    assert {r["voice"] for r in ROWS} == {"terse", "markdown", "think", "chatty", "multi", "reference"}
    assert {"conditional_abstain", "conditional_commit", "mention_then_commit", "answered_plain"} <= {r["category"] for r in ROWS}
    assert 0.3 < sum(r["abstained"] for r in ROWS) / len(ROWS) < 0.7
    assert all(r["question"].startswith("Solve the problem.") for r in ROWS)


@pytest.mark.parametrize("part", ["tune", "heldout"])
def test_judges_agree_with_the_corpus(part):
    rows = [r for r in ROWS if r["part"] == part]
    assert agreement(rows, None) >= 0.97  # the default (semantic) judge, on every row
    assert agreement([r for r in V1 if r["part"] == part], "structured") >= 0.97
    assert agreement(rows, "structured") < 0.9  # the v2 paraphrases are what the cue list misses
    assert agreement(rows, "patterns") < 0.9  # the corpus is not one the old patterns already pass


@pytest.mark.parametrize(
    "text",
    [
        "The question doesn't make sense as asked.",
        "I'd need to know how many apples are in each bag.",
        "These statements conflict.",
        "No such pair exists.",
        "The total is unknown.",
    ],
)
def test_plain_word_abstentions(text):
    for judge in ("structured", "semantic"):
        assert detect_abstention(text, judge=judge).abstained
        assert detect_abstention(f"<think>The answer is 12.</think>\n**{text}**", judge=judge).abstained


@pytest.mark.parametrize(
    "text",
    [
        "At first I thought something was missing, but everything needed is there. 5 × 10 = 50; 31 + 50 = 81.\nThe answer is 81.",
        "I'm not completely sure, but I believe the answer is 14.",
        "There's no single answer: the answers are 2, 5.",
        "The width isn't given, so I'll assume 4 m. The answer is 96.",
        "<think>It cannot be determined... no wait, it can.</think>The answer is 7.",
        "## Solution\n\nThe numbers don't contradict each other after all.\n\n**Answer:** 40",
    ],
)
def test_committed_hedged_answers_are_not_abstentions(text):
    for judge in ("structured", "semantic"):
        assert not detect_abstention(text, judge=judge).abstained


@pytest.mark.parametrize("judge", ["structured", "semantic"])
def test_last_stance_wins(judge):
    assert detect_abstention("The answer is 35? No: the speed is never given, so it cannot be determined.", judge=judge).abstained
    assert detect_abstention("It cannot be determined. If each bag held 10, it would be 81.", judge=judge).abstained


# --- the model-graded judge against a local server ------------------------------------------


def grade_everything_as_abstained(body):
    assert "[Question]:" in user_text(body) and "[Response]:" in user_text(body)
    return "The response gives no number.\nGRADE: A"


def test_model_judge_end_to_end_with_cached_verdicts(anthropic_server, tmp_path):
    anthropic_server.responder = grade_everything_as_abstained
    config = EvalConfig(model="reference", suites=["edge_cases"], limit=6, progress=False,
                        cache_path=tmp_path / "cache.sqlite", judge="anthropic:claude-haiku-4-5")

    results, records = run_eval(config, tmp_path / "run1")
    graded = len(anthropic_server.messages_seen("GRADE: A"))
    assert graded == 6  # one grading request per output, all in one backend call
    assert results.judge == {"name": "model", "version": "1", "spec": "anthropic:claude-haiku-4-5"}
    # the anthropic_server grader calls every reference answer an abstention: answerable items become false abstentions
    answerable = [r for r in records if r.reference_answer["answerable"]]
    assert answerable and all(not r.correct and r.answer["abstained"] for r in answerable)
    on_disk = json.loads((tmp_path / "run1" / "results.json").read_text())
    assert on_disk["judge"]["spec"] == "anthropic:claude-haiku-4-5"

    results2, records2 = run_eval(config, tmp_path / "run2")
    assert len(anthropic_server.messages_seen("GRADE: A")) == graded  # every verdict came from the cache
    assert [r.correct for r in records2] == [r.correct for r in records]

    # without the model judge the same answers are all right (the semantic default)
    plain, plain_records = run_eval(EvalConfig(model="reference", suites=["edge_cases"], limit=6, progress=False))
    assert all(r.correct for r in plain_records) and plain.judge["name"] == "semantic"


def test_unreadable_verdicts_fall_back_to_the_default_judge(anthropic_server, tmp_path):
    anthropic_server.responder = lambda body: "I am not sure what to say."
    config = EvalConfig(model="reference", suites=["edge_cases"], limit=4, progress=False,
                        cache_path=tmp_path / "cache.sqlite", judge="anthropic:claude-haiku-4-5")
    _, records = run_eval(config)
    assert all(r.correct for r in records)


# --- identity in results and the same-judge check --------------------------------------------


def test_cli_eval_records_the_judge(cli, tmp_path):
    out = tmp_path / "run"
    proc = cli("eval", "--model", "reference", "--suite", "edge_cases", "--limit", "5", "--out", str(out), "--no-progress")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads((out / "results.json").read_text())["judge"] == judge_identity("semantic")
    proc = cli("eval", "--model", "reference", "--suite", "edge_cases", "--limit", "5", "--out", str(out / "p"),
               "--no-progress", "--judge", "patterns")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads((out / "p" / "results.json").read_text())["judge"] == {"name": "patterns", "version": "1", "spec": "patterns"}


def results_with(judge, suites=("edge_cases",)):
    run, _ = run_eval(EvalConfig(model="reference", suites=list(suites), limit=2, progress=False))
    return Results.model_validate({**run.model_dump(), "judge": judge})


def test_check_same_judge_refuses_mismatched_results():
    structured = results_with(judge_identity("structured"))
    check_same_judge(structured, results_with(judge_identity("structured")))
    with pytest.raises(HarnessError, match="judged differently.*patterns"):
        check_same_judge(structured, results_with(judge_identity("patterns")))
    with pytest.raises(HarnessError, match="judged differently"):
        check_same_judge(results_with(judge_identity("anthropic:claude-haiku-4-5")), structured)
    # results written before judges were recorded count as the original patterns
    old = results_with(None)
    check_same_judge(old, results_with(dict(LEGACY_JUDGE)))
    with pytest.raises(HarnessError):
        check_same_judge(old, structured)
    # no edge_cases on one side: nothing to compare
    check_same_judge(results_with(None, suites=("arithmetic",)), structured)
