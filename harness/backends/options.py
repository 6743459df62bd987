"""Backend options: what the backends' `Options` share, and how the CLI offers and checks them.

Each backend class declares the options it takes as `Options`, a dataclass in its own module (the
only declaration of each option's name, type, default and help):

    @dataclass
    class EchoOptions:
        wrong_answer: Annotated[str, Arg("what every sample but the last answers")] = "1234567"

    @BACKENDS.register("echo")
    class EchoBackend(Backend):
        Options = EchoOptions  # the backend reads them as self.settings.wrong_answer

`options_by_scheme()` collects every registered backend's (built-ins and plug-ins), and the backend
flags of `harness eval`, `harness distill` and `harness loop` are their union (harness/config.py:
each flag's group names the backends that take it; a default that differs between them is shown per
backend). `check_options` refuses an option the chosen backend does not take (--batch on hf:,
--tensor-parallel-size on openai:) instead of dropping it; `harness plugins` lists each backend's.

(A public module in harness/backends/ is scanned by the BACKENDS registry; this one registers
nothing and imports only the standard library and light harness modules.)
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, fields
from typing import Annotated, Any

from harness.config import Arg, option_strings
from harness.errors import HarnessError
from harness.models.cpu import DTYPES


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
                choices=DTYPES)


def options_by_scheme() -> dict[str, type]:
    """scheme -> the Options class of every registered backend that declares one, plug-ins included.

    A plug-in's module is imported for it (so a backend module, like a command module, should import
    nothing heavy at module level); one that fails to load is left out with a warning, and using its
    scheme then gives the load error."""
    from harness.backends.registry import BACKENDS

    found: dict[str, type] = {}
    for name in BACKENDS.names():
        try:
            options_cls = BACKENDS.get(name).Options
        except HarnessError as exc:
            print(f"harness: warning: {exc}; its options are not offered", file=sys.stderr)
            continue
        if options_cls is not None:
            found[name] = options_cls
    return found


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
    """The command-line flag of a backend option (its name when none has one)."""
    for cls in options_by_scheme().values():
        flag = option_strings(cls).get(name)
        if flag is not None:
            return flag
    return repr(name)


def check_spec_options(spec: str | None, options: dict[str, Any]) -> None:
    """check_options for a model spec, before anything is loaded. An embedded name runs on hf or vllm
    (harness/models/engine_choice.py): it takes the options of either one, not a mix."""
    from harness.backends.registry import BACKENDS
    from harness.models.spec import EMBEDDED_NAMES, parse_model_spec

    model_spec = parse_model_spec(spec)
    if model_spec.raw in EMBEDDED_NAMES:
        engines: dict[str, Any] = {name: BACKENDS.get(name).Options for name in ("hf", "vllm")}  # both declare theirs
        if not any(set(options) <= {f.name for f in fields(cls)} for cls in engines.values()):
            takes = "; ".join(f"{name}: takes {', '.join(sorted(option_strings(cls).values()))}" for name, cls in engines.items())
            given = ", ".join(sorted(_flag(name) for name in options))
            raise HarnessError(f"{given}: not options of one engine of {model_spec.raw}, which runs on hf: or vllm: ({takes})")
        return
    check_options(f"{model_spec.scheme}:", BACKENDS.get(model_spec.scheme).Options, options)
