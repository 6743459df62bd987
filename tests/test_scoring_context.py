"""The run's abstention judge travels explicitly (issue 22 finding 1): run_eval builds it only when a selected
suite declares needs_judge, hands it to scoring in a ScoringContext, and two runs in one process never see each
other's judge; scoring reads no environment; a plug-in suite written before the context existed still scores."""

from __future__ import annotations

import pytest

from harness.evaluate import EvalConfig, run_eval
from harness.records import score_generations
from harness.scoring import judges
from harness.scoring.context import ScoringContext
from harness.scoring.judges import ABSTENTION_JUDGES, build_judge, judge_identity
from harness.suite import SUITES, get_suite
from harness.types import Generation, Item, Score

from plugin_package.harness_echo_plugin.suite import ParitySuite


def always_abstains(question: str, output: str) -> bool:
    return True


always_abstains.version = "7"  # type: ignore[attr-defined]


@pytest.fixture
def always_judge():
    with ABSTENTION_JUDGES.temporarily("test-always", always_abstains):
        yield "test-always"


def edge_config(**kw) -> EvalConfig:
    return EvalConfig(model="reference", suites=["edge_cases"], variants=["canonical"], limit=6, progress=False, use_cache=False,
                      **kw)


def test_two_runs_in_one_process_keep_their_own_judge(always_judge, monkeypatch):
    monkeypatch.delenv("HARNESS_ABSTENTION_JUDGE", raising=False)
    strict, strict_records = run_eval(edge_config(judge=always_judge))
    plain, plain_records = run_eval(edge_config())
    again, again_records = run_eval(edge_config(judge=always_judge))
    assert strict.judge == again.judge == judge_identity(always_judge) and strict.judge["version"] == "7"
    assert plain.judge == judge_identity("semantic")
    answerable = [r.reference_answer["answerable"] for r in plain_records]
    assert any(answerable) and not all(answerable)
    assert all(r.correct for r in plain_records)  # the first run's judge did not leak into the second
    # the always-abstaining judge calls every answerable reference answer a false abstention, in both of its runs
    for records in (strict_records, again_records):
        assert [r.correct for r in records] == [not a for a in answerable]


def test_interleaved_contexts_score_with_their_own_judge(always_judge):
    suite = get_suite("edge_cases")
    items = suite.items("test", variants=["canonical"], limit=6)
    gens = [[Generation(text=it.reference_response)] for it in items]
    strict, plain = ScoringContext(judge=build_judge(always_judge)), ScoringContext(judge=build_judge("structured"))
    first = score_generations(suite, items, gens, context=strict)
    second = score_generations(suite, items, gens, context=plain)
    third = score_generations(suite, items, gens, context=strict)
    assert all(r.correct for r in second)
    assert [r.correct for r in first] == [r.correct for r in third] == [not it.answer["answerable"] for it in items]
    assert strict.judge.graded == 12 and plain.judge.graded == 6
    # a suite scored without a context uses the default judge
    assert suite.score(items[0], items[0].reference_response).details["judge"] == judges.DEFAULT_JUDGE


def test_scoring_reads_no_environment(always_judge, monkeypatch):
    """The environment variable is the eval config's default, read when a config is made; scoring never reads it."""
    monkeypatch.setenv("HARNESS_ABSTENTION_JUDGE", always_judge)
    assert edge_config().judge == always_judge  # train and loop build EvalConfigs without --judge: they get it too
    from_env, _ = run_eval(edge_config())
    assert from_env.judge == judge_identity(always_judge)
    suite = get_suite("edge_cases")
    item = next(it for it in suite.items("test") if it.answer["answerable"])
    assert suite.score(item, item.reference_response).correct  # no context: the default judge, whatever the env says
    assert suite.score(item, item.reference_response, ScoringContext(judge=build_judge(always_judge))).details["judge"] == always_judge


def test_judge_is_built_only_when_a_selected_suite_needs_one(monkeypatch):
    built = []
    real = judges.build_judge

    def counting(*args, **kwargs):
        built.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(judges, "build_judge", counting)
    results, _ = run_eval(EvalConfig(model="reference", suites=["arithmetic"], limit=4, progress=False, use_cache=False,
                                     judge="anthropic:never-loaded"))
    assert built == [] and results.judge is None
    results, _ = run_eval(EvalConfig(model="reference", suites=["arithmetic", "edge_cases"], limit=4, progress=False,
                                     use_cache=False, judge="structured"))
    assert built == [("structured",)] and results.judge == judge_identity("structured")


class _Parity(ParitySuite):
    """The plug-in package's minimal suite (is N even or odd), at 6 items, read in process."""

    default_size = 6

    def read(self, item: Item, output: str) -> Score:
        answer = output.rsplit(" ", 1)[-1].rstrip(".")
        return Score(answer=answer, correct=answer == item.answer)


class LegacyScore(_Parity):
    """Written before the scoring context: score(item, output)."""

    def score(self, item, output):  # type: ignore[override]
        return self.read(item, output)


class LegacyScoreMany(_Parity):
    """Written before the scoring context: its own score_many(items, outputs)."""

    def score(self, item, output):  # type: ignore[override]
        return self.read(item, output)

    def score_many(self, items, outputs):  # type: ignore[override]
        return [self.read(item, output) for item, output in zip(items, outputs, strict=True)]


class JudgedParity(_Parity):
    """A plug-in suite that decides abstentions too: it declares needs_judge and reads the run's judge."""

    needs_judge = True
    seen: list[str] = []

    def score(self, item, output, context=None):
        judge = (context or ScoringContext()).abstention_judge()
        JudgedParity.seen.append(judge.spec)
        return self.read(item, output)


@pytest.mark.parametrize("cls", [LegacyScore, LegacyScoreMany])
def test_plugin_suite_without_the_context_parameter_still_scores(cls, always_judge):
    with SUITES.temporarily("test-legacy-parity", cls):
        results, records = run_eval(EvalConfig(model="reference", suites=["test-legacy-parity"], progress=False,
                                               use_cache=False, judge=always_judge))
        suite = get_suite("test-legacy-parity")
        items = suite.items("test")
        direct = score_generations(suite, items, [[Generation(text="The answer is odd.")] for _ in items],
                                   context=ScoringContext(judge=build_judge(always_judge)))
    assert len(records) == 6 and all(r.correct for r in records)
    assert results.judge is None  # it declares no need for a judge
    assert [r.correct for r in direct] == [it.answer == "odd" for it in items]


def test_a_plugin_suite_that_needs_a_judge_gets_the_runs(always_judge):
    JudgedParity.seen.clear()
    with SUITES.temporarily("test-judged-parity", JudgedParity):
        results, records = run_eval(EvalConfig(model="reference", suites=["test-judged-parity"], progress=False,
                                               use_cache=False, judge=always_judge))
    assert all(r.correct for r in records)
    assert results.judge == judge_identity(always_judge)  # recorded for any suite that needs a judge, not only edge_cases
    assert set(JudgedParity.seen) == {always_judge} and len(JudgedParity.seen) == len(records)
