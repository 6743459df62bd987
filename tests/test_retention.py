"""Retention analysis: pairing, refusals, intersect, memorisation gap, mitigation, seed table, formats."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
from retention_data import Row, items, make_results

from harness.errors import HarnessError
from harness.results import load_results
from harness.retention import analyse, majority_correct, paired_scores, retention_rows


def _analyse(tmp_path, teacher_rows, student_rows, **kw):
    t = make_results(tmp_path / "t", "teacher-model", teacher_rows)
    s = make_results(tmp_path / "s", "student-model", student_rows)
    return analyse(*load_results(t), *load_results(s), **kw)


def test_identical_results_retention_one(tmp_path):
    rows = items(30, [True, True, False] * 10)
    a = _analyse(tmp_path, rows, rows)
    (row,) = a.rows
    assert (row.capability, row.retention, row.n) == ("math", 1.0, 30)
    assert row.ci_low <= 1.0 <= row.ci_high
    assert row.p_value == 1.0 and row.teacher_only == row.student_only == 0


def test_student_right_on_half_the_teachers_items(tmp_path):
    a = _analyse(tmp_path, items(40, True), items(40, [True, False] * 20))
    (row,) = a.rows
    assert row.retention == pytest.approx(0.5)
    assert row.teacher_only == 20 and row.student_only == 0
    assert row.p_value < 1e-5


def test_pairs_by_item_id_not_by_order(tmp_path):
    teacher = items(20, [True] * 10 + [False] * 10)
    student = list(reversed(items(20, [True] * 10 + [False] * 10)))
    (row,) = _analyse(tmp_path, teacher, student).rows
    assert row.retention == 1.0 and row.teacher_only == 0


def test_teacher_zero_is_undefined(tmp_path):
    (row,) = _analyse(tmp_path, items(10, False), items(10, True)).rows
    assert row.retention is None and "teacher score is 0" in row.undefined_reason


def test_mismatched_item_sets_are_refused_with_the_difference(tmp_path):
    with pytest.raises(HarnessError) as err:
        _analyse(tmp_path, items(20, True), items(12, True))
    msg = str(err.value)
    assert "item sets differ" in msg and "teacher 20 items, student 12 items" in msg
    assert "arithmetic/test/00012" in msg and "--intersect" in msg


def test_intersect_uses_common_items_and_says_how_many_were_dropped(tmp_path):
    a = _analyse(tmp_path, items(20, True), items(12, [True, False] * 6), intersect=True)
    assert a.rows[0].n == 12 and a.rows[0].retention == pytest.approx(0.5)
    assert any("kept 12 common items; dropped 8 teacher-only and 0 student-only" in n for n in a.notes)


def test_version_mismatch_is_refused_even_with_intersect(tmp_path):
    t = make_results(tmp_path / "t", "t", items(10, True), version="1")
    s = make_results(tmp_path / "s", "s", items(10, True), version="2")
    with pytest.raises(HarnessError, match="version differs"):
        analyse(*load_results(t), *load_results(s), intersect=True)


def test_different_suites_need_intersect(tmp_path):
    teacher = items(10, True) + items(10, True, suite="logic_grid", capability="logic")
    with pytest.raises(HarnessError, match="different suites.*only teacher: logic_grid"):
        _analyse(tmp_path, teacher, items(10, True))
    a = _analyse(tmp_path, teacher, items(10, True), intersect=True)
    assert [r.capability for r in a.rows] == ["math"]
    assert any("compared suites arithmetic only" in n for n in a.notes)


def test_memorisation_gap_canonical_vs_perturbed(tmp_path):
    teacher = items(10, True) + items(10, True, variant="numbers") + items(10, True, variant="distractor", level=2)
    student = items(10, True) + items(10, [True, False] * 5, variant="numbers") + items(10, False, variant="distractor", level=2)
    a = _analyse(tmp_path, teacher, student)
    by_variant = {r.variant: r for r in a.variants}
    assert by_variant["canonical"].retention == 1.0
    assert by_variant["numbers@1"].retention == pytest.approx(0.5)
    assert by_variant["distractor@2"].retention == 0.0 and by_variant["distractor@2"].level == 2
    assert by_variant["perturbed"].retention == pytest.approx(0.25) and by_variant["perturbed"].n == 20


def test_seed_table_groups_rows_and_marks_missing_ones(tmp_path):
    teacher = (
        items(10, True) + items(10, True, variant="numbers")
        + items(10, True, suite="logic_grid", capability="logic", variant="swap")
        + items(10, True, suite="edgy", capability="edge_cases")
    )
    student = (
        items(10, True) + items(10, [True, False] * 5, variant="numbers")
        + items(10, [True, False] * 5, suite="logic_grid", capability="logic", variant="swap")
        + items(10, [True] * 4 + [False] * 6, suite="edgy", capability="edge_cases")
    )
    seed = {r.capability: r for r in _analyse(tmp_path, teacher, student).seed_table}
    assert list(seed) == ["Writing style", "Format/structure", "Common knowledge", "Novel reasoning", "Edge cases"]
    reasoning = seed["Novel reasoning"]
    # Only perturbed math + logic items count: the 10 canonical math items (all right) do not.
    assert reasoning.n == 20 and reasoning.retention == pytest.approx(0.5)
    assert reasoning.sources == "math (10 perturbed), logic (10 perturbed)"
    # 50 % is inside 40-60 %, but the CI from 20 groups straddles the range: the verdict claims no more than it.
    assert reasoning.verdict == "inconclusive (20 items, 20 groups)" and (reasoning.claimed_low, reasoning.claimed_high) == (0.4, 0.6)
    assert reasoning.ci_low < 0.4 and reasoning.ci_high > 0.6
    assert seed["Edge cases"].retention == pytest.approx(0.4)
    for name in ("Writing style", "Format/structure", "Common knowledge"):
        assert seed[name].retention is None and seed[name].verdict == "not measured" and seed[name].n == 0


def test_majority_vote():
    s = lambda a, c: {"answer": a, "correct": c}  # noqa: E731
    assert majority_correct([s(1, False), s(2, True), s(2, True)])
    assert not majority_correct([s(1, False), s(2, True)])  # tie: first answer seen wins
    assert majority_correct([s(None, False), s(None, False), s(2, True)])  # abstentions do not vote


def test_mitigation_pass1_majk_verified(tmp_path):
    def sampled(correct_flags):
        return [{"output": "", "answer": "right" if c else f"w{i}", "correct": c, "score": float(c)} for i, c in enumerate(correct_flags)]

    # Student: on every item 2 of 3 samples are right but the first is wrong.
    student = [Row(r.item_id, False, samples=sampled([False, True, True])) for r in items(10, True)]
    a = _analyse(tmp_path, items(10, True), student)
    m = {r.method: r for r in a.mitigation}
    assert m["pass@1"].student == pytest.approx(2 / 3)
    assert m["maj@1"].retention == 0.0
    assert m["maj@3"].retention == 1.0
    assert m["verified@3"].retention == 1.0


def test_relative_suite_hook_rescores_pairs(monkeypatch):
    from harness.retention import pairs

    class FakeStyle:
        relative = True

        def rescore_pairs(self, teacher, student):
            return [1.0] * len(teacher), [0.25] * len(student)

    monkeypatch.setattr(pairs, "_relative_suite", lambda name: FakeStyle if name == "fake_style" else None)
    from retention_data import record

    t = [record(r) for r in items(6, True, suite="fake_style", capability="style")]
    assert paired_scores(list(zip(t, t))) == ([1.0] * 6, [0.25] * 6)
    (row,) = retention_rows(t, t)
    assert row.retention == pytest.approx(0.25)


# The CLI on real results files from the reference model ------------------------------------
@pytest.fixture(scope="module")
def reference_runs(tmp_path_factory):
    from conftest import run_cli

    base = tmp_path_factory.mktemp("ref")
    for name, limit in (("a", "12"), ("b", "12"), ("short", "8")):
        proc = run_cli("eval", "--model", "reference", "--suite", "arithmetic", "--limit", limit, "--out", str(base / name), "--no-progress")
        assert proc.returncode == 0, proc.stderr
    return base


def test_cli_retention_formats(cli, reference_runs, tmp_path):
    a, b = str(reference_runs / "a"), str(reference_runs / "b")
    proc = cli("retention", "--teacher", a, "--student", b)
    assert proc.returncode == 0, proc.stderr
    assert "math" in proc.stdout and "100.0%" in proc.stdout and "seed 0" in proc.stdout
    for fmt, check in (
        ("md", lambda t: "| capability" in t and "### Retention per capability" in t),
        ("html", lambda t: ET.fromstring(f"<div>{t}</div>").find(".//table") is not None),
        ("latex", lambda t: "\\toprule" in t and "\\end{tabular}" in t and "100.0\\%" in t),
        ("json", lambda t: json.loads(t)["rows"][0]["retention"] == 1.0 and json.loads(t)["bootstrap"]["seed"] == 7),
        ("csv", lambda t: next(r for r in csv.DictReader(io.StringIO(t)) if r["view"] == "capability")["retention"] == "1.0"),
    ):
        out = tmp_path / f"table.{fmt}"
        proc = cli("retention", "--teacher", a, "--student", b, "--format", fmt, "--output", str(out), "--bootstrap-seed", "7")
        assert proc.returncode == 0, proc.stderr
        assert check(out.read_text()), (fmt, out.read_text()[:500])


def test_cli_seed_table(cli, reference_runs):
    proc = cli("retention", "--teacher", str(reference_runs / "a"), "--student", str(reference_runs / "b"), "--seed-table")
    assert proc.returncode == 0, proc.stderr
    lines = {line.split("  ")[0]: line for line in proc.stdout.splitlines()}
    assert "40%-60%" in lines["Novel reasoning"] and "100.0%" in lines["Novel reasoning"]
    assert "not measured" in lines["Writing style"] and "85%-95%" in lines["Writing style"]


def test_cli_different_limits_refused_then_intersected(cli, reference_runs):
    a, short = str(reference_runs / "a"), str(reference_runs / "short")
    proc = cli("retention", "--teacher", a, "--student", short)
    assert proc.returncode == 2
    assert "item sets differ" in proc.stderr and "--intersect" in proc.stderr
    proc = cli("retention", "--teacher", a, "--student", short, "--intersect")
    assert proc.returncode == 0, proc.stderr
    assert "kept 8 common items; dropped 4 teacher-only" in proc.stdout


def test_separate_runs_of_one_model_merge_with_commas(tmp_path):
    from harness.retention import load_merged

    t1 = make_results(tmp_path / "t1", "teacher", items(10, True))
    t2 = make_results(tmp_path / "t2", "teacher", items(10, True, suite="facts", capability="knowledge"))
    s1 = make_results(tmp_path / "s1", "student", items(10, [True, False] * 5))
    s2 = make_results(tmp_path / "s2", "student", items(10, True, suite="facts", capability="knowledge"))
    teacher, t_records = load_merged(f"{t1},{t2}")
    assert set(teacher.suites) == {"arithmetic", "facts"} and len(t_records) == 20
    a = analyse(teacher, t_records, *load_merged(f"{s2},{s1}"))
    assert {r.capability: r.retention for r in a.rows} == {"knowledge": 1.0, "math": 0.5}
    with pytest.raises(HarnessError, match="model 'student' is not 'teacher'"):
        load_merged(f"{t1},{s2}")
    with pytest.raises(HarnessError, match="arithmetic appear in more than one"):
        load_merged(f"{t1},{t1}")
