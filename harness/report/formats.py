"""Output formats of the retention view (`harness retention --format NAME`, `--output FILE`).

    text md html latex json csv    built in (harness.report.tables.render)

A format renders a RetentionAnalysis to text and names the --output suffixes that pick it. A
plug-in package adds one under the "harness.output_formats" entry-point group, pointing at an
OutputFormat (or at any object with `render(analysis, seed_only) -> str` and `suffixes`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.registry import Registry

DEFAULT_FILE_FORMAT = "md"  # an --output file whose suffix no format claims


@dataclass
class OutputFormat:
    """A registered format for the retention table (md, html, latex, json, csv, ...)."""

    render: Callable[[Any, bool], str]  # (RetentionAnalysis, seed_only) -> the whole text
    suffixes: tuple[str, ...] = ()  # --output suffixes (without the dot) that pick this format
    name: str = field(default="", init=False)  # set by the registry


OUTPUT_FORMATS: Registry[OutputFormat] = Registry("output format", entry_point_group="harness.output_formats")


def _builtin(fmt: str) -> Callable[[Any, bool], str]:
    def render(analysis: Any, seed_only: bool = False) -> str:
        from harness.report.tables import render as render_tables

        return render_tables(analysis, fmt, seed_only=seed_only)

    return render


BUILTIN_SUFFIXES = {"text": ("txt",), "md": ("md", "markdown"), "html": ("html", "htm"), "latex": ("tex",),
                    "json": ("json",), "csv": ("csv",)}
for _name, _suffixes in BUILTIN_SUFFIXES.items():
    OUTPUT_FORMATS.add(_name, OutputFormat(_builtin(_name), _suffixes))


def render(analysis: Any, fmt: str, seed_only: bool = False) -> str:
    """The retention view in the registered format `fmt`."""
    return OUTPUT_FORMATS.get(fmt).render(analysis, seed_only)


def format_for_suffix(path: str) -> str:
    """The format an --output file's suffix names (built-ins first), else DEFAULT_FILE_FORMAT."""
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    for name in sorted(OUTPUT_FORMATS.names(), key=lambda n: n not in BUILTIN_SUFFIXES):
        if suffix and suffix in getattr(OUTPUT_FORMATS.get(name), "suffixes", ()):
            return name
    return DEFAULT_FILE_FORMAT
