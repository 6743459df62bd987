"""Which harness capability a standard lm-eval task measures, and the NAME[:capability] syntax."""

from __future__ import annotations

from harness.errors import HarnessError
from harness.suite import is_known_capability, known_capabilities
from harness.types import CAPABILITIES

# Task (or group) name → capability. Subtasks of a group inherit the group's capability.
DEFAULT_CAPABILITIES: dict[str, str] = {
    "gsm8k": "math",
    "gsm8k_cot": "math",
    "gsm8k_cot_zeroshot": "math",
    "minerva_math": "math",
    "hendrycks_math": "math",
    "mathqa": "math",
    "asdiv": "math",
    "arc_easy": "knowledge",
    "arc_challenge": "knowledge",
    "mmlu": "knowledge",
    "mmlu_pro": "knowledge",
    "triviaqa": "knowledge",
    "nq_open": "knowledge",
    "openbookqa": "knowledge",
    "sciq": "knowledge",
    "piqa": "knowledge",
    "truthfulqa": "knowledge",
    "truthfulqa_mc1": "knowledge",
    "truthfulqa_mc2": "knowledge",
    "ifeval": "format",
    "bbh": "logic",
    "logiqa": "logic",
    "logiqa2": "logic",
    "winogrande": "logic",
    "hellaswag": "logic",
    "humaneval": "code",
    "mbpp": "code",
}


def parse_task_spec(spec: str, required: bool = True) -> tuple[str, str | None]:
    """'gsm8k' → ('gsm8k', 'math'); 'my_task:logic' → ('my_task', 'logic').

    With required=False a task without a default gets None (tasks exported from harness suites
    need none: their items name their capability)."""
    name, _, given = spec.strip().partition(":")
    capability: str | None = given
    if not name:
        raise HarnessError(f"--lm-eval-task {spec!r}: no task name (write NAME or NAME:CAPABILITY)")
    if not capability:
        capability = DEFAULT_CAPABILITIES.get(name) or _prefix_capability(name)
        if capability is None:
            if not required:
                return name, None
            raise HarnessError(
                f"lm-eval task {name!r} has no default capability: write {name}:CAPABILITY "
                f"(one of {', '.join(CAPABILITIES)})"
            )
    if not is_known_capability(capability):  # a plug-in suite's capability counts too
        raise HarnessError(f"--lm-eval-task {spec!r}: unknown capability {capability!r} (use {', '.join(known_capabilities())})")
    return name, capability


def _prefix_capability(name: str) -> str | None:
    """mmlu_abstract_algebra → knowledge (the longest known group name it starts with)."""
    for known in sorted(DEFAULT_CAPABILITIES, key=len, reverse=True):
        if name.startswith(known + "_"):
            return DEFAULT_CAPABILITIES[known]
    return None
