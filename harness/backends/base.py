"""The backend concept: turns items' chat messages into sampled completions."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from harness.models.spec import ModelSpec, parse_model_spec
from harness.registry import Registry
from harness.types import Generation, GenerationParams, Item

BACKENDS: Registry[type["Backend"]] = Registry("backend", builtin_packages=["harness.backends"])


class Backend(ABC):
    name: ClassVar[str]

    def __init__(self, spec: ModelSpec, **options: Any):
        self.spec = spec
        self.options = options

    @abstractmethod
    def fingerprint(self) -> dict[str, Any]:
        """Identifies the exact weights/endpoint: goes into results and into cache keys."""

    @abstractmethod
    def generate(self, items: Sequence[Item], params: GenerationParams, progress: bool = True) -> list[list[Generation]]:
        """`params.samples` generations for each item, in item order."""

    def close(self) -> None:
        """Release engines, servers, connections."""

    def __enter__(self) -> "Backend":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_backend(spec: str | ModelSpec | None, **options: Any) -> Backend:
    model_spec = spec if isinstance(spec, ModelSpec) else parse_model_spec(spec)
    return BACKENDS.get(model_spec.scheme)(model_spec, **options)
