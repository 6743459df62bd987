"""Loading results for a comparison: one file, or several runs of one model merged into one."""

from __future__ import annotations

from harness.errors import HarnessError
from harness.results import Results
from harness.types import SampleRecord


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
