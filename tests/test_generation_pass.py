"""One generation pass per run: every suite's items go to the backend together, each with its own token
budget (Backend.generate_budgeted); the response cache keys, resumes and reports progress over that pass."""

from __future__ import annotations

import json
from collections.abc import Sequence
from types import SimpleNamespace

import pytest

from harness.backends.base import Backend
from harness.cache import ResponseCache, sample_keys
from harness.evaluate import EvalConfig, run_eval
from harness.generation import ChunkProgress, generate_cached
from harness.models.spec import parse_model_spec
from harness.suite import get_suite
from harness.types import Generation, GenerationParams, Item


class GenerateOnly(Backend):
    """A plug-in style backend: implements `generate` only; records each call's items and budget."""

    name = "generate-only"

    def __init__(self):
        super().__init__(parse_model_spec("reference"))
        self.calls: list[tuple[list[str], int]] = []

    def fingerprint(self):
        return {"backend": self.name}

    def generate(self, items, params, progress=True):
        self.calls.append(([it.id for it in items], params.max_new_tokens))
        return [[Generation(text=it.reference_response, finish_reason="stop")] * params.samples for it in items]


class OnePass(GenerateOnly):
    """An engine that takes any mix of budgets in one call (as vLLM does); counts items done as it goes."""

    name = "one-pass"

    def generate_budgeted(self, items, params, budgets, advance=None):
        self.calls.append(([it.id for it in items], list(budgets)))
        for _ in items:
            if advance is not None:
                advance(1)
        return [[Generation(text=it.reference_response, finish_reason="stop")] * params.samples for it in items]


@pytest.fixture(scope="module")
def selection():
    math, arithmetic = get_suite("math", size=4), get_suite("arithmetic")
    return [(math, math.items("test")), (arithmetic, arithmetic.items("test", limit=6))]


def config(tmp_path, **kw) -> EvalConfig:
    settings = {"suites": ["math", "arithmetic"], "suite_size": 4, "progress": False, "cache_path": tmp_path / "c.sqlite", **kw}
    return EvalConfig(**settings)


def test_every_suite_goes_to_the_engine_in_one_call_each_item_at_its_budget(selection, tmp_path):
    math, math_items = selection[0]
    arithmetic = selection[1][0]
    engine = OnePass()
    results, records = run_eval(config(tmp_path, chunk_size=512), tmp_path / "a",
                                backend=engine)
    [(asked, budgets)] = engine.calls  # one call: math's rungs and arithmetic's items together
    by_id = dict(zip(asked, budgets, strict=True))
    assert {r.suite for r in records} == {"math", "arithmetic"} and set(by_id) == {r.item_id for r in records}
    items = {it.id: (s, it) for s in (math, arithmetic) for it in s.items("test")}
    assert all(by_id[i] == items[i][0].token_budget(items[i][1]) for i in by_id)
    assert budgets == sorted(budgets, reverse=True)  # the longest budgets first: they start early
    assert len(set(budgets)) > 1 and all(r.score == 1.0 for r in records)  # answers reached their own items

    # A backend with only `generate` gets one call per distinct budget, across suites, and the same results.
    plain = GenerateOnly()
    _, plain_records = run_eval(config(tmp_path, use_cache=False, chunk_size=512), tmp_path / "b", backend=plain)
    assert sorted(b for _, b in plain.calls) == sorted(set(budgets))
    assert sorted(i for ids, _ in plain.calls for i in ids) == sorted(asked)
    assert (tmp_path / "a" / "samples.jsonl").read_text() == (tmp_path / "b" / "samples.jsonl").read_text()
    a, b = (json.loads((tmp_path / d / "results.json").read_text()) for d in "ab")
    assert a["suites"] == b["suites"] and a["capabilities"] == b["capabilities"]


def test_the_default_groups_by_budget_in_order_of_first_appearance(selection):
    _, items = selection[1]
    backend = GenerateOnly()
    done = []
    answers = backend.generate_budgeted(items[:5], GenerationParams(samples=2), [64, 32, 64, 16, 32], done.append)
    assert backend.calls == [([items[0].id, items[2].id], 64), ([items[1].id, items[4].id], 32), ([items[3].id], 16)]
    assert [a[0].text for a in answers] == [it.reference_response for it in items[:5]] and all(len(a) == 2 for a in answers)
    assert done == [2, 2, 1]
    with pytest.raises(ValueError, match="2 items but 1 budgets"):
        backend.generate_budgeted(items[:2], GenerationParams(), [8])


def test_cache_keys_hold_each_items_budget_and_a_resumed_pass_forms_the_same_chunks(selection, tmp_path):
    _, items = selection[1]
    items = list(items[:6])
    budgets = [32, 64, 32, 64, 16, 64]
    params = GenerationParams(max_new_tokens=None)
    first = OnePass()
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        generate_cached(first, items, params, cache, first.fingerprint(), chunk_size=2, progress=False, budgets=budgets)
        for item, budget in zip(items, budgets, strict=True):  # stored under the budget it was generated with
            key = sample_keys(first.fingerprint(), item, params.model_copy(update={"max_new_tokens": budget}))[0]
            assert cache.get_many([key])
    chunks = [ids for ids, _ in first.calls]
    order = [items[i].id for i in (1, 3, 5, 0, 2, 4)]  # longest budget first; ties keep item order
    assert [i for c in chunks for i in c] == order and [len(c) for c in chunks] == [2, 2, 2]

    # A run killed after its first chunk: the cache holds that chunk; the rerun asks for the rest in the same chunks.
    with ResponseCache(tmp_path / "killed.sqlite") as cache:
        cache.put_many((k, Generation(text="x")) for item, budget in zip(items, budgets, strict=True) if item.id in chunks[0]
                       for k in sample_keys(first.fingerprint(), item, params.model_copy(update={"max_new_tokens": budget})))
        again = OnePass()
        generate_cached(again, items, params, cache, again.fingerprint(), chunk_size=2, progress=False, budgets=budgets)
    assert [ids for ids, _ in again.calls] == chunks[1:]


def test_one_bar_for_the_pass_moved_by_the_backend_never_past_its_chunk():
    bar = SimpleNamespace(n=0)
    bar.update = lambda n: setattr(bar, "n", bar.n + n)
    progress = ChunkProgress(bar)
    progress.start(3)
    progress(2)
    progress(5)  # a backend that over-reports
    assert bar.n == 3
    progress.finish()
    progress.start(4)
    progress.finish()  # a backend that said nothing: the whole chunk at its end
    assert bar.n == 7


def test_hf_batches_one_budget_with_prompts_of_similar_length_across_suites(tiny_model_dir, selection):
    from harness.backends.base import load_backend

    hf = load_backend(f"hf:{tiny_model_dir}", device="cpu")
    mixed = [it for _, items in selection for it in items[:4]]
    budgets = [256 if it.suite == "arithmetic" else 320 for it in mixed]
    order = sorted(range(len(mixed)), key=lambda i: hf.batch_key(mixed[i], budgets[i]))
    lengths = [sum(len(m.content) for m in mixed[i].messages) for i in order]
    assert [budgets[i] for i in order] == sorted(budgets, reverse=True)
    first = [n for i, n in zip(order, lengths, strict=True) if budgets[i] == 320]
    assert first == sorted(first, reverse=True)
    assert hf.chunk_size == hf.batch_size  # a chunk is one batch, committed when it ends


def test_vllm_asks_once_with_a_sampling_params_per_item(tiny_model_dir, selection, monkeypatch):
    """The vLLM backend's one-call path, up to the engine: a stand-in LLM records what `chat` is given
    and finishes requests through the `use_tqdm` callable as vLLM's _run_engine does."""
    pytest.importorskip("vllm")
    from harness.backends.base import load_backend

    _, items = selection[1]
    backend = load_backend(f"vllm:{tiny_model_dir}", reasoning_parser="none")
    seen = {}

    class FakeLLM:
        def chat(self, conversations, sampling, use_tqdm, chat_template_kwargs):
            seen.update(conversations=conversations, sampling=sampling)
            list(use_tqdm(conversations, desc="Rendering conversations"))  # handed back, not counted
            bar = use_tqdm(total=len(conversations), desc="Processed prompts", dynamic_ncols=True)
            outputs = []
            for i, sp in enumerate(sampling):
                completion = SimpleNamespace(index=0, text=f"The answer is {i}.", token_ids=[1] * sp.max_tokens,
                                             cumulative_logprob=-1.0, finish_reason="length")
                outputs.append(SimpleNamespace(prompt="", prompt_token_ids=[1, 2], outputs=[completion]))
                bar.update(1)
            bar.close()
            return outputs

    backend._llm = FakeLLM()
    done = []
    answers = backend.generate_budgeted(items[:3], GenerationParams(temperature=0.5, seed=7), [96, 40, 96], done.append)
    assert [sp.max_tokens for sp in seen["sampling"]] == [96, 40, 96]
    assert seen["sampling"][0] is seen["sampling"][2]  # one SamplingParams per distinct budget
    assert all(sp.seed == 7 and sp.temperature == 0.5 and sp.logprobs == 0 for sp in seen["sampling"])
    assert len(seen["conversations"]) == 3 and sum(done) == 3
    assert [a[0].completion_tokens for a in answers] == [96, 40, 96] and answers[1][0].text == "The answer is 1."
    backend._llm = None


def test_a_backend_returning_too_few_answers_is_an_error(selection, tmp_path):
    from harness.errors import HarnessError

    class Short(GenerateOnly):
        def generate(self, items: Sequence[Item], params, progress=True):
            return super().generate(items, params)[:-1]

    with pytest.raises(HarnessError, match="returned"):
        run_eval(config(tmp_path, suites=["arithmetic"], limit=3, use_cache=False), backend=Short())


def test_an_hf_batch_of_mixed_budgets_cuts_each_row_at_its_own(tiny_model_dir, selection):
    """One batch at the largest budget: each row keeps the tokens its own budget allows, ends "length" there,
    and is exactly the start of what the batch generated for it (greedy)."""
    from harness.backends.base import load_backend

    _, items = selection[1]
    hf = load_backend(f"hf:{tiny_model_dir}", device="cpu", batch_size=4)
    three = list(items[:3])
    mixed = hf.generate_budgeted(three, GenerationParams(), [12, 4, 8])
    whole = hf.generate_budgeted(three, GenerationParams(), [12, 12, 12])
    for [cut], [full], budget in zip(mixed, whole, [12, 4, 8], strict=True):
        assert cut.completion_tokens == budget and cut.finish_reason == "length"  # the random model never stops
        assert full.text.startswith(cut.text) and (budget == 12 or len(cut.text) < len(full.text))
    assert whole[0][0].text == mixed[0][0].text  # the longest row is what it always was
