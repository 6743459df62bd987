"""Truncated and unparsed outputs: recorded per sample, counted per capability, warned about, gated.

A generation that hit max_new_tokens (finish_reason "length") or an output the scorer could not
read at all ("unparsed") scores like a wrong answer; these tests check that harness says so.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from retention_data import Row, record

from harness.backends.anthropic_backend import anthropic_finish_reason
from harness.backends.base import load_backend
from harness.backends.hf import hf_finish_reason
from harness.backends.openai_backend import openai_finish_reason
from harness.cache import ResponseCache
from harness.diagnostics import health_by_capability, output_health
from harness.evaluate import EvalConfig, run_eval
from harness.records import make_record
from harness.gate import evaluate_gate
from harness.policy import parse_policy
from harness.results import ModelInfo, Results, SuiteInfo, load_results, summarise, write_results
from harness.retention import analyse
from harness.suite import get_suite
from harness.types import Generation, GenerationParams, Item, Message, SampleRecord, Score


def rec(i: int, capability: str = "math", *, finish: str | None = "stop", unparsed: bool = False, correct: bool = True,
        error: str | None = None, suite: str = "arithmetic") -> SampleRecord:
    base = record(Row(f"{suite}/test/{i:05d}", correct, capability=capability, suite=suite))
    return base.model_copy(update={"finish_reason": finish, "truncated": finish == "length", "unparsed": unparsed, "error": error})


def write_run(out: Path, spec: str, records: list[SampleRecord], max_new_tokens: int = 256) -> Path:
    suites = {}
    for name in sorted({r.suite for r in records}):
        ids = sorted(r.item_id for r in records if r.suite == name)
        suites[name] = SuiteInfo(name=name, capability=next(r.capability for r in records if r.suite == name), version="1",
                                 seed=0, size=100, split="test", hash=hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16],
                                 n_items=len(ids))
    results = Results(harness_version="test", created_at="2026-01-01T00:00:00+00:00",
                      model=ModelInfo(spec=spec, backend="test", fingerprint={}), suites=suites,
                      generation=GenerationParams(max_new_tokens=max_new_tokens), capabilities=summarise(records))
    write_results(out, results, records)
    return out


# --- finish_reason from every backend ------------------------------------------------------
def test_backend_finish_reasons_map_onto_stop_length_error():
    assert [anthropic_finish_reason(r) for r in ("end_turn", "stop_sequence", "max_tokens", "refusal", None)] == [
        "stop", "stop", "length", "stop", None]
    assert [openai_finish_reason(r) for r in ("stop", "length", "eos", None)] == ["stop", "length", "stop", None]
    assert Generation(text="", error="boom").finish_reason == "error"
    assert Generation(text="x").finish_reason is None  # unknown unless a backend says
    # hf: an end token anywhere means "stop"; the whole budget without one is "length"; a padded
    # row of a batch (shorter than the budget, no end token) stopped on something else.
    stops = {2}
    assert hf_finish_reason([5, 6, 7], stops, 3) == "length"
    assert hf_finish_reason([5, 6, 2], stops, 3) == "stop"
    assert hf_finish_reason([5, 2, 0, 0], stops, 4) == "stop"
    assert hf_finish_reason([5, 6], stops, 4) == "stop"


def test_reference_backend_says_stop():
    _, records = run_eval(EvalConfig(model="reference", suites=["arithmetic"], limit=3, progress=False))
    assert all(r.finish_reason == "stop" and not r.truncated and not r.unparsed for r in records)


def test_hf_backend_length_on_a_tiny_budget_and_stop_when_eos_wins(tiny_model_dir):
    import torch

    items = get_suite("arithmetic").items("test", limit=3)
    backend = load_backend(f"hf:{tiny_model_dir}", batch_size=2)
    short = backend.generate(items, GenerationParams(max_new_tokens=3), progress=False)
    assert [g[0].finish_reason for g in short] == ["length"] * 3
    assert all(g[0].completion_tokens == 3 for g in short)

    # Make the end token win every step: a new output layer that only favours EOS.
    model, tokenizer = backend._load()
    head = torch.nn.Linear(model.config.hidden_size, model.config.vocab_size, bias=True, dtype=model.dtype)  # bfloat16 on a CPU that has it
    with torch.no_grad():
        head.weight.zero_()
        head.bias.zero_()
        head.bias[tokenizer.eos_token_id] = 10.0
    model.lm_head = head
    generous = backend.generate(items, GenerationParams(max_new_tokens=64), progress=False)
    assert [g[0].finish_reason for g in generous] == ["stop"] * 3
    backend.close()


def test_cache_stores_finish_reason_and_reads_old_rows_as_unknown(tmp_path):
    path = tmp_path / "c.sqlite"
    with ResponseCache(path) as cache:
        cache.put_many([("a", Generation(text="x", finish_reason="length")), ("b", Generation(text="y", finish_reason="stop"))])
        # A row written before finish_reason existed.
        cache._conn.execute("INSERT INTO responses VALUES (?, ?, 0)", ("old", json.dumps({"text": "z", "logprob": None})))
    with ResponseCache(path) as cache:
        got = cache.get_many(["a", "b", "old"])
    assert (got["a"].finish_reason, got["b"].finish_reason, got["old"].finish_reason) == ("length", "stop", None)


def test_make_record_fills_finish_reason_truncated_unparsed_and_sample_rows():
    item = Item(id="q", suite="arithmetic", capability="math", messages=[Message(role="user", content="2+2?")], answer=4)
    gens = [Generation(text="The answer is", finish_reason="length"), Generation(text="The answer is 4.", finish_reason="stop")]
    scores = [Score(answer=None, correct=False, parsed=False), Score(answer="4", correct=True)]
    r = make_record(item, gens, scores)  # the first sample is the chosen one without a vote
    assert (r.finish_reason, r.truncated, r.unparsed) == ("length", True, True)
    assert [(s["finish_reason"], s["unparsed"]) for s in r.samples] == [("length", True), ("stop", False)]
    failed = make_record(item, [Generation(text="", error="timeout")], [Score(answer=None, correct=False)])
    assert (failed.finish_reason, failed.truncated, failed.unparsed) == ("error", False, False)


# --- counts and rates ------------------------------------------------------------------------
def test_summarise_counts_truncated_and_unparsed_per_capability():
    records = (
        [rec(i, finish="length", correct=False) for i in range(3)]
        + [rec(i, unparsed=True, correct=False) for i in range(3, 5)]
        + [rec(i) for i in range(5, 20)]
        + [rec(99, finish="error", error="timeout", correct=False)]  # failed requests are not counted
        + [rec(i, "logic", suite="logic", finish=None) for i in range(4)]  # finish_reason unknown
        + [rec(i, "logic", suite="logic", finish="length", unparsed=True, correct=False) for i in range(4, 8)]
    )
    caps = summarise(records)
    math, logic = caps["math"], caps["logic"]
    assert (math.n, math.truncated, math.unparsed, math.finish_unknown) == (20, 3, 2, 0)
    assert math.truncation_rate == pytest.approx(0.15) and math.unparsed_rate == pytest.approx(0.10)
    assert (logic.n, logic.truncated, logic.finish_unknown) == (8, 4, 4)
    assert logic.truncation_rate == pytest.approx(1.0)  # over the 4 records whose finish_reason is known
    assert logic.unparsed_rate == pytest.approx(0.5)
    assert health_by_capability(records)["logic"].worst_truncation_rate == pytest.approx(1.0)
    assert summarise([rec(0, finish=None)])["math"].truncation_rate is None


def test_warning_fires_above_five_percent_and_not_at_or_below():
    at_five = [rec(i, finish="length") for i in range(1)] + [rec(i) for i in range(1, 20)]  # 1/20 = 5 %
    above = [rec(i, finish="length") for i in range(2)] + [rec(i) for i in range(2, 20)]  # 2/20 = 10 %
    assert output_health(at_five, 256) == []
    (warning,) = output_health(above, 256, "student")
    assert "student: math" in warning and "2 of 20" in warning and "10.0%" in warning
    assert "--max-new-tokens (now 256; try 512)" in warning
    unparsed = [rec(i, unparsed=True) for i in range(3)] + [rec(i) for i in range(3, 20)]
    (warning,) = output_health(unparsed, 256)
    assert "unparsed" in warning and "3 of 20" in warning
    assert output_health([rec(i, finish=None) for i in range(10)], 256) == []  # unknown: nothing to say


def test_truncation_warning_says_when_outputs_end_in_a_loop():
    loop = "First, 6 * 2 = 12.\n" + "The answer is 120.\n" * 20
    cut = "Step 1: count the pencils Noah has. Step 2: multiply by the packs he buys, so the total is"
    looping = [rec(i, finish="length").model_copy(update={"output": loop}) for i in range(2)]
    plain = [rec(i, finish="length").model_copy(update={"output": cut}) for i in range(2, 4)]
    (warning,) = output_health(looping + plain + [rec(i) for i in range(4, 20)], 64)
    assert "4 of 20" in warning and "2 of them end repeating themselves" in warning
    (warning,) = output_health(plain + [rec(i) for i in range(4, 20)], 64)
    assert "repeating" not in warning


def test_eval_command_warns_on_stderr_when_the_budget_cuts_outputs(cli, tiny_model_dir, tmp_path):
    proc = cli("eval", "--model", f"hf:{tiny_model_dir}", "--suite", "arithmetic", "--limit", "3", "--max-new-tokens", "2",
               "--no-cache", "--no-progress", "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    assert "math: 3 of 3 outputs (100.0%) hit the token limit" in proc.stderr
    assert "--max-new-tokens (now 2; try 4)" in proc.stderr and "warning" not in proc.stdout
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["schema_version"] == 2
    assert results["capabilities"]["math"]["truncated"] == 3 and results["capabilities"]["math"]["truncation_rate"] == 1.0
    sample = json.loads((tmp_path / "out" / "samples.jsonl").read_text().splitlines()[0])
    assert sample["finish_reason"] == "length" and sample["truncated"] is True


def test_retention_command_warns_for_teacher_and_student(cli, tmp_path):
    teacher = write_run(tmp_path / "t", "teacher", [rec(i, finish="length" if i < 4 else "stop") for i in range(20)], 128)
    student = write_run(tmp_path / "s", "student", [rec(i, unparsed=i < 2, correct=i >= 2) for i in range(20)], 128)
    proc = cli("retention", "--teacher", str(teacher), "--student", str(student))
    assert proc.returncode == 0, proc.stderr
    assert "teacher: math: 4 of 20 outputs (20.0%) hit the token limit" in proc.stderr
    assert "--max-new-tokens (now 128; try 256)" in proc.stderr
    assert "student: math: 2 of 20 outputs (10.0%) hold no answer" in proc.stderr
    assert "student: math: 0 of" not in proc.stderr and proc.stderr.count("warning:") == 2


# --- the gate --------------------------------------------------------------------------------
def _gate(tmp_path, teacher_records, student_records, policy):
    t = load_results(write_run(tmp_path / "t", "teacher", teacher_records))
    s = load_results(write_run(tmp_path / "s", "student", student_records))
    return evaluate_gate(parse_policy(policy), analyse(*t, *s))


def test_gate_fails_above_the_truncation_limit_for_student_and_teacher(tmp_path):
    teacher = [rec(i) for i in range(20)]
    student = [rec(i, finish="length" if i < 3 else "stop") for i in range(20)]  # 15 %
    verdict = _gate(tmp_path, teacher, student, {"max_truncation_rate": {"default": 0.1}})
    assert not verdict.passed
    (fail,) = verdict.failures
    assert fail.name == "max_truncation_rate[math/student]" and fail.measured == pytest.approx(0.15)
    assert "3 of 20 student outputs" in fail.message
    assert _gate(tmp_path, teacher, student, {"max_truncation_rate": {"math": 0.2}}).passed

    bad_teacher = [rec(i, finish="length" if i < 5 else "stop") for i in range(20)]
    verdict = _gate(tmp_path, bad_teacher, [rec(i) for i in range(20)], {"max_truncation_rate": {"default": 0.1}})
    assert [f.name for f in verdict.failures] == ["max_truncation_rate[math/teacher]"]


def test_gate_unparsed_limit_judges_the_student(tmp_path):
    student = [rec(i, unparsed=i < 4, correct=i >= 4) for i in range(20)]  # 20 %
    verdict = _gate(tmp_path, [rec(i) for i in range(20)], student, {"max_unparsed_rate": {"default": 0.1}})
    (fail,) = verdict.failures
    assert fail.name == "max_unparsed_rate[math/student]" and fail.measured == pytest.approx(0.2)
    assert _gate(tmp_path, [rec(i) for i in range(20)], student, {"max_unparsed_rate": {"default": 0.25}}).passed


def test_gate_fails_closed_when_finish_reason_is_unknown(tmp_path):
    teacher = [rec(i) for i in range(20)]
    unknown = [rec(i, finish=None) for i in range(20)]
    verdict = _gate(tmp_path, teacher, unknown, {"max_truncation_rate": {"default": 0.5}})
    (fail,) = verdict.failures
    assert fail.measured is None and "finish_reason unknown for all 20 student outputs" in fail.message
    assert "--refresh" in fail.message and "fails closed" in fail.message
    # Partly unknown: unknown counts as truncated (the worst case).
    partly = [rec(i, finish=None if i < 2 else "stop") for i in range(20)]
    assert not _gate(tmp_path, teacher, partly, {"max_truncation_rate": {"default": 0.05}}).passed
    ok = _gate(tmp_path, teacher, partly, {"max_truncation_rate": {"default": 0.1}})
    assert ok.passed and "2 unknown counted as such" in ok.results[-1].message
    # No limit set: unknown finish reasons change nothing.
    assert _gate(tmp_path, teacher, unknown, {"retention_floors": {"default": 0.5}, "retention_statistic": "point"}).passed


def test_policy_validates_the_new_limits():
    from harness.errors import HarnessError

    assert parse_policy({"max_truncation_rate": {"default": 0.05}}).max_truncation_rate == {"default": 0.05}
    with pytest.raises(HarnessError, match="outside 0..1"):
        parse_policy({"max_unparsed_rate": {"math": 5}})
    with pytest.raises(HarnessError, match="unknown capability 'maths'"):
        parse_policy({"max_truncation_rate": {"maths": 0.1}})


# --- schema-1 files ----------------------------------------------------------------------------
def _as_schema_1(out: Path) -> None:
    """Strip what schema 2 added, as a results folder written by an older harness looks."""
    results = json.loads((out / "results.json").read_text())
    results["schema_version"] = 1
    for cap in results["capabilities"].values():
        for key in ("truncated", "unparsed", "truncation_rate", "unparsed_rate", "finish_unknown"):
            cap.pop(key)
    (out / "results.json").write_text(json.dumps(results))
    lines = []
    for line in (out / "samples.jsonl").read_text().splitlines():
        row = json.loads(line)
        for key in ("finish_reason", "truncated", "unparsed"):
            row.pop(key)
        lines.append(json.dumps(row))
    (out / "samples.jsonl").write_text("\n".join(lines) + "\n")


def test_schema_1_results_still_load_and_their_rates_are_unknown(tmp_path):
    out = write_run(tmp_path / "old", "old", [rec(i) for i in range(20)])
    _as_schema_1(out)
    results, records = load_results(out)
    assert results.schema_version == 1 and results.capabilities["math"].truncation_rate is None
    assert all(r.finish_reason is None and not r.truncated and "unparsed" not in r.model_fields_set for r in records)
    assert summarise(records)["math"].unparsed_rate is None
    import jsonschema

    v1 = json.loads((Path(__file__).resolve().parent.parent / "harness" / "schema" / "results.v1.schema.json").read_text())
    jsonschema.validate(json.loads((out / "results.json").read_text()), v1["results"])
    teacher = load_results(write_run(tmp_path / "t", "teacher", [rec(i) for i in range(20)]))
    verdict = evaluate_gate(parse_policy({"max_unparsed_rate": {"default": 0.5}}), analyse(*teacher, results, records))
    (fail,) = verdict.failures
    assert fail.measured is None and "unparsed unknown for all 20 student outputs" in fail.message


# --- scorers: "no answer found" vs a wrong answer ----------------------------------------------
def test_scorers_tell_no_answer_from_a_wrong_answer():
    arithmetic = get_suite("arithmetic")
    item = arithmetic.items("test", limit=1)[0]
    assert not arithmetic.score(item, "I am not sure how to do this.").parsed
    wrong = arithmetic.score(item, f"The answer is {item.answer + 1}.")
    assert wrong.parsed and not wrong.correct

    knowledge = get_suite("knowledge")
    k_item = knowledge.items("test", limit=1)[0]
    assert not knowledge.score(k_item, "").parsed and knowledge.score(k_item, "Answer: Paris").parsed

    edge = get_suite("edge_cases")
    for e_item in edge.items("test", limit=12):
        assert not edge.score(e_item, "Hmm, let me see.").parsed  # neither an abstention nor an answer
        assert edge.score(e_item, "This cannot be answered: the question does not give enough information.").parsed

    logic = get_suite("logic")
    l_item = logic.items("test", limit=1)[0]
    assert not logic.score(l_item, "Let me think.").parsed

    fmt = get_suite("format")
    assert fmt.score(fmt.items("test", limit=1)[0], "").parsed  # format never "unparsed"


def test_code_scorer_marks_missing_code_unparsed():
    code = get_suite("code")
    item = code.items("test", limit=1)[0]
    (score,) = code.score_many([item], ["I would use a loop."])
    assert not score.parsed and not score.correct


# --- ordering answers as lists ------------------------------------------------------------------
def _ordering_items():
    logic = get_suite("logic")
    found = [it for it in logic.items("test") if it.metadata["answer_type"] == "ordering"]
    assert found
    return logic, found


@pytest.mark.parametrize("style", ["{n}. {name}", "{n}) {name}", "- {name}", "* {name}", "**{n}.** {name}"])
def test_ordering_answers_given_as_a_numbered_or_bullet_list(style):
    logic, found = _ordering_items()
    for item in found[:5]:
        right = item.answer
        wrong = right[1:] + right[:1]
        as_list = lambda names: "\n".join(style.format(n=i + 1, name=x) for i, x in enumerate(names))  # noqa: E731
        for prefix in ("", "Working through the premises.\nThe answer is:\n", "From the chain:\n\n"):
            good = logic.score(item, prefix + as_list(right))
            assert good.correct and good.parsed and good.answer == right
            bad = logic.score(item, prefix + as_list(wrong))
            assert not bad.correct and bad.parsed and bad.answer == wrong


def test_ordering_list_items_with_explanations_and_a_later_comma_line():
    logic, found = _ordering_items()
    item = found[0]
    right = item.answer
    explained = "The answer is:\n" + "\n".join(f"{i + 1}. {x} (after {right[0]})" if i else f"{i + 1}. {x}"
                                                for i, x in enumerate(right))
    assert logic.score(item, explained).correct
    # Reasoning steps as a list that does not name everyone once, then the answer as a line.
    steps = "\n".join(f"{i + 1}. {a} is above {b}" for i, (a, b) in enumerate(zip(right, right[1:])))
    assert logic.score(item, steps + "\nSo the order is " + ", ".join(right) + ".").correct
    # An incomplete list is no answer.
    assert not logic.score(item, "\n".join(f"{i + 1}. {x}" for i, x in enumerate(right[:-1]))).parsed
