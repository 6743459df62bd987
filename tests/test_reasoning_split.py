"""Thinking traces kept apart from the scored answer: one rule (harness/backends/_thinking.py) for hf,
vLLM's own reasoning parsers for vllm (checked to agree), the server's reasoning field for openai."""

from __future__ import annotations

import argparse
import asyncio
from types import SimpleNamespace

import pytest

from test_chat_template_kwargs import THINKING_TEMPLATE

OPEN = "<|im_start|>assistant\n<think>\n"  # R1-style: the template opens the block
CLOSED = "<|im_start|>assistant\n<think>\n\n</think>\n\n"  # thinking switched off in the template
PLAIN = "<|im_start|>assistant\n"  # Qwen3-style thinking on: the model opens the block itself

CASES = [
    (PLAIN, "<think>\nAdd 2 and 3.\n</think>\n\nThe answer is 5."),
    (OPEN, "Add 2 and 3.\n</think>\n\nThe answer is 5."),
    (OPEN, "still thinking when the budget ran out"),
    (PLAIN, "<think>\nstill thinking when the budget ran out"),
    (PLAIN, "The answer is 5."),  # an instruct model with think tokens that simply answers
    (CLOSED, "The answer is 5."),
    (OPEN, "Add.</think>"),  # stopped right after the trace: an empty answer
    (OPEN, "a</think>b</think>c"),
    (PLAIN, "  <think>x</think>  5  "),
]


@pytest.fixture(scope="module")
def thinking_dir(tmp_path_factory):
    from tiny_model import build_thinking_model

    return build_thinking_model(tmp_path_factory.mktemp("thinking-tokens"), THINKING_TEMPLATE)


@pytest.fixture(scope="module")
def thinking_tokenizer(thinking_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(thinking_dir)


def item(i: int = 0):
    from harness.types import Item, Message

    return Item(id=f"q{i}", suite="arithmetic", capability="math", messages=[Message(role="user", content=f"What is {i} + 3?")])


@pytest.mark.parametrize("name", ["deepseek_r1", "qwen3"])
def test_the_shared_rule_splits_as_vllms_parsers_do(name, thinking_tokenizer):
    pytest.importorskip("vllm.reasoning")
    from harness.backends._thinking import split_thinking
    from harness.backends.vllm_backend import make_reasoning_parser, split_with_parser

    parser = make_reasoning_parser(name, thinking_tokenizer, {})
    for prompt, completion in CASES:
        if name == "qwen3" and completion.count("</think>") > 1:
            continue  # qwen3 also deletes later stray </think> tags from the answer; the rule keeps them
        assert split_with_parser(parser, prompt, completion) == split_thinking(completion, prompt), (prompt, completion)
    assert split_thinking(*CASES[0][::-1]) == ("Add 2 and 3.", "The answer is 5.")
    assert split_thinking(*CASES[2][::-1]) == ("still thinking when the budget ran out", "")  # a cut trace is no answer
    assert split_thinking(*CASES[4][::-1]) == (None, "The answer is 5.")


def test_qwen3_parser_with_thinking_switched_off_leaves_the_answer_whole(thinking_tokenizer):
    pytest.importorskip("vllm.reasoning")
    from harness.backends._thinking import split_thinking
    from harness.backends.vllm_backend import make_reasoning_parser, split_with_parser

    parser = make_reasoning_parser("qwen3", thinking_tokenizer, {"enable_thinking": False})
    assert split_with_parser(parser, CLOSED, "The answer is 5.") == split_thinking("The answer is 5.", CLOSED) == (None, "The answer is 5.")


def test_auto_picks_a_parser_only_for_tokenizers_with_think_tokens(tiny_model_dir, thinking_tokenizer):
    from transformers import AutoTokenizer

    from harness.backends.vllm_backend import auto_reasoning_parser

    plain = AutoTokenizer.from_pretrained(tiny_model_dir)
    assert auto_reasoning_parser(plain, "qwen3") is None
    assert auto_reasoning_parser(thinking_tokenizer, "llama") == "deepseek_r1"
    assert auto_reasoning_parser(thinking_tokenizer, "qwen2") == "deepseek_r1"  # R1-Distill-Qwen
    assert auto_reasoning_parser(thinking_tokenizer, "qwen3") == auto_reasoning_parser(thinking_tokenizer, "qwen3_moe") == "qwen3"


def test_an_unknown_parser_is_refused_with_the_known_ones(thinking_dir):
    pytest.importorskip("vllm.reasoning")
    from harness.backends.base import load_backend
    from harness.errors import HarnessError

    with pytest.raises(HarnessError, match="unknown vLLM reasoning parser 'nope'.*deepseek_r1"):
        load_backend(f"vllm:{thinking_dir}", reasoning_parser="nope")


def test_fingerprints_and_thinking_follow_the_split(tiny_model_dir, thinking_dir):
    from harness.backends.base import load_backend

    plain = load_backend(f"vllm:{tiny_model_dir}")
    assert "reasoning_parser" not in plain.fingerprint() and not plain.thinking  # old cache keys unchanged
    thinking = load_backend(f"vllm:{thinking_dir}")
    assert thinking.fingerprint()["reasoning_parser"] == "deepseek_r1" and thinking.thinking
    assert load_backend(f"vllm:{thinking_dir}", reasoning_parser="qwen3").fingerprint()["reasoning_parser"] == "qwen3"
    assert "reasoning_parser" not in load_backend(f"vllm:{thinking_dir}", reasoning_parser="none").fingerprint()
    assert not load_backend(f"vllm:{thinking_dir}", chat_template_kwargs={"enable_thinking": False}).thinking

    assert "reasoning_split" not in load_backend(f"hf:{tiny_model_dir}").fingerprint()
    hf = load_backend(f"hf:{thinking_dir}")
    assert hf.fingerprint()["reasoning_split"] == "think" and hf.thinking


def test_hf_generations_hold_the_split_of_the_raw_completion(thinking_dir, monkeypatch):
    from harness.backends import hf
    from harness.backends._thinking import split_thinking
    from harness.backends.base import load_backend
    from harness.types import GenerationParams

    raw: list[tuple[str, str]] = []
    monkeypatch.setattr(hf, "split_thinking", lambda text, prompt: raw.append((text, prompt)) or split_thinking(text, prompt))
    for kwargs, prompt_end in ((None, OPEN), ({"enable_thinking": False}, CLOSED)):
        raw.clear()
        with load_backend(f"hf:{thinking_dir}", device="cpu", chat_template_kwargs=kwargs) as backend:
            gens = backend.generate([item(i) for i in range(3)], GenerationParams(max_new_tokens=12), progress=False)
        assert len(raw) == 3 and all(prompt.endswith(prompt_end) for _, prompt in raw)
        by_prompt = {prompt: text for text, prompt in raw}
        prompts = [hf.render_chat(backend._load_tokenizer(), item(i), kwargs) for i in range(3)]
        for [gen], prompt in zip(gens, prompts, strict=True):
            text = by_prompt[prompt]
            assert (gen.reasoning, gen.text) == split_thinking(text, prompt)
            if kwargs is None and "</think>" not in text:  # the template opened the block: all trace, no answer
                assert gen.text == "" and gen.reasoning == (text.strip() or None)
            if kwargs is not None and "</think>" not in text:  # thinking off: the whole completion is the answer
                assert gen.reasoning is None and gen.text == text


def test_serve_starts_vllm_with_the_reasoning_parser(tiny_model_dir, thinking_dir):
    pytest.importorskip("vllm")
    from harness.commands import serve

    parser = argparse.ArgumentParser()
    serve.add_arguments(parser)

    def argv(*args):
        return serve.build_command(parser.parse_args(list(args)))[0]

    thinking = argv("--model", f"vllm:{thinking_dir}")
    assert thinking[thinking.index("--reasoning-parser") + 1] == "deepseek_r1"
    chosen = argv("--model", f"vllm:{thinking_dir}", "--reasoning-parser", "qwen3")
    assert chosen[chosen.index("--reasoning-parser") + 1] == "qwen3"
    assert "--reasoning-parser" not in argv("--model", f"vllm:{thinking_dir}", "--reasoning-parser", "none")
    assert "--reasoning-parser" not in argv("--model", f"vllm:{tiny_model_dir}")
    assert "--hf-overrides" not in thinking  # no GGUF workaround left outside harness/models/embedded.py


@pytest.mark.parametrize("field", ["reasoning", "reasoning_content"])  # vLLM >= 0.10, older vLLM / SGLang
def test_openai_backend_keeps_the_servers_reasoning_apart(field):
    from harness.backends.base import load_backend
    from harness.types import GenerationParams

    async def create(**kwargs):
        message = SimpleNamespace(content="The answer is 5.", model_extra={field: "Add 2 and 3."})
        return SimpleNamespace(usage=None, choices=[SimpleNamespace(index=0, message=message, finish_reason="stop")])

    client = SimpleNamespace(chat=SimpleNamespace(completions=SimpleNamespace(create=create)))
    backend = load_backend("openai:http://127.0.0.1:1/v1#m")
    [gen] = asyncio.run(backend._request(client, item(), GenerationParams(), n=1, seed=0))
    assert (gen.reasoning, gen.text) == ("Add 2 and 3.", "The answer is 5.")
