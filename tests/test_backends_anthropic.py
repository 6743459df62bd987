"""The anthropic: backend through the real SDK against a local anthropic_server API with injected faults."""

from __future__ import annotations

import json

import pytest
from fake_anthropic import user_text

from harness.backends.anthropic_backend import AnthropicBackend, estimate_cost
from harness.evaluate import EvalConfig, run_eval
from harness.models.spec import parse_model_spec
from harness.suite import get_suite
from harness.types import GenerationParams, Item, Message

MODEL = "claude-sonnet-4-6"
N_ITEMS = 6


@pytest.fixture
def items():
    return get_suite("arithmetic").items("test", variants=["canonical"], limit=N_ITEMS)


def answer_even_items_right(items):
    """The anthropic_server model answers items 0, 2, 4 right and 1, 3, 5 wrong."""
    truth = {item.messages[-1].content: (i, item.answer) for i, item in enumerate(items)}

    def respond(body):
        i, answer = truth[user_text(body)]
        return f"Working it out.\nThe answer is {answer if i % 2 == 0 else answer + 1}."

    return respond


def backend(**options) -> AnthropicBackend:
    return AnthropicBackend(parse_model_spec(f"anthropic:{MODEL}"), **options)


def test_faults_are_retried_or_recorded_and_rerun_asks_only_for_failures(anthropic_server, items, tmp_path):
    anthropic_server.responder = answer_even_items_right(items)
    anthropic_server.retry_after = 1.0
    anthropic_server.slow_seconds = 2.5
    story = [item.messages[-1].content.split("\n\n")[-1] for item in items]
    anthropic_server.plan(story[0], ["429"])  # rate limited once, retry-after: 1
    anthropic_server.plan(story[1], ["529", "500"])  # overloaded, then a server error, then fine
    anthropic_server.plan(story[2], ["slow"])  # past the 1 s client timeout once
    anthropic_server.plan(story[3], ["malformed"])  # a 200 whose body is not JSON: not retried by the SDK
    anthropic_server.plan(story[4], ["500", "500", "500"])  # more 500s than max_retries=2 allows
    config = EvalConfig(
        suites=["arithmetic"], variants=["canonical"], limit=N_ITEMS, progress=False,
        cache_path=tmp_path / "cache.sqlite", generation=GenerationParams(max_new_tokens=64),
    )

    results, records = run_eval(config, tmp_path / "run1", backend=backend(timeout=1.0, max_retries=2, concurrency=6))

    by_id = {r.item_id: r for r in records}
    ids = [item.id for item in items]
    # Retried faults end in real answers, scored right or wrong by the suite.
    assert [by_id[i].correct for i in (ids[0], ids[1], ids[2], ids[5])] == [True, False, True, False]
    tries_0 = anthropic_server.messages_seen(story[0])
    assert len(tries_0) == 2 and tries_0[1].at - tries_0[0].at >= 0.9  # retry-after honoured
    assert len(anthropic_server.messages_seen(story[1])) == 3
    assert len(anthropic_server.messages_seen(story[2])) == 2  # the timed-out attempt, then the retry
    # Exhausted or unparseable requests are failures, not wrong answers.
    assert by_id[ids[3]].error and by_id[ids[4]].error and "500" in by_id[ids[4]].error
    assert len(anthropic_server.messages_seen(story[4])) == 3  # first try + 2 retries
    assert results.failures == 2
    assert results.capabilities["math"].n == 4 and results.capabilities["math"].score == 0.5
    assert results.usage["this_run"]["estimated_cost_usd"] > 0

    before = len(anthropic_server.messages_seen())
    results2, records2 = run_eval(config, tmp_path / "run2", backend=backend(timeout=1.0, max_retries=2))

    asked_again = anthropic_server.messages_seen()[before:]
    assert sorted(user_text(s.body) for s in asked_again) == sorted(items[i].messages[-1].content for i in (3, 4))
    assert results2.failures == 0 and results2.extra["cache"]["from_cache"] == 4
    assert [r.correct for r in records2] == [i % 2 == 0 for i in range(N_ITEMS)]


def test_thinking_is_captured_and_system_prompt_is_cached(anthropic_server):
    system = "You are a careful tutor. " * 40
    items = [
        Item(id=f"q{i}", suite="t", capability="math", messages=[Message(role="system", content=system), Message(role="user", content=f"What is {i}+1?")])
        for i in range(3)
    ]
    b = backend(thinking_budget=2048, concurrency=1)

    gens = b.generate(items, GenerationParams(max_new_tokens=100), progress=False)

    assert all(g[0].reasoning == anthropic_server.thinking_text and g[0].text == "The answer is 42." for g in gens)
    bodies = [s.body for s in anthropic_server.messages_seen()]
    assert all(b_["thinking"]["type"] == "enabled" and b_["thinking"]["budget_tokens"] == 2048 for b_ in bodies)
    assert all(b_["max_tokens"] == 2148 and "temperature" not in b_ for b_ in bodies)
    assert all(b_["system"][0]["cache_control"] == {"type": "ephemeral"} for b_ in bodies)
    usage = b.usage()
    assert usage["cache_creation_input_tokens"] > 0 and usage["cache_read_input_tokens"] == 2 * usage["cache_creation_input_tokens"]
    assert usage["estimated_cost_usd"] == estimate_cost(MODEL, usage, batch=False)


def test_stop_reason_max_tokens_is_recorded_as_truncated_in_both_apis(anthropic_server, items, tmp_path):
    anthropic_server.responder = answer_even_items_right(items)
    story = [item.messages[-1].content.split("\n\n")[-1] for item in items]
    anthropic_server.stop_reasons = {story[1]: "max_tokens", story[2]: "stop_sequence"}
    params = GenerationParams(max_new_tokens=64)

    gens = backend(concurrency=2).generate(items, params, progress=False)
    assert [g[0].finish_reason for g in gens] == ["stop", "length", "stop", "stop", "stop", "stop"]
    anthropic_server.polls_until_ended = 1
    batch = backend(batch=True, poll_interval=0.01, ledger_path=tmp_path / "b.json").generate(items, params)
    assert [g[0].finish_reason for g in batch] == ["stop", "length", "stop", "stop", "stop", "stop"]

    anthropic_server.plan(story[3], ["500", "500"])
    config = EvalConfig(suites=["arithmetic"], variants=["canonical"], limit=N_ITEMS, progress=False,
                        cache_path=tmp_path / "cache.sqlite", generation=params)
    results, records = run_eval(config, tmp_path / "run", backend=backend(max_retries=1))
    by_id = {r.item_id: r for r in records}
    assert by_id[items[1].id].truncated and by_id[items[1].id].finish_reason == "length"
    assert by_id[items[3].id].finish_reason == "error" and not by_id[items[3].id].truncated
    assert sum(r.truncated for r in records) == 1
    math = results.capabilities["math"]
    assert (math.truncated, math.n, math.truncation_rate) == (1, 5, 0.2)  # the failed request is not counted

    # The cache keeps finish_reason: a re-run answers from it with the same record.
    anthropic_server.stop_reasons = {}
    again, records2 = run_eval(config, tmp_path / "run2", backend=backend(max_retries=1))
    assert again.extra["cache"]["from_cache"] == 5
    assert {r.item_id: r.finish_reason for r in records2}[items[1].id] == "length"


def test_batch_mode_resumes_by_custom_id_and_tolerates_partial_results(anthropic_server, items, tmp_path):
    anthropic_server.responder = answer_even_items_right(items)
    story = [item.messages[-1].content.split("\n\n")[-1] for item in items]
    anthropic_server.batch_faults = {story[1]: "errored", story[2]: "expired", story[3]: "missing"}
    anthropic_server.polls_until_ended = 1000  # still processing when the first run gives up
    ledger = tmp_path / "batches.json"
    params = GenerationParams(max_new_tokens=64, samples=2, temperature=1.0)

    impatient = backend(batch=True, poll_interval=0.01, batch_wait=0.05, ledger_path=ledger)
    with pytest.raises(Exception, match="has not ended"):
        impatient.generate(items, params)
    assert len(anthropic_server.batches) == 1 and len(next(iter(anthropic_server.batches.values())).requests) == 2 * N_ITEMS

    anthropic_server.polls_until_ended = 1
    gens = backend(batch=True, poll_interval=0.01, ledger_path=ledger).generate(items, params)

    assert len(anthropic_server.batches) == 1  # resumed the submitted batch by custom_id, nothing resubmitted
    assert all(g.error is None and g.text.startswith("Working") for i in (0, 4, 5) for g in gens[i])
    assert "errored" in gens[1][0].error and "expired" in gens[2][0].error and "no result" in gens[3][0].error
    assert estimate_cost(MODEL, {"input_tokens": 1_000_000}, batch=True) == 1.5

    anthropic_server.batch_faults = {}
    again = backend(batch=True, poll_interval=0.01, ledger_path=ledger).generate(items, params)
    second = [b for b in anthropic_server.batches.values()][1]
    # Only the errored and expired requests were resubmitted; the missing ones go with them.
    assert sorted({user_text(r["params"]) for r in second.requests}) == sorted(items[i].messages[-1].content for i in (1, 2, 3))
    assert all(g.error is None for gs in again for g in gs)


def test_cli_eval_against_the_fake_api(anthropic_server, items, cli, tmp_path):
    anthropic_server.responder = answer_even_items_right(items)
    env = {"ANTHROPIC_BASE_URL": anthropic_server.url, "ANTHROPIC_API_KEY": "sk-test", "HARNESS_CACHE": str(tmp_path / "cache")}
    proc = cli("eval", "--model", f"anthropic:{MODEL}", "--suite", "arithmetic", "--variant", "canonical",
               "--limit", "4", "--samples", "3", "--vote", "majority", "--out", str(tmp_path / "out"), "--no-progress", env=env)
    assert proc.returncode == 0, proc.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["capabilities"]["math"]["score"] == 0.5
    assert results["sampling"]["math"] == {"k": 3, "n": 4, "pass_at_1": 0.5, "maj_at_k": 0.5, "pass_at_k": 0.5, "method": "majority"}
    assert results["usage"]["this_run"]["requests"] == 12
    assert len(anthropic_server.messages_seen()) == 12


def test_cli_batch_mode_scores_and_records_partial_failures(anthropic_server, items, cli, tmp_path):
    anthropic_server.responder = answer_even_items_right(items)
    anthropic_server.polls_until_ended = 1
    anthropic_server.batch_faults = {items[3].messages[-1].content.split("\n\n")[-1]: "errored"}
    env = {"ANTHROPIC_BASE_URL": anthropic_server.url, "ANTHROPIC_API_KEY": "sk-test", "HARNESS_CACHE": str(tmp_path / "hc")}
    args = ("eval", "--model", f"anthropic:{MODEL}", "--suite", "arithmetic", "--variant", "canonical", "--limit", "4",
            "--batch", "--cache-dir", str(tmp_path / "cache"), "--no-progress")
    proc = cli(*args, "--out", str(tmp_path / "a"), env=env)
    assert proc.returncode == 0, proc.stderr
    results = json.loads((tmp_path / "a" / "results.json").read_text())
    math = results["capabilities"]["math"]
    assert results["failures"] == 1 and (math["score"], math["n"]) == (2 / 3, 3)
    assert math["variants"] == {"canonical": {"score": 2 / 3, "n": 3}} and (math["truncated"], math["truncation_rate"]) == (0, 0.0)
    assert results["usage"]["this_run"]["batch"] is True and len(anthropic_server.batches) == 1
    assert (tmp_path / "cache" / "anthropic-batches.json").is_file()

    anthropic_server.batch_faults = {}
    proc = cli(*args, "--out", str(tmp_path / "b"), env=env)
    assert proc.returncode == 0, proc.stderr
    results = json.loads((tmp_path / "b" / "results.json").read_text())
    assert results["failures"] == 0 and results["capabilities"]["math"]["score"] == 0.5
    assert len(anthropic_server.batches) == 2 and len(list(anthropic_server.batches.values())[1].requests) == 1  # only the failed request
