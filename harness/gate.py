"""The release gate: apply a policy to a retention analysis and give a verdict.

Every rule yields a `RuleResult` (passed, failed or skipped, with the measured number), so
the same verdict renders as a human summary, a JSON file and JUnit XML. Missing data fails
closed: an undefined retention fails its floor, a required capability absent from the
results fails, a perturbation kind the policy names but the results lack fails.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.diagnostics import OutputHealth, health_by_capability
from harness.policy import GatePolicy
from harness.retention import RetentionAnalysis, RetentionRow, clustering_info, subset_row


@dataclass
class RuleResult:
    """The outcome of one gate rule on one capability: pass, fail or skip, with what was measured."""

    rule: str  # required_capability, retention_floor, score_floor, max_regression, min_lift, perturbation_floor, min_breaking_point, ...
    capability: str
    status: str  # pass, fail, skip
    measured: float | None
    required: float | None
    message: str
    subject: str = ""  # the perturbation kind for perturbation_floor

    @property
    def name(self) -> str:
        return f"{self.rule}[{self.capability}{'/' + self.subject if self.subject else ''}]"


@dataclass
class GateVerdict:
    """The release gate's decision: every rule's result, the notes and the policy applied."""

    passed: bool
    teacher: str
    student: str
    baseline: str | None
    policy: dict[str, Any]
    notes: list[str]
    results: list[RuleResult] = field(default_factory=list)
    retention: list[dict[str, Any]] = field(default_factory=list)  # the measured table the rules were judged on
    clustering: dict[str, Any] = field(default_factory=dict)  # what the CIs and tests resampled (problem groups)

    @property
    def failures(self) -> list[RuleResult]:
        return [r for r in self.results if r.status == "fail"]

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": "pass" if self.passed else "fail", **asdict(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def summary(self) -> str:
        lines = [f"teacher: {self.teacher}   student: {self.student}" + (f"   baseline: {self.baseline}" if self.baseline else "")]
        lines += [f"note: {n}" for n in self.notes]
        for r in self.results:
            lines.append(f"{r.status.upper():4}  {r.name}: {r.message}")
        failed = self.failures
        if failed:
            lines.append(f"gate: FAILED ({len(failed)} rule{'s' if len(failed) > 1 else ''}: {', '.join(r.name for r in failed)})")
        else:
            lines.append(f"gate: passed ({sum(r.status == 'pass' for r in self.results)} rules)")
        return "\n".join(lines) + "\n"

    def to_junit(self) -> str:
        import xml.etree.ElementTree as ET

        suite = ET.Element(
            "testsuite",
            name="harness-gate",
            tests=str(len(self.results)),
            failures=str(len(self.failures)),
            skipped=str(sum(r.status == "skip" for r in self.results)),
            errors="0",
        )
        props = ET.SubElement(suite, "properties")
        for key, value in (("teacher", self.teacher), ("student", self.student), ("baseline", self.baseline or "")):
            ET.SubElement(props, "property", name=key, value=value)
        for r in self.results:
            case = ET.SubElement(suite, "testcase", classname=f"gate.{r.capability}", name=r.name)
            if r.status == "fail":
                ET.SubElement(case, "failure", message=r.message, type=r.rule).text = r.message
            elif r.status == "skip":
                ET.SubElement(case, "skipped", message=r.message)
        root = ET.Element("testsuites")
        root.append(suite)
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _pct(x: float | None) -> str:
    return "undefined" if x is None else f"{x:.1%}"


def _retention_check(rule: str, row: RetentionRow, floor: float, statistic: str, subject: str = "") -> RuleResult:
    what = "retention" + (f" on {subject}" if subject else "")
    if row.n == 0:
        return RuleResult(rule, row.capability, "fail", None, floor, f"no {subject or ''} items measured (fails closed)".replace("  ", " "), subject)
    if row.retention is None:
        return RuleResult(rule, row.capability, "fail", None, floor, f"{what} undefined ({row.undefined_reason}); floor {_pct(floor)} fails closed", subject)
    if statistic == "ci_low":
        measured = row.ci_low
        if measured is None:
            return RuleResult(
                rule, row.capability, "fail", None, floor,
                f"{what} {_pct(row.retention)} but its CI is undefined ({row.undefined_reason or 'too few items'}); floor on the CI's lower bound fails closed",
                subject,
            )
        label = f"{what} CI lower bound {_pct(measured)} (point {_pct(row.retention)}, n={row.n}, {row.n_groups} groups)"
    else:
        measured = row.retention
        label = f"{what} {_pct(measured)} (n={row.n})"
    ok = measured >= floor
    return RuleResult(rule, row.capability, "pass" if ok else "fail", measured, floor, f"{label} {'>=' if ok else '<'} floor {_pct(floor)}", subject)


def _measured(cap: str, rows: dict[str, RetentionRow], policy: GatePolicy, notes: list[str]) -> bool:
    """Whether the results measure `cap`; if not, a rule on it is skipped with a note (a required
    capability fails on its own rule instead)."""
    if cap in rows:
        return True
    if cap not in policy.required_capabilities:
        notes.append(f"policy names {cap}, which these results do not measure: its rules were skipped")
    return False


def _breaking_point_checks(
    policy: GatePolicy, analysis: RetentionAnalysis, rows: dict[str, RetentionRow], notes: list[str]
) -> list[RuleResult]:
    """The student may not break (accuracy below half of rung 0's) before the policy's rung."""
    out = []
    measured = {(lad.capability, lad.kind): lad for lad in analysis.ladders}
    for cap, kinds in sorted(policy.min_breaking_point.items()):
        if not _measured(cap, rows, policy, notes):
            continue
        for kind, minimum in sorted(kinds.items()):
            ladder = measured.get((cap, kind))
            if ladder is None:
                present = ", ".join(k for c, k in measured if c == cap) or "none"
                out.append(RuleResult("min_breaking_point", cap, "fail", None, minimum,
                                      f"no '{kind}' ladder in the results (ladders: {present}); fails closed", kind))
                continue
            point = ladder.student_break
            if point.reached and point.rung is not None:
                ok = point.rung >= minimum
                msg = f"student breaks at rung {point.rung} ({point.reason}) {'>=' if ok else '<'} required {minimum}"
                out.append(RuleResult("min_breaking_point", cap, "pass" if ok else "fail", point.rung, minimum, msg, kind))
            elif point.reason.startswith("holds"):
                top = ladder.top_measured_rung or 0  # rungs with too few problem groups are not read
                ok = top >= minimum
                msg = (f"student {point.reason} (top rung read {top})"
                       + ("" if ok else f", below the required {minimum}: the ladder does not reach it on enough groups; fails closed"))
                out.append(RuleResult("min_breaking_point", cap, "pass" if ok else "fail", top + 1 if ok else None,
                                      minimum, msg, kind))
            else:
                out.append(RuleResult("min_breaking_point", cap, "fail", None, minimum,
                                      f"breaking point undefined ({point.reason}); fails closed", kind))
    return out


def _output_rate_check(rule: str, cap: str, who: str, h: OutputHealth, limit: float) -> RuleResult:
    """One side's truncation or unparsed rate against its limit; unknown counts as the bad case."""
    truncation = rule == "max_truncation_rate"
    what = "cut off at max_new_tokens" if truncation else "holding no answer the scorer finds"
    bad, unknown = (h.truncated, h.finish_unknown) if truncation else (h.unparsed, h.parse_unknown)
    if h.n == 0:
        return RuleResult(rule, cap, "fail", None, limit, f"no {who} outputs measured (fails closed)", who)
    if unknown == h.n:
        why = ("finish_reason" if truncation else "unparsed") + f" unknown for all {h.n} {who} outputs (results written before "
        why += ("harness recorded it, or answers from an older response cache: re-run eval with --refresh)" if truncation
                else "harness recorded it: re-run eval, which re-scores cached answers)")
        return RuleResult(rule, cap, "fail", None, limit, f"{why}; limit {_pct(limit)} fails closed", who)
    rate = (bad + unknown) / h.n
    counted = f"{bad} of {h.n} {who} outputs {what}" + (f", plus {unknown} unknown counted as such" if unknown else "")
    ok = rate <= limit + 1e-12
    return RuleResult(rule, cap, "pass" if ok else "fail", rate, limit, f"{counted}: {_pct(rate)} {'<=' if ok else '>'} limit {_pct(limit)}", who)


def _targets(policy: GatePolicy, table: dict[str, float], rows: dict[str, RetentionRow], notes: list[str]) -> list[tuple[str, float]]:
    """(capability, threshold) for each capability a rule table applies to and the results measure."""
    out = []
    for cap in sorted(set(rows) | (set(table) - {"default"})):
        threshold = policy.floor_for(table, cap)
        if threshold is not None and _measured(cap, rows, policy, notes):
            out.append((cap, threshold))
    return out


def _output_health_checks(policy: GatePolicy, analysis: RetentionAnalysis, rows: dict[str, RetentionRow], notes: list[str]) -> list[RuleResult]:
    """max_truncation_rate (teacher and student) and max_unparsed_rate (student), over the compared items."""
    if not (policy.max_truncation_rate or policy.max_unparsed_rate):
        return []
    health = {"teacher": health_by_capability(p.teacher for p in analysis.pairs),
              "student": health_by_capability(p.student for p in analysis.pairs)}
    out = []
    for rule, table, sides in (("max_truncation_rate", policy.max_truncation_rate, ("teacher", "student")),
                               ("max_unparsed_rate", policy.max_unparsed_rate, ("student",))):
        for cap, limit in _targets(policy, table, rows, notes):
            out += [_output_rate_check(rule, cap, who, health[who].get(cap, OutputHealth()), limit) for who in sides]
    return out


def _lift_checks(policy: GatePolicy, analysis: RetentionAnalysis, lift_base: RetentionAnalysis | None,
                 targets: list[tuple[str, float]]) -> list[RuleResult]:
    """min_lift: the student's score over the untreated student's on the same items, per capability
    (harness/retention/lift.py), judged on the lift's CI lower bound or its point like retention floors."""
    if lift_base is None:
        return [RuleResult("min_lift", cap, "fail", None, need, "min_lift needs --lift-base (the untreated student's "
                           "results); fails closed") for cap, need in targets]
    from harness.retention.lift import lift_rows

    lifts = {r.capability: r for r in lift_rows(lift_base.pairs, analysis.pairs, analysis.settings)}
    out = []
    for cap, need in targets:
        row = lifts.get(cap)
        if row is None or row.lift is None:
            out.append(RuleResult("min_lift", cap, "fail", None, need, "the lift base does not measure this capability on "
                                  "the same items (fails closed)"))
            continue
        p_value = "" if row.p_value is None else f", p={row.p_value:.3g}"
        points = f"lift {row.lift:+.1%} over {lift_base.student_spec} (n={row.n}, {row.n_groups} groups{p_value})"
        if policy.retention_statistic == "ci_low":
            measured = row.ci_low
            if measured is None:
                out.append(RuleResult("min_lift", cap, "fail", None, need, f"{points} but its CI is undefined (too few "
                                      f"problem groups); a floor on the CI's lower bound fails closed"))
                continue
            label = f"lift CI lower bound {measured:+.1%} ({points})"
        else:
            measured, label = row.lift, points
        ok = measured >= need - 1e-12
        out.append(RuleResult("min_lift", cap, "pass" if ok else "fail", measured, need,
                              f"{label} {'>=' if ok else '<'} required {need:+.1%}"))
    return out


def evaluate_gate(
    policy: GatePolicy,
    analysis: RetentionAnalysis,
    baseline: RetentionAnalysis | None = None,
    lift_base: RetentionAnalysis | None = None,
) -> GateVerdict:
    """Judge a retention analysis by a policy (against a baseline analysis for max_regression, and the
    untreated student's analysis for min_lift): `harness gate`."""
    rows = {r.capability: r for r in analysis.rows}
    results: list[RuleResult] = []
    notes = list(analysis.notes)

    for cap in policy.required_capabilities:
        if cap in rows and rows[cap].n > 0:
            results.append(RuleResult("required_capability", cap, "pass", rows[cap].n, None, f"measured on {rows[cap].n} items"))
        else:
            results.append(RuleResult("required_capability", cap, "fail", None, None, "required capability is missing from the results (fails closed)"))

    def targets(table: dict[str, float]) -> list[tuple[str, float]]:
        return _targets(policy, table, rows, notes)

    for cap, floor in targets(policy.retention_floors):
        results.append(_retention_check("retention_floor", rows[cap], floor, policy.retention_statistic))

    for cap, floor in targets(policy.score_floors):
        score = rows[cap].student
        ok = score is not None and score >= floor
        results.append(RuleResult("score_floor", cap, "pass" if ok else "fail", score, floor,
                                  f"student score {_pct(score)} {'>=' if ok else '<'} floor {_pct(floor)} (n={rows[cap].n})"))

    if policy.max_regression:
        if baseline is None:
            notes.append("policy sets max_regression but no --baseline was given: regression rules were skipped")
        else:
            base_rows = {r.capability: r for r in baseline.rows}
            for cap, limit in targets(policy.max_regression):
                before, now = (base_rows[cap].student if cap in base_rows else None), rows[cap].student
                if before is None or now is None:
                    results.append(RuleResult("max_regression", cap, "fail", None, limit, "the baseline does not measure this capability (fails closed)"))
                    continue
                drop = before - now
                ok = drop <= limit + 1e-12
                results.append(RuleResult("max_regression", cap, "pass" if ok else "fail", drop, limit,
                                          f"score {_pct(now)} vs baseline {_pct(before)}: drop {drop:+.1%} {'<=' if ok else '>'} allowed {limit:.1%}"))

    if policy.min_lift:
        results += _lift_checks(policy, analysis, lift_base, targets(policy.min_lift))

    for cap, kinds in sorted(policy.perturbation_floors.items()):
        if not _measured(cap, rows, policy, notes):
            continue
        present = sorted({p.teacher.variant for p in analysis.pairs if p.teacher.capability == cap and p.teacher.variant != "canonical"})
        for kind, floor in sorted(kinds.items()):
            if kind not in ("perturbed", "canonical") and kind not in present:
                results.append(RuleResult("perturbation_floor", cap, "fail", None, floor,
                                          f"no '{kind}' items in the results (present: {', '.join(present) or 'none'}); fails closed", kind))
                continue
            row = subset_row(analysis.pairs, analysis.settings, cap, kind)
            results.append(_retention_check("perturbation_floor", row, floor, policy.retention_statistic, kind))

    results += _breaking_point_checks(policy, analysis, rows, notes)

    results += _output_health_checks(policy, analysis, rows, notes)

    return GateVerdict(
        passed=not any(r.status == "fail" for r in results),
        teacher=analysis.teacher_spec,
        student=analysis.student_spec,
        baseline=baseline.student_spec if baseline else None,
        policy=policy.model_dump(),
        notes=list(dict.fromkeys(notes)),
        results=results,
        retention=[asdict(r) for r in analysis.rows],
        clustering=clustering_info(analysis.pairs),
    )
