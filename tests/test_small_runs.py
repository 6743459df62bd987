"""Small runs that still mean something: --limit/--groups pick many problem groups, the seed
table's verdicts are only as strong as their intervals, thin ladder rungs are marked, and the
reference model against itself passes gate.yaml at make demo's size."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pytest
from conftest import REPO
from retention_data import Row, make_results

from harness.results import load_results
from harness.retention import analyse
from harness.retention.seed import verdict
from harness.retention.views import RetentionRow
from harness.selection import problem_groups, spread_order
from harness.suite import default_suite_names, get_suite

DEMO_LIMIT = 20


@pytest.fixture(scope="module")
def suites():
    return {name: get_suite(name) for name in default_suite_names()}


def _kinds(items):
    return Counter(it.variant.kind for it in items if not it.variant.is_canonical)


# --- --limit and --groups -------------------------------------------------------------------
@pytest.mark.parametrize("name", default_suite_names())
def test_limit_20_is_10_groups_of_a_canonical_item_and_one_twin(suites, name):
    suite = suites[name]
    split = suite.items("test")
    chosen = suite.items("test", limit=DEMO_LIMIT)
    assert len(chosen) == DEMO_LIMIT
    groups = problem_groups(chosen)
    assert len(groups) == DEMO_LIMIT // 2  # >= 10 groups: every retention CI of the capability is defined
    for g in groups:
        canonical, twin = g
        assert canonical.variant.is_canonical and not twin.variant.is_canonical
        assert twin.variant.canonical_id == canonical.id
    # The twin's kind rotates: every perturbation kind of the suite appears, none more than once ahead of another.
    kinds, every_kind = _kinds(chosen), set(_kinds(split))
    assert set(kinds) == every_kind, (name, kinds)
    assert max(kinds.values()) - min(kinds.values()) <= 1, (name, kinds)
    # The groups are spread over the whole split, not its first few problems.
    positions = {g[0].group_id: i for i, g in enumerate(problem_groups(split))}
    where = sorted(positions[g[0].group_id] for g in groups)
    total = len(positions)
    assert where[0] == 0 and max(b - a for a, b in zip(where, [*where[1:], total], strict=True)) <= 2 * total / len(groups) + 1


def test_every_level_of_the_ladders_appears_when_groups_allow(suites):
    for name in ("math", "logic"):
        split = suites[name].items("test")
        every = {(it.variant.kind, it.variant.level) for it in split if not it.variant.is_canonical}
        chosen = suites[name].items("test", limit=2 * len(problem_groups(split)))  # one twin for every group
        assert {(it.variant.kind, it.variant.level) for it in chosen if not it.variant.is_canonical} == every, name


def test_small_limits_are_among_larger_ones_and_a_large_limit_is_the_split(suites):
    for name in ("arithmetic", "edge_cases", "logic"):
        suite = suites[name]
        split = suite.items("test")
        previous: set[str] = set()
        for n in (1, 2, 3, 7, 20, 21, 40, len(split) - 1):
            ids = [it.id for it in suite.items("test", limit=n)]
            assert len(ids) == n and previous <= set(ids), (name, n)
            previous = set(ids)
        assert [it.id for it in suite.items("test", limit=len(split) + 5)] == [it.id for it in split]
        assert [it.id for it in suite.items("test", limit=1)] == [split[0].id]


@pytest.mark.parametrize("name", default_suite_names())
def test_groups_gives_exactly_g_complete_groups(suites, name):
    suite = suites[name]
    whole = {g[0].group_id: len(g) for g in problem_groups(suite.items("test"))}
    for g in (1, 3, 10):
        chosen = suite.items("test", groups=g)
        sizes = Counter(it.group_id for it in chosen)
        assert len(sizes) == g
        assert all(whole[gid] == n for gid, n in sizes.items()), name  # complete groups
    # --groups then --limit: the limit among those groups, as the limit alone picks them while it fits.
    both = suite.items("test", groups=10, limit=DEMO_LIMIT)
    assert [it.id for it in both] == [it.id for it in suite.items("test", limit=DEMO_LIMIT)]
    assert {it.group_id for it in suite.items("test", groups=4, limit=40)} == {it.group_id for it in suite.items("test", groups=4)}


def test_variant_restriction_applies_the_same_rule(suites):
    math = suites["math"]
    canonical = math.items("test", variants=["canonical"], limit=DEMO_LIMIT)
    assert len(canonical) == DEMO_LIMIT and len({it.group_id for it in canonical}) == DEMO_LIMIT
    twins = math.items("test", variants=["numbers", "distractor"], limit=10)
    assert len({it.group_id for it in twins}) == 10 and _kinds(twins) == {"numbers": 5, "distractor": 5}
    steps = math.items("test", variants=["canonical", "steps"], limit=12)
    assert [it.variant.kind for it in steps] == ["canonical", "steps"] * 6
    assert len({it.variant.level for it in steps if it.variant.kind == "steps"}) == 6  # the levels rotate too


def test_train_split_limit_spreads_canonical_problems(suites):
    train = suites["arithmetic"].items("train", limit=10)
    assert len(train) == 10 and all(it.variant.is_canonical for it in train)
    assert train[-1].id > "arithmetic/train/00200"  # not the first ten


def test_spread_order_is_every_index_once_and_each_prefix_spread():
    for total in (1, 2, 7, 40, 65, 104):
        order = spread_order(total)
        assert sorted(order) == list(range(total))
        for g in range(1, total + 1):
            where = sorted(order[:g])
            assert max(b - a for a, b in zip(where, [*where[1:], total], strict=True)) <= 2 * total / g + 1


def test_selection_is_deterministic_across_processes():
    code = (
        "from harness.suite import default_suite_names, get_suite\n"
        "for n in default_suite_names():\n"
        "    s = get_suite(n)\n"
        "    print(n, [it.id for it in s.items('test', limit=21)], [it.id for it in s.items('test', groups=3, limit=5)])\n"
    )
    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
        assert proc.returncode == 0, proc.stderr
        outputs.add(proc.stdout)
    assert len(outputs) == 1
    here = {line.split(" ", 1)[0] for line in outputs.pop().splitlines()}
    assert here == set(default_suite_names())


# --- the seed table: a verdict only as strong as its interval ----------------------------------
def _row(retention, ci=(None, None), n=20, n_groups=10):
    return RetentionRow("x", 1.0, retention, retention, n, n_groups, ci[0], ci[1])


@pytest.mark.parametrize(
    ("retention", "ci", "expected"),
    [
        (0.2, (None, None), "inconclusive (20 items, 10 groups)"),  # undefined CI, point far below: not "below"
        (0.99, (None, None), "inconclusive (20 items, 10 groups)"),
        (0.80, (0.70, 0.88), "inconclusive (20 items, 10 groups)"),  # straddles the low boundary 85 %
        (0.90, (0.87, 0.99), "inconclusive (20 items, 10 groups)"),  # point inside, CI straddles the high boundary
        (0.90, (0.80, 0.99), "inconclusive (20 items, 10 groups)"),  # wider than the range it contains
        (0.50, (0.40, 0.60), "below claimed"),
        (0.97, (0.96, 0.99), "above claimed"),
        (0.90, (0.86, 0.94), "consistent"),
        (0.85, (0.85, 0.95), "consistent"),  # the bounds themselves are inside
    ],
)
def test_seed_verdicts(retention, ci, expected):
    assert verdict(_row(retention, ci), 0.85, 0.95) == expected


def test_seed_verdict_without_items_or_estimate():
    assert verdict(_row(None, n=0, n_groups=0), 0.3, 0.5) == "not measured"
    assert verdict(_row(None, n=8, n_groups=4), 0.3, 0.5) == "inconclusive (8 items, 4 groups)"  # teacher score 0


# --- ladders: rungs with too few problem groups are marked, not read -----------------------
def _ladder_rows(problems: int, accuracy: dict[int, float]) -> list[Row]:
    rows = []
    for rung, acc in accuracy.items():
        right = round(acc * problems)
        for i in range(problems):
            base = f"arithmetic/test/{i:05d}"
            rows.append(Row(base if rung == 0 else f"{base}/steps{rung}", i < right,
                            variant="canonical" if rung == 0 else "steps", level=rung))
    return rows


def test_thin_ladder_rungs_are_marked_in_every_format(tmp_path):
    from harness.report.html import StudentReport, build_report
    from harness.report.tables import render

    teacher = make_results(tmp_path / "t", "teacher", _ladder_rows(4, {0: 1.0, 1: 1.0, 2: 1.0}))
    student = make_results(tmp_path / "s", "student", _ladder_rows(4, {0: 1.0, 1: 0.0, 2: 0.0}))
    t, tr = load_results(teacher)
    s, sr = load_results(student)
    analysis = analyse(t, tr, s, sr)
    (ladder,) = analysis.ladders
    assert all(r.too_few_groups and r.note == "too few groups (4)" for r in ladder.rungs)
    # A rung of four problems at 0 % is no breaking point.
    assert not ladder.student_break.reached and "too few groups (4)" in ladder.student_break.reason
    assert not ladder.retention_break.reached
    for fmt in ("text", "md", "html"):
        text = render(analysis, fmt)
        section = text.split("Accuracy against difficulty", 1)[1]
        assert "too few groups (4)" in section and "0.0%" not in section and "100.0%" not in section, fmt
    data = json.loads(render(analysis, "json"))
    assert all(r["too_few_groups"] and r["note"] == "too few groups (4)" for r in data["ladders"][0]["rungs"])
    page = build_report(t, [StudentReport("student", analysis)])
    ladder_part = page.split("where each model breaks", 1)[1].split("<h3>", 1)[0]
    assert "too few groups (4)" in ladder_part and "rung 1" not in ladder_part.split("<table", 2)[1].split("</table>")[0]


def test_rungs_with_enough_groups_are_read(tmp_path):
    teacher = make_results(tmp_path / "t", "teacher", _ladder_rows(12, {0: 1.0, 1: 1.0, 2: 1.0}))
    student = make_results(tmp_path / "s", "student", _ladder_rows(12, {0: 1.0, 1: 0.25, 2: 0.0}))
    (ladder,) = analyse(*load_results(teacher), *load_results(student)).ladders
    assert not any(r.too_few_groups for r in ladder.rungs)
    assert ladder.student_break.reached and ladder.student_break.rung == 1


# --- make demo's size, end to end with the reference model -----------------------------------
@pytest.fixture(scope="module")
def reference_demo(tmp_path_factory):
    from conftest import run_cli

    out = tmp_path_factory.mktemp("demo") / "A"
    proc = run_cli("eval", "--model", "reference", "--limit", str(DEMO_LIMIT), "--out", str(out), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    return out


def test_reference_against_itself_passes_gate_yaml(cli, reference_demo, tmp_path):
    proc = cli("gate", "--policy", str(REPO / "gate.yaml"), "--teacher", str(reference_demo), "--student", str(reference_demo),
               "--json", str(tmp_path / "gate.json"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    verdict_json = json.loads((tmp_path / "gate.json").read_text())
    assert verdict_json["verdict"] == "pass"
    assert not any("undefined" in r["message"] for r in verdict_json["results"])
    assert {r["capability"] for r in verdict_json["results"] if r["rule"] == "retention_floor"} == {
        "code", "edge_cases", "format", "knowledge", "logic", "math", "style"}


def test_reference_retention_at_demo_size_has_defined_cis_on_every_row(cli, reference_demo):
    proc = cli("retention", "--teacher", str(reference_demo), "--student", str(reference_demo), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    rows = {r["capability"]: r for r in data["rows"]}
    assert set(rows) == {"code", "edge_cases", "format", "knowledge", "logic", "math", "style"}
    for cap, row in rows.items():
        assert row["n_groups"] >= 10 and row["ci_low"] is not None and row["ci_high"] is not None, cap
    seed = {r["capability"]: r for r in data["seed_table"]}
    assert all(r["verdict"] == "above claimed" for r in seed.values()), seed  # 100 % with a defined interval
    text = cli("retention", "--teacher", str(reference_demo), "--student", str(reference_demo)).stdout
    table = text.split("Retention per capability", 1)[1].split("\n\n", 1)[0]
    assert "undefined" not in table


def test_a_weak_student_at_demo_size_is_refused_for_measured_reasons(cli, reference_demo, tmp_path):
    import shutil

    weak = tmp_path / "weak"
    shutil.copytree(reference_demo, weak)
    rows = [json.loads(line) for line in (weak / "samples.jsonl").read_text().splitlines()]
    for i, row in enumerate(rows):
        if i % 4:  # right on a quarter of the items, and says nothing useful on the rest
            row.update(output="I am not sure.", answer=None, correct=False, score=0.0)
    (weak / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    proc = cli("gate", "--policy", str(REPO / "gate.yaml"), "--teacher", str(reference_demo), "--student", str(weak),
               "--json", str(tmp_path / "gate.json"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    failures = [r for r in json.loads((tmp_path / "gate.json").read_text())["results"] if r["status"] == "fail"]
    assert {r["rule"] for r in failures} >= {"retention_floor", "score_floor", "perturbation_floor"}
    for r in failures:  # every refusal names a measured number, none an undefined interval
        assert r["measured"] is not None and "undefined" not in r["message"] and "fails closed" not in r["message"], r
