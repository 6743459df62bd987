"""The hf backend's per-token log-probabilities, kept step by step, equal generate's full-vocabulary scores."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("temperature, top_p", [(0.0, 1.0), (0.7, 0.9), (1.3, 1.0)])
def test_chosen_token_logprobs_match_compute_transition_scores(tiny_model_dir, temperature, top_p):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from harness.backends.hf import chosen_token_logprobs
    from harness.types import GenerationParams

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    tokenizer.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    enc = tokenizer(["The answer is", "Chloe has 55 marbles and buys"], return_tensors="pt", padding=True)
    params = GenerationParams(temperature=temperature, top_p=top_p, max_new_tokens=12)
    sampling = temperature > 0
    kwargs = dict(max_new_tokens=12, do_sample=sampling, temperature=temperature if sampling else None,
                  top_p=top_p if sampling else None, top_k=None, num_return_sequences=3 if sampling else 1,
                  pad_token_id=tokenizer.pad_token_id, return_dict_in_generate=True)
    torch.manual_seed(5)
    full = model.generate(**enc, output_scores=True, **kwargs)
    expected = model.compute_transition_scores(full.sequences, full.scores, normalize_logits=True)
    recorder = chosen_token_logprobs(params)
    torch.manual_seed(5)
    lean = model.generate(**enc, logits_processor=[recorder], **kwargs)
    assert torch.equal(full.sequences, lean.sequences)  # recording changes nothing that is generated
    got = recorder.finish(lean.sequences[:, enc["input_ids"].shape[1]:])
    assert got.shape == expected.shape and got.shape[1] > 0
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    assert torch.isfinite(got).all() and (got <= 0).all()
