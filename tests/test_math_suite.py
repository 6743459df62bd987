"""The perturbed math suite: templates, variants, the sympy cross-check, scoring and chance."""

from __future__ import annotations

import json
import re
from collections import Counter
from fractions import Fraction

import pytest

from harness.suite import get_suite, normalise_prompt
from harness.tasks._math_build import check_templates, sympy_answer
from harness.tasks._math_templates import TEMPLATES
from harness.types import Item

TEMPLATE_BY_KEY = {t.key: t for t in TEMPLATES}


@pytest.fixture(scope="module")
def suite():
    return get_suite("math")


@pytest.fixture(scope="module")
def by_id(suite):
    return {it.id: it for it in suite.all_items}


def _story(item: Item) -> str:
    return item.messages[0].content.split("\n\n", 1)[1]


def _numbers(text: str) -> list[str]:
    return re.findall(r"\d+", text)


def test_templates_are_many_multi_step_and_solvable():
    assert len(TEMPLATES) >= 30
    assert len({t.key for t in TEMPLATES}) == len(TEMPLATES)
    assert all(2 <= len(t.steps) <= 8 for t in TEMPLATES)
    assert check_templates() == []  # every template's equations pin down one answer


def test_default_size_has_enough_test_items_with_every_variant(suite):
    test = suite.items("test")
    assert len(test) >= 300
    labels = Counter(it.variant.label for it in test)
    for label in ("canonical", "numbers@1", "names@1", "distractor@1", "steps@1", "steps@2", "form@1", "form@2", "form@3"):
        assert labels[label] >= 0.9 * suite.size, label
    for level in (4, 6, 8, 10):  # the upper steps rungs, each on half of the problems
        assert labels[f"steps@{level}"] >= 0.45 * suite.size, level
    for level in (1, 2, 3):  # magnitude rungs, each on two thirds of the problems (minus 3 fixed-scale templates)
        assert labels[f"magnitude@{level}"] >= 0.5 * suite.size, level
    assert len(test) <= 14 * suite.size  # the ladders must not blow up the test split
    assert {it.metadata["template"] for it in test} == {t.key for t in TEMPLATES}
    assert all(it.variant.is_canonical for it in suite.all_items if it.split != "test")


def test_size_knob_and_determinism():
    small = get_suite("math", seed=7, size=5)
    assert len(small.items("test", variants=["canonical"])) == 5
    again = get_suite("math", seed=7, size=5)
    assert [it.model_dump_json() for it in small.all_items] == [it.model_dump_json() for it in again.all_items]
    assert small.content_hash() != get_suite("math", seed=8, size=5).content_hash()


def test_splits_are_disjoint(suite):
    prompts = {split: {normalise_prompt(_story(it)) for it in suite.items(split)} for split in ("train", "dev", "test")}
    assert not prompts["train"] & prompts["test"] and not prompts["dev"] & prompts["test"] and not prompts["train"] & prompts["dev"]


def test_every_answer_matches_the_sympy_route(suite):
    """Re-solve every item's equations from its recorded values: the answer the scorer checks is right."""
    for it in suite.all_items:
        check = it.metadata["check"]
        params = {k: Fraction(v) for k, v in check["params"].items()}
        want = sympy_answer(TEMPLATE_BY_KEY[it.metadata["template"]], it.metadata["values"], tuple(check["extension"]), params)
        assert abs(Fraction(str(it.answer)) - want) <= Fraction(it.metadata["tolerance"]) + Fraction(1, 10**9), it.id


def test_perturbations_keep_what_they_should(suite, by_id):
    for it in suite.items("test"):
        if it.variant.is_canonical:
            continue
        canon = by_id[it.variant.canonical_id]
        kind = it.variant.kind
        assert it.metadata["template"] == canon.metadata["template"]
        if kind == "numbers":  # same digit counts, different values
            assert it.metadata["values"] != canon.metadata["values"]
            assert [len(n) for n in _numbers(_story(it))] == [len(n) for n in _numbers(_story(canon))], it.id
        elif kind == "names":
            assert it.answer == canon.answer and _numbers(_story(it)) == _numbers(_story(canon))
            assert _story(it) != _story(canon)
        elif kind == "distractor":  # one extra clause, same answer
            assert it.answer == canon.answer and it.metadata["distractor"] in _story(it)
            assert _story(it).replace(it.metadata["distractor"] + " ", "").replace(" " + it.metadata["distractor"], "") == _story(canon)
        elif kind == "steps":  # level k = k more operations, each an event told in the story
            assert it.metadata["steps"] == canon.metadata["steps"] + 1 + it.variant.level
            assert it.metadata["added_steps"] == len(it.metadata["ops"]) == len(it.metadata["events"]) == it.variant.level
            assert _story(it).startswith(_story(canon).rsplit("?", 1)[0].rsplit(". ", 1)[0])
            for event in it.metadata["events"]:
                assert event in _story(it), it.id
            assert it.metadata["check"]["extension"] == ["steps", *it.metadata["ops"]]
        elif kind == "magnitude":  # same template and structure, numbers from ranges ×10^level
            scale = 10 ** it.variant.level
            template = TEMPLATE_BY_KEY[it.metadata["template"]]
            assert template.magnitude and it.metadata["scale"] == scale
            for var, (lo, hi) in template.ranges.items():
                assert lo * scale <= it.metadata["values"][var] <= hi * scale, (it.id, var)
            assert it.metadata["steps"] == canon.metadata["steps"]
        elif kind == "form":
            assert it.metadata["form"] == {1: "unit", 2: "fraction", 3: "percent"}[it.variant.level]


def test_ladders_really_grow(suite):
    """Higher steps rungs need more operations and longer stories; higher magnitude rungs bigger numbers."""
    test = suite.items("test")
    steps = {}
    for it in test:
        if it.variant.kind == "steps":
            steps.setdefault(it.variant.level, []).append(it)
    assert sorted(steps) == [1, 2, 4, 6, 8, 10]
    mean_steps = [sum(it.metadata["steps"] for it in steps[k]) / len(steps[k]) for k in sorted(steps)]
    assert mean_steps == sorted(mean_steps) and mean_steps[-1] >= mean_steps[0] + 8
    assert min(it.metadata["steps"] for it in steps[10]) >= 12  # the top rung: at least 12 reasoning steps
    ops = Counter(op for it in steps[10] for op in it.metadata["ops"])
    assert set(ops) == {"add", "sub", "mul", "div"}  # every kind of event occurs
    biggest = {}
    for it in test:
        if it.variant.kind == "magnitude":
            biggest.setdefault(it.variant.level, []).append(max(int(n) for n in _numbers(_story(it))))
    medians = [sorted(v)[len(v) // 2] for _, v in sorted(biggest.items())]
    assert sorted(biggest) == [1, 2, 3] and medians == sorted(medians) and medians[2] >= 50 * medians[0]


def test_small_limit_sees_canonical_and_perturbed(suite):
    small = suite.items("test", limit=10)  # 5 problems, each canonical + one twin of a rotating kind
    assert [it.variant.is_canonical for it in small] == [True, False] * 5
    assert all(twin.variant.canonical_id == canonical.id for canonical, twin in zip(small[::2], small[1::2], strict=True))
    assert len({it.variant.kind for it in small[1::2]}) == 5
    assert "magnitude" in {it.variant.kind for it in small}
    assert {"steps", "magnitude"} <= {it.variant.kind for it in suite.items("test", limit=12)}


def test_reference_scores_one_and_wrong_answers_zero(suite):
    for it in suite.all_items:
        assert suite.score(it, it.reference_response).correct, it.id
    for it in suite.items("test")[:60]:
        wrong = Fraction(str(it.answer)) + 1
        assert not suite.score(it, f"The answer is {wrong}.").correct, it.id
        assert not suite.score(it, "I do not know.").correct


def test_answers_in_other_forms_are_accepted(suite):
    forms = {it.metadata["form"]: it for it in suite.items("test", variants=["form"]) if it.metadata["tolerance"] == 0}
    fraction = forms["fraction"]
    value = Fraction(str(fraction.answer))
    for text in (f"\\boxed{{\\frac{{{value.numerator}}}{{{value.denominator}}}}}", f"The answer is {float(value)}",
                 f"The answer is {value.numerator}/{value.denominator}."):
        assert fraction and suite.score(fraction, text).correct, text
    percent = forms["percent"]
    assert suite.score(percent, f"The answer is {percent.answer}%.").correct
    assert suite.score(percent, f"The answer is {percent.answer} percent.").correct
    unit = next(it for it in suite.items("test", variants=["form"]) if it.metadata.get("unit") == "cents")
    assert suite.score(unit, f"That is {int(unit.answer):,} cents. The answer is {int(unit.answer):,} cents.").correct


def test_constant_answer_scores_at_chance(suite):
    """A model that always says the same number is right only where the answer happens to be it."""
    test = suite.items("test")
    for constant in (0, 1, 10, 12, 100):
        rate = sum(suite.score(it, f"The answer is {constant}.").correct for it in test) / len(test)
        chance = sum(Fraction(str(it.answer)) == constant for it in test) / len(test)
        assert rate == pytest.approx(chance, abs=0.01)
        assert rate < 0.05


def test_items_are_json_and_ids_link(suite, by_id):
    for it in suite.items("test"):
        json.dumps(it.model_dump())
        if not it.variant.is_canonical:
            assert by_id[it.variant.canonical_id].variant.is_canonical
