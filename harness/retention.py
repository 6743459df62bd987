"""Retention: student score / teacher score per capability, paired by item id.

`analyse` is the one entry point: it checks that the two results files measured the same
items (or, with `intersect=True`, keeps the common ones and says what it dropped), scores
every pair once (relative suites such as style rescore from both outputs), and derives
every view from those scored pairs: the per-capability table with CIs and McNemar tests
clustered by problem group (harness/stats.py), the memorisation gap (canonical vs perturbed variants), the
mitigation view (pass@1 vs maj@k vs verified) and the seed's five-row table.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.difficulty import Ladder, ladders
from harness.errors import HarnessError
from harness.results import Results
from harness.stats import CI_METHOD, CLUSTER_KEY, TEST_METHOD, BootstrapSettings, mcnemar_clustered, mean_or_none, paired_ratio
from harness.types import SampleRecord


@dataclass
class RetentionRow:
    capability: str
    teacher: float | None
    student: float | None
    retention: float | None  # None: undefined (teacher score 0, too few items)
    n: int
    n_groups: int = 0  # problem groups (a canonical item with its twins): the effective sample size
    ci_low: float | None = None
    ci_high: float | None = None
    undefined_reason: str | None = None
    teacher_only: int = 0  # McNemar discordant pairs: teacher right, student wrong
    student_only: int = 0  # student right, teacher wrong
    p_value: float | None = None  # clustered McNemar, "the student differs from the teacher"


@dataclass
class VariantRow(RetentionRow):
    """One capability restricted to one variant ('canonical', 'numbers@1', or pooled 'perturbed')."""

    variant: str = "canonical"
    kind: str = "canonical"
    level: int | None = 0


@dataclass
class SeedRow(RetentionRow):
    """One row of the seed's table; `capability` holds the row's name."""

    claimed_low: float = 0.0
    claimed_high: float = 0.0
    sources: str = ""  # which capabilities and variants fed the row
    verdict: str = "not measured"  # below / consistent / above the claimed range, or not measured


@dataclass
class MitigationRow(RetentionRow):
    """pass@1, maj@k or verified@k (an oracle verifier picks any correct sample)."""

    method: str = "pass@1"
    k: int = 1


@dataclass
class ScoredPair:
    teacher: SampleRecord
    student: SampleRecord
    teacher_score: float
    student_score: float
    teacher_correct: bool
    student_correct: bool

    @property
    def variant(self) -> str:
        r = self.teacher
        return "canonical" if r.variant == "canonical" else f"{r.variant}@{r.perturbation_level}"


@dataclass
class Alignment:
    """Which records are compared, and what was left out and why."""

    teacher: list[SampleRecord]
    student: list[SampleRecord]
    suites: list[str]
    notes: list[str] = field(default_factory=list)


@dataclass
class RetentionAnalysis:
    teacher_spec: str
    student_spec: str
    suites: dict[str, dict[str, Any]]
    settings: BootstrapSettings
    notes: list[str]
    rows: list[RetentionRow]
    variants: list[VariantRow]
    seed_table: list[SeedRow]
    mitigation: list[MitigationRow]
    ladders: list[Ladder] = field(default_factory=list)  # accuracy per difficulty rung, breaking points
    judge: dict[str, Any] | None = None  # the abstention judge both runs' edge_cases were scored by
    pairs: list[ScoredPair] = field(repr=False, default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("pairs")
        out["bootstrap"] = out.pop("settings")
        out["clustering"] = clustering_info(self.pairs)
        return out


def group_key(pair: "ScoredPair") -> str:
    """The problem group of a pair: its canonical item (itself when canonical)."""
    return pair.teacher.canonical_id or pair.teacher.item_id


def clustering_info(pairs: Sequence["ScoredPair"]) -> dict[str, Any]:
    """What every interval and test was clustered on, for results and verdict JSON."""
    return {
        "cluster": CLUSTER_KEY,
        "n_groups": len({group_key(p) for p in pairs}),
        "n_items": len(pairs),
        "ci_method": CI_METHOD,
        "test": TEST_METHOD,
    }


# Seed table ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SeedClaim:
    name: str
    capabilities: tuple[str, ...]
    perturbed_only: bool
    low: float
    high: float


SEED_CLAIMS = (
    SeedClaim("Writing style", ("style",), False, 0.85, 0.95),
    SeedClaim("Format/structure", ("format",), False, 0.90, 0.95),
    SeedClaim("Common knowledge", ("knowledge",), False, 0.70, 0.85),
    SeedClaim("Novel reasoning", ("math", "logic", "code"), True, 0.40, 0.60),
    SeedClaim("Edge cases", ("edge_cases",), False, 0.30, 0.50),
)


# Loading ---------------------------------------------------------------------------------
def load_merged(paths: str) -> tuple[Results, list[SampleRecord]]:
    """Load one results file, or several joined by commas (separate eval runs of one model on
    different suites) merged into one. Suites must not repeat and the model spec must agree."""
    from harness.results import load_results, summarise

    parts = [p.strip() for p in paths.split(",") if p.strip()]
    if not parts:
        raise HarnessError("no results path given")
    loaded = [load_results(p) for p in parts]
    if len(loaded) == 1:
        return loaded[0]
    first, records = loaded[0][0], list(loaded[0][1])
    suites = dict(first.suites)
    for path, (results, recs) in zip(parts[1:], loaded[1:], strict=True):
        if results.model.spec != first.model.spec:
            raise HarnessError(f"cannot merge {path}: model {results.model.spec!r} is not {first.model.spec!r}")
        repeated = sorted(set(suites) & set(results.suites))
        if repeated:
            raise HarnessError(f"cannot merge {path}: suite(s) {', '.join(repeated)} appear in more than one results file")
        suites.update(results.suites)
        records += recs
    merged = first.model_copy(
        update={
            "suites": suites,
            "capabilities": summarise(records),
            "failures": sum(r.failures for r, _ in loaded),
            "extra": {**first.extra, "merged_from": parts},
        }
    )
    return merged, records


# Comparability ---------------------------------------------------------------------------
def _ids_by_suite(records: Sequence[SampleRecord]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for r in records:
        out[r.suite].append(r.item_id)
    return out


def _sample(ids: Sequence[str], n: int = 3) -> str:
    shown = ", ".join(list(ids)[:n])
    return shown + (f", … ({len(ids)} in all)" if len(ids) > n else "")


def check_comparable(
    teacher: Results,
    student: Results,
    intersect: bool = False,
    teacher_records: Sequence[SampleRecord] | None = None,
    student_records: Sequence[SampleRecord] | None = None,
) -> list[str]:
    """Refuse results whose suites, versions or item sets differ, saying how; returns notes.

    With `intersect`, different suite sets and item sets (different --limit or --variant)
    are allowed and only common items are compared. Different suite versions, seeds, sizes
    or splits are refused even then: the same item id would name a different item.
    """
    from harness.scoring.judges import check_same_judge

    check_same_judge(teacher, student)
    t, s = teacher.suites, student.suites
    notes: list[str] = []
    common = sorted(set(t) & set(s))
    if set(t) != set(s):
        only_t, only_s = sorted(set(t) - set(s)), sorted(set(s) - set(t))
        detail = f"only teacher: {', '.join(only_t) or '-'}; only student: {', '.join(only_s) or '-'}"
        if not intersect or not common:
            hint = " and none in common" if intersect else "; pass --intersect to compare the suites both have"
            raise HarnessError(f"results cover different suites ({detail}){hint}")
        notes.append(f"intersect: compared suites {', '.join(common)} only ({detail})")
    t_ids = _ids_by_suite(teacher_records or [])
    s_ids = _ids_by_suite(student_records or [])
    for name in common:
        a, b = t[name], s[name]
        for attr in ("capability", "version", "split", "seed", "size"):
            if getattr(a, attr) != getattr(b, attr):
                raise HarnessError(
                    f"suite {name}: {attr} differs (teacher {getattr(a, attr)}, student {getattr(b, attr)}); "
                    f"the same item id would name different items, so these results cannot be paired"
                )
        if a.hash != b.hash and not intersect:
            why = f"suite {name}: item sets differ (hash {a.hash} vs {b.hash}; teacher {a.n_items} items, student {b.n_items} items"
            if name in t_ids and name in s_ids:
                only_t = [i for i in t_ids[name] if i not in set(s_ids[name])]
                only_s = [i for i in s_ids[name] if i not in set(t_ids[name])]
                if only_t:
                    why += f"; only teacher: {_sample(only_t)}"
                if only_s:
                    why += f"; only student: {_sample(only_s)}"
            raise HarnessError(
                why + "). Were they run with different --limit or --variant? "
                "Pass --intersect to compare the common items."
            )
    return notes


def align(
    teacher: Results,
    t_records: Sequence[SampleRecord],
    student: Results,
    s_records: Sequence[SampleRecord],
    intersect: bool = False,
) -> Alignment:
    notes = check_comparable(teacher, student, intersect, t_records, s_records)
    suites = sorted(set(teacher.suites) & set(student.suites))
    keep = set(suites)
    t_recs = [r for r in t_records if r.suite in keep]
    s_recs = [r for r in s_records if r.suite in keep]
    t_by_id = {r.item_id: r for r in t_recs}
    s_by_id = {r.item_id: r for r in s_recs}
    for item_id in t_by_id.keys() & s_by_id.keys():
        a, b = t_by_id[item_id].reference_answer, s_by_id[item_id].reference_answer
        if json.dumps(a, sort_keys=True, default=str) != json.dumps(b, sort_keys=True, default=str):
            raise HarnessError(f"item {item_id} has different reference answers ({a!r} vs {b!r}): not the same item")
    if intersect:
        common = t_by_id.keys() & s_by_id.keys()
        if not common:
            raise HarnessError("--intersect: the two results share no item")
        dropped_t, dropped_s = len(t_by_id) - len(common), len(s_by_id) - len(common)
        if dropped_t or dropped_s:
            notes.append(
                f"intersect: kept {len(common)} common items; dropped {dropped_t} teacher-only and "
                f"{dropped_s} student-only items (different --limit keeps the smaller run's first items, "
                f"and with them its mix of variants)"
            )
        t_recs = [r for r in t_recs if r.item_id in common]
        s_recs = [r for r in s_recs if r.item_id in common]
    errors = sum(r.error is not None for r in t_recs) + sum(r.error is not None for r in s_recs)
    if errors:
        notes.append(f"left out {errors} records whose requests failed (teacher or student), with their pairs")
    return Alignment(t_recs, s_recs, suites, notes)


# Pairing and scoring ---------------------------------------------------------------------
def paired_records(
    teacher: list[SampleRecord], student: list[SampleRecord]
) -> dict[str, list[tuple[SampleRecord, SampleRecord]]]:
    """capability → [(teacher record, student record)] over items both answered without error."""
    s_by_id = {r.item_id: r for r in student}
    pairs: dict[str, list[tuple[SampleRecord, SampleRecord]]] = defaultdict(list)
    for t in teacher:
        s = s_by_id.get(t.item_id)
        if s is not None and t.error is None and s.error is None:
            pairs[t.capability].append((t, s))
    return pairs


def _relative_suite(suite_name: str):
    from harness.suite import SUITES

    suite_cls = SUITES.get(suite_name) if suite_name in SUITES else None
    return suite_cls if suite_cls is not None and suite_cls.relative else None


def paired_scores(pairs: list[tuple[SampleRecord, SampleRecord]]) -> tuple[list[float], list[float]]:
    """Per-item (teacher, student) scores; relative suites (style) rescore from both outputs."""
    by_suite: dict[str, list[tuple[SampleRecord, SampleRecord]]] = defaultdict(list)
    for pair in pairs:
        by_suite[pair[0].suite].append(pair)
    t_scores: list[float] = []
    s_scores: list[float] = []
    for suite_name, suite_pairs in by_suite.items():
        suite_cls = _relative_suite(suite_name)
        if suite_cls is not None:
            t, s = suite_cls().rescore_pairs([p[0] for p in suite_pairs], [p[1] for p in suite_pairs])
        else:
            t, s = [p[0].score for p in suite_pairs], [p[1].score for p in suite_pairs]
        t_scores += t
        s_scores += s
    return t_scores, s_scores


def score_pairs(teacher: list[SampleRecord], student: list[SampleRecord]) -> list[ScoredPair]:
    """Score every pair once. Relative suites have graded scores; 'correct' is score >= 0.5 there."""
    out: list[ScoredPair] = []
    for _cap, pairs in sorted(paired_records(teacher, student).items()):
        by_suite: dict[str, list[tuple[SampleRecord, SampleRecord]]] = defaultdict(list)
        for pair in pairs:
            by_suite[pair[0].suite].append(pair)
        for suite_name, suite_pairs in sorted(by_suite.items()):
            t_scores, s_scores = paired_scores(suite_pairs)
            relative = _relative_suite(suite_name) is not None
            for (t, s), ts, ss in zip(suite_pairs, t_scores, s_scores, strict=True):
                tc, sc = (ts >= 0.5, ss >= 0.5) if relative else (t.correct, s.correct)
                out.append(ScoredPair(t, s, float(ts), float(ss), bool(tc), bool(sc)))
    return out


def _compare(pairs: Sequence[ScoredPair], settings: BootstrapSettings) -> dict[str, Any]:
    t = [p.teacher_score for p in pairs]
    s = [p.student_score for p in pairs]
    groups = [group_key(p) for p in pairs]
    est = paired_ratio(t, s, settings, groups)
    mc = (
        mcnemar_clustered([p.teacher_correct for p in pairs], [p.student_correct for p in pairs], groups)
        if pairs
        else None
    )
    return {
        "teacher": mean_or_none(t),
        "student": mean_or_none(s),
        "retention": est.value,
        "n": len(pairs),
        "n_groups": len(set(groups)),
        "ci_low": est.ci.low,
        "ci_high": est.ci.high,
        "undefined_reason": est.undefined_reason,
        "teacher_only": mc.teacher_only if mc else 0,
        "student_only": mc.student_only if mc else 0,
        "p_value": mc.p_value if mc else None,
    }


def _group(pairs: Sequence[ScoredPair], key: Callable[[ScoredPair], Any]) -> dict[Any, list[ScoredPair]]:
    out: dict[Any, list[ScoredPair]] = defaultdict(list)
    for p in pairs:
        out[key(p)].append(p)
    return out


# Views -----------------------------------------------------------------------------------
def capability_rows(pairs: Sequence[ScoredPair], settings: BootstrapSettings) -> list[RetentionRow]:
    return [
        RetentionRow(capability=cap, **_compare(group, settings))
        for cap, group in sorted(_group(pairs, lambda p: p.teacher.capability).items())
    ]


def variant_rows(pairs: Sequence[ScoredPair], settings: BootstrapSettings) -> list[VariantRow]:
    """The memorisation gap: each capability per variant, plus every perturbation pooled."""
    rows: list[VariantRow] = []
    for cap, group in sorted(_group(pairs, lambda p: p.teacher.capability).items()):
        by_variant = _group(group, lambda p: (p.teacher.variant != "canonical", p.teacher.perturbation_level, p.variant))
        for (_, level, label), sub in sorted(by_variant.items()):
            kind = sub[0].teacher.variant
            rows.append(VariantRow(capability=cap, variant=label, kind=kind, level=level, **_compare(sub, settings)))
        perturbed = [p for p in group if p.teacher.variant != "canonical"]
        if perturbed:
            rows.append(VariantRow(capability=cap, variant="perturbed", kind="perturbed", level=None, **_compare(perturbed, settings)))
    return rows


def _verdict(row: RetentionRow, low: float, high: float) -> str:
    if row.retention is None:
        return "undefined" if row.n else "not measured"
    lo = row.ci_low if row.ci_low is not None else row.retention
    hi = row.ci_high if row.ci_high is not None else row.retention
    if hi < low:
        return "below claimed"
    if lo > high:
        return "above claimed"
    return "consistent"


def seed_rows(pairs: Sequence[ScoredPair], settings: BootstrapSettings) -> list[SeedRow]:
    rows = []
    for claim in SEED_CLAIMS:
        chosen = [
            p
            for p in pairs
            if p.teacher.capability in claim.capabilities and (not claim.perturbed_only or p.teacher.variant != "canonical")
        ]
        counts = _group(chosen, lambda p: p.teacher.capability)
        scope = " perturbed" if claim.perturbed_only else ""
        sources = ", ".join(f"{cap} ({len(counts[cap])}{scope})" for cap in claim.capabilities if cap in counts)
        if chosen:
            row = SeedRow(capability=claim.name, claimed_low=claim.low, claimed_high=claim.high, sources=sources, **_compare(chosen, settings))
            row.verdict = _verdict(row, claim.low, claim.high)
        else:
            row = SeedRow(claim.name, None, None, None, 0, claimed_low=claim.low, claimed_high=claim.high, sources="-")
        rows.append(row)
    return rows


def _vote_key(sample: dict[str, Any]) -> str:
    if "vote_key" in sample:
        return str(sample["vote_key"])
    return json.dumps(sample.get("answer"), sort_keys=True, default=str)


def majority_correct(samples: Sequence[dict[str, Any]]) -> bool:
    """Correctness of the majority answer; abstentions (answer None) vote only when all abstain.

    Ties go to the answer seen first, so the result is deterministic (as in harness.voting).
    """
    voters = [s for s in samples if s.get("answer") is not None] or list(samples)
    tally: dict[str, list[dict[str, Any]]] = {}
    for s in voters:
        tally.setdefault(_vote_key(s), []).append(s)
    winner = max(tally.values(), key=len)  # max keeps the first of equal counts
    return bool(winner[0].get("correct"))


def _sample_correct(record: SampleRecord) -> list[bool]:
    return [bool(s.get("correct")) for s in record.samples] if record.samples else [record.correct]


MethodFn = Callable[[SampleRecord], float]


def _methods(k_max: int, voted: str | None) -> list[tuple[str, int, MethodFn]]:
    """(name, k, per-record score) for each mitigation, on a record with >= k_max samples."""
    out: list[tuple[str, int, MethodFn]] = [
        ("pass@1", 1, lambda r: sum(_sample_correct(r)) / len(_sample_correct(r))),  # unbiased: share of correct samples
    ]
    out += [(f"maj@{k}", k, lambda r, k=k: float(majority_correct(r.samples[:k]))) for k in range(1, k_max + 1)]
    if voted:
        out.append((f"vote:{voted}@{k_max}", k_max, lambda r: float(r.correct)))  # the evaluator's own vote
    out.append((f"verified@{k_max}", k_max, lambda r: float(any(_sample_correct(r)[:k_max]))))
    return out


def mitigation_rows(pairs: Sequence[ScoredPair], settings: BootstrapSettings) -> list[MitigationRow]:
    """pass@1 vs maj@k vs verified@k (an oracle verifier picks any correct sample).

    Computed where the student's records hold several samples. A teacher run with one sample
    per item keeps its single-sample score as the denominator throughout, so those rows read
    "how much of the teacher's score the student recovers by sampling and voting".
    Relative suites are left out: their scores are not per-sample.
    """
    rows: list[MitigationRow] = []
    for cap, group in sorted(_group(pairs, lambda p: p.teacher.capability).items()):
        group = [p for p in group if _relative_suite(p.teacher.suite) is None]
        if not group or not all(len(p.student.samples) > 1 for p in group):
            continue
        k_max = min(len(p.student.samples) for p in group)
        methods = _methods(k_max, group[0].student.vote_method)
        teacher_sampled = all(len(p.teacher.samples) > 1 for p in group)
        t_methods = dict((name, fn) for name, _, fn in _methods(min(len(p.teacher.samples) for p in group), group[0].teacher.vote_method)) if teacher_sampled else {}
        for name, k, fn in methods:
            t_fn = t_methods.get(name)
            if t_fn is None:
                t_fn = (lambda r: float(r.correct)) if not teacher_sampled else t_methods["pass@1"]
            mp = []
            for p in group:
                ts, ss = t_fn(p.teacher), fn(p.student)
                mp.append(ScoredPair(p.teacher, p.student, ts, ss, ts >= 0.5, ss >= 0.5))
            rows.append(MitigationRow(capability=cap, method=name, k=k, **_compare(mp, settings)))
    return rows


def subset_row(
    pairs: Sequence[ScoredPair], settings: BootstrapSettings, capability: str, variant_kind: str
) -> RetentionRow:
    """One capability restricted to a variant kind over all its levels ('perturbed': every perturbation)."""

    def wanted(p: ScoredPair) -> bool:
        kind = p.teacher.variant
        return kind != "canonical" if variant_kind == "perturbed" else kind == variant_kind

    chosen = [p for p in pairs if p.teacher.capability == capability and wanted(p)]
    return RetentionRow(capability=capability, **_compare(chosen, settings))


def retention_rows(
    teacher: list[SampleRecord], student: list[SampleRecord], settings: BootstrapSettings | None = None
) -> list[RetentionRow]:
    return capability_rows(score_pairs(teacher, student), settings or BootstrapSettings())


def _shared_judge(results: Results, suites: Sequence[str]) -> dict[str, Any] | None:
    """The judge of the compared edge_cases (check_comparable made sure both runs agree)."""
    from harness.scoring.judges import LEGACY_JUDGE

    return (results.judge or dict(LEGACY_JUDGE)) if "edge_cases" in suites else None


def analyse(
    teacher: Results,
    t_records: Sequence[SampleRecord],
    student: Results,
    s_records: Sequence[SampleRecord],
    *,
    intersect: bool = False,
    settings: BootstrapSettings | None = None,
) -> RetentionAnalysis:
    settings = settings or BootstrapSettings()
    aligned = align(teacher, t_records, student, s_records, intersect)
    pairs = score_pairs(aligned.teacher, aligned.student)
    if not pairs:
        raise HarnessError("the two results share no item answered without error by both models")
    return RetentionAnalysis(
        teacher_spec=teacher.model.spec,
        student_spec=student.model.spec,
        suites={n: {"version": teacher.suites[n].version, "hash": teacher.suites[n].hash, "capability": teacher.suites[n].capability} for n in aligned.suites},
        settings=settings,
        notes=aligned.notes,
        rows=capability_rows(pairs, settings),
        variants=variant_rows(pairs, settings),
        seed_table=seed_rows(pairs, settings),
        mitigation=mitigation_rows(pairs, settings),
        ladders=ladders(pairs, settings),
        judge=_shared_judge(teacher, aligned.suites),
        pairs=pairs,
    )
