"""Self-consistency voting: majority, log-prob weighted, verifier-filtered; pass@1/maj@k/pass@k."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest

from harness.backends.base import Backend
from harness.evaluate import EvalConfig, run_eval
from harness.models.spec import ModelSpec
from harness.suite import get_suite
from harness.tasks.arithmetic import ArithmeticSuite
from harness.types import Generation, GenerationParams, Item
from harness.voting import VOTE_METHODS, Electorate, majority, tally, vote


@pytest.fixture(scope="module")
def suite():
    return get_suite("arithmetic")


@pytest.fixture(scope="module")
def item(suite):
    return suite.items("test", limit=1)[0]


def gens(*answers, logprobs=None):
    logprobs = logprobs or [None] * len(answers)
    return [Generation(text=f"The answer is {a}." if a is not None else "no idea", logprob=lp) for a, lp in zip(answers, logprobs)]


def run_vote(suite, item, generations, method):
    scores = [suite.score(item, g.text) for g in generations]
    return vote(suite, item, generations, scores, method), scores


def test_majority_picks_the_most_common_answer_and_reports_agreement(suite, item):
    right, wrong = item.answer, item.answer + 1
    outcome, scores = run_vote(suite, item, gens(wrong, right, right, None, right), "majority")
    assert scores[outcome.chosen].correct and outcome.chosen == 1
    assert outcome.votes == {suite.vote_key(scores[0]): 1.0, suite.vote_key(scores[1]): 3.0}  # the abstention has no vote
    assert outcome.agreement == pytest.approx(3 / 5)
    assert outcome.method == "majority" and outcome.note is None


def test_majority_tie_goes_to_the_answer_seen_first(suite, item):
    right, wrong = item.answer, item.answer + 1
    outcome, scores = run_vote(suite, item, gens(wrong, right, right, wrong), "majority")
    assert outcome.chosen == 0 and not scores[0].correct


def test_tally_sums_weights_over_the_eligible_and_breaks_ties_to_the_first_seen():
    keys = ["a", "b", "b", "a", "c"]
    assert tally(keys) == ({"a": 2.0, "b": 2.0, "c": 1.0}, 0)  # tie a/b: a appeared first
    assert tally(keys, eligible=[1, 2, 4]) == ({"b": 2.0, "c": 1.0}, 1)
    assert tally(keys, weights=[0.1, 0.5, 0.5, 0.1, 2.0]) == ({"a": 0.2, "b": 1.0, "c": 2.0}, 4)
    assert tally(keys, eligible=[]) == ({}, None)


def test_majority_lets_unanswered_samples_vote_only_when_nobody_answered():
    keys = ["none", "none", "none", "7", "8", "7"]
    assert majority(keys, [False, False, False, True, True, True]) == 3  # three abstentions lose to two 7s
    assert majority(keys) == 0  # without the answered flags every sample votes
    assert majority(["x", "y"], [False, False]) == 0
    with pytest.raises(ValueError):
        majority([])


def test_vote_methods_are_registry_entries_named_by_the_registry(suite, item):
    assert {"majority", "weighted", "verify"} <= set(VOTE_METHODS.names())
    assert all(VOTE_METHODS.get(n).name == n for n in ("majority", "weighted", "verify"))

    def last(ballot):
        return Electorate(eligible=[len(ballot.keys) - 1])

    with VOTE_METHODS.temporarily("test-last", last):
        right, wrong = item.answer, item.answer + 1
        outcome, scores = run_vote(suite, item, gens(wrong, wrong, right), "test-last")
        assert outcome.method == "test-last" and outcome.chosen == 2 and scores[2].correct
        assert outcome.agreement == pytest.approx(1 / 3)
    assert "test-last" not in VOTE_METHODS


def test_weighted_lets_confident_samples_outvote_a_hesitant_majority(suite, item):
    right, wrong = item.answer, item.answer + 1
    sample = gens(wrong, wrong, right, logprobs=[-3.0, -3.0, -0.1])
    outcome, scores = run_vote(suite, item, sample, "weighted")
    assert outcome.method == "weighted" and scores[outcome.chosen].correct
    assert outcome.votes[suite.vote_key(scores[2])] == pytest.approx(math.exp(-0.1))
    majority, _ = run_vote(suite, item, sample, "majority")
    assert not scores[majority.chosen].correct


def test_weighted_without_logprobs_falls_back_to_majority(suite, item):
    outcome, _ = run_vote(suite, item, gens(1, 2, 2), "weighted")
    assert outcome.method == "majority" and "log-prob" in outcome.note and outcome.chosen == 1


def test_verify_without_an_answer_independent_verifier_says_so(suite, item):
    outcome, _ = run_vote(suite, item, gens(1, 2, 2), "verify")
    assert outcome.method == "majority" and "no answer-independent verifier" in outcome.note


class ShowYourWorkSuite(ArithmeticSuite):
    """Arithmetic with a gold-free verifier: accepts outputs that show a computation ('=')."""

    seen_answers: list = []

    def verify(self, item: Item, output: str) -> bool:
        self.seen_answers.append((item.answer, item.solution, item.reference_response))
        return "=" in output


def test_verify_votes_only_among_samples_that_pass_and_never_sees_the_gold_answer(item):
    suite = ShowYourWorkSuite()
    right, wrong = item.answer, item.answer + 1
    sample = [
        Generation(text=f"The answer is {wrong}."),
        Generation(text=f"The answer is {wrong}."),
        Generation(text=f"3 + 4 = 7, so the answer is {right}."),
    ]
    outcome, scores = run_vote(suite, item, sample, "verify")
    assert outcome.method == "verify" and outcome.verified == [2] and scores[outcome.chosen].correct
    assert suite.seen_answers and all(seen == (None, "", "") for seen in suite.seen_answers)

    nobody = [Generation(text=f"The answer is {wrong}."), Generation(text=f"The answer is {right}.")]
    outcome, _ = run_vote(suite, item, nobody, "verify")
    assert outcome.method == "majority" and "no sample passed" in outcome.note


class PatternBackend(Backend):
    """k samples per item following a fixed pattern of right (R) / wrong (W) / unanswered (-)."""

    name = "pattern"

    def __init__(self, patterns: list[str]):
        super().__init__(ModelSpec(scheme="pattern", target="p", raw="pattern:p"))
        self.patterns = patterns

    def fingerprint(self):
        return {"backend": "pattern", "patterns": self.patterns}

    def generate(self, items: Sequence[Item], params: GenerationParams, progress: bool = True):
        out = []
        for item, pattern in zip(items, self.patterns):
            answer = {"R": item.answer, "W": item.answer + 1}
            out.append([Generation(text=f"The answer is {answer[c]}." if c in answer else "hmm", logprob=-1.0) for c in pattern])
        return out


def test_eval_records_every_sample_the_vote_and_pass_at_k(tmp_path):
    patterns = ["RRW", "WWR", "WWW", "R-W"]
    config = EvalConfig(suites=["arithmetic"], limit=4, progress=False, vote="majority", use_cache=False,
                        generation=GenerationParams(samples=3, temperature=0.7))
    results, records = run_eval(config, tmp_path, backend=PatternBackend(patterns))

    assert [len(r.samples) for r in records] == [3, 3, 3, 3]
    assert [[s["correct"] for s in r.samples] for r in records] == [[c == "R" for c in p] for p in patterns]
    assert [r.correct for r in records] == [True, False, False, True]  # R-W: the tie goes to the first answer
    assert [r.agreement for r in records] == pytest.approx([2 / 3, 2 / 3, 1.0, 1 / 3])
    assert all(r.vote_method == "majority" and r.chosen_sample is not None and r.votes for r in records)
    sampling = results.sampling["math"]
    assert sampling["k"] == 3 and sampling["n"] == 4
    assert sampling["pass_at_1"] == pytest.approx((2 / 3 + 1 / 3 + 0 + 1 / 3) / 4)
    assert sampling["maj_at_k"] == 0.5 and sampling["pass_at_k"] == 0.75
    assert results.capabilities["math"].score == 0.5  # the voted answers are what gets scored


def test_vote_needs_several_samples():
    from harness.errors import HarnessError

    with pytest.raises(HarnessError, match="--samples"):
        run_eval(EvalConfig(suites=["arithmetic"], limit=1, vote="majority"), backend=PatternBackend(["R"]))


def test_verify_uses_the_code_suites_visible_examples_to_beat_a_wrong_majority():
    suite = get_suite("code")
    item = suite.items("test", variants=["canonical"], limit=1)[0]
    entry = item.metadata["entry_point"]
    wrong = Generation(text=f"```python\ndef {entry}(*args):\n    return None\n```")
    right = Generation(text=item.reference_response)
    sample = [wrong, wrong, right]

    majority, scores = run_vote(suite, item, sample, "majority")
    verified, _ = run_vote(suite, item, sample, "verify")

    assert not scores[majority.chosen].correct
    assert verified.method == "verify" and verified.verified == [2] and scores[verified.chosen].correct


def test_hf_backend_samples_k_with_logprobs_for_weighted_voting(tiny_model_dir, tmp_path):
    config = EvalConfig(model=f"hf:{tiny_model_dir}", suites=["arithmetic"], limit=3, progress=False, vote="weighted",
                        use_cache=False, generation=GenerationParams(samples=3, temperature=1.0, max_new_tokens=8))
    results, records = run_eval(config, tmp_path)

    for r in records:
        assert len(r.samples) == 3 and all(s["logprob"] is not None and s["logprob"] < 0 for s in r.samples)
        assert len({s["output"] for s in r.samples}) > 1  # sampled, not copies
        assert r.vote_method == "weighted" and r.vote_note is None
    assert results.sampling["math"]["k"] == 3

    greedy = EvalConfig(model=f"hf:{tiny_model_dir}", suites=["arithmetic"], limit=2, progress=False, use_cache=False,
                        generation=GenerationParams(samples=2, temperature=0.0, max_new_tokens=8))
    _, records = run_eval(greedy, tmp_path / "greedy")
    assert all(r.samples[0]["output"] == r.samples[1]["output"] for r in records)  # greedy: one answer, k copies
