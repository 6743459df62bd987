"""Retention: student score / teacher score per capability, paired by item id.

`analyse` (analysis.py) is the one entry point: it checks that the two results files measured
the same items (or, with `intersect=True`, keeps the common ones and says what it dropped;
alignment.py), scores every pair once (relative suites such as style rescore from both
outputs; pairs.py), and derives every view from those scored pairs: the per-capability table
with CIs and McNemar tests clustered by problem group (harness/stats.py) and the memorisation
gap, canonical vs perturbed variants (views.py), the mitigation view, pass@1 vs maj@k vs
verified (mitigation.py), and the seed's five-row table (seed.py). loading.py merges several
results files of one model.
"""

from harness.retention.alignment import Alignment, align, check_comparable
from harness.retention.analysis import RetentionAnalysis, analyse
from harness.retention.loading import load_merged
from harness.retention.mitigation import MitigationRow, majority_correct, mitigation_rows
from harness.retention.pairs import ScoredPair, group_key, is_relative, paired_records, paired_scores, score_pairs
from harness.retention.seed import SEED_CLAIMS, SeedClaim, SeedRow, seed_rows, verdict
from harness.retention.views import (
    RetentionRow,
    VariantRow,
    capability_rows,
    clustering_info,
    compare,
    retention_rows,
    subset_row,
    variant_rows,
)

__all__ = [
    "SEED_CLAIMS",
    "Alignment",
    "MitigationRow",
    "RetentionAnalysis",
    "RetentionRow",
    "ScoredPair",
    "SeedClaim",
    "SeedRow",
    "VariantRow",
    "align",
    "analyse",
    "capability_rows",
    "check_comparable",
    "clustering_info",
    "compare",
    "group_key",
    "is_relative",
    "load_merged",
    "majority_correct",
    "mitigation_rows",
    "paired_records",
    "paired_scores",
    "retention_rows",
    "score_pairs",
    "seed_rows",
    "subset_row",
    "variant_rows",
    "verdict",
]
