"""One meaning for the token budget: `max_new_tokens` is None (each suite's own budget) or a number, set
by --max-new-tokens in eval, distill, train and loop alike; train and loop evaluate at harness eval's
budgets; retention, report and gate refuse runs asked for different budgets on a suite unless
--allow-budget-mismatch, which then shows in every output."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import fresh_harness_cache
from test_token_budget import BudgetSpy

from harness.cli import build_parser
from harness.config import config_from_args
from harness.errors import HarnessError
from harness.evaluate import EvalConfig, run_eval
from harness.results import load_results
from harness.retention import analyse
from harness.suite import get_suite
from harness.trainers.config import TrainConfig, TrainRunConfig, with_yaml_train_config
from harness.trainers.distill import DistillConfig, distill
from harness.trainers.focus import Focus
from harness.trainers.loop import LoopConfig, eval_settings, round_distill_config
from harness.types import GenerationParams, Item

SUITE_BUDGET = {"max_new_tokens": 256, "by_variant": {}, "source": "suite", "reasoning_factor": 1}


def parse(command: str, *argv: str):
    return build_parser(only=command).parse_args([command, *argv])


def budgets_of(command: str, *argv: str) -> list[int | None]:
    """Every place the command's config holds the token budget."""
    args = parse(command, *argv)
    if command == "eval":
        return [config_from_args(EvalConfig, args).generation.max_new_tokens]
    if command == "distill":
        return [config_from_args(DistillConfig, args).max_new_tokens]
    if command == "train":
        return [with_yaml_train_config(TrainRunConfig, args).train.max_new_tokens]
    loop = with_yaml_train_config(LoopConfig, args)
    return [loop.train.max_new_tokens, eval_settings(loop).max_new_tokens,
            round_distill_config(loop, Focus(), set(), 0, None).max_new_tokens]


REQUIRED = {"eval": (), "distill": ("--out", "d"), "train": ("--data", "d", "--out", "o"), "loop": ("--out", "o")}


@pytest.mark.parametrize("command", list(REQUIRED))
def test_every_command_has_one_flag_for_one_field(command, capsys):
    assert budgets_of(command, *REQUIRED[command]) == [None] * len(budgets_of(command, *REQUIRED[command]))
    given = budgets_of(command, *REQUIRED[command], "--max-new-tokens", "40")
    assert given and set(given) == {40}  # loop: the evaluations and the teacher's answers alike
    assert "deprecated" not in capsys.readouterr().err
    (commands,) = [a for a in build_parser(only=command)._actions if isinstance(a, argparse._SubParsersAction)]
    help_text = commands.choices[command].format_help()
    assert "--max-new-tokens" in help_text
    assert "--eval-max-new-tokens" not in help_text and "--distill-max-new-tokens" not in help_text


@pytest.mark.parametrize(("command", "old"), [("train", "--eval-max-new-tokens"), ("loop", "--eval-max-new-tokens"),
                                              ("loop", "--distill-max-new-tokens")])
def test_old_flag_names_are_deprecated_aliases_of_the_same_field(command, old, capsys):
    assert set(budgets_of(command, *REQUIRED[command], old, "12")) == {12}
    assert f"{old} is deprecated; use --max-new-tokens" in capsys.readouterr().err


def test_old_training_config_key_still_loads(tmp_path, capsys):
    old = tmp_path / "old.yaml"
    old.write_text("eval_limit: 8\neval_max_new_tokens: 96\n")
    assert TrainConfig.load(old).max_new_tokens == 96
    assert "eval_max_new_tokens is deprecated" in capsys.readouterr().err
    new = tmp_path / "new.yaml"
    new.write_text("max_new_tokens: 64\n")
    assert TrainConfig.load(new).max_new_tokens == 64
    assert TrainConfig.load(None).max_new_tokens is None
    assert TrainConfig.load(Path(__file__).parents[1] / "trainers" / "sft.yaml").max_new_tokens is None


# --- train and loop evaluate at harness eval's budgets --------------------------------------------------


def test_train_and_loop_evaluate_at_the_budgets_harness_eval_uses(tiny_model_dir, tmp_path, monkeypatch):
    from harness.trainers.evaluation import evaluate_model, retention_against, teacher_results_for
    from harness.trainers.run import eval_settings as train_eval_settings

    monkeypatch.setenv("HARNESS_CACHE", str(fresh_harness_cache(tmp_path / "cache")))
    # harness train: the student (the tiny random model) and the reference teacher on the data card's suites
    card = {"teacher": "reference", "suites": {"arithmetic": {"seed": 0, "size": None}}}
    settings = train_eval_settings(TrainConfig(eval_limit=2), card)
    student = evaluate_model(f"hf:{tiny_model_dir}", settings, tmp_path / "eval")
    teacher = teacher_results_for(None, "reference", settings, tmp_path / "eval-teacher")
    assert teacher is not None
    for run in ("eval", "eval-teacher"):
        written = json.loads((tmp_path / run / "results.json").read_text())
        assert written["suites"]["arithmetic"]["token_budget"] == SUITE_BUDGET
        assert written["generation"]["max_new_tokens"] is None
    assert retention_against(teacher, student).budget_mismatches == []

    # the ladder rungs get their own budgets, exactly as `harness eval` records them
    direct, _ = run_eval(EvalConfig(model="reference", suites=["math"], suite_size=4, progress=False, use_cache=False))
    want = direct.suites["math"].token_budget
    assert want is not None and want.source == "suite" and max(want.by_variant.values()) > 256
    trained = train_eval_settings(TrainConfig(eval_limit=None), {"suites": {"math": {"seed": 0, "size": 4}}})
    looped = eval_settings(LoopConfig(distill=DistillConfig(suites=["math"], suite_size=4), train=TrainConfig(eval_limit=None),
                                      progress=False))
    for name, how in (("train", trained), ("loop", looped)):
        results, _ = evaluate_model("reference", how, tmp_path / name)
        assert results.suites["math"].token_budget == want
        assert json.loads((tmp_path / name / "results.json").read_text())["suites"]["math"]["token_budget"] == want.model_dump()


def test_distill_asks_each_suites_own_budget_unless_one_is_given(tmp_path):
    suite = get_suite("math")
    by_id: dict[str, Item] = {it.id: it for it in suite.items("train")}
    for given, out in ((None, "own"), (64, "flag")):
        spy = BudgetSpy()
        card = distill(DistillConfig(suites=["math"], n=12, edge_ratio=0.5, max_new_tokens=given, progress=False,
                                     tokenizer="words", use_cache=False), tmp_path / out, backend=spy)
        assert spy.asked
        assert all(budget == (given or suite.token_budget(by_id[item_id])) for item_id, budget in spy.asked.items())
        recorded = card["suites"]["math"]["token_budget"]
        assert recorded["source"] == ("flag" if given else "suite") and recorded["max_new_tokens"] == (given or 256)
        assert card["config"]["max_new_tokens"] == given


# --- retention, report and gate refuse different budgets --------------------------------------------


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A reference teacher at the suites' own budgets, the same model at --max-new-tokens 64, and a
    thinking student (x4 the suites' budgets) evaluated with the same flags as the teacher."""
    base = tmp_path_factory.mktemp("budget-runs")
    config = EvalConfig(model="reference", suites=["arithmetic", "math"], suite_size=4, progress=False, use_cache=False)
    run_eval(config, out_dir=base / "teacher")
    run_eval(replace(config, generation=GenerationParams(max_new_tokens=64)), out_dir=base / "short")
    run_eval(config, out_dir=base / "thinking", backend=BudgetSpy(thinking=True))
    return base


def test_the_same_flags_match_even_when_one_model_thinks(runs):
    thinking = load_results(runs / "thinking")
    assert thinking[0].suites["math"].token_budget.reasoning_factor == 4  # type: ignore[union-attr]
    analysis = analyse(*load_results(runs / "teacher"), *thinking)
    assert analysis.budget_mismatches == [] and not any("budget" in n for n in analysis.notes)
    assert analysis.suites["math"]["token_budget"]["source"] == "suite"


def test_analyse_refuses_different_budgets_naming_the_suite_and_both(runs):
    with pytest.raises(HarnessError) as refused:
        analyse(*load_results(runs / "teacher"), *load_results(runs / "short"))
    message = str(refused.value)
    assert "suite arithmetic" in message and "teacher 256 new tokens" in message and "student 64 new tokens" in message
    assert "also differing: math" in message and "--allow-budget-mismatch" in message
    allowed = analyse(*load_results(runs / "teacher"), *load_results(runs / "short"), allow_budget_mismatch=True)
    by_suite = {m.suite: m for m in allowed.budget_mismatches}
    assert set(by_suite) == {"arithmetic", "math"}
    assert by_suite["arithmetic"].differ["canonical"] == [256, 64] and by_suite["math"].differ["canonical"] == [256, 64]
    assert all(pair == [256, 64] for pair in by_suite["arithmetic"].differ.values())  # every variant both runs hold
    assert "256 vs 64 at canonical, " in by_suite["arithmetic"].describe()
    assert any(label.startswith("steps@") for label in by_suite["math"].differ)
    assert by_suite["math"].teacher["source"] == "suite" and by_suite["math"].student["source"] == "flag"


def test_commands_exit_2_on_different_budgets_and_show_them_when_allowed(cli, runs, tmp_path):
    teacher, student = str(runs / "teacher"), str(runs / "short")
    for argv in (("retention", "--teacher", teacher, "--student", student),
                 ("report", "--teacher", teacher, student, "--out", str(tmp_path / "refused.html")),
                 ("gate", "--teacher", teacher, "--student", student, "--min-retention", "0.5")):
        proc = cli(*argv)
        assert proc.returncode == 2, (argv[0], proc.stdout, proc.stderr)
        assert "suite arithmetic" in proc.stderr and "256 new tokens" in proc.stderr and "64 new tokens" in proc.stderr, proc.stderr
        assert "--allow-budget-mismatch" in proc.stderr
    assert not (tmp_path / "refused.html").exists()

    allow = "--allow-budget-mismatch"
    text = cli("retention", "--teacher", teacher, "--student", student, allow)
    assert text.returncode == 0, text.stderr
    assert "note: token budgets differ (--allow-budget-mismatch): suite arithmetic" in text.stdout
    assert "math (budgets differ)" in text.stdout  # the capability row of the table
    md = cli("retention", "--teacher", teacher, "--student", student, allow, "--format", "md")
    assert md.returncode == 0 and "math (budgets differ)" in md.stdout and "- note: token budgets differ" in md.stdout
    js = cli("retention", "--teacher", teacher, "--student", student, allow, "--format", "json")
    data = json.loads(js.stdout)
    assert [m["suite"] for m in data["budget_mismatches"]] == ["arithmetic", "math"]
    assert data["budget_mismatches"][0]["teacher"]["max_new_tokens"] == 256 and data["budget_mismatches"][0]["student"]["max_new_tokens"] == 64
    report = tmp_path / "allowed.html"
    html = cli("report", "--teacher", teacher, student, "--out", str(report), allow)
    assert html.returncode == 0, html.stderr
    page = report.read_text()
    assert "token budgets differ (--allow-budget-mismatch): suite arithmetic" in page and "math (budgets differ)" in page
    gate = cli("gate", "--teacher", teacher, "--student", student, "--min-retention", "0.5", allow)
    assert gate.returncode == 0, gate.stdout + gate.stderr  # the reference model ignores budgets: retention 1.0
    assert "note: token budgets differ (--allow-budget-mismatch): suite arithmetic" in gate.stdout


# --- results written before this change ---------------------------------------------------------------


def test_results_written_before_one_meaning_still_load_and_compare(runs, tmp_path):
    def rewrite(src: Path, dst: Path, drop_budgets: bool) -> Path:
        dst.mkdir()
        data = json.loads((src / "results.json").read_text())
        data["generation"]["max_new_tokens"] = 256  # what every run recorded before None meant "each suite's own"
        if drop_budgets:  # before per-suite budgets: one budget for every item, none recorded per suite
            for suite in data["suites"].values():
                del suite["token_budget"]
        (dst / "results.json").write_text(json.dumps(data))
        (dst / "samples.jsonl").write_text((src / "samples.jsonl").read_text())
        return dst

    recorded = load_results(rewrite(runs / "teacher", tmp_path / "recorded", drop_budgets=False))
    assert recorded[0].generation.max_new_tokens == 256 and recorded[0].suites["math"].token_budget.source == "suite"  # type: ignore[union-attr]
    assert analyse(*recorded, *load_results(runs / "teacher")).budget_mismatches == []  # its recorded suite budgets count

    flat = load_results(rewrite(runs / "teacher", tmp_path / "flat", drop_budgets=True))
    assert flat[0].suites["math"].token_budget is None
    with pytest.raises(HarnessError, match=r"suite math: .*teacher 256 new tokens \(--max-new-tokens\).*steps@"):
        analyse(*flat, *load_results(runs / "teacher"))  # 256 on every rung then; the suite's own rungs get more now
    arithmetic = [r for r in flat[1] if r.suite == "arithmetic"]
    only = flat[0].model_copy(update={"suites": {"arithmetic": flat[0].suites["arithmetic"]}})
    new, new_records = load_results(runs / "teacher")
    new_only = new.model_copy(update={"suites": {"arithmetic": new.suites["arithmetic"]}})
    analysis = analyse(only, arithmetic, new_only, [r for r in new_records if r.suite == "arithmetic"])
    assert analysis.budget_mismatches == []  # 256 for every arithmetic item, then and now
