import pytest

from harness.suite import get_suite


@pytest.fixture(scope="module")
def item():
    return next(it for it in get_suite("arithmetic").items() if it.answer == 64)


@pytest.mark.parametrize(
    "output",
    ["The answer is 64.", "... so she has \\boxed{64} marbles", "#### 64", "Total: 64 marbles", "The answer is: 64.0"],
)
def test_right_answers_in_many_forms(item, output):
    assert get_suite("arithmetic").score(item, output).correct


@pytest.mark.parametrize("output", ["The answer is 63.", "64 + 1 = 65", "I don't know", "", "\\boxed{46}"])
def test_wrong_answers(item, output):
    assert not get_suite("arithmetic").score(item, output).correct


def test_perturbations_keep_shape():
    suite = get_suite("arithmetic", size=24)
    test = suite.items("test")
    by_id = {it.id: it for it in test}
    for it in test:
        if it.variant.kind == "names":
            assert it.answer == by_id[it.variant.canonical_id].answer
        if it.variant.kind == "distractor":
            canonical = by_id[it.variant.canonical_id]
            assert it.answer == canonical.answer
            assert len(it.messages[0].content) > len(canonical.messages[0].content)
    assert len(test) == 24 * 4
