r"""Final-answer extraction for numeric answers and equivalence checking.

Extraction looks, in order, for the last `\boxed{...}` (nested braces allowed), the last
"the answer is ..." / "final answer: ..." / "Answer: ...", "#### ...", and finally the
last number in the text (after any `</think>`). Numbers may carry thousands separators,
a currency sign, a percent sign, units or LaTeX (`\frac`, `\dfrac`, `\text{...}`,
`\%`, `\$`); mixed numbers such as "2 1/2" read as 5/2.

Equivalence is exact on rationals (with an optional absolute tolerance), falling back to
HF's math-verify for anything that is not a plain number (expressions, other LaTeX).
"""

from __future__ import annotations

import re
from fractions import Fraction

# One number as people write it: -1,234.5  $12  3/4  2 1/2  45%  .5
_NUM_CORE = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+"
_NUMBER = (
    r"-?\s?\$?\s?(?:(?:" + _NUM_CORE + r")\s+\d+\s*/\s*\d+|(?:" + _NUM_CORE + r")(?:\s*/\s*\d+)?)(?:\s?\\?%)?"
)
_FRAC = r"-?\\[dt]?frac\s*\{[^{}]*\}\s*\{[^{}]*\}"
_NUMBER_RE = re.compile(r"(?<![\w.])(" + _NUMBER + r")(?![\w])")
_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
_ANSWER_MARKS = [
    re.compile(r"(?:final\s+answer|the\s+answer|answer)\s*(?:is|:|=|would\s+be|will\s+be)\s*:?\s*(?:\*\*|\$)?\s*", re.I),
    re.compile(r"####\s*"),
]


def _boxed_contents(text: str) -> list[str]:
    r"""Contents of every \boxed{...}, matching nested braces."""
    out = []
    for m in _BOXED.finditer(text):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        if depth == 0:
            out.append(text[m.end() : i - 1])
    return out


def _clean_latex(text: str) -> str:
    t = re.sub(r"\\(?:text|mathrm|textbf|mbox)\s*\{([^{}]*)\}", r" \1 ", text)
    t = re.sub(r"\\[dt]frac", r"\\frac", t)
    t = re.sub(r"\\frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}", r"(\1)/(\2)", t)
    t = t.replace("\\%", "%").replace("\\$", "$").replace("\\!", "").replace("\\,", "").replace("{,}", ",")
    return t


def _first_value(fragment: str) -> str | None:
    """The first number-like token of an answer fragment (None when it holds none)."""
    frac = re.search(_FRAC, fragment)
    cleaned = _clean_latex(fragment)
    m = re.search(r"-?\((-?\d+)\)/\((\d+)\)", cleaned)
    num = _NUMBER_RE.search(cleaned)
    if frac and m and (num is None or m.start() <= num.start()):
        sign = "-" if cleaned[m.start()] == "-" else ""
        return f"{sign}{m.group(1)}/{m.group(2)}"
    return num.group(1).strip() if num else None


def extract_answer(output: str) -> str | None:
    """The final answer as a string, or None when the output holds none (the suites' Score.parsed=False)."""
    text = output.split("</think>")[-1]
    boxed = _boxed_contents(text)
    if boxed:
        content = boxed[-1].strip()
        return _first_value(content) or content
    for pattern in _ANSWER_MARKS:
        for mark in reversed(list(pattern.finditer(text))):
            value = _first_value(text[mark.end() : mark.end() + 80])
            if value is not None:
                return value
    numbers = _NUMBER_RE.findall(_clean_latex(text))
    return numbers[-1].strip() if numbers else None


def to_fraction(text: str) -> tuple[Fraction, bool] | None:
    """(value, had a percent sign) for a number-like string, else None."""
    t = _clean_latex(str(text)).strip().rstrip(".")
    t = t.replace("$", "").replace(",", "").replace("(", "").replace(")", "")
    t = re.sub(r"\s+", " ", t).strip()
    percent = t.endswith("%")
    t = t.rstrip("%").strip()
    try:
        mixed = re.fullmatch(r"(-?)(\d+) (\d+) ?/ ?(\d+)", t)
        if mixed:
            sign, whole, num, den = mixed.groups()
            value = int(whole) + Fraction(int(num), int(den))
            value = -value if sign else value
        else:
            value = Fraction(t.replace(" ", ""))
    except (ValueError, ZeroDivisionError):
        return None
    return value, percent


def _to_number(text: str) -> float | None:
    parsed = to_fraction(text)
    if parsed is None:
        return None
    value, percent = parsed
    return float(value / 100 if percent else value)


def extract_number(output: str) -> float | None:
    answer = extract_answer(output)
    if answer is None:
        return None
    value = _to_number(answer)
    if value is None:
        numbers = _NUMBER_RE.findall(_clean_latex(answer))
        value = _to_number(numbers[-1]) if numbers else None
    return value


def numbers_equal(a: float, b: float, rel: float = 1e-6) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def _close(got: Fraction, want: Fraction, abs_tol: float) -> bool:
    if abs_tol:
        return abs(got - want) <= Fraction(abs_tol) + Fraction(1, 10**9)
    return got == want or numbers_equal(float(got), float(want))


def is_equivalent(answer: str | None, expected: float | int | str, abs_tol: float = 0.0) -> bool:
    """True when an extracted answer equals the expected value.

    A percent sign is read both ways: "45%" matches 45 (a question that asks for a
    percentage) and 0.45. `abs_tol` admits rounded answers (e.g. a percentage to one decimal).
    """
    if answer is None:
        return False
    got = to_fraction(answer)
    want = to_fraction(repr(expected) if isinstance(expected, float) else str(expected))
    if got is not None and want is not None:
        (g, g_pct), (w, w_pct) = got, want
        if w_pct:
            w = w / 100
        candidates = [g / 100, g] if g_pct else [g]
        return any(_close(c, w, abs_tol) for c in candidates)
    from math_verify import parse, verify  # imported lazily: it pulls in sympy and antlr

    try:
        gold = str(expected) if "$" in str(expected) else f"${expected}$"
        return bool(verify(parse(gold), parse(answer if "$" in answer else f"${answer}$")))
    except Exception:  # math-verify raises on inputs it cannot parse
        return False
