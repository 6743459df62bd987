"""Thinking traces kept apart from answers: one rule for every local backend (hf, vllm).

A reasoning model (Qwen3, R1 distills) writes `<think> trace </think> answer`; the answer alone
is scored and the trace goes to `Generation.reasoning`. The rule is vLLM's reasoning parsers'
(`deepseek_r1`, `qwen3`), which the vllm backend uses itself; tests/test_reasoning_split.py checks
that this pure-Python copy gives the same split as those parsers:

- a trace ends at the first `</think>`; its opening `<think>` may be in the prompt (R1 templates);
- a trace the model opened but never closed (cut by the token budget) is all trace: the answer
  is empty, so nothing half-thought is scored as the answer (the record says `truncated`);
- an output of a model that did not think (thinking switched off, a template that closed the
  block in the prompt, or an instruct model that simply answers) is all answer.
"""

from __future__ import annotations

from typing import Any

THINK_START, THINK_END = "<think>", "</think>"


def thinks_natively(tokenizer: Any) -> bool:
    """Whether `<think>` and `</think>` are tokens of their own (Qwen3, R1 distills), not plain text.

    Only then is a `<think>` block the model's own thinking mode and split off into `reasoning`:
    a student trained to write `<think>...</think>` as text, or asked to by the format suite's
    think_answer constraint, keeps it in its answer.
    """
    added = tokenizer.get_added_vocab() if hasattr(tokenizer, "get_added_vocab") else {}
    return THINK_START in added and THINK_END in added


def thinks(tokenizer: Any, chat_template_kwargs: dict[str, Any] | None) -> bool:
    """Whether the model thinks before it answers: native think tokens, and the chat template's
    thinking switch (Qwen3's `enable_thinking`) not turned off. Such a model gets a larger token
    budget (harness/token_budget.py)."""
    return thinks_natively(tokenizer) and (chat_template_kwargs or {}).get("enable_thinking") is not False


def thinking_opened(prompt: str, completion: str) -> bool:
    """Whether the completion starts inside a thinking block: the prompt ends with an open
    `<think>` (R1 templates, Qwen3-style templates with thinking on) or the model opened one."""
    return prompt.rstrip().endswith(THINK_START) or completion.lstrip().startswith(THINK_START)


def tidy(reasoning: str | None, answer: str | None) -> tuple[str | None, str]:
    """Whitespace stripped; an empty trace is no trace."""
    reasoning = (reasoning or "").strip()
    return reasoning or None, (answer or "").strip()


def split_thinking(completion: str, prompt: str = "") -> tuple[str | None, str]:
    """(thinking trace, answer) of a decoded completion by the rule above; (None, completion) when
    the model did not think."""
    closed = THINK_END in completion
    if not closed and not thinking_opened(prompt, completion):
        return None, completion
    trace, _, answer = completion.partition(THINK_END)
    start = trace.find(THINK_START)
    return tidy(trace[start + len(THINK_START) :] if start >= 0 else trace, answer)
