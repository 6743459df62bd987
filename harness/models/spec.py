"""The one string form for naming a model everywhere in the CLI.

    hf:PATH_OR_NAME          a transformers checkpoint (local dir, or a hub name when reachable)
    vllm:PATH_OR_NAME        the vLLM offline engine
    openai:BASE_URL#MODEL    any OpenAI-compatible endpoint
    anthropic:MODEL          Claude through the anthropic SDK
    reference                the suites' own worked solutions (oracle / offline teacher)
    smollm2-135m             an embedded model by name (same as no --model at all)
    SCHEME:TARGET            a backend a plug-in package registers under "harness.backends"
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from harness.errors import HarnessError
from harness.models.embedded import DEFAULT_EMBEDDED, EMBEDDED

SCHEMES = ("hf", "vllm", "openai", "anthropic", "reference")  # the built-in backends, parsed without loading any
EMBEDDED_NAMES = tuple(EMBEDDED)
DEFAULT_MODEL = DEFAULT_EMBEDDED


class ModelSpec(BaseModel):
    """A parsed model spec string (hf:PATH, vllm:PATH, openai:URL#MODEL, anthropic:MODEL, reference, ...)."""

    model_config = ConfigDict(frozen=True)
    scheme: str  # the backend's registered name: hf, vllm, openai, anthropic, reference, or a plug-in's
    target: str = ""  # path, hub name, model name
    base_url: str | None = None  # openai only
    raw: str  # the string as the user wrote it

    def __str__(self) -> str:
        return self.raw


def parse_model_spec(text: str | None) -> ModelSpec:
    """Parse a model spec string (None: the embedded default); a malformed one is a HarnessError."""
    raw = (text or DEFAULT_MODEL).strip()
    if raw == "reference":
        return ModelSpec(scheme="reference", raw=raw)
    if raw in EMBEDDED_NAMES:
        return ModelSpec(scheme="hf", target=raw, raw=raw)
    scheme, sep, rest = raw.partition(":")
    if not sep or (scheme not in SCHEMES and not is_plugin_scheme(scheme)):
        plugins = plugin_schemes()
        raise HarnessError(
            f"unknown model spec {raw!r}: use hf:PATH, vllm:PATH, openai:BASE_URL#MODEL, anthropic:MODEL, "
            f"reference, or an embedded name ({', '.join(EMBEDDED_NAMES)})"
            + (f"; plug-in backends: {', '.join(f'{p}:TARGET' for p in plugins)}" if plugins else "")
        )
    if not rest:
        raise HarnessError(f"model spec {raw!r} names no model after '{scheme}:'")
    if scheme == "openai":
        base_url, hash_, model = rest.rpartition("#")
        if not hash_ or not base_url or not model:
            raise HarnessError(f"model spec {raw!r}: write openai:BASE_URL#MODEL, e.g. openai:http://localhost:8000/v1#my-model")
        return ModelSpec(scheme=scheme, target=model, base_url=base_url, raw=raw)
    if scheme == "reference":
        raise HarnessError("the reference model takes no argument: write just 'reference'")
    return ModelSpec(scheme=scheme, target=rest, raw=raw)


def is_plugin_scheme(scheme: str) -> bool:
    """A backend registered beyond the built-ins (a plug-in package, or a test's in-process one)."""
    from harness.backends.registry import BACKENDS

    return bool(scheme) and scheme in BACKENDS


def plugin_schemes() -> list[str]:
    from harness.backends.registry import BACKENDS

    return [name for name in BACKENDS.names() if name not in SCHEMES]
