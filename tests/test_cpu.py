"""CPU capabilities and the dtype each engine uses on them (harness/models/cpu.py), on made-up processors;
the dtype reaches the engines, the cache key and results.json."""

from __future__ import annotations

import json

import pytest

from harness.errors import HarnessError
from harness.models.cpu import CpuInfo, cpu_dtype, detect, parse_cpuinfo, resolve_dtype

# Trimmed /proc/cpuinfo of three processors (two logical CPUs each where it matters).
EPYC_AVX2 = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B12
flags\t\t: fpu vme sse sse2 ssse3 sse4_1 sse4_2 avx f16c fma avx2 bmi2

processor\t: 1
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B12
flags\t\t: fpu vme sse sse2 ssse3 sse4_1 sse4_2 avx f16c fma avx2 bmi2
"""
SAPPHIRE_RAPIDS = """processor\t: 0
model name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
flags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw avx512_vnni avx512_bf16 avx512_fp16 amx_bf16 amx_tile amx_int8
"""
GRAVITON3 = """processor\t: 0
BogoMIPS\t: 2100.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm sve i8mm bf16
CPU implementer\t: 0x41
"""
AMX_ONLY = "model name\t: made-up\nflags\t\t: avx2 amx_tile amx_bf16\n"


def cpu(text: str, cores: int = 2) -> CpuInfo:
    model, flags = parse_cpuinfo(text)
    return CpuInfo(model=model, flags=flags, cores=cores)


def test_flags_and_model_of_the_first_processor():
    model, flags = parse_cpuinfo(EPYC_AVX2)
    assert model == "AMD EPYC 7B12"
    assert {"avx2", "fma"} <= flags and "avx512f" not in flags
    model, flags = parse_cpuinfo(GRAVITON3)  # Arm: no model name line, flags are "Features"
    assert model == "" and {"sve", "bf16", "asimd"} <= flags
    assert parse_cpuinfo("") == ("", frozenset())


@pytest.mark.parametrize(("text", "native", "dtype"), [
    (EPYC_AVX2, False, "float32"),  # AVX2 only: bfloat16 would be emulated (20 vs 73 tok/s on vLLM)
    (SAPPHIRE_RAPIDS, True, "bfloat16"),  # AVX-512 BF16 and AMX
    (AMX_ONLY, True, "bfloat16"),
    (GRAVITON3, True, "bfloat16"),  # Arm BF16 extension
])
def test_bfloat16_only_where_the_processor_computes_in_it(text, native, dtype):
    info = cpu(text)
    assert info.native_bf16 is native
    assert cpu_dtype(info) == dtype == resolve_dtype("auto", on_cpu=True, cpu=info)


def test_an_explicit_dtype_wins_and_a_gpu_keeps_auto():
    avx2 = cpu(EPYC_AVX2)
    assert resolve_dtype("bfloat16", on_cpu=True, cpu=avx2) == "bfloat16"  # the user asked: honoured even if slow
    assert resolve_dtype("FLOAT32", on_cpu=True, cpu=cpu(SAPPHIRE_RAPIDS)) == "float32"
    assert resolve_dtype("auto", on_cpu=False, cpu=avx2) == "auto"  # a GPU: the engine's own rule
    assert resolve_dtype(None, on_cpu=True, cpu=avx2) == "float32"
    with pytest.raises(HarnessError, match="unknown dtype 'fp8'"):
        resolve_dtype("fp8", on_cpu=True, cpu=avx2)


def test_shown_flags_are_the_engines_extensions_in_order():
    assert cpu(SAPPHIRE_RAPIDS).shown_flags() == ["avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16",
                                                  "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8"]
    assert cpu(EPYC_AVX2).shown_flags() == ["avx2", "fma"]


def test_absent_flags_name_what_an_avx2_only_machine_lacks():
    assert cpu(EPYC_AVX2).absent_flags() == ["avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile",
                                             "amx_bf16", "amx_int8", "amx_fp16"]
    assert "amx_bf16" not in cpu(SAPPHIRE_RAPIDS).absent_flags() and "asimd" not in cpu(SAPPHIRE_RAPIDS).absent_flags()


def test_this_machine_is_read_from_proc_cpuinfo(tmp_path):
    here = detect()
    assert here.cores >= 1 and here.model
    fake = tmp_path / "cpuinfo"
    fake.write_text(EPYC_AVX2)
    read = detect.__wrapped__(fake)
    assert (read.model, read.native_bf16, "avx2" in read.flags) == ("AMD EPYC 7B12", False, True)
    assert detect.__wrapped__(tmp_path / "missing").flags == frozenset()  # no /proc/cpuinfo (macOS): no flags


def test_backends_resolve_auto_by_the_processor_and_key_the_cache_on_it(tiny_model_dir, monkeypatch):
    from harness.backends import hf, vllm_backend
    from harness.backends.base import load_backend

    for machine, expected in ((EPYC_AVX2, "float32"), (SAPPHIRE_RAPIDS, "bfloat16")):
        monkeypatch.setattr("harness.models.cpu.detect", lambda m=machine: cpu(m))
        backend = load_backend(f"hf:{tiny_model_dir}", device="cpu")
        assert backend.dtype == expected and backend.fingerprint()["dtype"] == expected
        monkeypatch.setattr(vllm_backend, "vllm_device", lambda: "cpu")
        engine = load_backend(f"vllm:{tiny_model_dir}")
        assert engine.dtype == expected and engine.resolved_engine_args()["dtype"] == expected
        assert engine.fingerprint()["dtype"] == expected
    pinned = load_backend(f"hf:{tiny_model_dir}", device="cpu", dtype="float32")
    assert pinned.dtype == "float32" and pinned.fingerprint() != backend.fingerprint()  # other answers, other keys
    monkeypatch.setattr(hf, "gpu_present", lambda: True)
    assert load_backend(f"hf:{tiny_model_dir}").dtype == "auto"  # would run on the GPU: transformers' own rule


def test_results_record_the_dtype_the_model_ran_in(tiny_model_dir, tmp_path, monkeypatch):
    from harness.evaluate import EvalConfig, run_eval
    from harness.types import GenerationParams

    monkeypatch.setattr("harness.models.cpu.detect", lambda: cpu(SAPPHIRE_RAPIDS))
    config = EvalConfig(model=f"hf:{tiny_model_dir}", suites=["arithmetic"], limit=2, progress=False, use_cache=False,
                        generation=GenerationParams(max_new_tokens=2), backend_options={"device": "cpu"})
    results, _ = run_eval(config, tmp_path)
    assert results.model.dtype == "bfloat16"  # read from the loaded model, not from the option
    assert json.loads((tmp_path / "results.json").read_text())["model"]["dtype"] == "bfloat16"
    reference, _ = run_eval(EvalConfig(model="reference", suites=["arithmetic"], limit=1, progress=False))
    assert reference.model.dtype is None  # not a local model


def test_cli_takes_dtype_for_hf_and_vllm(cli):
    help_text = cli("eval", "--help").stdout
    assert "--dtype {auto,float32,bfloat16,float16}" in help_text and "AVX-512 BF16" in help_text
    from harness.backends.hf import HFOptions
    from harness.backends.options import check_spec_options
    from harness.backends.vllm_backend import VLLMOptions

    assert {"dtype"} <= HFOptions.__dataclass_fields__.keys() & VLLMOptions.__dataclass_fields__.keys()
    check_spec_options(None, {"dtype": "float32"})  # the embedded default takes it on either engine
