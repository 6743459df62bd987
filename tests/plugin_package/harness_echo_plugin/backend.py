"""`echo:LABEL`: canned answers. Every sample but the last says "The answer is 1234567." (the number
is its option `--wrong-answer`); the last one is the item's reference solution, so a majority vote is
wrong and `--vote last` right."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from harness.backends.base import Backend
from harness.config import Arg
from harness.types import Generation


@dataclass
class EchoOptions:
    """The echo backend's options: `harness eval --model echo:X --wrong-answer N`."""

    wrong_answer: Annotated[int, Arg("the number every sample but the last answers")] = 1234567


class EchoBackend(Backend):
    """Canned answers: every sample but the last is wrong, the last is the reference solution."""

    Options = EchoOptions

    def fingerprint(self):
        return {"backend": "echo", "label": self.spec.target, "wrong_answer": self.settings.wrong_answer}

    def generate(self, items, params, progress=True):
        wrong = Generation(text=f"The answer is {self.settings.wrong_answer}.", finish_reason="stop")
        return [[wrong] * (params.samples - 1) + [Generation(text=item.reference_response, finish_reason="stop")]
                for item in items]
