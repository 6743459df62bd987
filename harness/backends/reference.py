"""The `reference` model: answers every item with the suite's own worked solution.

It is the oracle (it must score 1.0 on every suite) and the offline teacher for SFT data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness import __version__
from harness.backends.base import Backend
from harness.backends.registry import BACKENDS
from harness.types import Generation, GenerationParams, Item


@dataclass
class ReferenceOptions:
    """The reference backend takes no options."""


@BACKENDS.register("reference")
class ReferenceBackend(Backend):
    """The suites' own worked solutions as a model: scores 1.0 everywhere; the offline teacher."""

    Options = ReferenceOptions

    def fingerprint(self) -> dict[str, Any]:
        return {"backend": "reference", "harness_version": __version__}

    def generate(self, items: Sequence[Item], params: GenerationParams, progress: bool = True) -> list[list[Generation]]:
        return [[Generation(text=item.reference_response, finish_reason="stop") for _ in range(params.samples)] for item in items]
