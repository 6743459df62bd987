"""--chat-template-kwargs reach the chat template and the fingerprint; <think> traces split off the answer."""

from __future__ import annotations

import json

import pytest

# Qwen3-style switch: the generation prompt opens a thinking block unless enable_thinking is false.
THINKING_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
    "{% if enable_thinking is defined and enable_thinking is false %}{{ '<think>\n\n</think>\n\n' }}"
    "{% else %}{{ '<think>\n' }}{% endif %}{% endif %}"
)


@pytest.fixture(scope="module")
def thinking_model_dir(tmp_path_factory):
    from tiny_model import build_tiny_model
    from transformers import AutoTokenizer

    path = build_tiny_model(tmp_path_factory.mktemp("thinking-model"))
    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.chat_template = THINKING_TEMPLATE
    tokenizer.save_pretrained(path)
    return path


def item():
    from harness.types import Item, Message

    return Item(id="q1", suite="arithmetic", capability="math", messages=[Message(role="user", content="What is 2 + 3?")])


def test_kwargs_reach_the_template_the_backend_renders(thinking_model_dir, monkeypatch):
    from harness.backends import hf
    from harness.backends.base import load_backend
    from harness.types import GenerationParams

    rendered: list[str] = []
    real = hf.render_chat
    monkeypatch.setattr(hf, "render_chat", lambda *a, **k: rendered.append(real(*a, **k)) or rendered[-1])
    params = GenerationParams(max_new_tokens=2)
    for kwargs in (None, {"enable_thinking": False}):
        with load_backend(f"hf:{thinking_model_dir}", device="cpu", chat_template_kwargs=kwargs) as backend:
            [[generation]] = backend.generate([item()], params, progress=False)
            assert generation.completion_tokens > 0
    thinking, plain = rendered
    assert thinking.endswith("<|im_start|>assistant\n<think>\n")
    assert plain.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")


def test_kwargs_are_part_of_the_fingerprint_and_cache_keys(thinking_model_dir):
    from harness.backends.base import load_backend
    from harness.cache import sample_keys
    from harness.types import GenerationParams

    default = load_backend(f"hf:{thinking_model_dir}").fingerprint()
    off = load_backend(f"hf:{thinking_model_dir}", chat_template_kwargs={"enable_thinking": False}).fingerprint()
    on = load_backend(f"hf:{thinking_model_dir}", chat_template_kwargs={"enable_thinking": True}).fingerprint()
    assert "chat_template_kwargs" not in default  # unchanged for runs without the flag: their cache still hits
    assert off["chat_template_kwargs"] == {"enable_thinking": False} and off["hash"] == default["hash"]
    params = GenerationParams()
    keys = {json.dumps(sample_keys(f, item(), params)) for f in (default, off, on)}
    assert len(keys) == 3
    for spec in ("openai:http://127.0.0.1:1/v1#m", f"vllm:{thinking_model_dir}"):
        assert load_backend(spec).fingerprint() != load_backend(spec, chat_template_kwargs={"enable_thinking": False}).fingerprint()


def test_cli_records_kwargs_in_results(cli, thinking_model_dir, tmp_path):
    proc = cli("eval", "--model", f"hf:{thinking_model_dir}", "--suite", "arithmetic", "--limit", "2",
               "--max-new-tokens", "2", "--no-progress", "--device", "cpu", "--cache-dir", str(tmp_path / "cache"),
               "--chat-template-kwargs", '{"enable_thinking": false}', "--out", str(tmp_path / "run"))
    assert proc.returncode == 0, proc.stderr
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["model"]["fingerprint"]["chat_template_kwargs"] == {"enable_thinking": False}


@pytest.mark.parametrize("bad, message", [("{bad", "not valid JSON"), ("[1, 2]", "must be a JSON object")])
def test_cli_refuses_bad_kwargs(cli, tmp_path, bad, message):
    proc = cli("eval", "--model", "reference", "--suite", "arithmetic", "--limit", "1", "--no-progress",
               "--chat-template-kwargs", bad, "--out", str(tmp_path / "run"))
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "--chat-template-kwargs" in proc.stderr and message in proc.stderr
    assert not (tmp_path / "run").exists()


OPEN = "<|im_start|>assistant\n<think>\n"  # the prompt's end when the template opens the thinking block
CLOSED = "<|im_start|>assistant\n<think>\n\n</think>\n\n"  # thinking switched off
PLAIN = "<|im_start|>assistant\n"


@pytest.mark.parametrize("prompt, text, reasoning, answer", [
    (PLAIN, "<think>\nAdd 2 and 3.\n</think>\n\nThe answer is 5.", "Add 2 and 3.", "The answer is 5."),
    (OPEN, "Add 2 and 3.\n</think>\n\nThe answer is 5.", "Add 2 and 3.", "The answer is 5."),  # <think> was in the prompt
    # a trace the budget cut off is all trace: nothing half-thought is scored as the answer
    (PLAIN, "<think>\nstill thinking when the budget ran out", "still thinking when the budget ran out", ""),
    (OPEN, "still thinking when the budget ran out", "still thinking when the budget ran out", ""),
    # the model did not think: all answer
    (CLOSED, "The answer is 5.", None, "The answer is 5."),
    (PLAIN, "The answer is 5.", None, "The answer is 5."),
    (PLAIN, "First.</think>Then <think>x</think> 5", "First.", "Then <think>x</think> 5"),  # the first </think> ends it
])
def test_split_thinking(prompt, text, reasoning, answer):
    from harness.backends._thinking import split_thinking

    assert split_thinking(text, prompt) == (reasoning, answer)


def test_only_native_think_tokens_split(thinking_model_dir):
    from transformers import AutoTokenizer

    from harness.backends._thinking import thinks_natively

    tokenizer = AutoTokenizer.from_pretrained(thinking_model_dir)
    assert not thinks_natively(tokenizer)  # "<think>" is plain text here: a format-suite answer keeps it
    tokenizer.add_tokens(["<think>", "</think>"])
    assert thinks_natively(tokenizer)


def test_openai_backend_sends_kwargs_in_the_request_body():
    import asyncio
    from types import SimpleNamespace

    from harness.backends.base import load_backend
    from harness.types import GenerationParams

    sent: list[dict] = []

    async def create(**kwargs):
        sent.append(kwargs)
        message = SimpleNamespace(content="The answer is 5.", model_extra={})
        return SimpleNamespace(usage=None, choices=[SimpleNamespace(index=0, message=message, finish_reason="stop")])

    client = SimpleNamespace(chat=SimpleNamespace(completions=SimpleNamespace(create=create)))
    for kwargs in (None, {"enable_thinking": False}):
        backend = load_backend("openai:http://127.0.0.1:1/v1#m", chat_template_kwargs=kwargs)
        [gen] = asyncio.run(backend._request(client, item(), GenerationParams(), n=1, seed=0))
        assert gen.text == "The answer is 5."
    assert "extra_body" not in sent[0]
    assert sent[1]["extra_body"] == {"chat_template_kwargs": {"enable_thinking": False}}
