"""The engine probe (harness/models/engine_probe.py): the arithmetic from four timed calls, the cache key
(what the numbers depend on) and the per-machine store. The real measurement runs only in slow tests."""

from __future__ import annotations

import json

import pytest

from harness.models import engine_probe
from harness.models.cpu import CpuInfo
from harness.models.engine_probe import LONG, SHORT, Probe, ProbeStore, fit_probe, measured_probe, probe_key

EPYC = CpuInfo("AMD EPYC 7B12", frozenset({"avx2", "fma"}), cores=2)
VERSIONS = {"torch": "2.13.0", "transformers": "5.19.0", "vllm": "0.32.0"}


def timings(rows, start=0.0, step_1=0.05, step_rows=0.2, prefill=0.001, call=0.3, prompt=100):
    """What an engine with these costs would take for the probe's four calls."""
    def t(n, new, step):
        return call + n * prompt * prefill + new * step
    return {(1, SHORT): t(1, SHORT, step_1), (1, LONG): t(1, LONG, step_1),
            (rows, SHORT): t(rows, SHORT, step_rows), (rows, LONG): t(rows, LONG, step_rows)}


def test_four_timed_calls_give_step_times_prefill_and_call_overhead():
    probe = fit_probe("hf", "float32", 16, 4.2, timings(16), prompt_tokens=100)
    assert probe.step_s_1 == pytest.approx(0.05) and probe.step_s_rows == pytest.approx(0.2)
    assert probe.prefill_token_s == pytest.approx(0.001) and probe.call_s == pytest.approx(0.3)
    assert probe.start_s == 4.2 and probe.rows == 16
    assert probe.tokens_per_s(16) == pytest.approx(80) and probe.tokens_per_s(1) == pytest.approx(20)


def test_long_prompt_runs_give_the_context_term():
    """An engine whose step slows by 1e-5 s per row per token of context: the long-prompt runs recover it,
    and a batch decoding deep into its answers is estimated slower than the short probe alone says."""
    per_token, long_prompt = 1e-5, 500
    base = timings(16)
    context_short = 100 + (SHORT + LONG) / 2
    step_long = 0.2 + 16 * per_token * (long_prompt - 100)  # the R-row step at the long prompt

    def t(new):
        return 0.3 + 16 * long_prompt * 0.001 + new * step_long

    probe = fit_probe("hf", "float32", 16, 4.2, base, 100, long_timings={SHORT: t(SHORT), LONG: t(LONG)},
                      long_prompt_tokens=long_prompt)
    assert probe.context == pytest.approx(context_short)
    assert probe.context_token_s == pytest.approx(per_token)
    assert probe.step_s(16, context_short) == pytest.approx(0.2)
    assert probe.step_s(16, context_short + 300) == pytest.approx(0.2 + 16 * per_token * 300)
    assert probe.step_s(16) == pytest.approx(0.2)  # no context given: the short probe's step
    flat = fit_probe("hf", "float32", 16, 4.2, base, 100)
    assert flat.context_token_s == 0.0 and flat.step_s(16, 900) == pytest.approx(0.2)


def test_noise_never_makes_a_cost_negative():
    noisy = timings(16)
    noisy[(16, LONG)] = noisy[(16, SHORT)] - 1  # the long call came back faster than the short one
    noisy[(1, SHORT)] = 0.0
    probe = fit_probe("vllm", "bfloat16", 16, 50.0, noisy, prompt_tokens=100)
    assert probe.step_s_rows >= probe.step_s_1 > 0 and probe.prefill_token_s >= 0 and probe.call_s >= 0


def test_a_probe_round_trips_through_its_dict():
    probe = fit_probe("hf", "float32", 16, 4.2, timings(16), 100, measured_at="2026-12-07T06:00:00+00:00", load=1.5)
    assert probe.load == 1.5 and Probe.from_dict(json.loads(json.dumps(probe.as_dict()))) == probe


def test_the_key_changes_with_everything_the_speed_depends_on(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    base = probe_key(EPYC, VERSIONS, "vllm", "float32", "/m#abc")
    assert base == probe_key(CpuInfo("AMD EPYC 7B12", frozenset({"fma", "avx2"}), 2), dict(VERSIONS), "vllm", "float32", "/m#abc")
    others = [
        probe_key(CpuInfo("AMD EPYC 9B14", EPYC.flags, 2), VERSIONS, "vllm", "float32", "/m#abc"),  # another processor
        probe_key(CpuInfo(EPYC.model, EPYC.flags | {"avx512_bf16"}, 2), VERSIONS, "vllm", "float32", "/m#abc"),  # flags
        probe_key(CpuInfo(EPYC.model, EPYC.flags, 4), VERSIONS, "vllm", "float32", "/m#abc"),  # cores it may use
        probe_key(EPYC, {**VERSIONS, "vllm": "0.33.0"}, "vllm", "float32", "/m#abc"),  # a library upgrade
        probe_key(EPYC, VERSIONS, "hf", "float32", "/m#abc"),  # the engine
        probe_key(EPYC, VERSIONS, "vllm", "bfloat16", "/m#abc"),  # its dtype
        probe_key(EPYC, VERSIONS, "vllm", "float32", "/m#def"),  # other weights
    ]
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # fewer threads than cores (a test worker, a pinned job)
    others.append(probe_key(EPYC, VERSIONS, "vllm", "float32", "/m#abc"))
    assert len({base, *others}) == len(others) + 1


def test_library_versions_are_the_installed_ones():
    versions = engine_probe.library_versions()
    assert set(versions) == {"torch", "transformers", "vllm"} and versions["torch"] and versions["transformers"]


class FakeBackend:
    name = "hf"
    dtype = "float32"
    checkpoint = "HuggingFaceTB/SmolLM2-135M-Instruct"  # a hub name: keyed by the name


def test_measured_once_per_machine_then_read_from_the_store(tmp_path, monkeypatch):
    measured = []

    def fake_measure(backend):
        measured.append(backend.dtype)
        return fit_probe("hf", backend.dtype, 16, 3.0 + len(measured), timings(16), 100)

    monkeypatch.setitem(engine_probe.MEASURE, "hf", fake_measure)
    monkeypatch.setattr(engine_probe, "detect", lambda: EPYC)
    store = ProbeStore(tmp_path / "probes.json")
    backend = FakeBackend()
    assert engine_probe.cached_probe(backend, store) is None
    first = measured_probe(backend, store)
    assert measured_probe(backend, store) == first and measured == ["float32"]  # the second run reads the store
    assert ProbeStore(tmp_path / "probes.json").get(engine_probe.backend_key(backend)) == first  # another process
    saved = json.loads((tmp_path / "probes.json").read_text())
    [entry] = saved.values()
    assert entry["cpu"] == "AMD EPYC 7B12" and entry["cores"] == 2 and entry["libraries"]["torch"]
    backend.dtype = "bfloat16"  # another dtype: measured on its own, the first kept
    measured_probe(backend, store)
    assert measured == ["float32", "bfloat16"] and len(json.loads((tmp_path / "probes.json").read_text())) == 2
    again = measured_probe(backend, store, again=True)  # harness doctor --probe
    assert measured == ["float32", "bfloat16", "bfloat16"] and again.start_s == 6.0
    monkeypatch.setattr(engine_probe, "detect", lambda: CpuInfo(EPYC.model, EPYC.flags, 8))
    assert engine_probe.cached_probe(backend, store) is None  # more cores: not this machine's numbers


def test_a_damaged_store_reads_as_empty(tmp_path):
    path = tmp_path / "probes.json"
    path.write_text("{not json")
    assert ProbeStore(path).get("k") is None
    path.write_text(json.dumps({"k": {"probe": {"engine": "hf"}}}))  # missing fields
    assert ProbeStore(path).get("k") is None


@pytest.mark.slow  # the real probe (on the tiny model: seconds)
def test_the_hf_probe_measures_a_real_model(tiny_model_dir):
    from harness.backends.base import load_backend

    backend = load_backend(f"hf:{tiny_model_dir}", device="cpu", dtype="float32")
    probe = engine_probe.measure_hf(backend)
    assert probe.engine == "hf" and probe.dtype == "float32" and probe.rows == engine_probe.ROWS["hf"]
    assert probe.start_s > 0 and 0 < probe.step_s_1 <= probe.step_s_rows < 5
    assert backend._model is not None  # loaded by the probe, kept for the run


def test_doctor_shows_the_cpu_each_engines_dtype_and_its_measured_speed(monkeypatch, embedded_model_dir):
    from harness.commands import doctor
    from harness.models import vllm_cpu
    from test_cpu import EPYC_AVX2, SAPPHIRE_RAPIDS, cpu

    monkeypatch.setattr("harness.models.cpu.detect", lambda: cpu(SAPPHIRE_RAPIDS, cores=8))
    monkeypatch.setattr(vllm_cpu, "vllm_device", lambda: "cpu")
    monkeypatch.setattr("harness.backends.vllm_backend.vllm_device", lambda: "cpu")
    hf = fit_probe("hf", "bfloat16", 16, 3.0, timings(16), 100, measured_at="2026-12-07T06:00:00+00:00", load=0.4)
    monkeypatch.setattr(engine_probe, "cached_probe", lambda backend: hf if backend.name == "hf" else None)
    facts = doctor.engine_facts()
    assert facts["cpu"].startswith("Intel(R) Xeon(R) Platinum 8481C") and facts["cpu_cores"] == 8
    assert "avx512_bf16" in facts["cpu_flags"] and "amx_bf16" in facts["cpu_flags"] and facts["cpu_native_bfloat16"] == "yes"
    assert facts["engine_hf"] == ("dtype bfloat16; 80 tok/s at 16 rows, 20 tok/s at 1 row, 3 s start "
                                  "(bfloat16, measured 2026-12-07T06:00:00+00:00 at load 0.4)")
    assert facts["engine_vllm"].startswith("dtype bfloat16; not measured yet")

    monkeypatch.setattr("harness.models.cpu.detect", lambda: cpu(EPYC_AVX2))
    monkeypatch.setattr(vllm_cpu, "vllm_device", lambda: None)
    facts = doctor.engine_facts()
    assert facts["engine_hf"].startswith("dtype float32") and facts["engine_vllm"] is None
    assert facts["cpu_native_bfloat16"].startswith("no")
