"""Final-answer extraction for numeric answers and equivalence checking.

Extraction looks, in order, for `\\boxed{...}`, "the answer is ...", "#### ...", an
"Answer:" line, and finally the last number in the text. Equivalence is numeric with a
small tolerance, falling back to HF's math-verify for LaTeX, fractions and expressions.
"""

from __future__ import annotations

import re
from fractions import Fraction

_NUMBER = r"-?\$?\s*\d[\d,]*(?:\.\d+)?(?:\s*/\s*\d+)?%?"
_PATTERNS = [
    re.compile(r"\\boxed\{((?:[^{}]|\{[^{}]*\})*)\}"),
    re.compile(r"answer\s*(?:is|:|=)\s*:?\s*\**\s*(" + _NUMBER + r"|\\frac\{\d+\}\{\d+\})", re.I),
    re.compile(r"####\s*(" + _NUMBER + ")"),
]
_LAST_NUMBER = re.compile(_NUMBER)


def _to_number(text: str) -> float | None:
    t = text.strip().replace("$", "").replace(",", "").replace(" ", "").rstrip(".")
    m = re.fullmatch(r"\\[dt]?frac\{(-?\d+)\}\{(\d+)\}", t)
    if m:
        t = f"{m.group(1)}/{m.group(2)}"
    percent = t.endswith("%")
    t = t.rstrip("%")
    try:
        value = float(Fraction(t)) if "/" in t else float(t)
    except (ValueError, ZeroDivisionError):
        return None
    return value / 100 if percent else value


def extract_answer(output: str) -> str | None:
    """The final answer as a string, or None when the output holds none."""
    text = output.split("</think>")[-1]
    for pattern in _PATTERNS:
        matches = pattern.findall(text)
        if matches:
            return matches[-1].strip()
    numbers = _LAST_NUMBER.findall(text)
    return numbers[-1].strip() if numbers else None


def extract_number(output: str) -> float | None:
    answer = extract_answer(output)
    if answer is None:
        return None
    value = _to_number(answer)
    if value is None:
        numbers = _LAST_NUMBER.findall(answer)
        value = _to_number(numbers[-1]) if numbers else None
    return value


def numbers_equal(a: float, b: float, rel: float = 1e-6) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def is_equivalent(answer: str | None, expected: float | int | str) -> bool:
    """True when an extracted answer equals the expected value."""
    if answer is None:
        return False
    got = _to_number(answer)
    want = _to_number(str(expected)) if not isinstance(expected, (int, float)) else float(expected)
    if got is not None and want is not None:
        return numbers_equal(got, want)
    from math_verify import parse, verify  # imported lazily: it pulls in sympy and antlr

    try:
        return bool(verify(parse(str(expected)), parse(answer if "\\" in answer else f"${answer}$")))
    except Exception:  # math-verify raises on inputs it cannot parse
        return False
