"""The knowledge suite: facts are right (checked against a second source), matching is
forgiving about form but not content, and perturbations ask the same fact differently."""

from __future__ import annotations

import pytest

from harness.suite import get_suite
from harness.tasks._knowledge_facts import CAPITALS, LANGUAGES
from harness.tasks._knowledge_match import extract_span, matches_any


@pytest.fixture(scope="module")
def suite():
    return get_suite("knowledge")


def find(suite, question_part, kind="canonical"):
    return next(it for it in suite.all_items if question_part in it.messages[0].content and it.variant.kind == kind)


def test_default_size_shape(suite):
    counts = suite.counts()
    assert sum(counts["test"].values()) >= 300
    assert set(counts["test"]) == {"canonical", "paraphrase", "reversed", "two_hop"}
    relations = {it.metadata["relation"] for it in suite.items("test", variants=["canonical"])}
    assert len(relations) == 9


def test_no_fact_is_asked_in_two_splits(suite):
    facts = {}
    for it in suite.all_items:
        if it.variant.is_canonical:
            key = (it.metadata["relation"], it.metadata["fact"])
            assert facts.setdefault(key, it.split) == it.split


def test_capitals_agree_with_countryinfo():
    countryinfo = pytest.importorskip("countryinfo")
    disagree = []
    for code, (country, capital, aliases) in CAPITALS.items():
        try:
            other = countryinfo.CountryInfo(country).capital()
        except (KeyError, AttributeError):
            continue  # countryinfo names some countries differently
        accepted = [capital, *aliases]
        if not matches_any(other or "", accepted):
            disagree.append((country, capital, other))
    assert not disagree, disagree


def test_known_facts():
    from harness.tasks._knowledge_facts import capital_facts, element_number_facts, prime_facts, unit_facts

    assert {f.key: f.answer for f in capital_facts()}["JP"] == "Tokyo"
    numbers = {f.key: f for f in element_number_facts()}
    assert numbers["Fe"].answer == "26" and numbers["Fe"].two_hop[1] == "27"
    primes = {f.key: f for f in prime_facts()}
    assert primes["10"].answer == "29" and primes["10"].two_hop[1] == "841"
    units = {f.key: f for f in unit_facts()}
    assert units["seconds-minute"].two_hop[1] == "3600"
    assert LANGUAGES["Rust"][0] == ".rs"


def test_matching_is_forgiving_about_form():
    assert matches_any("the capital is Brasilia.", ["Brasília"])
    assert matches_any("**washington, d.c.**", ["Washington, D.C."])
    assert matches_any("1,000", ["1000"])
    assert matches_any("The United Kingdom", ["United Kingdom"])
    assert matches_any("C#", ["C#"]) and not matches_any("C++", ["C#"])
    assert not matches_any("126", ["26"]) and not matches_any("2.6", ["26"])
    assert extract_span("Let me think.\nParis is lovely.\nAnswer: Lyon") == "Lyon"


def test_scoring_right_and_wrong_answers(suite):
    item = find(suite, "What is the capital of ")
    capital = item.answer
    assert suite.score(item, f"Answer: {capital}").correct
    assert suite.score(item, f"The capital is {capital.upper()}.").correct
    assert not suite.score(item, "Answer: Atlantis").correct
    assert not suite.score(item, f"It could be {capital}, but\nAnswer: Atlantis").correct  # the final answer counts


def test_reversed_and_two_hop_ask_the_same_fact_backwards_and_composed(suite):
    canonical = next(it for it in suite.items("test", variants=["canonical"]) if it.metadata["relation"] == "capital")
    group = [it for it in suite.items("test") if it.group_id == canonical.id]
    by_kind = {it.variant.kind: it for it in group}
    assert by_kind["paraphrase"].answer == canonical.answer
    country = next(c for c, cap, _ in CAPITALS.values() if cap == canonical.answer)
    assert by_kind["reversed"].answer == country and canonical.answer in by_kind["reversed"].messages[0].content
    assert by_kind["two_hop"].answer == canonical.answer and country not in by_kind["two_hop"].messages[0].content
    assert by_kind["two_hop"].variant.level == 2


def test_symbols_and_codes_keep_their_case():
    assert matches_any("Answer: I", ["I"]) and not matches_any("answer: i", ["I"])
    assert matches_any("Answer: He", ["He"]) and not matches_any("Answer: he did not know", ["He"])
    assert matches_any("Answer: FR", ["FR"]) and not matches_any("answer: fr", ["FR"])
