"""The embedded default's engine: hf or vllm per workload; explicit specs and HARNESS_ENGINE win."""

from __future__ import annotations

import json

import pytest

from harness.errors import HarnessError
from harness.models import engine_choice
from harness.models.engine_choice import (
    LOOP_SHARE,
    SHORT_SHARE,
    Workload,
    choose_engine,
    default_engine_backend,
    engine_record,
    estimate_hf,
    estimate_vllm,
    expected_steps,
    hf_batches,
    vllm_floor_s,
)
from harness.models.engine_probe import Probe
from harness.types import GenerationParams

# Made-up probes: hf loads in 5 s and decodes 16 rows at 0.1 s a step; vLLM starts in 50 s and decodes
# 32 rows at 0.05 s a step (0.02 s at one row). Prefill 1 ms a token, no call overhead.
HF = Probe("hf", "float32", 16, start_s=5.0, step_s_1=0.06, step_s_rows=0.1, prefill_token_s=0.001)
VLLM = Probe("vllm", "float32", 32, start_s=50.0, step_s_1=0.02, step_s_rows=0.05, prefill_token_s=0.001)
PROBES = {"hf": HF, "vllm": VLLM}


def work(n: int, budget: int = 256, **kw) -> Workload:
    return Workload({"hf": [budget] * n, "vllm": [budget] * n}, prompt_tokens=100, **kw)


def test_a_probes_step_time_is_the_line_through_its_two_points():
    assert HF.step_s(1) == pytest.approx(0.06) and HF.step_s(16) == pytest.approx(0.1)
    assert HF.step_s(31) == pytest.approx(0.14)  # extrapolated
    assert HF.step_s(0) == HF.step_s(1)
    assert HF.tokens_per_s(16) == pytest.approx(160)


def test_a_batch_runs_to_its_budget_unless_no_row_loops():
    assert expected_steps(256, 1) == pytest.approx(256 * (LOOP_SHARE + (1 - LOOP_SHARE) * SHORT_SHARE))
    assert expected_steps(256, 16) > expected_steps(256, 4) > expected_steps(256, 1)
    assert expected_steps(256, 64) == pytest.approx(256, rel=1e-6)


def test_hf_runs_batches_longest_budget_first_each_to_its_largest_budget():
    assert hf_batches([256] * 20 + [384] * 3, 16) == [(384, 16), (256, 7)]
    assert hf_batches([256] * 32, 16) == [(256, 16), (256, 16)]
    assert hf_batches([], 16) == []


def test_hf_estimate_is_start_plus_each_batch():
    w = work(32)  # two batches of 16 rows at 256 tokens
    batch = 100 * 16 * 0.001 + expected_steps(256, 16) * 0.1
    assert estimate_hf(HF, w) == pytest.approx(5.0 + 2 * batch)
    assert estimate_hf(HF, Workload({"hf": []})) == 0.0  # nothing to generate: never loaded
    sampled = estimate_hf(HF, work(16, samples=4, sampling=True))  # 64 rows in one batch
    greedy = estimate_hf(HF, work(16, samples=4))  # greedy samples are copies: 16 rows
    assert sampled > greedy == pytest.approx(estimate_hf(HF, work(16)))


def test_hf_estimate_counts_the_context_each_batch_decodes_at():
    """A probe with a context term: a batch's steps are priced at its mean context (prompt + half its steps),
    so a long budget costs more per step than the probe's short runs measured."""
    deep = Probe("hf", "float32", 16, start_s=5.0, step_s_1=0.06, step_s_rows=0.1, prefill_token_s=0.001,
                 context=110.0, context_token_s=1e-5)
    w = work(16)
    steps = expected_steps(256, 16)
    step = 0.1 + (100 + steps / 2 - 110.0) * 16 * 1e-5
    assert estimate_hf(deep, w) == pytest.approx(5.0 + 100 * 16 * 0.001 + steps * step)
    assert estimate_hf(deep, w) > estimate_hf(HF, w)


def test_vllm_estimate_is_start_plus_the_expected_tokens_at_full_batch_but_not_less_than_the_tail():
    w = work(64)
    rows = 64
    tokens = 64 * 256 * (LOOP_SHARE + (1 - LOOP_SHARE) * SHORT_SHARE)
    decode = max(tokens / rows * VLLM.step_s(rows), 256 * VLLM.step_s(LOOP_SHARE * 64))
    assert estimate_vllm(VLLM, w) == pytest.approx(50.0 + 64 * 100 * 0.001 + decode)
    one = estimate_vllm(VLLM, work(1))  # a single looping answer: its whole budget, one row
    assert one == pytest.approx(50.0 + 0.1 + 256 * VLLM.step_s(1))
    # vLLM refills its batch from any budget: a few long rungs do not hold the many short items' batch
    mixed = Workload({"vllm": [256] * 60 + [896] * 4}, prompt_tokens=100)
    assert estimate_vllm(VLLM, mixed) < estimate_vllm(VLLM, Workload({"vllm": [896] * 64}, prompt_tokens=100))


def test_the_faster_estimate_wins_and_the_reason_names_the_numbers():
    small, big = choose_engine(work(8), PROBES), choose_engine(work(400), PROBES)
    assert (small.engine, big.engine) == ("hf", "vllm")
    assert big.estimates_s["vllm"] < big.estimates_s["hf"] and big.chosen_by == "workload"
    assert "400 items at 256 tokens" in big.reason and "measured on this machine" in big.reason
    assert "float32, 50 s start" in big.reason
    assert big.as_dict()["measured"]["vllm"]["dtype"] == "float32"
    slow = {"hf": HF, "vllm": Probe("vllm", "bfloat16", 32, 50.0, 0.5, 0.9, 0.001)}  # bf16 emulated: slower
    assert choose_engine(work(400), slow).engine == "hf"


def test_a_faster_processor_moves_the_choice():
    quick_vllm = Probe("vllm", "bfloat16", 32, start_s=30.0, step_s_1=0.01, step_s_rows=0.02, prefill_token_s=0.0002)
    n = next(n for n in range(1, 400) if choose_engine(work(n), {"hf": HF, "vllm": quick_vllm}).engine == "vllm")
    m = next(n for n in range(1, 400) if choose_engine(work(n), PROBES).engine == "vllm")
    assert n < m  # a cheaper vLLM wins at a smaller workload


def test_vllm_is_probed_only_when_it_could_win():
    floor = vllm_floor_s(HF, work(4))
    assert floor >= engine_choice.VLLM_START_FLOOR_S
    choice = choose_engine(work(4), {"hf": HF, "vllm": None})
    assert choice.engine == "hf" and "vllm not probed" in choice.reason and estimate_hf(HF, work(4)) < floor
    assert estimate_hf(HF, work(400)) > vllm_floor_s(HF, work(400))  # big: worth an engine start to measure


def test_without_a_usable_vllm_it_is_hf():
    choice = choose_engine(work(100_000, vllm_device=None), PROBES)
    assert choice.engine == "hf" and "not installed" in choice.reason
    assert choose_engine(work(100_000, hf_device="cuda"), PROBES).engine == "hf"


def test_cached_answers_mean_no_engine_start_and_no_probe():
    # vllm holds every answer: nothing to generate there, so even a small workload stays on vllm
    assert choose_engine(Workload({"hf": [256] * 5, "vllm": []}), {}).engine == "vllm"
    # and a big workload whose hf answers are all cached is not re-generated on vllm
    assert choose_engine(Workload({"hf": [], "vllm": [256] * 5000}), {}).engine == "hf"
    assert "cache" in choose_engine(Workload({"hf": [], "vllm": []}), {}).reason


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


@pytest.fixture
def probed(monkeypatch):
    """The made-up probes in place of this machine's (no real probe runs); records what was measured."""
    asked: list[tuple[str, bool]] = []

    def fake_probe(backend, measure):
        asked.append((backend.name, measure))
        return HF if backend.name == "hf" else (VLLM if measure else None)

    monkeypatch.delenv("HARNESS_ENGINE", raising=False)
    monkeypatch.setattr(engine_choice, "vllm_device", lambda: "cpu")
    monkeypatch.setattr(engine_choice, "engine_probe", fake_probe)
    return asked


def test_workload_decides_for_the_embedded_name(suite, items, probed, monkeypatch, tmp_path):
    params = GenerationParams(max_new_tokens=100)
    small = default_engine_backend("smollm2-135m", [(suite, items)], params, {}, tmp_path / "c.sqlite")
    assert small.name == "hf" and ("vllm", True) not in probed  # 4 items: vLLM could not win, no engine started
    big = default_engine_backend("smollm2-135m", [(suite, items * 50)], params, {}, tmp_path / "c.sqlite")
    assert big.name == "vllm" and ("vllm", True) in probed  # 200 items: worth measuring, and vLLM wins
    assert big.engine_choice.chosen_by == "workload" and "200 items at 100 tokens" in big.engine_choice.reason
    record = engine_record(big)
    assert record["measured"] == {"hf": {"dtype": "float32", "start_s": 5.0, "tokens_per_s": 160.0},
                                  "vllm": {"dtype": "float32", "start_s": 50.0, "tokens_per_s": round(VLLM.tokens_per_s(200), 1)}}
    assert set(record["estimates_s"]) == {"hf", "vllm"}
    voting = default_engine_backend(None, [(suite, items * 10)], params.model_copy(update={"samples": 8, "temperature": 0.7}),
                                    {}, tmp_path / "c.sqlite")
    assert voting.name == "vllm"  # 40 items x 8 distinct samples: hf decodes 128-row batches
    monkeypatch.setattr(engine_choice, "vllm_device", lambda: None)
    probed.clear()
    assert default_engine_backend(None, [(suite, items * 50)], params, {}, tmp_path / "c.sqlite").name == "hf"
    assert probed == []  # nothing to choose between: nothing measured


def test_the_workload_holds_each_items_budget_and_prompt_length(suite, items, probed, monkeypatch, tmp_path):
    from harness.suite import get_suite

    seen = {}
    monkeypatch.setattr(engine_choice, "choose_engine", lambda w, probes: seen.setdefault("w", w) and
                        engine_choice.EngineChoice("hf", "test"))
    math = get_suite("math", size=4)
    math_items = math.items("test")
    default_engine_backend(None, [(suite, items), (math, math_items)], GenerationParams(), {}, tmp_path / "c.sqlite")
    workload = seen["w"]
    assert workload.pending["hf"] == workload.pending["vllm"] == [256] * len(items) + [math.token_budget(it) for it in math_items]
    assert 50 < workload.prompt_tokens < 400 and workload.hf_batch == 16 and workload.vllm_device == "cpu"


def test_cached_answers_are_counted_per_engine(suite, items, probed, tmp_path):
    from harness.backends.base import load_backend
    from harness.cache import ResponseCache, sample_keys
    from harness.types import Generation

    many = items * 50  # 200 items: vllm when nothing is cached
    params = GenerationParams(max_new_tokens=100)
    fingerprint = load_backend("hf:smollm2-135m").fingerprint()
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        cache.put_many((k, Generation(text="1")) for item in items for k in sample_keys(fingerprint, item, params))
    assert default_engine_backend(None, [(suite, many)], params, {}, tmp_path / "c.sqlite").name == "hf"  # all on hf already
    assert probed == []  # served from the cache: no probe
    assert default_engine_backend(None, [(suite, many)], params, {}, tmp_path / "c.sqlite", refresh=True).name == "vllm"
    assert default_engine_backend(None, [(suite, many)], params, {}, tmp_path / "c.sqlite", use_cache=False).name == "vllm"


def test_options_only_one_engine_takes_pick_that_engine(suite, items, probed, tmp_path):
    backend = default_engine_backend(None, [(suite, items)], GenerationParams(), {"max_model_len": 2048}, tmp_path / "c.sqlite")
    assert backend.name == "vllm" and backend.engine_choice.chosen_by == "options"
    many = [(suite, items * 100)]  # far above the crossover, but --batch-size is an hf option
    backend = default_engine_backend(None, many, GenerationParams(), {"batch_size": 4}, tmp_path / "c.sqlite")
    assert backend.name == "hf" and "batch_size" in backend.engine_choice.reason
    with pytest.raises(HarnessError, match="not an option"):
        default_engine_backend(None, many, GenerationParams(), {"batch_size": 4, "max_model_len": 9}, tmp_path / "c.sqlite")
    assert probed == []


def test_a_vllm_that_cannot_start_leaves_hf(suite, items, probed, monkeypatch, tmp_path, capsys):
    def broken(backend, measure):
        if backend.name == "vllm" and measure:
            raise HarnessError("vLLM could not start smollm2-135m: out of memory")
        return HF if backend.name == "hf" else None

    monkeypatch.setattr(engine_choice, "engine_probe", broken)
    backend = default_engine_backend(None, [(suite, items * 100)], GenerationParams(), {}, tmp_path / "c.sqlite")
    assert backend.name == "hf" and "vllm not probed" in backend.engine_choice.reason
    assert "vllm could not be measured: vLLM could not start" in capsys.readouterr().err


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
