"""Compare what a sandboxed function returned with the expected values (in the parent only)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from harness.sandbox.program import ProgramResult
from harness.sandbox.runner import encode  # noqa: F401  (re-exported: expected values use the same encoding)


def values_equal(expected: Any, got: Any, rel_tol: float = 1e-6) -> bool:
    """Structural equality of encoded values; floats within a relative tolerance, bool is not int."""
    if isinstance(expected, bool) or isinstance(got, bool):
        return type(expected) is type(got) and expected == got
    if isinstance(expected, (int, float)) and isinstance(got, (int, float)):
        if isinstance(expected, int) and isinstance(got, int):
            return expected == got
        return math.isclose(expected, got, rel_tol=rel_tol, abs_tol=1e-9)
    if isinstance(expected, list) and isinstance(got, list):
        return len(expected) == len(got) and all(values_equal(e, g, rel_tol) for e, g in zip(expected, got, strict=True))
    if isinstance(expected, dict) and isinstance(got, dict):
        return expected.keys() == got.keys() and all(values_equal(expected[k], got[k], rel_tol) for k in expected)
    return type(expected) is type(got) and expected == got


@dataclass
class Verdict:
    """Hidden tests passed by one model-written program, and why the others failed."""

    passed: int
    total: int
    reason: str | None  # None when every test passed
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def all_passed(self) -> bool:
        return self.total > 0 and self.passed == self.total


def judge(result: ProgramResult, expected: list[Any], args: list[Any] | None = None) -> Verdict:
    """Count the calls whose returned value equals the expected one."""
    failures = []
    passed = 0
    for index, (outcome, want) in enumerate(zip(result.outcomes, expected, strict=True)):
        if outcome.status == "ok" and values_equal(want, outcome.value):
            passed += 1
            continue
        failure = {"test": index, "status": outcome.status, "expected": want, "got": outcome.value}
        if args is not None:
            failure["args"] = args[index]
        failures.append(failure)
    if not failures:
        return Verdict(passed, len(expected), None)
    reason = result.problem()
    if reason is None:
        first = failures[0]
        if first["status"] == "error":
            what = f"raised {first['got']}"
        else:
            what = "wrong value " + str({k: first[k] for k in ("args", "expected", "got") if k in first})
        reason = f"failed {len(failures)} of {len(expected)} tests; first: {what}"
    return Verdict(passed, len(expected), reason[:600], failures[:5])
