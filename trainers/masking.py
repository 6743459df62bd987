"""Assistant-only loss masks for any chat template, TRL's way.

TRL's `assistant_only_loss` needs a chat template with `{% generation %}` markers and can patch
only the templates it knows; SmolLM2's ChatML template is not one of them. So we build the
`assistant_masks` column ourselves and hand TRL a pre-tokenized dataset (`input_ids` +
`assistant_masks`), from which SFTTrainer builds the labels exactly as it would from its own masks.

The assistant spans are found by rendering the conversation prefix by prefix: the text an assistant
turn adds after `add_generation_prompt=True` is that turn (content plus its end-of-turn token).
Tokens are mapped to those character spans through the tokenizer's offsets, so BPE merges at the
boundaries cannot shift the mask. Works for every template that renders earlier turns identically
when later turns are appended (prefix-preserving), which is checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.errors import HarnessError


def _render(tokenizer: Any, messages: Sequence[dict], add_generation_prompt: bool) -> str:
    return tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=add_generation_prompt)


def assistant_char_spans(tokenizer: Any, messages: Sequence[dict]) -> tuple[str, list[tuple[int, int]]]:
    """(full rendered text, [(start, end)] character spans of every assistant turn)."""
    if not getattr(tokenizer, "chat_template", None):
        raise HarnessError("the student tokenizer has no chat template; cannot train on chat messages")
    full = _render(tokenizer, messages, add_generation_prompt=False)
    eos = tokenizer.eos_token or ""
    spans = []
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        before = _render(tokenizer, messages[:index], add_generation_prompt=True)
        through = _render(tokenizer, messages[: index + 1], add_generation_prompt=False)
        if not through.startswith(before) or not full.startswith(through):
            raise HarnessError(
                "the chat template is not prefix-preserving (an earlier turn renders differently once later "
                "turns are added), so assistant tokens cannot be located; pass a training template with --chat-template"
            )
        start, end = len(before), len(through)
        # Train the end-of-turn token (so the model learns to stop) but not the separator after it.
        if eos and eos in through[start:end]:
            end = through.rindex(eos, start, end) + len(eos)
        spans.append((start, end))
    return full, spans


def tokenize_with_assistant_mask(tokenizer: Any, messages: Sequence[dict]) -> dict[str, list[int]]:
    """`input_ids` of the rendered chat and `assistant_masks` (1 on assistant tokens, else 0)."""
    text, spans = assistant_char_spans(tokenizer, messages)
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    mask = []
    for start, end in enc["offset_mapping"]:
        inside = any(s <= start < e for s, e in spans) if end > start else False
        mask.append(int(inside))
    if 1 not in mask:
        raise HarnessError("a training row has no assistant tokens (every row needs an assistant turn)")
    return {"input_ids": list(enc["input_ids"]), "assistant_masks": mask}


def assistant_text_from_labels(tokenizer: Any, input_ids: Sequence[int], labels: Sequence[int]) -> list[str]:
    """Decode each contiguous run of trained (label != -100) tokens: used to check the masks."""
    runs: list[list[int]] = []
    previous = False
    for token, label in zip(input_ids, labels, strict=True):
        trained = label != -100
        if trained and not previous:
            runs.append([])
        if trained:
            runs[-1].append(token)
        previous = trained
    return [tokenizer.decode(run) for run in runs]
