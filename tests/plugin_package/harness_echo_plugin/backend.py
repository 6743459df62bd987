"""`echo:LABEL`: canned answers. Every sample but the last says "The answer is 1234567.";
the last one is the item's reference solution, so a majority vote is wrong and `--vote last` right."""

from __future__ import annotations

from harness.backends.base import Backend
from harness.types import Generation

WRONG = "The answer is 1234567."


class EchoBackend(Backend):
    def fingerprint(self):
        return {"backend": "echo", "label": self.spec.target}

    def generate(self, items, params, progress=True):
        wrong = Generation(text=WRONG, finish_reason="stop")
        return [[wrong] * (params.samples - 1) + [Generation(text=item.reference_response, finish_reason="stop")]
                for item in items]
