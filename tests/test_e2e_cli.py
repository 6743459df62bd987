"""The whole user path from the CLI on the real embedded student: eval -> retention -> gate -> report.

The `reference` teacher and the embedded SmolLM2-135M student (hf backend, from a fresh harness
cache, so the first use converts the GGUF file) on math and logic; every step is the installed
`harness` command, and each step's files are read back. This test subsumes the former
tests/test_embedded_model.py (conversion, cached reload, greedy determinism) and
test_math_suite.py's embedded math+logic run.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

from conftest import REPO

LIMIT = 6
MAX_NEW = "64"
SUITES = ("--suite", "math", "--suite", "logic")


class _Tables(HTMLParser):
    """The text of every table cell, row by row."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _samples(run):
    return [json.loads(line) for line in (run / "samples.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_embedded_student_against_reference_teacher_eval_retention_gate_report(cli, tmp_path):
    cache = tmp_path / "cache"
    env = {"HARNESS_CACHE": str(cache), "HARNESS_ENGINE": "hf"}
    teacher, student = tmp_path / "teacher", tmp_path / "student"
    common = (*SUITES, "--limit", str(LIMIT), "--no-progress")

    # eval: the teacher, then the student from an empty cache (the GGUF file is converted once)
    t = cli("eval", "--model", "reference", *common, "--max-new-tokens", MAX_NEW, "--out", str(teacher), env=env)  # the student's budget
    assert t.returncode == 0, t.stderr[-2000:]
    s = cli("eval", *common, "--max-new-tokens", MAX_NEW, "--out", str(student), env=env)
    assert s.returncode == 0, s.stderr[-3000:]
    assert "converting embedded model smollm2-135m" in s.stderr
    checkpoint = cache / "models" / "smollm2-135m"
    assert (checkpoint / "model.safetensors").is_file()
    assert "quantization_config" not in json.loads((checkpoint / "config.json").read_text())  # plain float weights

    results = json.loads((student / "results.json").read_text())
    assert results["schema_version"] == 2 and results["harness_version"]
    assert results["model"]["spec"] == "smollm2-135m" and results["model"]["backend"] == "hf"
    assert results["model"]["fingerprint"]["path"] == str(checkpoint)
    assert results["generation"]["max_new_tokens"] == int(MAX_NEW) and results["generation"]["temperature"] == 0.0
    assert set(results["suites"]) == {"math", "logic"}
    teacher_results = json.loads((teacher / "results.json").read_text())
    for name, suite in results["suites"].items():
        assert suite["n_items"] == LIMIT and suite["split"] == "test"
        assert suite["hash"] == teacher_results["suites"][name]["hash"]  # the same items, so they pair
    for capability in ("math", "logic"):
        summary = results["capabilities"][capability]
        assert summary["n"] == LIMIT and 0.0 <= summary["score"] <= 1.0
        assert "canonical" in summary["variants"] and len(summary["variants"]) >= 3  # perturbed variants scored apart
        assert teacher_results["capabilities"][capability]["score"] == 1.0
    samples = _samples(student)
    assert len(samples) == 2 * LIMIT
    assert all(r["output"].strip() for r in samples)  # the model really wrote something
    assert all(isinstance(r["correct"], bool) and r["finish_reason"] in ("stop", "length") for r in samples)

    # the cached checkpoint loads without converting again, and greedy decoding repeats itself
    again = tmp_path / "again"
    a = cli("eval", "--model", "smollm2-135m", *common, "--max-new-tokens", MAX_NEW, "--no-cache", "--out", str(again),
            env=env)
    assert a.returncode == 0, a.stderr[-3000:]
    assert "converting" not in a.stderr
    assert [r["output"] for r in _samples(again)] == [r["output"] for r in samples]

    # retention: the table as JSON, one row per capability, the student's scores over the teacher's
    table = tmp_path / "retention.json"
    r = cli("retention", "--teacher", str(teacher), "--student", str(student), "--format", "json", "--output", str(table))
    assert r.returncode == 0, r.stderr
    analysis = json.loads(table.read_text())
    assert analysis["teacher_spec"] == "reference" and analysis["student_spec"] == "smollm2-135m"
    rows = {row["capability"]: row for row in analysis["rows"]}
    assert set(rows) == {"math", "logic"}
    for capability, row in rows.items():
        score = results["capabilities"][capability]["score"]
        assert row["n"] == LIMIT and row["teacher"] == 1.0 and row["student"] == pytest.approx(score)
        assert row["retention"] == pytest.approx(score)  # over a teacher that scores 1.0
        assert row["ci_low"] is None and "problem groups" in row["undefined_reason"]  # 6 items are too few groups

    # gate: the repository's policy refuses this student (exit 1) and says why in the JSON verdict
    verdict_path = tmp_path / "gate.json"
    g = cli("gate", "--policy", str(REPO / "gate.yaml"), "--teacher", str(teacher), "--student", str(student),
            "--json", str(verdict_path))
    assert g.returncode == 1, g.stdout + g.stderr
    verdict = json.loads(verdict_path.read_text())
    assert verdict["verdict"] == "fail" and verdict["passed"] is False
    assert verdict["teacher"] == "reference" and verdict["student"] == "smollm2-135m"
    status = {f"{res['rule']}[{res['capability']}]": res["status"] for res in verdict["results"]}
    assert status["required_capability[math]"] == "pass"
    assert status["retention_floor[math]"] == "fail"  # a CI from too few groups is undefined: fails closed
    assert {"math", "logic"} <= {row["capability"] for row in verdict["retention"]}
    assert "FAIL" in g.stdout

    # report: one HTML file whose retention table has the student's row for each capability
    report = tmp_path / "report.html"
    p = cli("report", "--teacher", str(teacher), str(student), "--out", str(report))
    assert p.returncode == 0, p.stderr
    html = report.read_text()
    assert "Retention per capability" in html and "smollm2-135m" in html
    parsed = _Tables()
    parsed.feed(html)
    header = parsed.rows.index(["capability", "teacher", "student", "retention", "95% CI", "n", "T only", "S only", "McNemar p"])
    body = {row[0]: row for row in parsed.rows[header + 1 : header + 3]}
    assert set(body) == {"math", "logic"}
    for capability, row in body.items():
        want = rows[capability]
        assert row[1:4] == ["1.000", f"{want['student']:.3f}", f"{100 * want['retention']:.1f}%"], row
        assert row[4] == "undefined" and row[5].startswith(f"{LIMIT} (")
