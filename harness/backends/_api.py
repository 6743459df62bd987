"""What the HTTP API backends (openai:, anthropic:) share.

- Retries and timeouts: the vendor SDKs retry connection errors, 408/409/429 and 5xx with
  exponential backoff (honouring `retry-after`) up to `max_retries` times and time a request
  out after `timeout` seconds; `client_options()` hands both to the SDK client.
- Bounded concurrency: `gather` runs one coroutine per call on an SDK async client with at
  most `concurrency` in flight, behind one progress bar.
- Failures: a request that still fails is returned as `Generation.error` (a recorded failure,
  retried on the next run), never raised; `failed` counts it.
- Usage: request and token counters for `usage()`, which lands in results.json.
- finish_reason: each backend maps its API's values onto stop / length through `FINISH_REASONS`.
- Options: `APIOptions` (timeout, retries) plus each backend's own `concurrency` (CONCURRENCY_ARG,
  its own default).

Private (leading underscore): the backends package imports every public submodule to find
registered backends, and this one registers none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, TypeVar

from harness.backends.base import Backend
from harness.config import Arg
from harness.models.spec import ModelSpec
from harness.types import Generation

T = TypeVar("T")

CONCURRENCY_ARG = Arg("requests in flight at once", positive=True)


@dataclass
class APIOptions:
    """Options of every HTTP API backend: timeout and retries (each declares its own `concurrency`)."""

    timeout: Annotated[float, Arg("seconds per request", positive=True)] = 600.0
    max_retries: Annotated[int, Arg("retries per request", minimum=0)] = 4


def describe_error(exc: BaseException) -> str:
    status = getattr(exc, "status_code", None)
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}{f' {status}' if status else ''}: {text}"[:500]


def map_finish_reason(reason: str | None, mapping: dict[str, str]) -> str | None:
    """An API's finish/stop reason in the harness's terms; values the mapping lacks are kept as
    they are, and a missing reason stays None (unknown)."""
    return mapping.get(reason, reason) if reason else None


class ApiBackend(Backend):
    """A backend that sends chat requests to an HTTP API through its vendor's SDK."""

    # results.json "usage" keys, in order: "requests" and "failed_requests" are counted here,
    # the others are summed from each response's usage.
    usage_keys: ClassVar[tuple[str, ...]] = ("requests", "failed_requests")
    FINISH_REASONS: ClassVar[dict[str, str]] = {}

    def __init__(self, spec: ModelSpec, **options: Any):
        super().__init__(spec, **options)
        self.model = spec.target
        self.concurrency: int = self.settings.concurrency
        self.timeout: float = self.settings.timeout
        self.max_retries: int = self.settings.max_retries
        self._usage: dict[str, int] = dict.fromkeys(self.usage_keys, 0)

    def client_options(self) -> dict[str, Any]:
        """The SDK client's retry and timeout settings."""
        return {"timeout": self.timeout, "max_retries": self.max_retries}

    def usage(self) -> dict[str, Any]:
        return dict(self._usage)

    @classmethod
    def finish_reason(cls, reason: str | None) -> str | None:
        return map_finish_reason(reason, cls.FINISH_REASONS)

    def count(self, usage: Any) -> None:
        """One answered request, with its response's token usage (an SDK object, a dict or None)."""
        self._usage["requests"] += 1
        for key in self.usage_keys:
            if key not in ("requests", "failed_requests"):
                value = usage.get(key) if isinstance(usage, dict) else getattr(usage, key, None)
                self._usage[key] += value or 0

    def failed(self, exc: BaseException, n: int = 1) -> list[Generation]:
        """`n` recorded failures for one request whose retries are exhausted (or whose answer is unreadable)."""
        self._usage["failed_requests"] += 1
        error = describe_error(exc)
        return [Generation(text="", error=error) for _ in range(n)]

    def gather(
        self,
        make_client: Callable[[], Any],
        calls: Sequence[Callable[[Any], Awaitable[T]]],
        unit: str,
        progress: bool,
    ) -> list[T]:
        """Run `call(client)` for every call, at most `concurrency` at once, on one async SDK
        client made (and closed) inside the event loop."""
        import asyncio

        return asyncio.run(self._gather(make_client, calls, unit, progress))

    async def _gather(
        self, make_client: Callable[[], Any], calls: Sequence[Callable[[Any], Awaitable[T]]], unit: str, progress: bool
    ) -> list[T]:
        import asyncio

        from tqdm.auto import tqdm

        client = make_client()
        limit = asyncio.Semaphore(self.concurrency)
        bar = tqdm(total=len(calls), desc=f"generate {self.spec}", unit=unit, disable=not progress)

        async def one(call: Callable[[Any], Awaitable[T]]) -> T:
            async with limit:
                try:
                    return await call(client)
                finally:
                    bar.update(1)

        try:
            return list(await asyncio.gather(*(one(call) for call in calls)))
        finally:
            bar.close()
            await client.close()
