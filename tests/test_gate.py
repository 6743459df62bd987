"""The release gate: policy validation, rules, exit codes, JSON and JUnit verdicts."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from retention_data import items, make_results

from harness.errors import HarnessError
from harness.gate import evaluate_gate
from harness.policy import load_policy, parse_policy
from harness.results import load_results
from harness.retention import analyse

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def runs(tmp_path):
    """teacher all right; 'same' = teacher; 'half' right on half; 'good' right on 36/40."""
    perturbed = lambda flags: items(20, flags, variant="numbers")  # noqa: E731
    return {
        "teacher": make_results(tmp_path / "teacher", "teacher", items(20, True) + perturbed(True)),
        "same": make_results(tmp_path / "same", "same", items(20, True) + perturbed(True)),
        "half": make_results(tmp_path / "half", "half", items(20, True) + perturbed(False)),
        "good": make_results(tmp_path / "good", "good", items(20, True) + perturbed([True] * 16 + [False] * 4)),
        "short": make_results(tmp_path / "short", "short", items(10, True)),
    }


def _verdict(runs, student, policy, baseline=None):
    t = load_results(runs["teacher"])
    a = analyse(*t, *load_results(runs[student]))
    b = analyse(*t, *load_results(runs[baseline])) if baseline else None
    return evaluate_gate(parse_policy(policy), a, b)


def test_retention_floor_on_point_vs_ci_low(runs):
    # 'good' keeps 90 %: its point estimate passes 0.85, the CI's lower bound does not.
    point = _verdict(runs, "good", {"retention_statistic": "point", "retention_floors": {"math": 0.85}})
    ci = _verdict(runs, "good", {"retention_statistic": "ci_low", "retention_floors": {"math": 0.85}})
    assert point.passed and not ci.passed
    (fail,) = ci.failures
    assert fail.rule == "retention_floor" and fail.measured < 0.85
    assert "CI lower bound" in fail.message and "point 90.0%" in fail.message


def test_score_floor_required_capability_and_perturbation_floor(runs):
    v = _verdict(runs, "half", {
        "score_floors": {"math": 0.6},
        "required_capabilities": ["math", "code"],
        "perturbation_floors": {"math": {"numbers": 0.3, "names": 0.1, "canonical": 0.9}},
        "retention_statistic": "point",
    })
    failed = {f.name: f for f in v.failures}
    assert set(failed) == {"score_floor[math]", "required_capability[code]", "perturbation_floor[math/numbers]", "perturbation_floor[math/names]"}
    assert failed["score_floor[math]"].measured == pytest.approx(0.5)
    assert "student score 50.0% < floor 60.0%" in failed["score_floor[math]"].message
    assert "missing" in failed["required_capability[code]"].message
    assert failed["perturbation_floor[math/numbers]"].measured == 0.0
    assert "no 'names' items" in failed["perturbation_floor[math/names]"].message
    passed = [r.name for r in v.results if r.status == "pass"]
    assert "perturbation_floor[math/canonical]" in passed and "required_capability[math]" in passed


def test_max_regression_against_baseline(runs):
    policy = {"max_regression": {"default": 0.05}}
    v = _verdict(runs, "good", policy, baseline="same")
    (fail,) = v.failures
    assert fail.rule == "max_regression" and fail.measured == pytest.approx(0.1)
    assert _verdict(runs, "good", policy, baseline="good").passed
    skipped = _verdict(runs, "good", policy)
    assert skipped.passed and any("no --baseline" in n for n in skipped.notes)


def test_undefined_retention_fails_closed(tmp_path):
    t = make_results(tmp_path / "t", "t", items(10, False))
    s = make_results(tmp_path / "s", "s", items(10, True))
    v = evaluate_gate(parse_policy({"retention_floors": {"default": 0.5}}), analyse(*load_results(t), *load_results(s)))
    (fail,) = v.failures
    assert "undefined (teacher score is 0)" in fail.message


@pytest.mark.parametrize(
    "policy, message",
    [
        ({"retention_floors": {"mth": 0.5}}, "retention_floors: unknown capability 'mth'.*did you mean 'math'"),
        ({"retention_floors": {"math": 80}}, "retention_floors: math: retention floor 80.0 is outside 0..2"),
        ({"retention_floors": {"math": "high"}}, "retention_floors.math: Input should be a valid number"),
        ({"retention_floor": {"math": 0.5}}, "retention_floor: unknown field.*did you mean 'retention_floors'"),
        ({"retention_statistic": "mean", "score_floors": {"math": 0.1}}, "retention_statistic: Input should be 'ci_low' or 'point' \\(got 'mean'\\)"),
        ({"score_floors": {"math": 1.5}}, "score_floors: math: 1.5 is outside 0..1"),
        ({"score_floors": {"default": 0.5}}, "score_floors: unknown capability 'default'"),
        ({"max_regression": {"default": -0.1}}, "max_regression: default: -0.1 is outside 0..1"),
        ({"required_capabilities": "math"}, "required_capabilities: Input should be a valid list"),
        ({"required_capabilities": ["maths"]}, "required_capabilities: unknown capability 'maths'"),
        ({"perturbation_floors": {"math": 0.5}}, "perturbation_floors.math: Input should be a valid dictionary"),
        ({"perturbation_floors": {"math": {"numbers": 3}}}, "perturbation_floors: math.numbers: retention floor 3.0 is outside"),
        ({"bootstrap": {"resamples": 10}, "score_floors": {"math": 0.1}}, "bootstrap.resamples: Input should be greater than or equal to 100"),
        ({"bootstrap": {"confidence": 95}, "score_floors": {"math": 0.1}}, "bootstrap.confidence: Input should be less than 1"),
        ({"bootstrap": {"seeds": 1}, "score_floors": {"math": 0.1}}, "bootstrap.seeds: unknown field.*did you mean 'seed'"),
        ({"version": 2, "score_floors": {"math": 0.1}}, "version: Input should be 1"),
        ({}, "it sets no rule"),
        (["math"], "expected a mapping"),
    ],
)
def test_every_malformed_policy_field_gives_a_clear_message(policy, message):
    with pytest.raises(HarnessError, match=message):
        parse_policy(policy, "gate.yaml")


def test_policy_file_errors(tmp_path):
    with pytest.raises(HarnessError, match="gate policy not found"):
        load_policy(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("retention_floors: {math: [\n")
    with pytest.raises(HarnessError, match="not valid YAML"):
        load_policy(bad)


def test_sample_policy_in_repo_is_valid():
    policy = load_policy(REPO / "gate.yaml")
    assert policy.retention_statistic == "ci_low" and "math" in policy.required_capabilities


def test_cli_exit_codes_json_and_junit(cli, runs, tmp_path):
    policy = tmp_path / "gate.yaml"
    policy.write_text("retention_statistic: point\nretention_floors: {default: 0.8}\nrequired_capabilities: [math]\n")
    args = ["gate", "--policy", str(policy), "--teacher", str(runs["teacher"])]

    ok = cli(*args, "--student", str(runs["same"]))
    assert ok.returncode == 0, ok.stderr + ok.stdout
    assert "gate: passed" in ok.stdout

    verdict, junit = tmp_path / "verdict.json", tmp_path / "junit.xml"
    fail = cli(*args, "--student", str(runs["half"]), "--json", str(verdict), "--junit", str(junit))
    assert fail.returncode == 1, fail.stderr
    assert "FAIL  retention_floor[math]: retention 50.0% (n=40) < floor 80.0%" in fail.stdout
    data = json.loads(verdict.read_text())
    assert data["verdict"] == "fail" and data["policy"]["bootstrap"]["seed"] == 0
    assert data["retention"][0]["capability"] == "math" and data["retention"][0]["retention"] == 0.5
    failed = [r for r in data["results"] if r["status"] == "fail"]
    assert [(r["rule"], r["capability"], r["measured"]) for r in failed] == [("retention_floor", "math", 0.5)]
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("failures") == "1" and suite.get("tests") == "2"
    failure = suite.find("testcase[@name='retention_floor[math]']/failure")
    assert failure is not None and "50.0%" in failure.get("message")

    bad_policy = tmp_path / "bad.yaml"
    bad_policy.write_text("retention_floors: {mth: 0.8}\n")
    bad = cli("gate", "--policy", str(bad_policy), "--teacher", str(runs["teacher"]), "--student", str(runs["same"]))
    assert bad.returncode == 2 and "unknown capability 'mth'" in bad.stderr

    mismatched = cli(*args, "--student", str(runs["short"]))
    assert mismatched.returncode == 2 and "item sets differ" in mismatched.stderr


def test_cli_min_retention_shortcut(cli, runs):
    base = ["gate", "--teacher", str(runs["teacher"]), "--student", str(runs["good"])]
    assert cli(*base, "--min-retention", "0.85").returncode == 0
    low = cli(*base, "--min-retention", "0.95")
    assert low.returncode == 1 and "retention 90.0% (n=40) < floor 95.0%" in low.stdout
    assert cli(*base, "--min-retention", "-1").returncode == 2
