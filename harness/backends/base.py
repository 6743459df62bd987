"""The backend concept: turns items' chat messages into sampled completions.

A backend is registered under its model-spec scheme (in BACKENDS, harness/backends/registry.py):
in-tree with `@BACKENDS.register("hf")`
(every public module of harness/backends is imported on first lookup), or by another package
under the "harness.backends" entry-point group, which makes `SCHEME:TARGET` a model spec. Its
`Options` dataclass, in the same module, declares the options it takes (docs/plugins.md).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from harness.backends.registry import BACKENDS
from harness.models.spec import ModelSpec, parse_model_spec
from harness.types import Generation, GenerationParams, Item


class Backend(ABC):
    """A model that answers items: what every registered backend implements (generate, fingerprint, close)."""

    name: ClassVar[str]  # the scheme it is registered under (set by the registry)
    # The options it takes: a dataclass, the one declaration of their flags, defaults and help
    # (harness/backends/options.py); None: any keyword options, no flags.
    Options: ClassVar[type | None] = None
    # Set on the embedded default's backend: the EngineChoice that picked it (harness/models/engine_choice.py).
    engine_choice: Any = None

    def __init__(self, spec: ModelSpec, **options: Any):
        self.spec = spec
        self.options = options  # as given
        self.settings: Any = self.Options(**options) if self.Options is not None else None  # every option, defaults filled in

    @abstractmethod
    def fingerprint(self) -> dict[str, Any]:
        """Identifies the exact weights/endpoint: goes into results and into cache keys."""

    @abstractmethod
    def generate(self, items: Sequence[Item], params: GenerationParams, progress: bool = True) -> list[list[Generation]]:
        """`params.samples` generations for each item, in item order."""

    def generate_budgeted(
        self,
        items: Sequence[Item],
        params: GenerationParams,
        budgets: Sequence[int],
        advance: Callable[[int], None] | None = None,
    ) -> list[list[Generation]]:
        """`params.samples` generations for each item, item i within `budgets[i]` new tokens, in item order.

        What the evaluator calls, with every suite's items at once, so an engine that batches
        continuously (vLLM) can fill its batch from all of them. `advance(n)`, when given, is told
        as n more items are done (the caller's progress bar). Checks that each item has a budget, then
        hands over to `_generate_budgeted`, the method a backend overrides to batch its own way.
        """
        if len(budgets) != len(items):
            raise ValueError(f"{len(items)} items but {len(budgets)} budgets")
        return self._generate_budgeted(items, params, budgets, advance)

    def _generate_budgeted(self, items: Sequence[Item], params: GenerationParams, budgets: Sequence[int],
                           advance: Callable[[int], None] | None) -> list[list[Generation]]:
        """`generate_budgeted` for as many budgets as items. This default asks `generate` once per distinct
        budget, in order of first appearance, so a backend that only implements `generate` works unchanged."""
        groups: dict[int, list[int]] = {}
        for i, budget in enumerate(budgets):
            groups.setdefault(budget, []).append(i)
        results: list[list[Generation]] = [[] for _ in items]
        for budget, indices in groups.items():
            answers = self.generate([items[i] for i in indices], params.model_copy(update={"max_new_tokens": budget}),
                                    progress=False)
            if len(answers) != len(indices):
                from harness.errors import HarnessError

                raise HarnessError(f"backend {self.name} returned {len(answers)} answers for {len(indices)} items")
            for i, gens in zip(indices, answers, strict=True):
                results[i] = gens
            if advance is not None:
                advance(len(indices))
        return results

    def batch_key(self, item: Item, budget: int) -> Any:
        """Sort key of the order the evaluator asks for items in (a stable sort: ties keep item order),
        so its chunks make good batches: here the longest budget first, so one budget fills a chunk."""
        return -budget

    def weights_dtype(self) -> str | None:
        """The dtype a local model's weights are computed in (results.json `model.dtype`); None: not a local model."""
        return None

    def close(self) -> None:  # noqa: B027 (an optional hook: most backends hold nothing to release)
        """Release engines, servers, connections."""

    def __enter__(self) -> "Backend":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_backend(spec: str | ModelSpec | None, **options: Any) -> Backend:
    """The registered backend for a model spec (None: the embedded default), with its options checked."""
    model_spec = spec if isinstance(spec, ModelSpec) else parse_model_spec(spec)
    from harness.backends.options import check_options

    backend_cls = BACKENDS.get(model_spec.scheme)
    check_options(f"{model_spec.scheme}:", backend_cls.Options, options)
    return backend_cls(model_spec, **options)
