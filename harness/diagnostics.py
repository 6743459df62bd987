"""Output health: how many answers were cut off by the token budget, how many held no answer.

A truncated output or one the scorer cannot read scores exactly like a wrong answer, so a
run whose budget is too small looks like a weak model. `health_by_capability` counts both per
capability (over the records whose requests succeeded), `output_health` turns the counts into
the warnings `harness eval` and `harness retention` print, and the gate's
`max_truncation_rate` / `max_unparsed_rate` rules judge the same counts.

Unknown is kept apart from "no": a record whose `finish_reason` is None (written before
harness recorded it, answered from an older cache, imported from lm-eval) is neither
truncated nor complete, and a record read from a file without the `unparsed` field is
neither parsed nor unparsed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from harness.types import SampleRecord

WARN_RATE = 0.05  # warn when more than 5 % of a capability's outputs are truncated / unparsed


@dataclass
class OutputHealth:
    """Counts of truncated and unparsed outputs of one capability, and their rates."""

    n: int = 0  # records whose request succeeded
    truncated: int = 0  # finish_reason "length"
    finish_unknown: int = 0  # finish_reason None
    unparsed: int = 0  # the scorer found no answer
    parse_unknown: int = 0  # record read from a file that predates the `unparsed` field

    @staticmethod
    def _rate(count: int, known: int) -> float | None:
        return count / known if known else None

    @property
    def truncation_rate(self) -> float | None:
        """Share of the records with a known finish_reason that were truncated (None: none known)."""
        return self._rate(self.truncated, self.n - self.finish_unknown)

    @property
    def unparsed_rate(self) -> float | None:
        return self._rate(self.unparsed, self.n - self.parse_unknown)

    @property
    def worst_truncation_rate(self) -> float | None:
        """The rate if every unknown record had been truncated: what a fail-closed rule judges."""
        return self._rate(self.truncated + self.finish_unknown, self.n)

    @property
    def worst_unparsed_rate(self) -> float | None:
        return self._rate(self.unparsed + self.parse_unknown, self.n)

    def add(self, record: SampleRecord) -> None:
        self.n += 1
        if record.finish_reason is None:
            self.finish_unknown += 1
        elif record.truncated or record.finish_reason == "length":
            self.truncated += 1
        if "unparsed" not in record.model_fields_set:
            self.parse_unknown += 1
        elif record.unparsed:
            self.unparsed += 1


def health_by_capability(records: Iterable[SampleRecord]) -> dict[str, OutputHealth]:
    out: dict[str, OutputHealth] = defaultdict(OutputHealth)
    for record in records:
        if record.error is None:
            out[record.capability].add(record)
    return dict(sorted(out.items()))


def ends_in_a_loop(text: str, window: int = 40, repeats: int = 4) -> bool:
    r"""Whether an output ends by repeating itself ("The answer is 120.\nThe answer is 120.\n..."):
    its last `window` characters occur `repeats` times or more. A larger budget does not end a loop."""
    text = text.rstrip()
    return len(text) >= window * repeats and text.count(text[-window:]) >= repeats


def suggested_max_new_tokens(current: int) -> int:
    return 2 * current


def output_health(records: Iterable[SampleRecord], max_new_tokens: int | None = None, who: str = "") -> list[str]:
    """One warning line per capability whose truncation or unparsed rate is above 5 %."""
    prefix = f"{who}: " if who else ""
    warnings = []
    records = list(records)
    for cap, h in health_by_capability(records).items():
        rate = h.truncation_rate
        if rate is not None and rate > WARN_RATE:
            loops = sum(ends_in_a_loop(r.output) for r in records
                        if r.capability == cap and r.error is None and r.finish_reason == "length")
            if max_new_tokens:
                advice = (f"raise --max-new-tokens (now {max_new_tokens}; try {suggested_max_new_tokens(max_new_tokens)}) "
                          "and re-run")
            else:
                advice = "raise --max-new-tokens and re-run"
            warnings.append(f"warning: {prefix}{cap}: {h.truncated} of {h.n - h.finish_unknown} outputs ({rate:.1%}) "
                            f"hit the token limit and were cut off, scored as wrong; {advice}"
                            + (f" ({loops} of them end repeating themselves, which a larger budget will not fix)" if loops else ""))
        rate = h.unparsed_rate
        if rate is not None and rate > WARN_RATE:
            warnings.append(f"warning: {prefix}{cap}: {h.unparsed} of {h.n - h.parse_unknown} outputs ({rate:.1%}) "
                            "hold no answer the scorer could find (unparsed), scored as wrong"
                            + ("; many were also truncated" if h.truncated else ""))
    return warnings


def warn_output_health(records: Iterable[SampleRecord], max_new_tokens: int | None = None, who: str = "") -> list[str]:
    """Print `output_health`'s warnings on stderr; returns them."""
    import sys

    warnings = output_health(records, max_new_tokens, who)
    for line in warnings:
        print(f"harness: {line}", file=sys.stderr)
    return warnings
