"""harness loop: retention → focus → distill → train → evaluate, for several rounds, one report."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow  # trains
def test_loop_runs_rounds_and_reports_retention_per_round(cli, tiny_model_dir, tmp_path):
    out = tmp_path / "loop"
    proc = cli("loop", "--teacher", "reference", "--student", f"hf:{tiny_model_dir}", "--suite", "arithmetic", "--rounds", "2",
               "--n", "6", "--out", str(out), "--max-steps", "1", "--batch-size", "2", "--max-length", "256",
               "--eval-limit", "8", "--max-new-tokens", "4", "--no-progress")
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = (out / "loop_report.md").read_text()
    assert "| capability / variant | round 0 | round 1 | round 2 |" in report
    assert "| math |" in report and "| math perturbed |" in report
    loop = json.loads((out / "loop.json").read_text())
    assert [r["round"] for r in loop["rounds"]] == [0, 1, 2]
    assert [r["rows"] for r in loop["rounds"]] == [0, 6, 6]
    for r in loop["rounds"]:
        math = next(row for row in r["retention"] if row["capability"] == "math")
        assert math["teacher"] == 1.0 and math["n"] == 8
        assert r["focus"]["math"] > 1.0  # a random tiny model retains nothing: maximum weight
    # Each round trains the previous round's model on items it has not seen before.
    assert loop["rounds"][2]["trained_from"] == loop["rounds"][1]["model"] == f"hf:{out / 'round-1' / 'run' / 'model'}"
    assert loop["rounds"][1]["trained_from"] == f"hf:{tiny_model_dir}"
    from datasets import load_from_disk

    first, second = (set(load_from_disk(str(out / f"round-{i}" / "data"))["id"]) for i in (1, 2))
    assert len(first) == len(second) == 6 and not first & second

    # The same focus is available to a single distill run.
    proc = cli("distill", "--suite", "arithmetic", "--n", "4", "--out", str(tmp_path / "focused"),
               "--focus-from", str(out / "round-0" / "eval"), "--focus-teacher", str(out / "teacher-eval"),
               "--tokenizer", f"hf:{tiny_model_dir}", "--no-progress")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "focus weights: math=1.10" in proc.stdout
    card = json.loads((tmp_path / "focused" / "data_card.json").read_text())
    assert card["config"]["focus"] == {"math": 1.1}


def test_loop_refuses_an_out_that_is_a_file_before_any_work(cli, tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("mine")
    proc = cli("loop", "--suite", "arithmetic", "--out", str(taken), "--no-progress")
    assert proc.returncode == 2 and "is a file, not a folder" in proc.stderr
    assert taken.read_text() == "mine"


@pytest.mark.slow  # trains
@pytest.mark.parametrize("method", ["grpo", "distill-on-policy"])
def test_loop_rounds_train_with_the_chosen_method_on_focused_prompts(method, cli, tiny_model_dir, tmp_path):
    """One round with --method grpo or distill-on-policy: no teacher answers are distilled; the round's prompts are
    n train items drawn by the same focus (math: a random tiny model retains nothing), and the round trains with that
    method (its train_summary.json says so) before the evaluation."""
    from tiny_model import build_tiny_model

    teacher = "reference" if method == "grpo" else f"hf:{build_tiny_model(tmp_path / 'teacher', seed=1)}"
    out = tmp_path / "loop"
    proc = cli("loop", "--method", method, "--teacher", teacher, "--student", f"hf:{tiny_model_dir}", "--suite", "arithmetic",
               "--rounds", "1", "--n", "4", "--out", str(out), "--max-steps", "1", "--batch-size", "2", "--num-generations", "2",
               "--max-completion-length", "4", "--eval-limit", "4", "--max-new-tokens", "4", "--no-progress")
    assert proc.returncode == 0, proc.stderr[-3000:]
    loop = json.loads((out / "loop.json").read_text())
    assert loop["config"]["train"]["method"] == method
    assert [r["rows"] for r in loop["rounds"]] == [0, 4]
    assert loop["rounds"][1]["data"] == str(out / "round-1" / "prompts.json") and not (out / "round-1" / "data").exists()
    assert loop["rounds"][1]["model"] == f"hf:{out / 'round-1' / 'run' / 'model'}"
    # what drew the round's prompts: the reference teacher solves math and the random student retains nothing (the most
    # weight); the random teacher solves nothing either (the floor)
    assert loop["rounds"][0]["focus"]["math"] == pytest.approx(1.1 if method == "grpo" else 0.1)
    prompts = json.loads((out / "round-1" / "prompts.json").read_text())
    assert prompts["rows"] == 4 and prompts["per_capability"] == {"math": 4}
    assert all(i.startswith("arithmetic/train/") for i in prompts["ids"])
    summary = json.loads((out / "round-1" / "run" / "train_summary.json").read_text())
    assert summary["method"] == method and summary["global_step"] == 1 and summary["train_rows"] == 4
    if method == "distill-on-policy":
        assert summary["teacher"] == teacher
    math = next(row for row in loop["rounds"][1]["retention"] if row["capability"] == "math")
    assert math["n"] == 4  # round 1's model evaluated against the teacher on the test items
    assert f"method {method}, 4 prompts per round" in (out / "loop_report.md").read_text()


def test_loop_method_is_checked_before_any_work(cli, tiny_model_dir, tmp_path):
    out = tmp_path / "loop"
    proc = cli("loop", "--method", "distill-on-policy", "--student", f"hf:{tiny_model_dir}", "--suite", "arithmetic",
               "--out", str(out), "--no-progress")  # the default teacher is `reference`
    assert proc.returncode == 2 and "teacher 'reference'" in proc.stderr and "cannot provide logits" in proc.stderr
    assert not out.exists()
    proc = cli("loop", "--method", "dpo", "--suite", "arithmetic", "--out", str(out))
    assert proc.returncode == 2 and "invalid choice: 'dpo'" in proc.stderr


def test_grpo_and_on_policy_rounds_draw_prompts_by_focus_without_reuse():
    """The focus that sizes distill's rows sizes a prompt round's capabilities; items used by earlier rounds are left out."""
    from harness.trainers.config import TrainConfig
    from harness.trainers.distill import DistillConfig
    from harness.trainers.focus import Focus
    from harness.trainers.loop import LoopConfig, round_prompts

    config = LoopConfig(distill=DistillConfig(suites=["arithmetic", "logic"], n=20), train=TrainConfig(method="grpo"))
    focus = Focus(capabilities={"math": 1.0, "logic": 0.25})  # the student retains logic, not math
    items, guard = round_prompts(config, focus, set(), 0)
    assert len(items) == 20 and sum(it.capability == "math" for it in items) == 16  # 1.0 : 0.25 of 20
    again, guard = round_prompts(config, focus, {it.id for it in items}, 1)
    assert len(again) == 20 and not {it.id for it in items} & {it.id for it in again}
    assert guard["excluded_ids"] == 20 and {it.split for it in again} == {"train"}
