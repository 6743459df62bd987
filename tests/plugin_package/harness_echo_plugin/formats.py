from harness.report.formats import OutputFormat


def render_tsv(analysis, seed_only=False):
    lines = ["capability\tteacher\tstudent\tretention\tn"]
    for row in analysis.rows:
        lines.append("\t".join(str(x) for x in (row.capability, row.teacher, row.student, row.retention, row.n)))
    return "\n".join(lines) + "\n"


TSV = OutputFormat(render_tsv, suffixes=("tsv",))
