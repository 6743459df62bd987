"""`harness report`: one self-contained HTML file (inline CSS, plots as data URIs, no JavaScript).

Everything that comes from a model or a results file is HTML-escaped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape

from harness import __version__
from harness.report import plots
from harness.report.tables import (
    breaking_point_table,
    capability_table,
    ladder_table,
    mitigation_table,
    remedy_table,
    render_table,
    seed_table,
    variant_table,
)
from harness.results import Results
from harness.retention import RetentionAnalysis, ScoredPair
from harness.stats import BootstrapSettings

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 2px solid #ddd; padding-bottom: .2rem; margin-top: 2.2rem; } h3 { margin-top: 1.6rem; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .85rem; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.meta { color: #555; font-size: .85rem; } .meta li { margin: .1rem 0; }
.note { background: #fff8e1; border-left: 4px solid #f0c36d; padding: .3rem .6rem; font-size: .85rem; }
img.plot { max-width: 100%; display: block; margin: .5rem 0; }
table.items { width: 100%; table-layout: fixed; }
table.items td.out { width: 40%; }
pre { white-space: pre-wrap; word-break: break-word; margin: 0; font-size: .8rem; max-height: 18rem; overflow: auto; }
.right { color: #1b7f3b; font-weight: 600; } .wrong { color: #b3261e; font-weight: 600; }
"""

MAX_OUTPUT_CHARS = 2000


@dataclass
class StudentReport:
    """One student's retention analysis against the teacher, as shown in the HTML report."""

    label: str
    analysis: RetentionAnalysis


@dataclass
class SweepReport:
    """A checkpoint sweep: one retention analysis per training step."""

    label: str
    points: list[tuple[int, RetentionAnalysis]]


def _table(table: tuple[list[str], list[list[str]]]) -> str:
    headers, body = table
    return render_table(headers, body, "html")


def _img(uri: str | None, alt: str) -> str:
    return f'<img class="plot" alt="{escape(alt)}" src="{uri}">' if uri else ""


def _clip(text: str) -> str:
    return text if len(text) <= MAX_OUTPUT_CHARS else text[:MAX_OUTPUT_CHARS] + f"\n… ({len(text) - MAX_OUTPUT_CHARS} more characters)"


def _short(value: object, limit: int = 160) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def worst_pairs(pairs: Sequence[ScoredPair], per_capability: int) -> dict[str, list[ScoredPair]]:
    """Per capability, the items where the student falls furthest below the teacher."""
    by_cap: dict[str, list[ScoredPair]] = defaultdict(list)
    for p in pairs:
        if p.teacher_score > p.student_score:
            by_cap[p.teacher.capability].append(p)
    out = {}
    for cap, ps in sorted(by_cap.items()):
        ranked = sorted(ps, key=lambda p: (-(p.teacher_score - p.student_score), p.teacher.item_id))
        # One item per canonical group first (a perturbed twin of a shown item adds little), then the rest.
        seen: set[str] = set()
        first = []
        for p in ranked:
            group = p.teacher.canonical_id or p.teacher.item_id
            if group not in seen:
                seen.add(group)
                first.append(p)
        rest = [p for p in ranked if p not in first]
        out[cap] = (first + rest)[:per_capability]
    return out


def _verdict_cell(correct: bool, score: float) -> str:
    cls, word = ("right", "right") if correct else ("wrong", "wrong")
    return f'<span class="{cls}">{word}</span> (score {score:.2f})'


def _worst_items_html(analysis: RetentionAnalysis, per_capability: int) -> str:
    worst = worst_pairs(analysis.pairs, per_capability)
    caps = sorted({p.teacher.capability for p in analysis.pairs})
    parts = []
    for cap in caps:
        parts.append(f"<h4>{escape(cap)}</h4>")
        if cap not in worst:
            parts.append("<p>The student scores at least as well as the teacher on every item.</p>")
            continue
        rows = []
        for p in worst[cap]:
            t, s = p.teacher, p.student
            rows.append(
                "<tr>"
                f"<td><code>{escape(t.item_id)}</code><br>{escape(p.variant)}<br>reference: <code>{escape(_short(t.reference_answer))}</code></td>"
                f"<td class=\"out\">teacher answer <code>{escape(_short(t.answer))}</code>: {_verdict_cell(p.teacher_correct, p.teacher_score)}<pre>{escape(_clip(t.output))}</pre></td>"
                f"<td class=\"out\">student answer <code>{escape(_short(s.answer))}</code>: {_verdict_cell(p.student_correct, p.student_score)}<pre>{escape(_clip(s.output))}</pre></td>"
                "</tr>"
            )
        parts.append('<table class="items"><tr><th>item</th><th>teacher</th><th>student</th></tr>' + "".join(rows) + "</table>")
    return "\n".join(parts)


def _student_section(rep: StudentReport, worst: int) -> str:
    a = rep.analysis
    conf = a.settings.confidence
    out = [f"<h2>Student: {escape(rep.label)}</h2>"]
    out += [f'<p class="note">{escape(n)}</p>' for n in a.notes]
    out.append("<h3>The seed's table: measured vs claimed retention</h3>")
    out.append(_table(seed_table(a.seed_table, conf)))
    out.append(_img(plots.seed_summary(a.seed_table), "measured retention against the seed's claimed ranges"))
    out.append("<h3>Retention per capability</h3>")
    out.append(
        "<p>Retention = student score / teacher score over the same items. "
        f"CI: {conf:.0%} paired bootstrap over problem groups (a canonical item with its perturbed twins); "
        "McNemar: exact sign-flip test over groups of the items where exactly one model is right "
        "(T only: teacher right, student wrong). n counts items, with the groups (the effective sample size) beside it.</p>"
    )
    out.append(_table(capability_table(a.rows, conf, a.budget_mismatch_capabilities)))
    out.append(_img(plots.retention_bars(a.rows), "retention per capability"))
    out.append("<h3>Canonical vs perturbed (memorisation gap)</h3>")
    if any(r.kind != "canonical" for r in a.variants):
        out.append("<p>A student that imitates rather than understands keeps its canonical score and loses it on perturbed twins.</p>")
        out.append(_table(variant_table(a.variants, conf)))
        out.append(_img(plots.perturbation_levels(a.variants), "score by perturbation level"))
    else:
        out.append("<p>These results hold no perturbed items.</p>")
    if a.ladders:
        out.append("<h3>Accuracy against difficulty: where each model breaks</h3>")
        out.append("<p>Rung 0 is the canonical twins of the items on the ladder. A model breaks at the first rung where its "
                   "accuracy falls below half of its rung-0 accuracy (shaded line in the plot). A rung measured on fewer than "
                   f"{a.settings.min_groups} problem groups reads \"too few groups (g)\": it is neither plotted nor used for a "
                   "breaking point.</p>")
        out.append(_table(breaking_point_table(a.ladders)))
        out.append(_table(ladder_table(a.ladders, conf)))
        out.append(_img(plots.difficulty_ladders(a.ladders), "accuracy against difficulty rung"))
    out.append("<h3>Sampling and voting: pass@1 vs maj@k vs verified</h3>")
    if a.mitigation:
        out.append(
            "<p>pass@1: share of correct samples; maj@k: the majority answer of the first k samples; "
            "vote:METHOD@k: the evaluator's own vote (<code>harness eval --vote</code>); verified@k: an oracle verifier "
            "picks any correct sample (pass@k, the ceiling of verification). A teacher run with one sample per item "
            "keeps its single-sample score as the denominator.</p>"
        )
        out.append(_table(mitigation_table(a.mitigation, conf)))
        out.append(_img(plots.majority_curve(a.mitigation), "majority vote accuracy against k"))
    else:
        out.append("<p>Not measured: the student's results hold one sample per item (run <code>harness eval --samples K</code>).</p>")
    if a.remedies:
        out.append("<h3>Mitigations: what each remedy bought over the base student</h3>")
        out.append(
            f"<p>Each remedy against this student (the base row) on the same items. Lift: the treated score minus the base "
            f"score in points, with its {conf:.0%} bootstrap CI over problem groups; gained/lost: items only the remedy / only "
            "the base got right; p: clustered McNemar (sign-flip test over groups for graded scores). Gap: canonical minus "
            "perturbed score per problem group, in points: a remedy that taught the surface widens it, one that taught the "
            "problem lifts both variants. maj@k and verified@k rows are read from a sampled run's stored samples.</p>"
        )
        out.append(_table(remedy_table(a.remedies, conf)))
    out.append(f"<h3>Worst items per capability (up to {worst})</h3>")
    out.append(_worst_items_html(a, worst))
    return "\n".join(out)


def _sweep_section(sweep: SweepReport) -> str:
    out = [f"<h2>Checkpoint sweep: {escape(sweep.label)}</h2>"]
    if not sweep.points:
        return out[0] + "<p>No evaluated checkpoints.</p>"
    caps = sorted({r.capability for _, a in sweep.points for r in a.rows})
    headers = ["step", *caps]
    body = []
    for step, a in sweep.points:
        by_cap = {r.capability: r for r in a.rows}
        cells = []
        for cap in caps:
            r = by_cap.get(cap)
            if r is None or r.retention is None:
                cells.append("-" if r is None else "undefined")
            elif r.ci_low is not None:
                cells.append(f"{r.retention:.1%} [{r.ci_low:.1%}, {r.ci_high:.1%}]")
            else:
                cells.append(f"{r.retention:.1%}")
        body.append([str(step), *cells])
    out.append(render_table(headers, body, "html"))
    out.append(_img(plots.retention_over_steps(sweep.points), "retention over training steps"))
    return "\n".join(out)


def build_report(
    teacher: Results,
    students: Sequence[StudentReport],
    sweeps: Sequence[SweepReport] = (),
    settings: BootstrapSettings | None = None,
    worst: int = 5,
    title: str = "Distillation retention report",
) -> str:
    settings = settings or BootstrapSettings()
    suites = "".join(
        f"<li>{escape(s.name)} ({escape(s.capability)}) v{escape(s.version)}, {s.n_items} {escape(s.split)} items, hash <code>{escape(s.hash)}</code></li>"
        for s in teacher.suites.values()
    )
    head = [
        f"<h1>{escape(title)}</h1>",
        '<ul class="meta">',
        f"<li>teacher: <code>{escape(teacher.model.spec)}</code> (results from {escape(teacher.created_at)})</li>",
        f"<li>students: {', '.join(f'<code>{escape(s.label)}</code>' for s in students) or '-'}</li>",
        f"<li>confidence intervals: {settings.confidence:.0%} percentile paired bootstrap over problem groups "
        f"(cluster: canonical_id), {settings.n_resamples} resamples, seed {settings.seed}; retention is undefined below "
        f"{settings.min_items} items or when the teacher scores 0, its interval below {settings.min_groups} groups</li>",
        f"<li>harness {escape(__version__)}, generated {datetime.now(timezone.utc).isoformat(timespec='seconds')}</li>",
        "</ul>",
        f"<h3>Teacher's suites</h3><ul class=\"meta\">{suites}</ul>",
    ]
    body = [*head, *(_student_section(s, worst) for s in students), *(_sweep_section(s) for s in sweeps)]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )
