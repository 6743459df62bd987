"""Properties every registered suite must have: the reference model scores 1.0 everywhere,
generation is deterministic, splits are disjoint and perturbed items link to a canonical twin."""

from __future__ import annotations

import json

import pytest

from harness.backends.base import load_backend
from harness.records import score_generations
from harness.suite import SUITES, get_suite, normalise_prompt
from harness.types import CAPABILITIES, GenerationParams

SUITE_NAMES = SUITES.names()
SMALL = 12  # canonical test instances: enough to exercise every template family quickly


@pytest.mark.parametrize("name", SUITE_NAMES)
def test_reference_scores_one_on_every_split_and_variant(name):
    suite = get_suite(name, size=SMALL)
    reference = load_backend("reference")
    for split in ("train", "dev", "test"):
        items = suite.items(split)
        assert items, f"{name} has no {split} items"
        generations = reference.generate(items, GenerationParams(), progress=False)
        records = score_generations(suite, items, generations)
        wrong = [(r.item_id, r.reason) for r in records if not r.correct or r.score != 1.0]
        assert not wrong, f"{name}/{split}: reference is wrong on {wrong[:3]}"


@pytest.mark.parametrize("name", SUITE_NAMES)
def test_generation_is_deterministic(name):
    first = [it.model_dump_json() for it in get_suite(name, seed=3, size=SMALL).all_items]
    second = [it.model_dump_json() for it in get_suite(name, seed=3, size=SMALL).all_items]
    assert first == second
    assert get_suite(name, seed=3, size=SMALL).content_hash() == get_suite(name, seed=3, size=SMALL).content_hash()
    assert get_suite(name, seed=4, size=SMALL).content_hash() != get_suite(name, seed=3, size=SMALL).content_hash()


@pytest.mark.parametrize("name", SUITE_NAMES)
def test_splits_disjoint_and_variants_linked(name):
    suite = get_suite(name, size=SMALL)
    assert suite.capability in CAPABILITIES
    prompts: dict[str, set[str]] = {"train": set(), "dev": set(), "test": set()}
    for item in suite.all_items:
        prompts[item.split].add(normalise_prompt(" ".join(m.content for m in item.messages)))
        json.dumps(item.answer, default=str)  # answers must be JSON-serialisable
    assert not prompts["train"] & prompts["test"]
    assert not prompts["dev"] & prompts["test"]
    assert not prompts["train"] & prompts["dev"]
    test_items = suite.items("test")
    by_id = {it.id: it for it in test_items}
    perturbed = [it for it in test_items if not it.variant.is_canonical]
    assert perturbed, f"{name} has no perturbed test items"
    for it in perturbed:
        assert by_id[it.variant.canonical_id].variant.is_canonical
        assert it.variant.level >= 1


@pytest.mark.parametrize("name", SUITE_NAMES)
def test_empty_output_is_not_correct(name):
    suite = get_suite(name, size=SMALL)
    items = [it for it in suite.items("test") if not suite.relative][:20]
    scores = suite.score_many(items, ["" for _ in items])
    assert not any(s.correct for s in scores), f"{name} accepts an empty answer"
