"""OpenAI-compatible backend (`openai:BASE_URL#MODEL`): vLLM, SGLang, llama.cpp, TGI, OpenAI.

Requests go through the `openai` SDK's AsyncOpenAI on the shared API base (harness/backends/
_api.py): bounded concurrency, the SDK's retries with backoff and per-request timeout, and a
request that still fails returned as `Generation.error`, never raised. k samples are one
request with `n=k`; servers that return fewer choices are asked again for the rest. The API key comes from $OPENAI_API_KEY
("EMPTY" when unset, which local servers accept).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from harness.backends._api import CONCURRENCY_ARG, APIOptions, ApiBackend
from harness.backends.options import ChatTemplateOptions
from harness.backends.registry import BACKENDS
from harness.models.spec import ModelSpec
from harness.token_budget import generation_budget
from harness.types import Generation, GenerationParams, Item


@dataclass
class OpenAIOptions(APIOptions, ChatTemplateOptions):
    """Options of the openai: backend."""

    concurrency: Annotated[int, CONCURRENCY_ARG] = 16
    logprobs: bool = True


def mean_token_logprob(choice: Any) -> float | None:
    content = getattr(getattr(choice, "logprobs", None), "content", None)
    if not content:
        return None
    return sum(t.logprob for t in content) / len(content)


@BACKENDS.register("openai")
class OpenAIBackend(ApiBackend):
    """Any OpenAI-compatible chat server (vLLM, SGLang, llama.cpp, TGI, OpenAI) through the openai SDK."""

    Options = OpenAIOptions
    usage_keys = ("requests", "prompt_tokens", "completion_tokens", "failed_requests")
    # The API's finish_reason is "stop", "length", "content_filter", "tool_calls", ...; "eos" is
    # what TGI and some llama.cpp builds say for "stop".
    FINISH_REASONS = {"eos": "stop", "eos_token": "stop", "stop_sequence": "stop"}
    chunk_size = 128

    def __init__(self, spec: ModelSpec, **options: Any):
        super().__init__(spec, **options)
        settings: OpenAIOptions = self.settings
        self.chat_template_kwargs = settings.chat_template_kwargs or {}
        self.base_url = spec.base_url
        self.logprobs = settings.logprobs
        self.chunk_size = max(self.chunk_size, self.concurrency * 4)

    def fingerprint(self) -> dict[str, Any]:
        fingerprint: dict[str, Any] = {"backend": "openai", "base_url": self.base_url, "model": self.model}
        if self.chat_template_kwargs:  # thinking on and off give other answers: other cache keys
            fingerprint["chat_template_kwargs"] = self.chat_template_kwargs
        return fingerprint

    def generate(self, items: Sequence[Item], params: GenerationParams, progress: bool = True) -> list[list[Generation]]:
        def client() -> Any:
            from openai import AsyncOpenAI

            api_key = os.environ.get("OPENAI_API_KEY") or "EMPTY"
            return AsyncOpenAI(base_url=self.base_url, api_key=api_key, **self.client_options())

        calls = [lambda c, item=item: self._sample(c, item, params) for item in items]
        return self.gather(client, calls, unit="prompt", progress=progress)

    async def _sample(self, client: Any, item: Item, params: GenerationParams) -> list[Generation]:
        """k generations for one item: one request with n=k, topped up if the server gave fewer."""
        gens: list[Generation] = []
        attempt = 0
        while len(gens) < params.samples and attempt < params.samples:
            want = params.samples - len(gens)
            try:
                gens.extend(await self._request(client, item, params, want, seed=params.seed + attempt))
            except Exception as exc:  # exhausted the SDK's retries, or an unparseable answer
                return gens + self.failed(exc, want)
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
            max_tokens=generation_budget(params),
            seed=seed,
        )
        if self.logprobs:
            kwargs["logprobs"] = True
        if self.chat_template_kwargs:  # vLLM and SGLang servers read it from the request body
            kwargs["extra_body"] = {"chat_template_kwargs": self.chat_template_kwargs}
        response = await client.chat.completions.create(**kwargs)
        usage = getattr(response, "usage", None)
        self.count(usage)
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
                    finish_reason=self.finish_reason(getattr(choice, "finish_reason", None)),
                )
            )
        return gens


def openai_finish_reason(reason: str | None) -> str | None:
    """The harness's finish_reason for the API's; servers that leave it out give None (unknown)."""
    return OpenAIBackend.finish_reason(reason)
