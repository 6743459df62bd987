"""A sandbox for model-written code: separate process, limits, no network, read-only system.

    from harness.sandbox import Job, run_many, judge
    results = run_many([Job(source, "add", [[1, 2], [3, 4]])])

See isolation.py for what the isolation is (and its modes: zygote fast path, per-program, fallback),
pool.py and zygote.py for the fast path, and runner.py for why results cannot be faked.
"""

from harness.sandbox.execute import run_many, run_program
from harness.sandbox.isolation import Isolation, detect
from harness.sandbox.judge import Verdict, encode, judge, values_equal
from harness.sandbox.limits import Limits
from harness.sandbox.program import CallOutcome, Job, ProgramResult, default_workers

__all__ = [
    "CallOutcome", "Isolation", "Job", "Limits", "ProgramResult", "Verdict",
    "default_workers", "detect", "encode", "judge", "run_many", "run_program", "values_equal",
]
