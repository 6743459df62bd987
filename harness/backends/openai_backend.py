"""OpenAI-compatible backend (`openai:BASE_URL#MODEL`): vLLM, SGLang, llama.cpp, TGI, OpenAI.

Requests go through the `openai` SDK's AsyncOpenAI with a bounded number in flight; the SDK
retries connection errors, 408/409/429 and 5xx with exponential backoff (honouring
`retry-after`) up to `max_retries` times, and times requests out after `timeout` seconds.
A request that still fails is returned as `Generation.error` (a recorded failure, retried
on the next run), never raised. k samples are one request with `n=k`; servers that return
fewer choices are asked again for the rest. The API key comes from $OPENAI_API_KEY
("EMPTY" when unset, which local servers accept).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from typing import Any

from harness.backends.base import BACKENDS, Backend
from harness.models.spec import ModelSpec
from harness.types import Generation, GenerationParams, Item

DEFAULT_CONCURRENCY = 16
DEFAULT_TIMEOUT = 600.0
DEFAULT_MAX_RETRIES = 4


def describe_error(exc: BaseException) -> str:
    status = getattr(exc, "status_code", None)
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}{f' {status}' if status else ''}: {text}"[:500]


def mean_token_logprob(choice: Any) -> float | None:
    content = getattr(getattr(choice, "logprobs", None), "content", None)
    if not content:
        return None
    return sum(t.logprob for t in content) / len(content)


def openai_finish_reason(reason: str | None) -> str | None:
    """The API's finish_reason ("stop", "length", "content_filter", "tool_calls", ...); servers
    that leave it out give None (unknown). "eos" is what TGI and some llama.cpp builds say for "stop"."""
    return {"eos": "stop", "eos_token": "stop", "stop_sequence": "stop"}.get(reason, reason) if reason else None


@BACKENDS.register("openai")
class OpenAIBackend(Backend):
    chunk_size = 128

    def __init__(
        self,
        spec: ModelSpec,
        concurrency: int | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        logprobs: bool = True,
        chat_template_kwargs: dict[str, Any] | None = None,
        **options: Any,
    ):
        super().__init__(spec, **options)
        self.chat_template_kwargs = chat_template_kwargs or {}
        self.base_url = spec.base_url
        self.model = spec.target
        self.concurrency = concurrency or DEFAULT_CONCURRENCY
        self.timeout = timeout or DEFAULT_TIMEOUT
        self.max_retries = DEFAULT_MAX_RETRIES if max_retries is None else max_retries
        self.logprobs = logprobs
        self.chunk_size = max(self.chunk_size, self.concurrency * 4)
        self._usage = {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0, "failed_requests": 0}

    def fingerprint(self) -> dict[str, Any]:
        fingerprint = {"backend": "openai", "base_url": self.base_url, "model": self.model}
        if self.chat_template_kwargs:  # thinking on and off give other answers: other cache keys
            fingerprint["chat_template_kwargs"] = self.chat_template_kwargs
        return fingerprint

    def usage(self) -> dict[str, Any]:
        return dict(self._usage)

    def generate(self, items: Sequence[Item], params: GenerationParams, progress: bool = True) -> list[list[Generation]]:
        return asyncio.run(self._generate(items, params, progress))

    async def _generate(self, items: Sequence[Item], params: GenerationParams, progress: bool) -> list[list[Generation]]:
        from openai import AsyncOpenAI
        from tqdm.auto import tqdm

        client = AsyncOpenAI(
            base_url=self.base_url,
            api_key=os.environ.get("OPENAI_API_KEY") or "EMPTY",
            timeout=self.timeout,
            max_retries=self.max_retries,
        )
        limit = asyncio.Semaphore(self.concurrency)
        bar = tqdm(total=len(items), desc=f"generate {self.spec}", unit="prompt", disable=not progress)

        async def one(item: Item) -> list[Generation]:
            async with limit:
                gens = await self._sample(client, item, params)
            bar.update(1)
            return gens

        try:
            return list(await asyncio.gather(*(one(item) for item in items)))
        finally:
            bar.close()
            await client.close()

    async def _sample(self, client: Any, item: Item, params: GenerationParams) -> list[Generation]:
        """k generations for one item: one request with n=k, topped up if the server gave fewer."""
        gens: list[Generation] = []
        attempt = 0
        while len(gens) < params.samples and attempt < params.samples:
            want = params.samples - len(gens)
            try:
                gens.extend(await self._request(client, item, params, want, seed=params.seed + attempt))
            except Exception as exc:  # exhausted the SDK's retries, or an unparseable answer
                self._usage["failed_requests"] += 1
                error = describe_error(exc)
                return gens + [Generation(text="", error=error) for _ in range(want)]
            attempt += 1
        if len(gens) < params.samples:
            missing = params.samples - len(gens)
            gens += [Generation(text="", error="server returned fewer choices than asked") for _ in range(missing)]
        return gens[: params.samples]

    async def _request(self, client: Any, item: Item, params: GenerationParams, n: int, seed: int) -> list[Generation]:
        kwargs: dict[str, Any] = dict(
            model=self.model,
            messages=[m.model_dump() for m in item.messages],
            n=n,
            temperature=params.temperature,
            top_p=params.top_p,
            max_tokens=params.max_new_tokens,
            seed=seed,
        )
        if self.logprobs:
            kwargs["logprobs"] = True
        if self.chat_template_kwargs:  # vLLM and SGLang servers read it from the request body
            kwargs["extra_body"] = {"chat_template_kwargs": self.chat_template_kwargs}
        response = await client.chat.completions.create(**kwargs)
        self._usage["requests"] += 1
        usage = getattr(response, "usage", None)
        if usage is not None:
            self._usage["prompt_tokens"] += usage.prompt_tokens or 0
            self._usage["completion_tokens"] += usage.completion_tokens or 0
        if not response.choices:
            raise ValueError("response has no choices")
        gens = []
        for choice in sorted(response.choices, key=lambda c: c.index):
            message = choice.message
            extra = getattr(message, "model_extra", None) or {}
            reasoning = extra.get("reasoning_content") or extra.get("reasoning")
            tokens = getattr(getattr(choice, "logprobs", None), "content", None)
            gens.append(
                Generation(
                    text=message.content or "",
                    reasoning=reasoning,
                    logprob=mean_token_logprob(choice),
                    prompt_tokens=getattr(usage, "prompt_tokens", None),
                    completion_tokens=len(tokens) if tokens else None,
                    finish_reason=openai_finish_reason(getattr(choice, "finish_reason", None)),
                )
            )
        return gens
