"""Placeholder until the backends issue lands: the spec parses, the backend says so plainly."""

from __future__ import annotations

from harness.backends.base import BACKENDS, Backend
from harness.errors import HarnessError


@BACKENDS.register("openai")
class UnavailableOpenaiBackend(Backend):
    name = "openai"

    def __init__(self, spec, **options):
        raise HarnessError("the openai backend is not available yet")

    def fingerprint(self):  # pragma: no cover - never constructed
        raise NotImplementedError

    def generate(self, items, params, progress=True):  # pragma: no cover - never constructed
        raise NotImplementedError
