"""The format suite: IFEval-style checkers on known compliant and violating responses,
strict vs loose compliance, and the suite's shape at its default size."""

from __future__ import annotations

import json

import pytest

from harness.scoring.instructions import check_all, count_sentences
from harness.suite import get_suite


@pytest.fixture(scope="module")
def suite():
    return get_suite("format")


def by_constraints(suite, *ids):
    return next(it for it in suite.items("test") if sorted(it.metadata["constraints"]) == sorted(ids))


def test_default_size_has_every_variant_and_over_300_test_items(suite):
    counts = suite.counts()["test"]
    assert sum(counts.values()) >= 300
    assert set(counts) == {"canonical", "rephrased", "combined", "habit"}
    primaries = {it.metadata["constraints"][0] for it in suite.items("test", variants=["canonical"])}
    assert primaries >= {"sections", "number_words", "max_sentences", "number_bullets", "forbidden_words", "end_phrase", "json_schema", "think_answer"}


def test_reference_follows_every_constraint_at_default_size(suite):
    items = suite.items("test") + suite.items("dev")
    scores = suite.score_many(items, [it.reference_response for it in items])
    assert all(s.correct and s.details["prompt_loose"] for s in scores)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_other_seeds_build_and_reference_scores_one(seed):
    small = get_suite("format", seed=seed, size=12)
    items = small.items("test") + small.items("train")
    assert all(s.correct for s in small.score_many(items, [it.reference_response for it in items]))


def test_rephrased_keeps_the_constraint_and_changes_the_words(suite):
    for it in suite.items("test", variants=["rephrased"])[:20]:
        canonical = next(c for c in suite.items("test") if c.id == it.variant.canonical_id)
        assert it.answer == canonical.answer
        assert it.messages[0].content != canonical.messages[0].content


def test_combined_and_habit_add_constraints(suite):
    for it in suite.items("test", variants=["combined", "habit"])[:40]:
        canonical = next(c for c in suite.items("test") if c.id == it.variant.canonical_id)
        assert len(it.answer) == len(canonical.answer) + (it.variant.level if it.variant.kind == "combined" else 1)
        assert it.answer[0] == canonical.answer[0]
    habits = {it.answer[-1]["id"] for it in suite.items("test", variants=["habit"])}
    assert habits <= {"no_markdown", "no_comma"} and "no_markdown" in habits


def test_violations_are_caught(suite):
    end = by_constraints(suite, "end_phrase")
    assert not suite.score(end, end.reference_response + "\nThanks for reading, and good luck").correct

    forbidden = by_constraints(suite, "forbidden_words")
    word = forbidden.answer[0]["kwargs"]["forbidden_words"][0]
    bad = suite.score(forbidden, forbidden.reference_response + f" {word.upper()}!")
    assert not bad.correct and bad.details["strict"]["forbidden_words"] is False

    bullets = by_constraints(suite, "number_bullets")
    assert not suite.score(bullets, bullets.reference_response + "\n- one bullet too many").correct

    schema_item = by_constraints(suite, "json_schema")
    value = json.loads(schema_item.reference_response)
    value["unexpected"] = 1  # additionalProperties: false
    assert not suite.score(schema_item, json.dumps(value)).correct
    assert not suite.score(schema_item, "{not json").correct
    assert suite.score(schema_item, "```json\n" + schema_item.reference_response + "\n```").correct

    think = by_constraints(suite, "think_answer")
    assert not suite.score(think, think.reference_response.replace("<think>", "")).correct
    assert not suite.score(think, "<think>\nhmm\n</think>\n").correct


def test_no_markdown_and_no_comma_catch_habits(suite):
    plain = next(it for it in suite.items("test", variants=["habit"]) if it.answer[-1]["id"] == "no_markdown")
    assert suite.score(plain, plain.reference_response).correct
    assert not suite.score(plain, "## Heading\n" + plain.reference_response).correct
    assert not suite.score(plain, plain.reference_response + "\n- a bullet").correct
    assert not suite.score(plain, plain.reference_response.replace(".", " **really**.", 1)).correct
    assert check_all([{"id": "no_comma", "kwargs": {}}], "One, two")["strict"] == {"no_comma": False}


def test_loose_forgives_a_preamble_and_asterisks_but_strict_does_not(suite):
    schema_item = by_constraints(suite, "json_schema")
    chatty = "Sure! Here is the JSON you asked for:\n" + schema_item.reference_response
    score = suite.score(schema_item, chatty)
    assert not score.correct
    assert score.details["strict"]["json_schema"] is False and score.details["loose"]["json_schema"] is True
    assert score.details["prompt_loose"] and not score.details["prompt_strict"]

    sections = {"id": "sections", "kwargs": {"sections": ["Overview", "Details"]}}
    bold = "**Overview**\nSome text.\n**Details**\nMore text."
    assert check_all([sections], bold)["strict"]["sections"]  # headings may be bold
    assert not check_all([sections], "Details\ntext\nOverview\ntext")["strict"]["sections"]  # wrong order


def test_word_and_sentence_limits():
    words = {"id": "number_words", "kwargs": {"num_words": 5, "relation": "less than"}}
    assert check_all([words], "one two three four")["strict"]["number_words"]
    assert not check_all([words], "one two three four five")["strict"]["number_words"]
    assert count_sentences("Dr. Smith went home. He slept! Did he?") == 3
    limit = {"id": "max_sentences", "kwargs": {"max_sentences": 2}}
    assert not check_all([limit], "One. Two. Three.")["strict"]["max_sentences"]


def test_empty_output_fails_every_constraint(suite):
    item = suite.items("test", variants=["combined"])[0]
    score = suite.score(item, "   ")
    assert not score.correct and not any(score.details["loose"].values())
