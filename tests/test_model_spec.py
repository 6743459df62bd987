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


@pytest.fixture
def toy_backend():
    from harness.backends.registry import BACKENDS
    from harness.backends.reference import ReferenceBackend

    class ToyBackend(ReferenceBackend):
        pass

    with BACKENDS.temporarily("toy", ToyBackend):
        yield ToyBackend
    assert "toy" not in BACKENDS


def test_a_registered_plugin_scheme_is_a_model_spec(toy_backend):
    from harness.backends.base import load_backend

    spec = parse_model_spec("toy:some/where#x")
    assert (spec.scheme, spec.target, spec.base_url) == ("toy", "some/where#x", None)
    backend = load_backend("toy:abc")
    assert isinstance(backend, toy_backend) and backend.name == "toy"  # the registry named the class
    with pytest.raises(HarnessError, match="names no model after 'toy:'"):
        parse_model_spec("toy:")


def test_unknown_scheme_error_lists_the_plugin_schemes(toy_backend):
    with pytest.raises(HarnessError, match=r"unknown model spec 'foo:bar'.*plug-in backends: toy:TARGET"):
        parse_model_spec("foo:bar")


def test_built_in_specs_parse_without_loading_the_backend_registry():
    import subprocess
    import sys

    code = ("import sys; from harness.models.spec import parse_model_spec; parse_model_spec('vllm:x'); "
            "parse_model_spec('openai:http://h/v1#m'); print('harness.backends.base' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
