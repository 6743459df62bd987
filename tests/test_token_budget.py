"""Per-suite token budgets: suites declare them and grow them on ladder rungs, a model that thinks gets
REASONING_FACTOR times more, --max-new-tokens overrides all; the budget used is in results and cache keys."""

from __future__ import annotations

import json

import pytest

from harness.backends.base import Backend
from harness.evaluate import EvalConfig, run_eval
from harness.models.spec import parse_model_spec
from harness.suite import get_suite
from harness.token_budget import REASONING_FACTOR, TokenBudget, budget_record, item_budget
from harness.types import Generation, GenerationParams


class BudgetSpy(Backend):
    """Answers with each item's reference response and remembers the budget each item was asked with."""

    name = "budget-spy"

    def __init__(self, thinking: bool = False):
        super().__init__(parse_model_spec("reference"))
        self.thinking = thinking
        self.asked: dict[str, int] = {}

    def fingerprint(self):
        return {"backend": self.name, "thinking": self.thinking}

    def generate(self, items, params, progress=True):
        for it in items:
            self.asked[it.id] = params.max_new_tokens
        return [[Generation(text=it.reference_response, finish_reason="stop")] * params.samples for it in items]


@pytest.fixture(scope="module")
def math_items():
    suite = get_suite("math", size=4)
    return suite, suite.items("test")


def test_a_rung_budget_grows_with_its_level(math_items):
    suite, items = math_items
    steps = [it for it in items if it.variant.kind == "steps"]
    assert len({it.variant.level for it in steps}) >= 2
    for it in items:
        expected = 256 + 64 * it.variant.level if it.variant.kind == "steps" else 256
        assert suite.token_budget(it) == item_budget(suite, it, GenerationParams()) == expected
    hardest = max(steps, key=lambda it: it.variant.level)
    assert suite.token_budget(hardest) > suite.token_budget(items[0])
    logic = get_suite("logic", size=8)
    hops = [it for it in logic.items("test") if it.variant.kind == "hops"]
    assert hops and all(logic.token_budget(it) == 256 + 64 * it.variant.level for it in hops)
    assert get_suite("arithmetic").token_budget(get_suite("arithmetic").items("test")[0]) == 256


def test_an_explicit_budget_overrides_every_suite_rung_and_factor(math_items):
    suite, items = math_items
    explicit = GenerationParams(max_new_tokens=48)
    assert {item_budget(suite, it, explicit, thinking) for it in items for thinking in (False, True)} == {48}
    assert item_budget(suite, items[0], GenerationParams(), thinking=True) == 256 * REASONING_FACTOR
    record = budget_record(suite, items, explicit, thinking=True)
    assert record == TokenBudget(max_new_tokens=48, source="flag", reasoning_factor=1)


def test_eval_generates_each_item_within_its_suites_budget_and_records_it(math_items, tmp_path):
    suite, items = math_items
    spy = BudgetSpy()
    config = EvalConfig(suites=["math", "arithmetic"], suite_size=4, limit=None, progress=False, cache_path=tmp_path / "c.sqlite")
    results, records = run_eval(config, out_dir=tmp_path / "run", backend=spy)
    assert all(spy.asked[it.id] == suite.token_budget(it) for it in items)
    saved = json.loads((tmp_path / "run" / "results.json").read_text())["suites"]
    math = saved["math"]["token_budget"]
    assert math["max_new_tokens"] == 256 and math["source"] == "suite" and math["reasoning_factor"] == 1
    rungs = sorted({(it.variant.level, it.variant.label) for it in items if it.variant.kind == "steps"})
    assert list(math["by_variant"]) == [label for _, label in rungs]  # in ladder order, only where it differs
    assert all(math["by_variant"][label] == 256 + 64 * level for level, label in rungs)
    assert saved["arithmetic"]["token_budget"] == {"max_new_tokens": 256, "by_variant": {}, "source": "suite", "reasoning_factor": 1}
    assert all(r.score == 1.0 for r in records)  # answers came back to the right items across budget groups

    # The budget is part of the cache key: one explicit budget for all finds only the items it matches.
    hardest = max((it for it in items if it.variant.kind == "steps"), key=lambda it: it.variant.level)
    again = BudgetSpy()
    pinned = EvalConfig(suites=["math"], suite_size=4, progress=False, cache_path=tmp_path / "c.sqlite",
                        generation=GenerationParams(max_new_tokens=suite.token_budget(hardest)))
    results, _ = run_eval(pinned, backend=again)
    same = [it.id for it in items if suite.token_budget(it) == suite.token_budget(hardest)]
    assert hardest.id not in again.asked and not set(same) & set(again.asked)
    assert set(again.asked) == {it.id for it in items} - set(same)
    assert results.suites["math"].token_budget.source == "flag"


def test_a_model_that_thinks_gets_the_reasoning_factor(math_items, tmp_path):
    suite, items = math_items
    spy = BudgetSpy(thinking=True)
    results, _ = run_eval(EvalConfig(suites=["math"], suite_size=4, progress=False, use_cache=False), backend=spy)
    assert all(spy.asked[it.id] == REASONING_FACTOR * suite.token_budget(it) for it in items)
    budget = results.suites["math"].token_budget
    assert budget.max_new_tokens == 256 * REASONING_FACTOR and budget.reasoning_factor == REASONING_FACTOR


def test_cli_default_is_the_suite_budget_and_the_flag_overrides_it(cli, tmp_path):
    for extra, expected in (((), {"max_new_tokens": 256, "source": "suite"}), (("--max-new-tokens", "40"), {"max_new_tokens": 40, "source": "flag"})):
        out = tmp_path / ("flag" if extra else "default")
        proc = cli("eval", "--model", "reference", "--suite", "math", "--size", "2", "--no-progress", "--out", str(out), *extra)
        assert proc.returncode == 0, proc.stderr
        budget = json.loads((out / "results.json").read_text())["suites"]["math"]["token_budget"]
        assert {k: budget[k] for k in expected} == expected
        assert bool(budget["by_variant"]) is not bool(extra)  # steps rungs differ unless one budget is forced


def test_results_written_before_budgets_were_recorded_still_load(tmp_path):
    from harness.results import load_results

    run_eval(EvalConfig(model="reference", suites=["arithmetic"], limit=2, progress=False), out_dir=tmp_path)
    data = json.loads((tmp_path / "results.json").read_text())
    for suite in data["suites"].values():
        del suite["token_budget"]
    (tmp_path / "results.json").write_text(json.dumps(data))
    results, _ = load_results(tmp_path)
    assert results.suites["arithmetic"].token_budget is None
