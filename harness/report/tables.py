"""Retention tables as header + rows, rendered with tabulate (or csv/json) in every built-in format
(the names and suffixes users pick from are OUTPUT_FORMATS, harness/report/formats.py)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection, Sequence
from dataclasses import asdict

from harness.difficulty import BreakingPoint, Ladder
from harness.retention import MitigationRow, RetentionAnalysis, RetentionRow, SeedRow, VariantRow
from harness.retention.remedies import RemedyRow

TABLEFMT = {"text": "simple", "md": "github", "html": "html", "latex": "latex_booktabs"}


def pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def score(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def retention_cell(row: RetentionRow) -> str:
    if row.retention is None:
        return "undefined" if row.n else "not measured"
    return pct(row.retention)


def ci_cell(row: RetentionRow) -> str:
    if row.ci_low is None or row.ci_high is None:
        return "undefined" if row.n else "-"
    return f"[{row.ci_low:.1%}, {row.ci_high:.1%}]"


def n_cell(row: RetentionRow) -> str:
    """Items, with the problem groups (the effective sample size) beside them when they differ."""
    return str(row.n) if row.n_groups in (0, row.n) else f"{row.n} ({row.n_groups} groups)"


def p_cell(row: RetentionRow) -> str:
    return "-" if row.p_value is None else f"{row.p_value:.3g}"


BUDGET_MARK = " (budgets differ)"  # a capability compared across different token budgets (--allow-budget-mismatch)


def capability_table(
    rows: Sequence[RetentionRow], confidence: float, budget_mismatch: Collection[str] = ()
) -> tuple[list[str], list[list[str]]]:
    headers = ["capability", "teacher", "student", "retention", f"{confidence:.0%} CI", "n", "T only", "S only", "McNemar p"]
    body = [
        [r.capability + (BUDGET_MARK if r.capability in budget_mismatch else ""), score(r.teacher), score(r.student), retention_cell(r), ci_cell(r), n_cell(r),
         str(r.teacher_only), str(r.student_only), p_cell(r)]
        for r in rows
    ]
    return headers, body


def seed_table(rows: Sequence[SeedRow], confidence: float) -> tuple[list[str], list[list[str]]]:
    headers = ["capability (seed)", "claimed", "measured", f"{confidence:.0%} CI", "n", "verdict", "from"]
    body = [
        [r.capability, f"{r.claimed_low:.0%}-{r.claimed_high:.0%}", retention_cell(r), ci_cell(r), n_cell(r), r.verdict, r.sources]
        for r in rows
    ]
    return headers, body


def variant_table(rows: Sequence[VariantRow], confidence: float) -> tuple[list[str], list[list[str]]]:
    headers = ["capability", "variant", "teacher", "student", "retention", f"{confidence:.0%} CI", "n"]
    body = [[r.capability, r.variant, score(r.teacher), score(r.student), retention_cell(r), ci_cell(r), n_cell(r)] for r in rows]
    return headers, body


def mitigation_table(rows: Sequence[MitigationRow], confidence: float) -> tuple[list[str], list[list[str]]]:
    headers = ["capability", "method", "teacher", "student", "retention", f"{confidence:.0%} CI", "n"]
    body = [[r.capability, r.method, score(r.teacher), score(r.student), retention_cell(r), ci_cell(r), n_cell(r)] for r in rows]
    return headers, body


def _points(value: float | None, low: float | None, high: float | None) -> str:
    """A difference in score points with its CI: "+11.4 [6.0, 17.0]"."""
    if value is None:
        return "-"
    text = f"{100 * value:+.1f}"
    return text + (f" [{100 * low:+.1f}, {100 * high:+.1f}]" if low is not None and high is not None else " [undefined]")


def remedy_table(rows: Sequence[RemedyRow], confidence: float) -> tuple[list[str], list[list[str]]]:
    """The mitigation table: retention, lift over the base student (points), McNemar p, memorisation gap."""
    headers = ["capability", "remedy", "student", "retention", f"{confidence:.0%} CI", "n",
               f"lift, points ({confidence:.0%} CI)", "gained/lost", "p", f"gap canon-pert, points ({confidence:.0%} CI)"]
    body = []
    for r in rows:
        base = r.remedy == "base"
        body.append([r.capability, r.remedy, score(r.student), retention_cell(r), ci_cell(r), n_cell(r),
                     "-" if base else _points(r.lift, r.lift_ci_low, r.lift_ci_high),
                     "-" if base else f"{r.gained}/{r.lost}",
                     "-" if r.lift_p_value is None else f"{r.lift_p_value:.3g}",
                     _points(r.gap, r.gap_ci_low, r.gap_ci_high) + (f" ({r.gap_groups} groups)" if r.gap is not None else "")])
    return headers, body


def _interval(value: float | None, ci: tuple[float | None, float | None]) -> str:
    if value is None:
        return "-"
    low, high = ci
    return pct(value) + (f" [{low:.0%}, {high:.0%}]" if low is not None and high is not None else "")


def ladder_table(ladders: Sequence[Ladder], confidence: float) -> tuple[list[str], list[list[str]]]:
    headers = ["capability", "ladder", "rung", "n", f"teacher ({confidence:.0%} CI)", f"student ({confidence:.0%} CI)",
               f"retention ({confidence:.0%} CI)"]
    body = []
    for ladder in ladders:
        for r in ladder.rungs:
            n = str(r.n) if r.n_groups in (0, r.n) else f"{r.n} ({r.n_groups} groups)"
            if r.too_few_groups:  # a rung of one or two problems reads 0 % or 100 %: say so instead
                body.append([ladder.capability, ladder.kind, str(r.rung), n, r.mark, r.mark, r.mark])
                continue
            body.append([ladder.capability, ladder.kind, str(r.rung), n,
                         _interval(r.teacher, r.teacher_ci), _interval(r.student, r.student_ci),
                         _interval(r.retention, r.retention_ci)])
    return headers, body


def break_cell(point: BreakingPoint) -> str:
    if point.reached:
        return f"rung {point.rung}"
    return point.reason or "not reached"


def breaking_point_table(ladders: Sequence[Ladder]) -> tuple[list[str], list[list[str]]]:
    headers = ["capability", "ladder", "top rung", "teacher breaks at", "student breaks at", "retention < 50 % at"]
    body = [[lad.capability, lad.kind, str(lad.top_rung), break_cell(lad.teacher_break), break_cell(lad.student_break),
             break_cell(lad.retention_break)] for lad in ladders]
    return headers, body


def render_table(headers: list[str], body: list[list[str]], fmt: str) -> str:
    from tabulate import tabulate

    return tabulate(body, headers=headers, tablefmt=TABLEFMT[fmt], disable_numparse=True)


def sections(analysis: RetentionAnalysis, seed_only: bool = False) -> list[tuple[str, tuple[list[str], list[list[str]]]]]:
    conf = analysis.settings.confidence
    if seed_only:
        return [("Retention against the seed's claims", seed_table(analysis.seed_table, conf))]
    out = [("Retention per capability", capability_table(analysis.rows, conf, analysis.budget_mismatch_capabilities))]
    if any(r.variant != "canonical" for r in analysis.variants):
        out.append(("Canonical vs perturbed (memorisation gap)", variant_table(analysis.variants, conf)))
    if analysis.mitigation:
        out.append(("pass@1 vs maj@k vs verified", mitigation_table(analysis.mitigation, conf)))
    if analysis.remedies:
        out.append(("Mitigations: what each remedy bought over the base student", remedy_table(analysis.remedies, conf)))
    if analysis.ladders:
        out.append(("Accuracy against difficulty (rung 0 = canonical)", ladder_table(analysis.ladders, conf)))
        out.append(("Breaking points (accuracy below half of rung 0's)", breaking_point_table(analysis.ladders)))
    return out


def header_lines(analysis: RetentionAnalysis) -> list[str]:
    s = analysis.settings
    lines = [
        f"teacher: {analysis.teacher_spec}   student: {analysis.student_spec}",
        "suites: " + ", ".join(f"{name} v{info['version']}" for name, info in analysis.suites.items()),
        f"CIs: paired expanded-percentile bootstrap over problem groups (a canonical item with its perturbed twins), "
        f"{s.n_resamples} resamples, seed {s.seed}, {s.confidence:.0%}; McNemar p: exact sign-flip test over groups; "
        f"retention undefined below {s.min_items} items or at teacher score 0, its CI below {s.min_groups} groups",
    ]
    if analysis.judge:
        j = analysis.judge
        lines.append(f"abstention judge (edge_cases): {j.get('name')} v{j.get('version')} ({j.get('spec')})")
    return lines + [f"note: {n}" for n in analysis.notes]


def render(analysis: RetentionAnalysis, fmt: str, seed_only: bool = False) -> str:
    """The whole retention view in one format."""
    if fmt == "json":
        data = analysis.to_dict()
        if seed_only:
            data = {k: v for k, v in data.items() if k not in ("rows", "variants", "mitigation", "remedies")}
        return json.dumps(data, indent=2) + "\n"
    if fmt == "csv":
        rows: list[RetentionRow | VariantRow | MitigationRow | SeedRow | RemedyRow] = (
            [*analysis.seed_table] if seed_only else [*analysis.rows, *analysis.variants, *analysis.mitigation, *analysis.remedies]
        )
        return rows_to_csv(rows)
    parts: list[str] = []
    head = header_lines(analysis)
    if fmt == "md":
        parts.append("\n".join(f"- {line}" for line in head))
    elif fmt == "latex":
        parts.append("\n".join(f"% {line}" for line in head))
    elif fmt == "html":
        import html

        parts.append("<ul>\n" + "\n".join(f"<li>{html.escape(line)}</li>" for line in head) + "\n</ul>")
    else:
        parts.append("\n".join(head))
    for title, (headers, body) in sections(analysis, seed_only):
        if fmt == "md":
            parts.append(f"### {title}\n\n{render_table(headers, body, fmt)}")
        elif fmt == "html":
            import html

            parts.append(f"<h3>{html.escape(title)}</h3>\n{render_table(headers, body, fmt)}")
        elif fmt == "latex":
            parts.append(f"% {title}\n{render_table(headers, body, fmt)}")
        else:
            parts.append(f"{title}\n{render_table(headers, body, fmt)}")
    return "\n\n".join(parts) + "\n"


def rows_to_csv(rows: Sequence[RetentionRow | VariantRow | MitigationRow | SeedRow | RemedyRow]) -> str:
    """One line per row with every field (kind says which view it belongs to)."""
    dicts = []
    for r in rows:
        d = {"view": type(r).__name__.removesuffix("Row").lower() or "retention", **asdict(r)}
        d["view"] = {"retention": "capability"}.get(d["view"], d["view"])
        dicts.append(d)
    fields: list[str] = []
    for d in dicts:
        fields += [k for k in d if k not in fields]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(dicts)
    return buf.getvalue()
