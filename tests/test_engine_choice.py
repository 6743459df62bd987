"""The embedded default's engine: hf or vllm per workload; explicit specs and HARNESS_ENGINE win."""

from __future__ import annotations

import json

import pytest

from harness.errors import HarnessError
from harness.models import engine_choice
from harness.models.engine_choice import (
    CPU_COSTS,
    EngineCost,
    Workload,
    choose_engine,
    crossover_generations,
    default_engine_backend,
    engine_record,
)
from harness.types import GenerationParams

COSTS = {"hf": EngineCost(start_s=10.0, token_s=0.004), "vllm": EngineCost(start_s=50.0, token_s=0.001)}


def both(n: int) -> dict[str, int]:
    return {"hf": n, "vllm": n}


def test_crossover_is_where_the_estimates_cross():
    cross = crossover_generations(COSTS["hf"], COSTS["vllm"], 100)
    assert cross == 134  # 40 s of extra start / (0.003 s x 100 tokens saved per generation) = 133.3
    assert choose_engine(Workload(both(cross - 1), 100, "cpu"), COSTS).engine == "hf"
    assert choose_engine(Workload(both(cross), 100, "cpu"), COSTS).engine == "vllm"


def test_longer_generations_move_the_crossover_down():
    short = crossover_generations(COSTS["hf"], COSTS["vllm"], 64)
    long = crossover_generations(COSTS["hf"], COSTS["vllm"], 512)
    assert long < short
    assert choose_engine(Workload(both(50), 512, "cpu"), COSTS).engine == "vllm"
    assert choose_engine(Workload(both(50), 64, "cpu"), COSTS).engine == "hf"


def test_vllm_never_wins_when_it_is_not_faster_per_token():
    slow = {"hf": COSTS["hf"], "vllm": EngineCost(start_s=50.0, token_s=0.005)}
    assert crossover_generations(slow["hf"], slow["vllm"], 256) is None
    choice = choose_engine(Workload(both(10_000), 256, "cpu"), slow)
    assert choice.engine == "hf" and "never" in choice.reason


def test_reason_names_the_numbers():
    choice = choose_engine(Workload(both(400), 256, "cpu"), COSTS)
    assert choice.engine == "vllm" and choice.chosen_by == "workload"
    assert "400 generations x 256 tokens" in choice.reason and "crossover" in choice.reason
    assert choice.estimates_s["vllm"] < choice.estimates_s["hf"]
    assert choice.as_dict()["engine"] == "vllm"


def test_without_a_usable_vllm_it_is_hf():
    choice = choose_engine(Workload(both(100_000), 256, None), COSTS)
    assert choice.engine == "hf" and "not installed" in choice.reason
    assert choose_engine(Workload(both(100_000), 256, "cpu", hf_device="cuda"), COSTS).engine == "hf"


def test_cached_answers_mean_no_engine_start():
    # vllm holds every answer: nothing to generate there, so even a small workload stays on vllm
    assert choose_engine(Workload({"hf": 5, "vllm": 0}, 256, "cpu"), COSTS).engine == "vllm"
    # and a big workload whose hf answers are all cached is not re-generated on vllm
    assert choose_engine(Workload({"hf": 0, "vllm": 5000}, 256, "cpu"), COSTS).engine == "hf"
    assert "cache" in choose_engine(Workload(both(0), 256, "cpu"), COSTS).reason


def test_gpu_costs_are_used_for_a_cuda_vllm():
    cpu = choose_engine(Workload(both(30), 256, "cpu"))
    gpu = choose_engine(Workload(both(30), 256, "cuda"))
    assert cpu.estimates_s != gpu.estimates_s


def test_the_calibrated_cpu_crossover_is_a_few_dozen_generations_at_256_tokens():
    # guards the constants against a typo: the measured crossover (reports/cpu_engine.md) is tens, not thousands
    cross = crossover_generations(CPU_COSTS["hf"], CPU_COSTS["vllm"], 256)
    assert cross is not None and 5 <= cross <= 400


# --- the backend run_eval gets --------------------------------------------------------------------------------


@pytest.fixture
def suite():
    from harness.suite import get_suite

    return get_suite("arithmetic")


@pytest.fixture
def items(suite):
    return suite.items("test", limit=4)


def test_an_explicit_spec_always_wins(suite, items, monkeypatch, tmp_path):
    monkeypatch.setenv("HARNESS_ENGINE", "vllm")
    backend = default_engine_backend("hf:smollm2-135m", [(suite, items * 500)], GenerationParams(), {}, tmp_path / "c.sqlite")
    assert backend.name == "hf" and backend.engine_choice is None
    assert engine_record(backend) == {"engine": "hf", "chosen_by": "spec"}
    assert default_engine_backend("reference", [(suite, items)], GenerationParams(), {}).name == "reference"


def test_the_environment_override(suite, items, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("HARNESS_ENGINE", "hf")
    backend = default_engine_backend(None, [(suite, items * 500)], GenerationParams(), {}, tmp_path / "c.sqlite")
    assert backend.name == "hf" and backend.engine_choice.chosen_by == "environment"
    assert str(backend.spec) == "smollm2-135m"  # results keep the name the user wrote
    assert "harness: engine hf for smollm2-135m: HARNESS_ENGINE=hf" in capsys.readouterr().err
    monkeypatch.setenv("HARNESS_ENGINE", "tpu")
    with pytest.raises(HarnessError, match="HARNESS_ENGINE"):
        default_engine_backend(None, [(suite, items)], GenerationParams(), {})


def test_workload_decides_for_the_embedded_name(suite, items, monkeypatch, tmp_path):
    monkeypatch.delenv("HARNESS_ENGINE", raising=False)
    monkeypatch.setattr(engine_choice, "vllm_device", lambda: "cpu")
    monkeypatch.setattr(engine_choice, "CPU_COSTS", COSTS)
    params = GenerationParams(max_new_tokens=100)
    small = default_engine_backend("smollm2-135m", [(suite, items)], params, {}, tmp_path / "c.sqlite")
    big = default_engine_backend("smollm2-135m", [(suite, items * 50)], params.model_copy(update={"samples": 1}), {}, tmp_path / "c.sqlite")
    assert (small.name, big.name) == ("hf", "vllm")  # 4 vs 200 generations, crossover 134
    assert big.engine_choice.chosen_by == "workload" and "200 generations" in big.engine_choice.reason
    voting = default_engine_backend(None, [(suite, items * 10)], params.model_copy(update={"samples": 8}), {}, tmp_path / "c.sqlite")
    assert voting.name == "vllm"  # 40 items x 8 samples: generations, not items, count
    monkeypatch.setattr(engine_choice, "vllm_device", lambda: None)
    assert default_engine_backend(None, [(suite, items * 50)], params, {}, tmp_path / "c.sqlite").name == "hf"


def test_cached_answers_are_counted_per_engine(suite, items, monkeypatch, tmp_path):
    from harness.backends.base import load_backend
    from harness.cache import ResponseCache, sample_keys
    from harness.types import Generation

    monkeypatch.delenv("HARNESS_ENGINE", raising=False)
    monkeypatch.setattr(engine_choice, "vllm_device", lambda: "cpu")
    monkeypatch.setattr(engine_choice, "CPU_COSTS", COSTS)
    many = items * 50  # 200 generations: vllm when nothing is cached
    params = GenerationParams(max_new_tokens=100)
    fingerprint = load_backend("hf:smollm2-135m").fingerprint()
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        cache.put_many((k, Generation(text="1")) for item in items for k in sample_keys(fingerprint, item, params))
    assert default_engine_backend(None, [(suite, many)], params, {}, tmp_path / "c.sqlite").name == "hf"  # all on hf already
    assert default_engine_backend(None, [(suite, many)], params, {}, tmp_path / "c.sqlite", refresh=True).name == "vllm"
    assert default_engine_backend(None, [(suite, many)], params, {}, tmp_path / "c.sqlite", use_cache=False).name == "vllm"


def test_options_only_one_engine_takes_pick_that_engine(suite, items, monkeypatch, tmp_path):
    monkeypatch.delenv("HARNESS_ENGINE", raising=False)
    monkeypatch.setattr(engine_choice, "vllm_device", lambda: "cpu")
    monkeypatch.setattr(engine_choice, "CPU_COSTS", COSTS)
    backend = default_engine_backend(None, [(suite, items)], GenerationParams(), {"max_model_len": 2048}, tmp_path / "c.sqlite")
    assert backend.name == "vllm" and backend.engine_choice.chosen_by == "options"
    many = [(suite, items * 100)]  # far above the crossover, but --batch-size is an hf option
    backend = default_engine_backend(None, many, GenerationParams(), {"batch_size": 4}, tmp_path / "c.sqlite")
    assert backend.name == "hf" and "batch_size" in backend.engine_choice.reason
    with pytest.raises(HarnessError, match="not an option"):
        default_engine_backend(None, many, GenerationParams(), {"batch_size": 4, "max_model_len": 9}, tmp_path / "c.sqlite")


@pytest.mark.slow  # loads the embedded SmolLM2
def test_results_say_which_engine_and_why(monkeypatch, tmp_path):
    from harness.evaluate import EvalConfig, run_eval

    monkeypatch.setenv("HARNESS_ENGINE", "hf")
    config = EvalConfig(suites=["arithmetic"], limit=1, progress=False, use_cache=False,
                        generation=GenerationParams(max_new_tokens=2))
    run_eval(config, tmp_path / "out")
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved["model"]["backend"] == "hf" and saved["model"]["spec"] == "smollm2-135m"
    assert saved["extra"]["engine"] == {"engine": "hf", "chosen_by": "environment", "reason": "HARNESS_ENGINE=hf",
                                        "estimates_s": {}}
