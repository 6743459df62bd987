"""The mitigation table (harness/retention/remedies.py): the memorisation gap's interval by simulation,
the rows a base student, a treated run and a sampled run give, and the same table through
`harness retention --remedy`, the HTML report and the gate's min_lift rule."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from retention_data import Row, items, make_results
from scipy.stats import norm

from harness.retention.pairs import ScoredPair
from harness.retention.remedies import memorisation_gap
from harness.stats import BootstrapSettings
from harness.types import SampleRecord

SETTINGS = BootstrapSettings(n_resamples=1000)


def _pair(item: str, canonical_id: str | None, score: float) -> ScoredPair:
    rec = SampleRecord(item_id=item, suite="arithmetic", capability="math", split="test",
                       variant="canonical" if canonical_id is None else "numbers",
                       perturbation_level=0 if canonical_id is None else 1, canonical_id=canonical_id,
                       output="", correct=bool(score), score=score)
    return ScoredPair(rec, rec, 1.0, score, True, bool(score))


def simulated_gap_pairs(rng: np.random.Generator, n_groups: int, twins: int, p_canonical: float, p_perturbed: float,
                        correlation: float) -> list[ScoredPair]:
    """Each group: a canonical item and `twins` perturbed ones, sharing a latent difficulty."""
    pairs = []
    for g in range(n_groups):
        shared = rng.normal()
        latent = np.sqrt(correlation) * shared + np.sqrt(1 - correlation) * rng.normal(size=twins + 1)
        pairs.append(_pair(f"g{g}", None, float(latent[0] < norm.ppf(p_canonical))))
        pairs += [_pair(f"g{g}/t{t}", f"g{g}", float(x < norm.ppf(p_perturbed))) for t, x in enumerate(latent[1:])]
    return pairs


@pytest.mark.parametrize("n_groups,twins", [(10, 1), (40, 4)])
def test_memorisation_gap_interval_covers_the_true_gap(n_groups, twins):
    rng = np.random.default_rng(7)
    hits = defined = 0
    for _ in range(300):
        gap = memorisation_gap(simulated_gap_pairs(rng, n_groups, twins, 0.7, 0.45, 0.7), SETTINGS)
        assert gap.n_groups == n_groups
        if gap.ci_low is None:
            continue
        defined += 1
        hits += gap.ci_low <= 0.25 <= gap.ci_high
    assert defined >= 290
    assert 0.91 <= hits / defined <= 0.99, hits / defined


def test_memorisation_gap_of_a_surface_learner_and_of_an_understander():
    surface = [_pair(f"g{g}", None, 1.0) for g in range(12)] + [_pair(f"g{g}/n", f"g{g}", 0.0) for g in range(12)]
    understood = [_pair(f"g{g}", None, 1.0) for g in range(12)] + [_pair(f"g{g}/n", f"g{g}", 1.0) for g in range(12)]
    assert memorisation_gap(surface, SETTINGS).value == 1.0
    assert memorisation_gap(understood, SETTINGS).value == 0.0
    assert memorisation_gap(surface[:12], SETTINGS).value is None  # no perturbed twins: no gap


N = 20  # problem groups: a canonical item and one perturbed twin each


def run_rows(canonical_right: int, perturbed_right: int, samples: list[list[dict]] | None = None) -> list[Row]:
    canon = items(N, [i < canonical_right for i in range(N)])
    twins = items(N, [i < perturbed_right for i in range(N)], variant="numbers")
    rows = canon + twins
    if samples is not None:
        for row, s in zip(rows, samples, strict=True):
            row.samples = s
            row.correct = sum(x["correct"] for x in s) > len(s) / 2
    return rows


def _samples(right_first: bool) -> list[dict]:
    """8 samples: a majority of right answers (3 of the first 4), or a minority (1 of the first 4)."""
    pattern = [1, 1, 1, 0, 0, 1, 1, 0] if right_first else [0, 0, 0, 1, 0, 1, 0, 0]
    return [{"answer": "right" if r else "wrong", "correct": bool(r)} for r in pattern]


@pytest.fixture()
def study(tmp_path):
    voted = [_samples(i % N < 15) for i in range(2 * N)]
    return {
        "teacher": make_results(tmp_path / "teacher", "teacher", run_rows(N, N)),
        "base": make_results(tmp_path / "base", "student", run_rows(10, 5)),
        "sft": make_results(tmp_path / "sft", "student-sft", run_rows(N, 5)),  # learnt the canonical surface only
        "vote": make_results(tmp_path / "vote", "student-sft", run_rows(0, 0, voted)),
    }


def harness(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_retention_with_remedies_gives_the_mitigation_table(study, tmp_path):
    out = tmp_path / "table.json"
    proc = harness("retention", "--teacher", str(study["teacher"]), "--student", str(study["base"]),
                   "--remedy", f"sft={study['sft']}", "--remedy", f"vote={study['vote']}", "--output", str(out))
    assert "Mitigations: what each remedy bought over the base student" in proc.stdout
    rows = {r["remedy"]: r for r in json.loads(out.read_text())["remedies"]}
    assert list(rows) == ["base", "sft", "vote", "vote maj@4", "vote maj@8", "vote verified@8"]
    base, sft = rows["base"], rows["sft"]
    assert base["lift"] is None and base["student"] == pytest.approx(15 / 40)
    assert base["gap"] == pytest.approx(0.25) and base["gap_groups"] == N
    # SFT: +10 canonical items, nothing on the twins: a real lift, and a wider gap
    assert sft["lift"] == pytest.approx(10 / 40) and (sft["gained"], sft["lost"]) == (10, 0)
    assert sft["lift_ci_low"] > 0 and sft["lift_p_value"] < 0.01
    assert sft["gap"] == pytest.approx(0.75) and sft["gap_ci_low"] > base["gap"]  # the wider gap is outside noise
    assert sft["retention"] == pytest.approx(25 / 40)
    # voting: 15 of 20 groups voted right (both variants), the oracle verifier finds a right sample everywhere
    assert rows["vote maj@8"]["student"] == pytest.approx(30 / 40)
    assert rows["vote maj@4"]["student"] == pytest.approx(30 / 40)
    assert rows["vote"]["student"] == pytest.approx(30 / 40)  # the run's own recorded vote
    assert rows["vote verified@8"]["student"] == 1.0 and rows["vote verified@8"]["gap"] == 0.0
    assert rows["vote maj@8"]["lift"] == pytest.approx(15 / 40)


def test_report_shows_the_mitigation_table(study, tmp_path):
    html = tmp_path / "report.html"
    harness("report", str(study["base"]), "--teacher", str(study["teacher"]), "--remedy", f"sft={study['sft']}",
            "--out", str(html))
    text = html.read_text()
    assert "Mitigations: what each remedy bought" in text and "+25.0" in text


def test_bad_remedy_arguments_exit_2(study):
    for bad in ("sft", "=x", f"base={study['sft']}", "sft=/no/such/run"):
        proc = harness("retention", "--teacher", str(study["teacher"]), "--student", str(study["base"]), "--remedy", bad,
                       check=False)
        assert proc.returncode == 2, (bad, proc.stderr)
        assert "--remedy" in proc.stderr


def _policy(tmp_path, min_lift: float, statistic: str = "ci_low") -> str:
    path = tmp_path / f"policy-{min_lift}-{statistic}.yaml"
    path.write_text(f"retention_statistic: {statistic}\nmin_lift: {{math: {min_lift}}}\nbootstrap: {{resamples: 1000}}\n")
    return str(path)


def test_gate_min_lift(study, tmp_path):
    common = ("gate", "--teacher", str(study["teacher"]), "--student", str(study["sft"]))
    passed = harness(*common, "--lift-base", str(study["base"]), "--policy", _policy(tmp_path, 0.05))
    assert "PASS  min_lift[math]: lift CI lower bound" in passed.stdout
    failed = harness(*common, "--lift-base", str(study["base"]), "--policy", _policy(tmp_path, 0.3, "point"), check=False)
    assert failed.returncode == 1 and "FAIL  min_lift[math]: lift +25.0%" in failed.stdout
    closed = harness(*common, "--policy", _policy(tmp_path, 0.0), check=False)
    assert closed.returncode == 1 and "min_lift needs --lift-base" in closed.stdout


def test_policy_refuses_a_lift_outside_its_range(tmp_path):
    from harness.errors import HarnessError
    from harness.policy import parse_policy

    with pytest.raises(HarnessError, match="outside -1..1"):
        parse_policy({"min_lift": {"math": 5}}, "test")
    assert parse_policy({"min_lift": {"default": -0.02}}, "test").min_lift == {"default": -0.02}
