"""Generation through the response cache: each item's samples from SQLite when cached, the rest
asked of the backend in chunks, each chunk committed as it arrives (a killed run resumes where it
stopped). What run_eval and distill generate through (CachedGenerator), and the model-graded
abstention judge (harness.scoring.judges): this layer sits below scoring and the evaluation loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.cache import ResponseCache, default_cache_path, open_response_cache, sample_keys
from harness.errors import HarnessError
from harness.token_budget import generation_budget
from harness.types import Generation, GenerationParams, Item

if TYPE_CHECKING:
    from harness.backends.base import Backend
    from harness.eval_config import CacheOptions

DEFAULT_CHUNK_SIZE = 16
# Backends whose answers are computed from the suite itself: caching them could only serve
# stale answers after a suite changes.
UNCACHED_BACKENDS = {"reference"}


@dataclass
class CacheStats:
    """How many items one eval run answered from the response cache, asked of the backend, or lost to failures."""

    from_cache: int = 0  # items answered entirely from the cache
    requested: int = 0  # items asked of the backend
    failed: int = 0  # items with a sample that failed after retries

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


class ChunkProgress:
    """The run's one progress bar, moved by the backend as items finish (`advance(n)`), never past the
    chunk it was given; `finish` moves it over what the backend did not report."""

    def __init__(self, bar: Any):
        self.bar, self.left = bar, 0

    def start(self, n: int) -> None:
        self.left = n

    def __call__(self, n: int) -> None:
        n = min(n, self.left)
        self.left -= n
        if self.bar is not None and n > 0:
            self.bar.update(n)

    def finish(self) -> None:
        self(self.left)


def generate_cached(
    backend: Backend,
    items: Sequence[Item],
    params: GenerationParams,
    cache: ResponseCache | None,
    fingerprint: dict[str, Any],
    refresh: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: bool = True,
    stats: CacheStats | None = None,
    budgets: Sequence[int] | None = None,
) -> list[list[Generation]]:
    """`params.samples` generations per item: cached ones from SQLite, the rest from the backend.

    `budgets`: each item's max_new_tokens (its cache key holds it); None: `params`' own for every
    item. The items still missing are asked for in the backend's batch order (`Backend.batch_key`:
    longest budget first, a stable sort, so a resumed run forms the same chunks from what is left),
    `chunk_size` at a time through `Backend.generate_budgeted`, each chunk committed on arrival.
    """
    stats = stats if stats is not None else CacheStats()
    if budgets is None:
        budgets = [generation_budget(params)] * len(items)
        item_params = [params] * len(items)
    else:
        if len(budgets) != len(items):
            raise ValueError(f"{len(items)} items but {len(budgets)} budgets")
        at = {b: params.model_copy(update={"max_new_tokens": b}) for b in dict.fromkeys(budgets)}
        item_params = [at[b] for b in budgets]
    keys = [sample_keys(fingerprint, item, p) for item, p in zip(items, item_params, strict=True)]
    cached = cache.get_many([k for ks in keys for k in ks]) if cache is not None and not refresh else {}
    results: list[list[Generation] | None] = [None] * len(items)
    pending = []
    for i, ks in enumerate(keys):
        if all(k in cached for k in ks):
            results[i] = [cached[k] for k in ks]
        else:
            pending.append(i)
    stats.from_cache += len(items) - len(pending)
    pending.sort(key=lambda i: backend.batch_key(items[i], budgets[i]))
    bar = None
    if progress and pending:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(pending), desc=f"generate {backend.spec}", unit="item")
    advance = ChunkProgress(bar)
    for start in range(0, len(pending), chunk_size):
        chunk = pending[start : start + chunk_size]
        advance.start(len(chunk))
        answers = backend.generate_budgeted([items[i] for i in chunk], params, [budgets[i] for i in chunk], advance)
        if len(answers) != len(chunk) or any(len(a) != params.samples for a in answers):
            raise HarnessError(f"backend {backend.name} returned the wrong number of generations")
        rows: list[tuple[str, Generation]] = []
        for i, gens in zip(chunk, answers, strict=True):
            results[i] = gens
            if all(g.error is None for g in gens):
                rows.extend(zip(keys[i], gens, strict=True))
            else:
                stats.failed += 1
        if cache is not None and rows:
            cache.put_many(rows)  # one transaction per chunk: a kill loses at most this chunk
        stats.requested += len(chunk)
        advance.finish()  # the rest of the chunk, for backends that did not report as they went
    if bar is not None:
        bar.close()
    return results  # type: ignore[return-value]


class CachedGenerator:
    """A backend behind the response cache: what run_eval and distill generate through."""

    def __init__(self, backend: Backend, settings: CacheOptions, progress: bool = True):
        self.backend, self.refresh, self.progress = backend, settings.refresh, progress
        self.cache = None
        if settings.use_cache and backend.name not in UNCACHED_BACKENDS:
            self.cache = open_response_cache(settings.cache_path or default_cache_path())
        self.chunk_size = settings.chunk_size or getattr(backend, "chunk_size", None) or DEFAULT_CHUNK_SIZE
        self.stats = CacheStats()
        self.fingerprint = backend.fingerprint()

    def generate(self, items: Sequence[Item], params: GenerationParams, budgets: Sequence[int] | None = None) -> list[list[Generation]]:
        """Every item's generations; `budgets`: each item's max_new_tokens (None: `params`' own), all in one pass."""
        return generate_cached(self.backend, items, params, self.cache, self.fingerprint, self.refresh, self.chunk_size,
                               self.progress, self.stats, budgets)

    def close(self, backend_too: bool = False) -> None:
        if self.cache is not None:
            self.cache.close()
        if backend_too:
            self.backend.close()
