"""Matplotlib figures for the HTML report, returned as base64 PNG data URIs (no files, no JS)."""

from __future__ import annotations

import base64
import io
from collections import defaultdict
from collections.abc import Sequence

from harness.difficulty import Ladder
from harness.retention import MitigationRow, RetentionAnalysis, RetentionRow, SeedRow, VariantRow

TEACHER_COLOUR = "#4c72b0"
STUDENT_COLOUR = "#dd8452"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
    return plt


def _data_uri(fig) -> str:
    plt = _pyplot()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _panels(n: int):
    """A grid of n small panels, three to a row; the unused ones hidden."""
    plt = _pyplot()
    cols = min(3, n)
    nrows = -(-n // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.8 * cols, 3.2 * nrows), squeeze=False)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat


def _err(rows: Sequence[RetentionRow]) -> tuple[list[float], list[list[float]]]:
    values, lo, hi = [], [], []
    for r in rows:
        v = r.retention if r.retention is not None else 0.0
        values.append(v)
        lo.append(v - r.ci_low if r.ci_low is not None else 0.0)
        hi.append(r.ci_high - v if r.ci_high is not None else 0.0)
    return values, [lo, hi]


def seed_summary(rows: Sequence[SeedRow]) -> str:
    """Measured retention with its CI against the seed's claimed range, one bar per seed row."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 0.55 * len(rows) + 0.8))
    names = [r.capability for r in rows][::-1]
    rows = list(rows)[::-1]
    for y, r in enumerate(rows):
        ax.barh(y, r.claimed_high - r.claimed_low, left=r.claimed_low, height=0.6, color="#cccccc", label="seed's claim" if y == 0 else None)
        if r.retention is not None:
            lo = r.retention - (r.ci_low if r.ci_low is not None else r.retention)
            hi = (r.ci_high if r.ci_high is not None else r.retention) - r.retention
            ax.errorbar(r.retention, y, xerr=[[lo], [hi]], fmt="o", color=STUDENT_COLOUR, capsize=4, label="measured (CI)" if y == len(rows) - 1 or not any(x.retention is not None for x in rows[y + 1 :]) else None)
            if r.ci_low is None or r.ci_high is None:  # a point without an interval: say that it decides nothing
                ax.text(r.retention, y + 0.32, f"CI undefined: {r.verdict}", ha="center", fontsize=7, color="#777777")
        else:
            ax.text(0.02, y, "not measured", va="center", fontsize=8, color="#777777")
    ax.set_yticks(range(len(rows)), names)
    ax.set_xlim(0, max(1.05, *[(r.ci_high or 0) + 0.05 for r in rows]))
    ax.xaxis.set_major_formatter(lambda x, _: f"{x:.0%}")
    ax.set_xlabel("retention (student / teacher)")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    return _data_uri(fig)


def retention_bars(rows: Sequence[RetentionRow]) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(3.5, 0.9 * len(rows) + 1.5), 3))
    values, err = _err(rows)
    ax.bar(range(len(rows)), values, yerr=err, capsize=4, color=STUDENT_COLOUR)
    for x, r in enumerate(rows):
        if r.retention is None:
            ax.text(x, 0.02, "undefined", ha="center", rotation=90, fontsize=8)
    ax.axhline(1.0, color="#555555", lw=0.8, ls="--")
    ax.set_xticks(range(len(rows)), [r.capability for r in rows])
    ax.yaxis.set_major_formatter(lambda x, _: f"{x:.0%}")
    ax.set_ylabel("retention")
    return _data_uri(fig)


def _pooled_by_level(rows: Sequence[VariantRow]) -> tuple[list[int], list[float], list[float], list[int]]:
    """Teacher and student score per perturbation level, pooled over kinds (weighted by items)."""
    acc: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for r in rows:
        if r.level is None or r.teacher is None or r.student is None:
            continue
        a = acc[r.level]
        a[0] += r.teacher * r.n
        a[1] += r.student * r.n
        a[2] += r.n
    levels = sorted(acc)
    return levels, [acc[lv][0] / acc[lv][2] for lv in levels], [acc[lv][1] / acc[lv][2] for lv in levels], [int(acc[lv][2]) for lv in levels]


def perturbation_levels(rows: Sequence[VariantRow]) -> str | None:
    """Teacher and student score by perturbation level (0 = canonical), one panel per capability."""
    by_cap: dict[str, list[VariantRow]] = defaultdict(list)
    for r in rows:
        if r.level is not None:
            by_cap[r.capability].append(r)
    by_cap = {c: rs for c, rs in by_cap.items() if any(r.level for r in rs)}
    if not by_cap:
        return None
    fig, flat = _panels(len(by_cap))
    for ax, (cap, rs) in zip(flat, sorted(by_cap.items()), strict=False):  # the grid may have spare panels
        levels, teacher, student, counts = _pooled_by_level(rs)
        ax.plot(levels, teacher, "o--", color=TEACHER_COLOUR, label="teacher")
        ax.plot(levels, student, "o-", color=STUDENT_COLOUR, lw=1.6, label="student")
        ax.set_xticks(levels, [("canonical" if lv == 0 else f"level {lv}") + f"\n(n={n})" for lv, n in zip(levels, counts, strict=True)])
        ax.set_xlim(levels[0] - 0.3, levels[-1] + 0.3)
        ax.set_ylim(-0.03, 1.05)
        ax.yaxis.set_major_formatter(lambda x, _: f"{x:.0%}")
        ax.set_title(cap)
        ax.set_ylabel("score")
        ax.legend(fontsize=8, frameon=False, loc="best")
    fig.tight_layout()
    return _data_uri(fig)


def difficulty_ladders(ladders: Sequence[Ladder]) -> str | None:
    """Teacher and student accuracy against rung with CIs, one panel per ladder; breaking points marked."""
    if not ladders:
        return None
    fig, flat = _panels(len(ladders))
    for ax, ladder in zip(flat, ladders, strict=False):
        rungs = [r.rung for r in ladder.rungs]
        for who, colour, style in (("teacher", TEACHER_COLOUR, "o--"), ("student", STUDENT_COLOUR, "o-")):
            # rungs with too few problem groups are not plotted (their tick says so)
            values = [getattr(r, who) if getattr(r, who) is not None and not r.too_few_groups else float("nan")
                      for r in ladder.rungs]
            cis = [getattr(r, f"{who}_ci") for r in ladder.rungs]
            lo = [v - c[0] if c[0] is not None else 0.0 for v, c in zip(values, cis, strict=True)]
            hi = [c[1] - v if c[1] is not None else 0.0 for v, c in zip(values, cis, strict=True)]
            ax.errorbar(rungs, values, yerr=[lo, hi], fmt=style, color=colour, capsize=3, label=who)
            point = getattr(ladder, f"{who}_break")
            if point.reached:
                ax.axvline(point.rung, color=colour, alpha=0.35, lw=4)
        ax.set_xticks(rungs, [f"{r.rung}\n({r.n_groups} gr.)" if r.too_few_groups else str(r.rung) for r in ladder.rungs])
        ax.set_ylim(-0.03, 1.05)
        ax.yaxis.set_major_formatter(lambda x, _: f"{x:.0%}")
        few = [r for r in ladder.rungs if r.too_few_groups]
        if few:
            ax.text(0.5, 0.5, "too few groups: " + ", ".join(f"rung {r.rung} ({r.n_groups})" for r in few),
                    transform=ax.transAxes, ha="center", va="center", fontsize=7, color="grey", wrap=True)
        ax.set_title(f"{ladder.capability}: {ladder.kind}")
        ax.set_xlabel("rung (0 = canonical)")
        ax.set_ylabel("accuracy")
        ax.legend(fontsize=8, frameon=False, loc="best")
    fig.tight_layout()
    return _data_uri(fig)


def majority_curve(rows: Sequence[MitigationRow]) -> str | None:
    by_cap: dict[str, list[MitigationRow]] = defaultdict(list)
    for r in rows:
        by_cap[r.capability].append(r)
    if not by_cap:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(by_cap), figsize=(4.2 * len(by_cap), 3.2), squeeze=False)
    for ax, (cap, rs) in zip(axes[0], sorted(by_cap.items()), strict=True):
        maj = sorted([r for r in rs if r.method.startswith("maj@")], key=lambda r: r.k)
        ks = [r.k for r in maj]
        ax.plot(ks, [r.student for r in maj], "o-", color=STUDENT_COLOUR, label="student maj@k")
        ax.plot(ks, [r.teacher for r in maj], "o--", color=TEACHER_COLOUR, label="teacher")
        for r in rs:
            if r.method == "pass@1":
                ax.axhline(r.student, color=STUDENT_COLOUR, ls=":", lw=1, label="student pass@1")
            elif r.method.startswith("verified@"):
                ax.axhline(r.student, color="#55a868", ls="-.", lw=1, label=f"student {r.method}")
        ax.set_xticks(ks)
        ax.set_xlabel("k (samples voted)")
        ax.set_ylim(-0.03, 1.05)
        ax.yaxis.set_major_formatter(lambda x, _: f"{x:.0%}")
        ax.set_title(cap)
        ax.legend(fontsize=7, frameon=False)
    return _data_uri(fig)


def retention_over_steps(points: Sequence[tuple[int, RetentionAnalysis]], label: str = "training step") -> str | None:
    """Retention per capability (with CI band) against checkpoint step."""
    if len(points) < 1:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    caps = sorted({r.capability for _, a in points for r in a.rows})
    for cap in caps:
        xs, ys, lo, hi = [], [], [], []
        for step, a in points:
            row = next((r for r in a.rows if r.capability == cap), None)
            if row is None or row.retention is None:
                continue
            xs.append(step)
            ys.append(row.retention)
            lo.append(row.ci_low if row.ci_low is not None else row.retention)
            hi.append(row.ci_high if row.ci_high is not None else row.retention)
        if xs:
            (line,) = ax.plot(xs, ys, "o-", label=cap)
            ax.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.15)
    ax.axhline(1.0, color="#555555", lw=0.8, ls="--")
    ax.yaxis.set_major_formatter(lambda x, _: f"{x:.0%}")
    ax.set_xlabel(label)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("retention")
    ax.legend(fontsize=8, frameon=False)
    return _data_uri(fig)
