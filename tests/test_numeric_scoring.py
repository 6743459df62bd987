"""Final-answer extraction and equivalence: right answers in every usual form pass, wrong ones fail."""

from __future__ import annotations

import pytest

from harness.scoring.numeric import extract_answer, extract_number, is_equivalent

RIGHT = [
    # (model output, expected answer)
    ("We add them. The answer is 1,234.", 1234),
    ("so $\\boxed{1{,}234}$", 1234),
    ("\\boxed{\\frac{3}{4}}", "3/4"),
    ("The answer is \\(\\dfrac{5}{2}\\)", "5/2"),
    ("The answer is 2 1/2 dozen.", "5/2"),
    ("Answer: 3/4", 0.75),
    ("The answer is 0.75", "3/4"),
    ("#### 72", 72),
    ("First 5 apples, then 12 apples.", 12),
    ("The answer is $12.50.", 12.5),
    ("The answer is 45%.", 45),  # a question that asks for a percentage
    ("The answer is 45%.", 0.45),
    ("\\boxed{45\\%}", 45),
    ("The answer is 33.3%.", "33.3"),
    ("The final answer is: **-7**", -7),
    ("answer is \\text{12 dollars}", 12),
    ("They have 3 boxes.\nThe answer is 1,000,000 cents", 1000000),
    ("\\boxed{x = 4}", 4),
    ("<think>maybe 5? no.</think> The answer is 6.", 6),
    ("Total: 3 + 4 = 7. So 7 apples.", 7),
    ("The answer is -\\frac{3}{4}", "-3/4"),
    ("The answer is 115/12.", "115/12"),
]
WRONG = [
    ("The answer is 1,235.", 1234),
    ("\\boxed{\\frac{4}{3}}", "3/4"),
    ("The answer is 12, not 13. Finally 13 apples.", 12 + 100),
    ("The answer is 0.45", 45),  # a fraction where a percentage was asked
    ("The answer is 2 1/3", "5/2"),
    ("1, 2, 3", 123),  # a list, not a thousands separator
    ("no numbers here", 5),
    ("", 0),
    ("The answer is 7. <think>", 8),
]


@pytest.mark.parametrize("output,expected", RIGHT)
def test_right_answers_in_every_form(output, expected):
    assert is_equivalent(extract_answer(output), expected), (output, extract_answer(output))


@pytest.mark.parametrize("output,expected", WRONG)
def test_wrong_answers_fail(output, expected):
    assert not is_equivalent(extract_answer(output), expected), (output, extract_answer(output))


def test_extraction_prefers_the_marked_answer_over_later_numbers():
    assert extract_answer("The answer is 42. (I checked 3 times.)") == "42"
    assert extract_answer("\\boxed{7} and later 9") == "7"
    assert extract_answer("The answer is 5. Wait, the answer is 6.") == "6"


def test_extract_number_and_tolerance():
    assert extract_number("The answer is 3/4.") == 0.75
    assert extract_number("It costs $1,250.50 in total") == 1250.5
    assert extract_number("nothing") is None
    assert is_equivalent("33.3", "33.33333", abs_tol=0.05)
    assert not is_equivalent("33", "33.33333", abs_tol=0.05)
    assert is_equivalent("0.583", "7/12", abs_tol=5e-4)
    assert not is_equivalent("0.58", "7/12", abs_tol=5e-4)


def test_expressions_fall_back_to_math_verify():
    assert is_equivalent("\\sqrt{4}", 2)
    assert not is_equivalent("\\sqrt{5}", 2)
