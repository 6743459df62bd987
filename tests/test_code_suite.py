"""The code suite: references pass in the sandbox, perturbations bite, extraction and pass@k are right."""

from __future__ import annotations

import itertools
import json

import pytest

from harness.scoring.code_extract import extract_code
from harness.scoring.pass_at_k import mean_pass_at_k, pass_at_k, pass_at_k_from_records
from harness.suite import get_suite
from harness.tasks._code_families import FAMILIES


@pytest.fixture(scope="module")
def suite():
    return get_suite("code", size=len(FAMILIES))  # one canonical test item per family


def by_kind(suite, kind):
    return {it.variant.canonical_id or it.id: it for it in suite.items("test") if it.variant.kind == kind}


def test_families_and_hidden_tests(suite):
    assert len(FAMILIES) >= 25
    canonical = by_kind(suite, "canonical")
    assert {it.metadata["family"] for it in canonical.values()} == {f.key for f in FAMILIES}
    for item in suite.items("test"):
        tests = item.answer["tests"]
        assert len(tests) >= (20 if item.variant.kind == "extra_tests" else 10), item.id
        assert ">>> " in item.messages[0].content and item.answer["entry_point"] in item.messages[0].content
    # edge inputs are among the hidden tests: some empty, some negative, some non-ASCII
    flat = [json.dumps(t["args"], ensure_ascii=False) for it in canonical.values() for t in it.answer["tests"]]
    assert any(a in ('[""]', "[[]]", "[{}]") for a in flat)
    assert any("-" in a for a in flat)
    assert any(any(ord(ch) > 127 for ch in a) for a in flat)


def test_every_reference_passes_its_hidden_tests_in_the_sandbox(suite):
    items = [it for it in suite.items("test") if it.variant.kind in ("canonical", "spec", "extra_tests", "renamed")]
    scores = suite.score_many(items, [it.reference_response for it in items])
    failed = [(it.id, s.reason) for it, s in zip(items, scores) if not s.correct]
    assert not failed, failed[:3]
    assert all(s.details["passed"] == s.details["total"] >= 10 for s in scores)


def test_canonical_solution_fails_changed_spec_and_renamed_variants(suite):
    canonical, spec, renamed = by_kind(suite, "canonical"), by_kind(suite, "spec"), by_kind(suite, "renamed")
    items = [spec[cid] for cid in canonical] + [renamed[cid] for cid in canonical]
    outputs = [canonical[cid].reference_response for cid in canonical] * 2
    scores = suite.score_many(items, outputs)
    wrongly_passed = [it.id for it, s in zip(items, scores) if s.correct]
    assert not wrongly_passed, wrongly_passed
    assert all(spec[cid].metadata["constant"] != canonical[cid].metadata["constant"] for cid in canonical)
    assert all("wrong value" in s.reason for s in scores[: len(canonical)])
    assert all(s.reason.startswith("no code defining") for s in scores[len(canonical):])


def test_plausible_wrong_and_hostile_answers_fail(suite):
    item = next(it for it in suite.items("test") if it.metadata["family"] == "rotate_left" and it.variant.is_canonical)
    name, param = item.answer["entry_point"], "xs"
    off_by_one = f"```python\ndef {name}({param}):\n    k = {item.metadata['constant']} + 1\n    return {param}[k:] + {param}[:k]\n```"
    no_empty_guard = item.reference_response.replace("if not", "if False and not")
    cheat = f"```python\nimport sys\nprint('all tests passed')\nsys.exit(0)\ndef {name}({param}):\n    pass\n```"
    scores = suite.score_many([item] * 4, [off_by_one, no_empty_guard, cheat, item.reference_response])
    assert [s.correct for s in scores] == [False, False, False, True]
    assert "ZeroDivisionError" in scores[1].reason
    assert scores[2].reason and not scores[2].correct


def test_verify_uses_only_the_visible_examples(suite):
    from harness.voting import blind_copy

    item = next(it for it in suite.items("test") if it.variant.is_canonical)
    blind = blind_copy(item)
    assert blind.answer is None
    assert suite.verify(blind, item.reference_response)
    other = next(it for it in suite.items("test") if it.variant.kind == "spec" and it.variant.canonical_id == item.id)
    assert not suite.verify(blind, other.reference_response)  # changed constant: the examples disagree
    assert not suite.verify(blind, "no code")


def test_extract_code_from_fences_bare_definitions_and_prose():
    fenced = "Here you go:\n```python\ndef f(x):\n    return x + 1\n```\nThis adds one."
    assert extract_code(fenced, "f") == "def f(x):\n    return x + 1\n"
    two_blocks = "```python\ndef f(x):\n    return 0\n```\nBetter:\n```py\ndef f(x):\n    return 1\n```"
    assert "return 1" in extract_code(two_blocks, "f") and "return 0" not in extract_code(two_blocks, "f")
    helper = "```python\nimport math\n```\n```python\ndef f(x):\n    return math.sqrt(x)\n```"
    assert extract_code(helper, "f").startswith("import math")
    bare = "Sure! The function is\ndef f(xs):\n    total = 0\n\n    for x in xs:\n        total += x\n    return total\nIt loops."
    assert extract_code(bare, "f") == "def f(xs):\n    total = 0\n\n    for x in xs:\n        total += x\n    return total\n"
    truncated = "```python\ndef f(x):\n    return x * 2\n\ndef g(y):\n    return ("
    assert extract_code(truncated, "f") == "def f(x):\n    return x * 2\n"
    thinking = "<think>def f(x): return 'draft'</think>```python\ndef f(x):\n    return 'final'\n```"
    assert "final" in extract_code(thinking, "f")
    assert extract_code("I cannot write code today.", "f") is None
    assert extract_code("```python\ndef g(x):\n    return x\n```", "f") is None


def test_pass_at_k_matches_brute_force():
    for n, c, k in [(5, 0, 1), (5, 2, 1), (5, 2, 2), (6, 3, 4), (4, 4, 2), (7, 1, 7)]:
        outcomes = [True] * c + [False] * (n - c)
        subsets = list(itertools.combinations(range(n), k))
        brute = sum(any(outcomes[i] for i in s) for s in subsets) / len(subsets)
        assert pass_at_k(n, c, k) == pytest.approx(brute)
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert mean_pass_at_k([(10, 3), (10, 0)], 1) == pytest.approx(0.15)
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)
    records = [
        {"correct": False, "samples": [{"correct": c} for c in (False, True, False, False)]},
        {"correct": True, "samples": [{"correct": c} for c in (True, True, True, True)]},
    ]
    assert pass_at_k_from_records(records, 1) == pytest.approx((0.25 + 1) / 2)
    assert pass_at_k_from_records(records, 2) == pytest.approx((0.5 + 1) / 2)
