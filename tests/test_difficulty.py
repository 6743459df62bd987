"""Accuracy against difficulty rungs and breaking points, from hand-made results."""

from __future__ import annotations

import json

import pytest

from harness.difficulty import accuracy_break
from harness.gate import evaluate_gate
from harness.policy import GatePolicy
from harness.report.tables import render
from harness.results import load_results
from harness.retention import analyse
from tests.retention_data import Row, make_results

N = 20  # problems per rung


def ladder_rows(accuracy_by_rung: dict[int, float]) -> list[Row]:
    rows = []
    for rung, acc in accuracy_by_rung.items():
        right = round(acc * N)
        for i in range(N):
            base = f"arithmetic/test/{i:05d}"
            item_id = base if rung == 0 else f"{base}/steps{rung}"
            rows.append(Row(item_id, i < right, variant="canonical" if rung == 0 else "steps", level=rung))
    return rows


@pytest.fixture
def analysis(tmp_path):
    teacher = ladder_rows({0: 1.0, 1: 1.0, 2: 0.9, 3: 0.9, 4: 0.8})
    student = ladder_rows({0: 0.8, 1: 0.6, 2: 0.5, 3: 0.3, 4: 0.1})
    make_results(tmp_path / "t", "teacher", teacher)
    make_results(tmp_path / "s", "student", student)
    t, tr = load_results(tmp_path / "t")
    s, sr = load_results(tmp_path / "s")
    return analyse(t, tr, s, sr)


def test_rungs_and_breaking_points(analysis):
    (ladder,) = analysis.ladders
    assert (ladder.capability, ladder.kind, ladder.top_rung) == ("math", "steps", 4)
    assert [r.rung for r in ladder.rungs] == [0, 1, 2, 3, 4]
    assert [r.student for r in ladder.rungs] == pytest.approx([0.8, 0.6, 0.5, 0.3, 0.1])
    assert all(r.n == N for r in ladder.rungs)
    # Student: 0.3 < half of 0.8 first at rung 3. Teacher never drops below 0.5.
    assert ladder.student_break.reached and ladder.student_break.rung == 3
    assert not ladder.teacher_break.reached and "holds to rung 4" in ladder.teacher_break.reason
    # Retention 0.5/0.9 = 0.56 at rung 2, 0.3/0.9 = 0.33 at rung 3.
    assert ladder.retention_break.rung == 3
    lo, hi = ladder.rungs[4].student_ci
    assert lo <= 0.1 <= hi


def test_retention_prints_breaking_points(analysis):
    text = render(analysis, "text")
    assert "Breaking points" in text and "rung 3" in text
    data = json.loads(render(analysis, "json"))
    assert data["ladders"][0]["student_break"]["rung"] == 3


def test_gate_minimum_breaking_point(analysis):
    def rule(minimum: int):
        verdict = evaluate_gate(GatePolicy(min_breaking_point={"math": {"steps": minimum}}), analysis)
        (result,) = [r for r in verdict.results if r.rule == "min_breaking_point"]
        return result

    assert rule(3).status == "pass"
    assert rule(4).status == "fail" and "breaks at rung 3" in rule(4).message
    missing = evaluate_gate(GatePolicy(min_breaking_point={"math": {"hops": 2}}), analysis)
    assert missing.results[0].status == "fail" and "no 'hops' ladder" in missing.results[0].message


def test_single_level_kinds_are_not_ladders(tmp_path):
    rows = ladder_rows({0: 1.0, 1: 0.5})
    make_results(tmp_path / "t", "teacher", rows)
    t, tr = load_results(tmp_path / "t")
    assert analyse(t, tr, t, tr).ladders == []


def test_accuracy_break_edge_cases():
    assert accuracy_break([(0, 0.0), (1, 0.0)]).rung is None
    assert "broken before" in accuracy_break([(0, 0.0), (1, 0.0)]).reason
    assert accuracy_break([(0, 0.6), (1, 0.31), (2, 0.29)]).rung == 2  # strictly below half
    assert not accuracy_break([(1, 0.5)]).reached


def test_retention_refuses_results_judged_differently_and_shows_the_judge(tmp_path):
    from harness.errors import HarnessError

    rows = [Row(f"edge_cases/test/{i:05d}", i % 3 != 0, capability="edge_cases", suite="edge_cases") for i in range(12)]
    make_results(tmp_path / "t", "teacher", rows)
    make_results(tmp_path / "s", "student", rows)
    t, tr = load_results(tmp_path / "t")
    s, sr = load_results(tmp_path / "s")
    t.judge = {"name": "structured", "version": "1", "spec": "structured"}
    with pytest.raises(HarnessError, match="judged differently"):
        analyse(t, tr, s, sr)
    s.judge = dict(t.judge)
    analysis = analyse(t, tr, s, sr)
    assert "abstention judge (edge_cases): structured v1 (structured)" in render(analysis, "text")
    assert t.capabilities["edge_cases"].n_groups == 12


def test_html_report_plots_the_ladder(analysis, tmp_path):
    from harness.report.html import StudentReport, build_report

    t, _ = load_results(tmp_path / "t")
    page = build_report(t, [StudentReport("student", analysis)])
    section = page.split("where each model breaks", 1)[1].split("<h3>", 1)[0]
    assert "rung 3" in section and 'src="data:image/png;base64,' in section


def test_rules_on_an_unmeasured_capability_are_skipped_with_a_note(analysis):
    policy = GatePolicy(min_breaking_point={"code": {"steps": 2}}, perturbation_floors={"code": {"renamed": 0.5}},
                        retention_floors={"code": 0.5}, max_truncation_rate={"code": 0.1})
    verdict = evaluate_gate(policy, analysis)
    assert verdict.results == []
    assert verdict.notes.count("policy names code, which these results do not measure: its rules were skipped") == 1
    required = evaluate_gate(policy.model_copy(update={"required_capabilities": ["code"]}), analysis)
    assert [r.rule for r in required.results] == ["required_capability"] and not required.passed
    assert not any("do not measure" in n for n in required.notes)
