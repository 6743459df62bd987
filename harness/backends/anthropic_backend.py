"""Anthropic backend (`anthropic:MODEL`): Claude as the teacher, through the `anthropic` SDK.

- Messages API on the shared API base (harness/backends/_api.py): bounded async concurrency,
  the SDK's retry policy (connection errors, 408/409/429/5xx incl. 529 overloaded, exponential
  backoff, `retry-after` honoured) and per-request timeout; a request that still fails comes
  back as `Generation.error` (recorded, retried next run).
- Extended thinking (`thinking_budget`): thinking blocks become `Generation.reasoning`, the
  trace kept for SFT data.
- Prompt caching: a shared system prompt is sent as a block with `cache_control`, so every
  request after the first reads it from Anthropic's cache.
- `batch=True`: the Message Batches API (half price). Requests are submitted with a
  deterministic `custom_id`; the submitted batch ids are remembered on disk, so a killed run
  resumes polling the same batches instead of paying twice; errored/expired/missing
  results are tolerated as per-request failures.
- Token usage and the estimated cost (list prices per million tokens) are reported by
  `usage()` and land in results.json.

The API key and endpoint come from the SDK's own environment ($ANTHROPIC_API_KEY,
$ANTHROPIC_BASE_URL); tests point the real SDK at a local fake server that way.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from harness.backends._api import CONCURRENCY_ARG, APIOptions, ApiBackend
from harness.backends.registry import BACKENDS
from harness.config import Arg
from harness.errors import HarnessError
from harness.models.spec import ModelSpec
from harness.token_budget import generation_budget
from harness.types import Generation, GenerationParams, Item


@dataclass
class AnthropicOptions(APIOptions):
    """Options of the anthropic: backend: extended thinking and the Message Batches API."""

    concurrency: Annotated[int, CONCURRENCY_ARG] = 8
    thinking_budget: Annotated[int | None, Arg("extended thinking token budget", positive=True)] = None
    batch: Annotated[bool, Arg("use the Message Batches API (half price)")] = False
    poll_interval: float = 30.0
    batch_wait: float = 24 * 3600.0
    ledger_path: str | Path | None = None  # submitted batch ids (default: beside the response cache)

# USD per million tokens: (input, output). Cache writes cost 1.25x input, cache reads 0.1x,
# and the Batches API halves everything. Matched by model-name prefix, longest first.
PRICES = {
    "claude-opus-4-5": (5.0, 25.0),
    "claude-opus-4-6": (5.0, 25.0),
    "claude-opus-4": (15.0, 75.0),
    "claude-3-opus": (15.0, 75.0),
    "claude-sonnet-4": (3.0, 15.0),
    "claude-3-7-sonnet": (3.0, 15.0),
    "claude-3-5-sonnet": (3.0, 15.0),
    "claude-haiku-4-5": (1.0, 5.0),
    "claude-3-5-haiku": (0.8, 4.0),
    "claude-3-haiku": (0.25, 1.25),
}


def price_for(model: str) -> tuple[float, float] | None:
    for prefix in sorted(PRICES, key=len, reverse=True):
        if model.startswith(prefix):
            return PRICES[prefix]
    return None


def estimate_cost(model: str, usage: dict[str, int], batch: bool) -> float | None:
    price = price_for(model)
    if price is None:
        return None
    inp, out = price
    cost = (
        usage.get("input_tokens", 0) * inp
        + usage.get("cache_creation_input_tokens", 0) * inp * 1.25
        + usage.get("cache_read_input_tokens", 0) * inp * 0.1
        + usage.get("output_tokens", 0) * out
    ) / 1e6
    return round(cost * (0.5 if batch else 1.0), 6)


def request_params(model: str, item: Item, params: GenerationParams, thinking_budget: int | None) -> dict[str, Any]:
    system = "\n\n".join(m.content for m in item.messages if m.role == "system")
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": m.role, "content": m.content} for m in item.messages if m.role != "system"],
        "max_tokens": generation_budget(params),
    }
    if system:
        # A cache breakpoint on the shared system prompt: later requests read it at 0.1x price.
        body["system"] = [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}]
    if thinking_budget:
        # Thinking tokens count toward max_tokens: leave the answer its own room beyond the budget.
        body["thinking"] = {"type": "enabled", "budget_tokens": thinking_budget, "display": "summarized"}
        body["max_tokens"] = generation_budget(params) + thinking_budget
    # No temperature/top_p: current Claude models fix their sampling and the SDK no longer takes them.
    return body


def parse_message(message: Any) -> Generation:
    """Text and thinking of a Message (an SDK object or its dict form)."""
    data = message if isinstance(message, dict) else message.model_dump()
    content = data.get("content")
    if not isinstance(content, list):
        raise ValueError("message has no content list")
    text = "".join(block.get("text", "") for block in content if block.get("type") == "text")
    thinking = "".join(block.get("thinking", "") for block in content if block.get("type") == "thinking")
    usage = data.get("usage") or {}
    return Generation(
        text=text,
        reasoning=thinking or None,
        prompt_tokens=(usage.get("input_tokens") or 0)
        + (usage.get("cache_read_input_tokens") or 0)
        + (usage.get("cache_creation_input_tokens") or 0),
        completion_tokens=usage.get("output_tokens"),
        finish_reason=AnthropicBackend.finish_reason(data.get("stop_reason")),
    )


def custom_id(body: dict[str, Any], sample: int) -> str:
    """Deterministic id (≤ 64 chars of [A-Za-z0-9_-]) for one request of one sample."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:48]
    return f"h{digest}-{sample}"


LEDGER_FILE = "anthropic-batches.json"


def with_batch_ledger(options: dict[str, Any], cache_path: Path | None) -> dict[str, Any]:
    """`options` with the batch ledger beside a chosen response cache (a resumed run finds its batches); unchanged
    without `batch`, without a chosen cache (the ledger then defaults to the harness cache dir) or with a ledger_path."""
    if options.get("batch") and cache_path is not None and "ledger_path" not in options:
        return {**options, "ledger_path": Path(cache_path).parent / LEDGER_FILE}
    return options


class BatchLedger:
    """custom_id → batch id of every submitted request, in a JSON file beside the response cache."""

    def __init__(self, path: Path):
        self.path = path

    @contextmanager
    def _locked(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = json.loads(self.path.read_text()) if self.path.is_file() else {}
            yield data
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data))
            tmp.replace(self.path)

    def lookup(self, ids: Sequence[str]) -> dict[str, str]:
        with self._locked() as data:
            return {cid: data[cid] for cid in ids if cid in data}

    def record(self, batch_id: str, ids: Sequence[str]) -> None:
        with self._locked() as data:
            data.update({cid: batch_id for cid in ids})

    def forget(self, ids: Sequence[str]) -> None:
        with self._locked() as data:
            for cid in ids:
                data.pop(cid, None)


@BACKENDS.register("anthropic")
class AnthropicBackend(ApiBackend):
    """Claude through the anthropic SDK: concurrent Messages calls or the Message Batches API, thinking kept as reasoning."""

    Options = AnthropicOptions
    usage_keys = (
        "requests", "failed_requests", "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"
    )
    # Anthropic's stop_reason → harness finish_reason; other values are kept as they are.
    FINISH_REASONS = {
        "end_turn": "stop",
        "stop_sequence": "stop",
        "tool_use": "stop",
        "pause_turn": "stop",
        "refusal": "stop",
        "max_tokens": "length",
        "model_context_window_exceeded": "length",
    }
    chunk_size = 64

    def __init__(self, spec: ModelSpec, **options: Any):
        super().__init__(spec, **options)
        settings: AnthropicOptions = self.settings
        self.thinking_budget = settings.thinking_budget
        self.batch = settings.batch
        self.poll_interval = settings.poll_interval
        self.batch_wait = settings.batch_wait
        if self.batch:
            self.chunk_size = 10_000  # one batch per suite: batches are priced, not paced
        self._ledger_path = Path(settings.ledger_path) if settings.ledger_path else None

    def fingerprint(self) -> dict[str, Any]:
        return {"backend": "anthropic", "model": self.model, "thinking_budget": self.thinking_budget}

    def usage(self) -> dict[str, Any]:
        return {**self._usage, "batch": self.batch, "estimated_cost_usd": estimate_cost(self.model, self._usage, self.batch)}

    def _count(self, message: Any) -> None:
        self.count((message if isinstance(message, dict) else message.model_dump()).get("usage"))

    def generate(self, items: Sequence[Item], params: GenerationParams, progress: bool = True) -> list[list[Generation]]:
        try:
            import anthropic  # noqa: F401
        except ImportError as exc:
            raise HarnessError("the anthropic backend needs the anthropic package: pip install 'harness[api]'") from exc
        if self.batch:
            return self._generate_batch(items, params)
        return self._generate_messages(items, params, progress)

    # --- Messages API -----------------------------------------------------------------
    def _generate_messages(self, items: Sequence[Item], params: GenerationParams, progress: bool) -> list[list[Generation]]:
        def client() -> Any:
            from anthropic import AsyncAnthropic

            return AsyncAnthropic(**self.client_options())

        async def one(client: Any, body: dict[str, Any]) -> Generation:
            try:
                message = await client.messages.create(**body)
                self._count(message)
                return parse_message(message)
            except Exception as exc:  # retries exhausted, or a body the SDK could not parse
                return self.failed(exc)[0]

        bodies = [request_params(self.model, item, params, self.thinking_budget) for item in items]
        # Anthropic has no `n`: k samples are k requests (the system prompt is cached after the first).
        calls = [lambda c, body=body: one(c, body) for body in bodies for _ in range(params.samples)]
        flat = self.gather(client, calls, unit="request", progress=progress)
        k = params.samples
        return [flat[i * k : (i + 1) * k] for i in range(len(items))]

    # --- Message Batches API ----------------------------------------------------------
    def _ledger(self) -> BatchLedger:
        if self._ledger_path is None:
            from harness.paths import cache_dir

            self._ledger_path = cache_dir() / LEDGER_FILE
        return BatchLedger(self._ledger_path)

    def _generate_batch(self, items: Sequence[Item], params: GenerationParams) -> list[list[Generation]]:
        from anthropic import Anthropic

        client = Anthropic(**self.client_options())
        ledger = self._ledger()
        requests: dict[str, dict[str, Any]] = {}
        order: list[list[str]] = []
        for item in items:
            body = request_params(self.model, item, params, self.thinking_budget)
            ids = [custom_id({**body, "seed": params.seed}, s) for s in range(params.samples)]
            order.append(ids)
            requests.update({cid: body for cid in ids})
        try:
            known = ledger.lookup(list(requests))
            fresh = [cid for cid in requests if cid not in known]
            if fresh:
                batch = client.messages.batches.create(requests=[{"custom_id": cid, "params": requests[cid]} for cid in fresh])
                ledger.record(batch.id, fresh)
                known.update({cid: batch.id for cid in fresh})
            by_batch: dict[str, set[str]] = {}
            for cid, batch_id in known.items():
                by_batch.setdefault(batch_id, set()).add(cid)
            answers: dict[str, Generation] = {}
            for batch_id, wanted in sorted(by_batch.items()):
                answers.update(self._collect(client, batch_id, wanted, ledger))
            ledger.forget([cid for cid in requests if cid not in answers])  # absent from its batch: resubmit next run
        finally:
            client.close()
        missing = Generation(text="", error="no result for this request in its batch")
        return [[answers.get(cid, missing) for cid in ids] for ids in order]

    def _collect(self, client: Any, batch_id: str, wanted: set[str], ledger: BatchLedger) -> dict[str, Generation]:
        """Wait for one batch to end and read the results of `wanted`; forget the ids that need a resubmit."""
        deadline = time.monotonic() + self.batch_wait
        wait = min(1.0, self.poll_interval)  # small batches end fast; back off to poll_interval
        while True:
            batch = client.messages.batches.retrieve(batch_id)
            if batch.processing_status == "ended":
                break
            if time.monotonic() > deadline:
                raise HarnessError(f"batch {batch_id} has not ended after {self.batch_wait:.0f} s; rerun to keep waiting")
            time.sleep(wait)
            wait = min(wait * 2, self.poll_interval)
        answers: dict[str, Generation] = {}
        retry: list[str] = []
        for line in client.messages.batches.results(batch_id):
            if line.custom_id not in wanted:  # resubmitted elsewhere, or another run's request
                continue
            result = line.result
            if result.type == "succeeded":
                try:
                    self._count(result.message)
                    answers[line.custom_id] = parse_message(result.message)
                except Exception as exc:
                    answers[line.custom_id] = Generation(text="", error=f"unreadable batch result: {exc}")
                    retry.append(line.custom_id)
            else:
                self._usage["failed_requests"] += 1
                detail = getattr(getattr(getattr(result, "error", None), "error", None), "message", None)
                answers[line.custom_id] = Generation(text="", error=f"batch result {result.type}{f': {detail}' if detail else ''}")
                retry.append(line.custom_id)
        # Failed or missing results are resubmitted in a new batch next run, not re-read from this one.
        ledger.forget(retry)
        return answers


def anthropic_finish_reason(stop_reason: str | None) -> str | None:
    return AnthropicBackend.finish_reason(stop_reason)
