import pytest

from harness.errors import HarnessError
from harness.models.spec import parse_model_spec


@pytest.mark.parametrize(
    "text, scheme, target, base_url",
    [
        (None, "hf", "smollm2-135m", None),
        ("smollm2-135m", "hf", "smollm2-135m", None),
        ("hf:/ckpt/run-1", "hf", "/ckpt/run-1", None),
        ("hf:HuggingFaceTB/SmolLM2-135M-Instruct", "hf", "HuggingFaceTB/SmolLM2-135M-Instruct", None),
        ("vllm:Qwen/Qwen3-4B", "vllm", "Qwen/Qwen3-4B", None),
        ("openai:http://localhost:8000/v1#my-model", "openai", "my-model", "http://localhost:8000/v1"),
        ("anthropic:claude-opus-4-5", "anthropic", "claude-opus-4-5", None),
        ("reference", "reference", "", None),
    ],
)
def test_parses_every_form(text, scheme, target, base_url):
    spec = parse_model_spec(text)
    assert (spec.scheme, spec.target, spec.base_url) == (scheme, target, base_url)


@pytest.mark.parametrize("text", ["gpt4", "foo:bar", "hf:", "openai:http://x/v1", "openai:#m", "reference:x"])
def test_rejects_malformed_specs(text):
    with pytest.raises(HarnessError):
        parse_model_spec(text)
