"""The release-gate policy file (gate.yaml), validated with pydantic.

    retention_statistic: ci_low        # judge retention floors on the CI's lower bound, or "point"
    retention_floors: {default: 0.8, math: 0.5}   # "default" covers every measured capability
    score_floors: {math: 0.3}          # the student's absolute score
    max_regression: {default: 0.02}    # score drop allowed against --baseline (absolute points)
    min_lift: {math: 0.05}             # score gain required over --lift-base (the untreated student), in points
    max_truncation_rate: {default: 0.05}   # share of outputs cut off at max_new_tokens (teacher and student)
    max_unparsed_rate: {default: 0.1}      # share of student outputs holding no answer the scorer finds
    required_capabilities: [math]      # missing from the results: fail (closed)
    perturbation_floors: {math: {numbers: 0.5}}   # retention on one perturbation kind
    min_breaking_point: {math: {steps: 4}}         # the student may not break before rung 4 of the steps ladder
    bootstrap: {resamples: 2000, confidence: 0.95, seed: 0, min_items: 5, min_groups: 10}

Every mistake (an unknown key, a misspelt capability, a floor outside its range) gives one
line that names the field, what was wrong and what is allowed.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.errors import HarnessError
from harness.stats import (
    DEFAULT_CONFIDENCE, DEFAULT_MIN_GROUPS, DEFAULT_MIN_ITEMS, DEFAULT_RESAMPLES, DEFAULT_SEED, BootstrapSettings,
)
from harness.suite import is_known_capability, known_capabilities

DEFAULT_KEY = "default"


def _check_capability_keys(value: dict, allow_default: bool) -> dict:
    """Capabilities are open: a plug-in suite's own capability is as valid as a built-in one."""
    for key in value:
        if not (key == DEFAULT_KEY and allow_default) and not (isinstance(key, str) and is_known_capability(key)):
            allowed = set(known_capabilities()) | ({DEFAULT_KEY} if allow_default else set())
            close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"unknown capability {key!r} (known: {', '.join(sorted(allowed))}){hint}")
    return value


class BootstrapPolicy(BaseModel):
    """Bootstrap settings of a gate policy: resamples, confidence, seed and minimum sample sizes."""

    model_config = ConfigDict(extra="forbid")
    resamples: int = Field(DEFAULT_RESAMPLES, ge=100, le=100_000)
    confidence: float = Field(DEFAULT_CONFIDENCE, gt=0, lt=1)
    seed: int = DEFAULT_SEED
    min_items: int = Field(DEFAULT_MIN_ITEMS, ge=1)
    min_groups: int = Field(DEFAULT_MIN_GROUPS, ge=2)  # CIs from fewer problem groups are undefined (and fail ci_low floors)

    def settings(self) -> BootstrapSettings:
        return BootstrapSettings(self.resamples, self.confidence, self.seed, self.min_items, self.min_groups)


class GatePolicy(BaseModel):
    """A release gate policy (gate.yaml): floors, regressions, output-health limits and breaking points."""

    model_config = ConfigDict(extra="forbid")
    version: Literal[1] = 1
    retention_statistic: Literal["ci_low", "point"] = "ci_low"
    retention_floors: dict[str, float] = Field(default_factory=dict)
    score_floors: dict[str, float] = Field(default_factory=dict)
    max_regression: dict[str, float] = Field(default_factory=dict)
    # Lift over the untreated student (--lift-base), judged like retention floors (CI lower bound or point).
    min_lift: dict[str, float] = Field(default_factory=dict)
    # Output health (harness/diagnostics.py): unknown rates (older results) fail closed.
    max_truncation_rate: dict[str, float] = Field(default_factory=dict)
    max_unparsed_rate: dict[str, float] = Field(default_factory=dict)
    required_capabilities: list[str] = Field(default_factory=list)
    perturbation_floors: dict[str, dict[str, float]] = Field(default_factory=dict)
    # capability -> ladder kind -> the lowest rung at which the student may break (harness/difficulty.py)
    min_breaking_point: dict[str, dict[str, int]] = Field(default_factory=dict)
    bootstrap: BootstrapPolicy = Field(default_factory=BootstrapPolicy)

    @field_validator("retention_floors", "max_regression", "max_truncation_rate", "max_unparsed_rate", "min_lift")
    @classmethod
    def _known_or_default(cls, v: dict[str, float]) -> dict[str, float]:
        return _check_capability_keys(v, allow_default=True)

    @field_validator("score_floors", "perturbation_floors", "min_breaking_point")
    @classmethod
    def _known(cls, v: dict) -> dict:
        return _check_capability_keys(v, allow_default=False)

    @field_validator("required_capabilities")
    @classmethod
    def _known_list(cls, v: list[str]) -> list[str]:
        _check_capability_keys(dict.fromkeys(v), allow_default=False)
        return v

    @field_validator("retention_floors", "perturbation_floors")
    @classmethod
    def _retention_range(cls, v: dict) -> dict:
        def check(where: str, x: float) -> None:
            if not 0 <= x <= 2:
                raise ValueError(f"{where}: retention floor {x} is outside 0..2 (write 0.8 for 80 %)")

        for key, val in v.items():
            if isinstance(val, dict):
                for kind, x in val.items():
                    check(f"{key}.{kind}", x)
            else:
                check(key, val)
        return v

    @field_validator("score_floors", "max_regression", "max_truncation_rate", "max_unparsed_rate")
    @classmethod
    def _fraction_range(cls, v: dict[str, float]) -> dict[str, float]:
        for key, x in v.items():
            if not 0 <= x <= 1:
                raise ValueError(f"{key}: {x} is outside 0..1 (scores are fractions: write 0.3 for 30 %)")
        return v

    @field_validator("min_lift")
    @classmethod
    def _lift_range(cls, v: dict[str, float]) -> dict[str, float]:
        for key, x in v.items():
            if not -1 <= x <= 1:
                raise ValueError(f"{key}: a lift of {x} is outside -1..1 (score points are fractions: write 0.05 for 5 points)")
        return v

    def is_empty(self) -> bool:
        return not (self.retention_floors or self.score_floors or self.max_regression or self.required_capabilities or self.perturbation_floors
                    or self.max_truncation_rate or self.max_unparsed_rate or self.min_lift)

    @field_validator("min_breaking_point")
    @classmethod
    def _positive_rungs(cls, v: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        for cap, kinds in v.items():
            for kind, rung in kinds.items():
                if rung < 1:
                    raise ValueError(f"{cap}.{kind}: a breaking point is a rung >= 1, got {rung}")
        return v

    def floor_for(self, table: dict[str, float], capability: str) -> float | None:
        return table.get(capability, table.get(DEFAULT_KEY))


def _describe(exc: ValidationError, source: str) -> str:
    lines = []
    for err in exc.errors():
        where = ".".join(str(x) for x in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            field = str(err["loc"][-1])
            known = list(GatePolicy.model_fields) if len(err["loc"]) == 1 else list(BootstrapPolicy.model_fields)
            close = difflib.get_close_matches(field, known, n=1)
            msg = f"unknown field (allowed: {', '.join(known)})" + (f"; did you mean {close[0]!r}?" if close else "")
        elif "input" in err and err["type"] not in ("value_error",):
            msg += f" (got {err['input']!r})"
        lines.append(f"{where}: {msg}")
    return f"invalid gate policy {source}: " + "; ".join(lines)


def parse_policy(data: object, source: str = "") -> GatePolicy:
    """Validate a gate policy mapping (gate.yaml's contents); every problem is one HarnessError naming the field."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise HarnessError(f"invalid gate policy {source}: expected a mapping of fields, got {type(data).__name__}")
    try:
        policy = GatePolicy.model_validate(data)
    except ValidationError as exc:
        raise HarnessError(_describe(exc, source)) from None
    if policy.is_empty():
        raise HarnessError(f"invalid gate policy {source}: it sets no rule (add retention_floors, score_floors, ...)")
    return policy


def load_policy(path: str | Path) -> GatePolicy:
    """Read and validate a gate policy YAML file."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise HarnessError(f"gate policy not found: {p}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise HarnessError(f"invalid gate policy {p}: not valid YAML ({str(exc).splitlines()[0]})") from None
    return parse_policy(data, str(p))
