"""Hugging Face transformers backend: batched, chat-templated generation on CPU or CUDA."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any

from harness.backends._thinking import split_thinking, thinks, thinks_natively
from harness.backends.base import Backend
from harness.backends.options import DTYPE_ARG, ChatTemplateOptions
from harness.backends.registry import BACKENDS
from harness.config import Arg
from harness.errors import HarnessError
from harness.models.checkpoint import adapter_base, checkpoint_dtype, checkpoint_fingerprint, has_tokenizer, resolve_checkpoint
from harness.models.cpu import gpu_present, resolve_dtype
from harness.models.spec import ModelSpec
from harness.token_budget import generation_budget
from harness.types import Generation, GenerationParams, Item


def render_chat(tokenizer: Any, item: Item, chat_template_kwargs: dict[str, Any] | None = None) -> str:
    """The prompt text; `chat_template_kwargs` (e.g. Qwen3's `enable_thinking`) reach the Jinja template."""
    messages = [m.model_dump() for m in item.messages]
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, **(chat_template_kwargs or {}))
    return "\n\n".join(m["content"] for m in messages) + "\n\n"


def stop_token_ids(model: Any, tokenizer: Any) -> set[int]:
    """Every token id that ends generation: the generation config's EOS ids and the tokenizer's."""
    ids = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids = set(ids if isinstance(ids, (list, tuple)) else [ids] if ids is not None else [])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return ids


def hf_finish_reason(tokens: Sequence[int], stops: set[int], max_new_tokens: int) -> str:
    """"stop" when the sequence emitted an end token, "length" when it used the whole budget without one.

    Rows of a batch are padded to its longest row, so a row shorter than the budget that holds
    no end token can only have stopped on another criterion: also "stop".
    """
    if any(t in stops for t in tokens):
        return "stop"
    return "length" if len(tokens) >= max_new_tokens else "stop"


def chosen_token_logprobs(params: GenerationParams) -> Any:
    """A logits processor that keeps only the log-probability of each chosen token, step by step.

    `generate(output_scores=True)` keeps every step's full-vocabulary scores (batch x 49k floats per
    token: 0.8 GB for 16 x 256 tokens on SmolLM2, and as much again when they are normalised); this
    keeps one step's. Custom processors run before generate's sampling warpers, so the warpers
    generate adds (temperature, top-p) are applied here to a copy: the log-probabilities are those of
    the distribution each token was drawn from, as `compute_transition_scores(normalize_logits=True)`
    gives. The chosen token of step t is read at step t+1 (the last input id); `finish` adds the last.
    """
    import torch
    from transformers import LogitsProcessor, TemperatureLogitsWarper, TopPLogitsWarper

    warpers = []
    if params.temperature > 0:
        if params.temperature != 1.0:
            warpers.append(TemperatureLogitsWarper(params.temperature))
        if params.top_p < 1.0:
            warpers.append(TopPLogitsWarper(top_p=params.top_p, min_tokens_to_keep=1))

    class ChosenTokenLogprobs(LogitsProcessor):
        def __init__(self) -> None:
            self.steps: list[torch.Tensor] = []  # (batch,) log-probability of each step's chosen token
            self.pending: torch.Tensor | None = None  # the last step's log-softmax, its token not yet known

        def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
            if self.pending is not None:
                self.steps.append(self.pending.gather(1, input_ids[:, -1:]).squeeze(1))
            warped = scores
            for warper in warpers:
                warped = warper(input_ids, warped)
            self.pending = torch.log_softmax(warped.float(), dim=-1)
            return scores

        def finish(self, new_tokens: torch.Tensor) -> torch.Tensor:
            """(batch, new tokens) log-probabilities of the generated tokens."""
            n = new_tokens.shape[1]
            if self.pending is not None and len(self.steps) < n:
                self.steps.append(self.pending.gather(1, new_tokens[:, len(self.steps) : len(self.steps) + 1]).squeeze(1))
            self.pending = None
            return torch.stack(self.steps[:n], dim=1) if n else new_tokens.new_zeros(new_tokens.shape, dtype=torch.float32)

    return ChosenTokenLogprobs()


@dataclass
class HFOptions(ChatTemplateOptions):
    """Options of the hf: backend."""

    batch_size: Annotated[int, Arg("prompts per generate call", positive=True)] = 16
    device: Annotated[str | None, Arg("cpu, cuda, cuda:1 (default: cuda when present)")] = None
    dtype: Annotated[str, DTYPE_ARG] = "auto"


@BACKENDS.register("hf")
class HFBackend(Backend):
    """A transformers checkpoint: batched generation with its chat template, greedy by default, CPU or CUDA."""

    Options = HFOptions

    def __init__(self, spec: ModelSpec, **options: Any):
        super().__init__(spec, **options)
        settings: HFOptions = self.settings
        self.checkpoint = resolve_checkpoint(spec.target)
        self.chat_template_kwargs = settings.chat_template_kwargs or {}
        self.batch_size = settings.batch_size
        self.device_name = settings.device
        on_cpu = (settings.device or ("cuda" if gpu_present() else "cpu")).startswith("cpu")
        # on CPU: what the processor computes natively (harness/models/cpu.py)
        self.dtype = resolve_dtype(settings.dtype, on_cpu)
        self._model = None
        self._tokenizer = None

    @property
    def chunk_size(self) -> int:
        """Items per call from the response-cache loop: one batch, so each batch is committed as it ends."""
        return self.batch_size

    def batch_key(self, item: Item, budget: int) -> Any:
        """Batches of one budget, their prompts of similar length (less padding), across every suite of a run
        (a chunk where two budgets meet is one batch too: _generate_budgeted)."""
        return (-budget, -sum(len(m.content) for m in item.messages))

    def weights_dtype(self) -> str:
        """The dtype the weights are (or will be) in: the loaded model's, else the resolved option."""
        if self._model is not None:
            return str(self._model.dtype).removeprefix("torch.")
        return self.dtype if self.dtype != "auto" else checkpoint_dtype(adapter_base(self.checkpoint) or self.checkpoint) or "auto"

    def fingerprint(self) -> dict[str, Any]:
        fingerprint = {"backend": "hf", **checkpoint_fingerprint(self.checkpoint), "dtype": self.dtype}
        if (base := adapter_base(self.checkpoint)) is not None:  # same adapter on another base: other answers
            fingerprint["base"] = checkpoint_fingerprint(base)
        if self.chat_template_kwargs:  # thinking on and off give other answers: other cache keys
            fingerprint["chat_template_kwargs"] = self.chat_template_kwargs
        if thinks_natively(self._load_tokenizer()):  # cached answers hold the split: its rule is part of the key
            fingerprint["reasoning_split"] = "think"
        return fingerprint

    @cached_property
    def thinking(self) -> bool:
        return thinks(self._load_tokenizer(), self.chat_template_kwargs)

    def _load_tokenizer(self) -> Any:
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            base = adapter_base(self.checkpoint)
            try:
                tokenizer = AutoTokenizer.from_pretrained(self.checkpoint if base is None or has_tokenizer(self.checkpoint) else base)
            except OSError as exc:
                raise HarnessError(f"cannot load the tokenizer of {self.checkpoint}: {str(exc).splitlines()[0]}") from exc
            tokenizer.padding_side = "left"
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
            self._tokenizer = tokenizer
        return self._tokenizer

    def _load(self) -> tuple[Any, Any]:
        if self._model is None:
            import torch
            from transformers import AutoModelForCausalLM

            device = self.device_name or ("cuda" if torch.cuda.is_available() else "cpu")
            self._load_tokenizer()  # sets self._tokenizer, returned below
            try:
                base = adapter_base(self.checkpoint)
                if base is None:
                    model = AutoModelForCausalLM.from_pretrained(self.checkpoint, dtype=self.dtype)
                else:
                    from peft import PeftModel

                    # merged in the base's own precision, then cast: the same weights as a merged model saved
                    # by training and loaded at this dtype (merging in bfloat16 rounds twice); generation
                    # runs at the base model's speed, without the adapter's extra matmuls
                    model = AutoModelForCausalLM.from_pretrained(base, dtype="auto")
                    model = PeftModel.from_pretrained(model, str(self.checkpoint)).merge_and_unload()
                    if self.dtype != "auto":
                        model = model.to(getattr(torch, self.dtype))
            except OSError as exc:
                raise HarnessError(f"cannot load checkpoint {self.checkpoint}: {str(exc).splitlines()[0]}") from exc
            self._model = model.to(device).eval()
        return self._model, self._tokenizer

    def generate_batch(self, prompts: Sequence[str], params: GenerationParams, max_new_tokens: int,
                       min_new_tokens: int | None = None) -> tuple[Any, Any, Any]:
        """One `model.generate` call on rendered prompts: (encoded batch, new tokens, their log-probabilities).

        `min_new_tokens` (the engine probe's fixed-length runs) keeps every row generating to the budget.
        """
        import torch

        model, tokenizer = self._load()
        sampling = params.temperature > 0
        enc = tokenizer(list(prompts), return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
        recorder = chosen_token_logprobs(params)
        fixed = {"min_new_tokens": min_new_tokens} if min_new_tokens else {}
        with torch.inference_mode():
            out = model.generate(
                **enc,
                **fixed,
                max_new_tokens=max_new_tokens,
                do_sample=sampling,
                temperature=params.temperature if sampling else None,
                top_p=params.top_p if sampling else None,
                top_k=None,
                num_return_sequences=params.samples if sampling else 1,  # greedy: one answer; k "samples" copy it
                pad_token_id=tokenizer.pad_token_id,
                return_dict_in_generate=True,
                logits_processor=[recorder],
            )
        new_tokens = out.sequences[:, enc["input_ids"].shape[1] :]
        return enc, new_tokens, recorder.finish(new_tokens)

    def generate(self, items: Sequence[Item], params: GenerationParams, progress: bool = True) -> list[list[Generation]]:
        return self._generate_budgeted(items, params, [generation_budget(params)] * len(items), progress=progress)

    def _generate_budgeted(self, items: Sequence[Item], params: GenerationParams, budgets: Sequence[int],
                           advance: Callable[[int], None] | None = None, progress: bool = False) -> list[list[Generation]]:
        """Batches in (budget, prompt length) order; a batch whose items' budgets differ (a few items of a
        longer rung beside a shorter one's, where the evaluator's budget-sorted chunks meet) generates to
        its largest budget and cuts each row at its own: a row's first tokens do not depend on how many
        more the batch goes on to generate, so each answer is the one its own budget gives, and those
        few items ride along instead of decoding a batch of their own."""
        import torch
        from tqdm.auto import tqdm

        model, tokenizer = self._load()
        prompts = [render_chat(tokenizer, item, self.chat_template_kwargs) for item in items]
        split = thinks_natively(tokenizer)
        # Longest budget, then longest prompt first: similar lengths share a batch (less padding), and memory
        # errors show up early.
        order = sorted(range(len(prompts)), key=lambda i: (-budgets[i], -len(prompts[i])))
        results: list[list[Generation]] = [[] for _ in prompts]
        per_prompt = params.samples if params.temperature > 0 else 1
        stops = stop_token_ids(model, tokenizer)
        torch.manual_seed(params.seed)
        bar = tqdm(total=len(prompts), desc=f"generate {self.spec}", unit="prompt", disable=not progress)
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            enc, new_tokens, scores = self.generate_batch([prompts[i] for i in batch], params, max(budgets[i] for i in batch))
            for row, (tokens, token_scores) in enumerate(zip(new_tokens, scores, strict=True)):
                prompt_index = batch[row // per_prompt]
                budget = budgets[prompt_index]
                tokens, token_scores = tokens[:budget], token_scores[:budget]  # the row's own budget
                keep = tokens != tokenizer.pad_token_id
                n = int(keep.sum())
                text = tokenizer.decode(tokens[keep], skip_special_tokens=True)
                reasoning, text = split_thinking(text, prompts[prompt_index]) if split else (None, text)
                logprob = float(token_scores[keep].mean()) if n else None
                generation = Generation(
                    text=text,
                    reasoning=reasoning,
                    logprob=logprob,
                    prompt_tokens=int(enc["attention_mask"][row // per_prompt].sum()),
                    completion_tokens=n,
                    finish_reason=hf_finish_reason(tokens.tolist(), stops, budget),
                )
                results[prompt_index].extend([generation] * (params.samples // per_prompt))
            bar.update(len(batch))
            if advance is not None:
                advance(len(batch))
        bar.close()
        return results

    def close(self) -> None:
        self._model = self._tokenizer = None
