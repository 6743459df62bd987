"""A markdown block for a Hugging Face model card: retention table, suites and versions, teacher, harness."""

from __future__ import annotations

from harness import __version__
from harness.report.tables import capability_table, render_table, seed_table
from harness.results import Results
from harness.retention import RetentionAnalysis


def model_card(teacher: Results, analysis: RetentionAnalysis) -> str:
    s = analysis.settings
    suites = "\n".join(
        f"| {info.name} | {info.capability} | {info.version} | {info.split} | {info.n_items} | `{info.hash}` |"
        for name, info in sorted(teacher.suites.items())
        if name in analysis.suites
    )
    lines = [
        "## Evaluation: retention of the teacher's capabilities",
        "",
        f"Measured with harness {__version__}: the student `{analysis.student_spec}` against "
        f"the teacher `{analysis.teacher_spec}` on the same items. Retention = student score / teacher score; "
        f"{s.confidence:.0%} confidence intervals by paired bootstrap over problem groups, a canonical item with its "
        f"perturbed twins ({s.n_resamples} resamples, seed {s.seed}); p = clustered McNemar (exact sign-flip test over "
        "groups) of \"the student differs from the teacher\".",
        "",
        render_table(*capability_table(analysis.rows, s.confidence, analysis.budget_mismatch_capabilities), "md"),
        "",
        "Against the typical SFT-distillation retention ranges:",
        "",
        render_table(*seed_table(analysis.seed_table, s.confidence), "md"),
        "",
        "| suite | capability | version | split | items | hash |",
        "|---|---|---|---|---|---|",
        suites,
        "",
    ]
    lines += [f"Note: {n}" for n in analysis.notes]
    return "\n".join(lines).rstrip() + "\n"
