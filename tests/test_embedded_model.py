"""The real embedded SmolLM2 model, end to end through the CLI, from a fresh cache."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_first_use_converts_then_later_uses_load_the_cached_copy(cli, tmp_path):
    cache = tmp_path / "cache"
    out = tmp_path / "out"
    args = ("eval", "--suite", "arithmetic", "--limit", "4", "--max-new-tokens", "48", "--no-progress")
    first = cli(*args, "--out", str(out), env={"HARNESS_CACHE": str(cache)})
    assert first.returncode == 0, first.stderr
    assert "converting embedded model smollm2-135m" in first.stderr
    checkpoint = cache / "models" / "smollm2-135m"
    assert (checkpoint / "model.safetensors").is_file() and (checkpoint / "config.json").is_file()
    assert "quantization_config" not in json.loads((checkpoint / "config.json").read_text())  # plain float weights

    results = json.loads((out / "results.json").read_text())
    assert results["model"]["spec"] == "smollm2-135m"
    assert results["model"]["fingerprint"]["path"] == str(checkpoint)
    assert results["suites"]["arithmetic"]["n_items"] == 4
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 4
    assert all(s["output"].strip() for s in samples)  # the model really wrote something
    assert all(isinstance(s["correct"], bool) and s["reference_answer"] is not None for s in samples)

    again = cli(*args, "--model", "smollm2-135m", "--out", str(tmp_path / "again"), env={"HARNESS_CACHE": str(cache)})
    assert again.returncode == 0, again.stderr
    assert "converting" not in again.stderr
    # greedy decoding on the same checkpoint gives the same outputs
    again_samples = [json.loads(line) for line in (tmp_path / "again" / "samples.jsonl").read_text().splitlines()]
    assert [s["output"] for s in again_samples] == [s["output"] for s in samples]


def test_a_copy_converted_with_the_gguf_quantization_config_is_mended_on_use(tmp_path, monkeypatch):
    """harness 0.1.0 left the GGUF quantization_config in the converted config.json; the next use
    removes it, so transformers, vLLM and lm_eval load the folder without any workaround of their own."""
    from harness.models.embedded import embedded_checkpoint

    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path))
    old = tmp_path / "models" / "smollm2-135m"
    old.mkdir(parents=True)
    config = {"model_type": "llama", "quantization_config": {"quant_method": "gguf", "gguf_file": "x.gguf"}}
    (old / "config.json").write_text(json.dumps(config))
    assert embedded_checkpoint("smollm2-135m") == old
    assert json.loads((old / "config.json").read_text()) == {"model_type": "llama"}
