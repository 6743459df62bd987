"""openai: backend failure handling without a server (the real server is in test_backends_vllm.py)."""

from __future__ import annotations

import socket

from harness.backends.base import load_backend
from harness.evaluate import EvalConfig, run_eval


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens here once the socket closes


def test_unreachable_server_gives_recorded_failures_not_wrong_answers(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    backend = load_backend(f"openai:http://127.0.0.1:{closed_port()}/v1#m", max_retries=1, timeout=2, concurrency=2)
    config = EvalConfig(suites=["arithmetic"], limit=3, progress=False, cache_path=tmp_path / "c.sqlite")

    results, records = run_eval(config, tmp_path / "out", backend=backend)

    assert results.failures == 3 and results.capabilities == {}
    assert all(r.error and "Connection" in r.error and r.score == 0.0 for r in records)
    assert backend.usage()["failed_requests"] == 3
    assert results.extra["cache"]["failed"] == 3
