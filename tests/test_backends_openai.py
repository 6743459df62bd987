"""openai: failure handling without a server, finish_reason against a minimal fake server
(the real server is in test_backends_vllm.py)."""

from __future__ import annotations

import socket

from harness.backends.base import load_backend
from harness.evaluate import EvalConfig, run_eval
from harness.suite import get_suite
from harness.types import GenerationParams


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


class FakeChatServer:
    """A minimal OpenAI-compatible /v1/chat/completions: 'The answer is 42.' for every choice;
    finish_reason "length" when the prompt contains `truncate_when`, "stop" otherwise. Each answer
    takes `delay` seconds; `max_in_flight` is the most requests it was answering at once."""

    def __init__(self, truncate_when: str = "never in a prompt", delay: float = 0.0):
        import json
        import threading
        import time
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        fake = self
        self.truncate_when = truncate_when
        self.in_flight = self.max_in_flight = 0
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                with lock:
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                time.sleep(delay)
                with lock:
                    fake.in_flight -= 1
                prompt = " ".join(m["content"] for m in body["messages"])
                reason = "length" if fake.truncate_when in prompt else "stop"
                choices = [{"index": i, "message": {"role": "assistant", "content": "The answer is 42."}, "finish_reason": reason,
                            "logprobs": None} for i in range(body.get("n") or 1)]
                data = json.dumps({"id": "c1", "object": "chat.completion", "created": 0, "model": body["model"], "choices": choices,
                                   "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


def test_finish_reason_length_is_recorded_per_choice(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    items = get_suite("arithmetic").items("test", variants=["canonical"], limit=4)
    server = FakeChatServer(truncate_when=items[2].messages[-1].content.split("\n\n")[-1])
    try:
        backend = load_backend(f"openai:{server.url}#m", max_retries=0, timeout=5, concurrency=2)
        config = EvalConfig(suites=["arithmetic"], variants=["canonical"], limit=4, progress=False, cache_path=tmp_path / "c.sqlite")
        results, records = run_eval(config, tmp_path / "out", backend=backend)
    finally:
        server.stop()
    assert [r.finish_reason for r in records] == ["stop", "stop", "length", "stop"]
    assert [r.truncated for r in records] == [False, False, True, False]
    assert results.capabilities["math"].truncated == 1 and results.capabilities["math"].truncation_rate == 0.25


def test_failed_requests_have_finish_reason_error(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    backend = load_backend(f"openai:http://127.0.0.1:{closed_port()}/v1#m", max_retries=0, timeout=2)
    gens = backend.generate(get_suite("arithmetic").items("test", limit=1), GenerationParams(), progress=False)
    assert gens[0][0].error and gens[0][0].finish_reason == "error"


def test_requests_in_flight_are_bounded_by_concurrency_and_usage_is_counted(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    items = get_suite("arithmetic").items("test", variants=["canonical"], limit=8)
    server = FakeChatServer(delay=0.3)
    try:
        backend = load_backend(f"openai:{server.url}#m", max_retries=0, timeout=5, concurrency=3)
        gens = backend.generate(items, GenerationParams(samples=2), progress=False)
    finally:
        server.stop()
    assert server.max_in_flight == 3  # parallel, but never more than --concurrency
    assert [len(g) for g in gens] == [2] * 8 and all(x.text == "The answer is 42." and x.error is None for g in gens for x in g)
    assert backend.usage() == {"requests": 8, "prompt_tokens": 40, "completion_tokens": 40, "failed_requests": 0}
