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
