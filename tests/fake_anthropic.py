"""A local fake of the Anthropic API (Messages + Message Batches) with fault injection.

Reached through the real `anthropic` SDK (base_url = server.url), so the SDK's own retry,
timeout and parsing paths are what gets exercised. Answers come from `responder(body)`;
faults are planned per prompt: `plan(match, ["429", "529", ...])` makes the next requests
whose user text contains `match` fail in that order, one fault per request, then succeed.

Faults: "429" (rate limited, with retry-after: `retry_after` seconds), "529" (overloaded),
"500", "slow" (sleeps `slow_seconds`, past the client's timeout, then answers), "malformed"
(200 with a body that is not JSON), and in batches "errored"/"expired" results.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def user_text(body: dict[str, Any]) -> str:
    parts = []
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        else:
            parts.extend(block.get("text", "") for block in content or [])
    return "\n".join(parts)


def default_responder(body: dict[str, Any]) -> str:
    return "The answer is 42."


@dataclass
class Seen:
    path: str
    body: dict[str, Any] | None
    headers: dict[str, str]
    at: float
    fault: str | None


@dataclass
class Batch:
    id: str
    requests: list[dict[str, Any]]
    created: datetime
    polls: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)


class FakeAnthropic:
    def __init__(self) -> None:
        self.responder: Callable[[dict[str, Any]], str] = default_responder
        self.thinking_text = "Let me think step by step."
        self.retry_after = 1.0
        self.slow_seconds = 3.0
        self.polls_until_ended = 2  # batch retrievals answered "in_progress" before "ended"
        self.batch_faults: dict[str, str] = {}  # substring of user text -> "errored" | "expired" | "missing"
        self.stop_reasons: dict[str, str] = {}  # substring of user text -> stop_reason (default "end_turn")
        self.seen: list[Seen] = []
        self.batches: dict[str, Batch] = {}
        self._faults: dict[str, deque[str]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "FakeAnthropic":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def plan(self, match: str, faults: list[str]) -> None:
        with self._lock:
            self._faults.setdefault(match, deque()).extend(faults)

    def messages_seen(self, match: str = "") -> list[Seen]:
        return [s for s in self.seen if s.path == "/v1/messages" and s.body is not None and match in user_text(s.body)]

    # --- answers ----------------------------------------------------------------------
    def _next_fault(self, body: dict[str, Any]) -> str | None:
        text = user_text(body)
        with self._lock:
            for match, queue in self._faults.items():
                if match in text and queue:
                    return queue.popleft()
        return None

    def message(self, body: dict[str, Any]) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        if body.get("thinking", {}).get("type") == "enabled":
            content.append({"type": "thinking", "thinking": self.thinking_text, "signature": "sig"})
        text = self.responder(body)
        content.append({"type": "text", "text": text})
        system = body.get("system")
        cached = isinstance(system, list) and any("cache_control" in block for block in system)
        system_tokens = sum(len(block.get("text", "").split()) for block in system) if isinstance(system, list) else 0
        first_use = cached and not any(s.body and s.body.get("system") == system for s in self.seen[:-1])
        return {
            "id": f"msg_{uuid.uuid4().hex[:12]}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "claude-fake"),
            "content": content,
            "stop_reason": next((r for m, r in self.stop_reasons.items() if m in user_text(body)), "end_turn"),
            "stop_sequence": None,
            "usage": {
                "input_tokens": len(user_text(body).split()) + (0 if cached else system_tokens),
                "output_tokens": len(text.split()),
                "cache_creation_input_tokens": system_tokens if cached and first_use else 0,
                "cache_read_input_tokens": system_tokens if cached and not first_use else 0,
            },
        }

    def _batch_json(self, batch: Batch, ended: bool) -> dict[str, Any]:
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if ended:
            for result in batch.results:
                counts[result["result"]["type"]] += 1
        else:
            counts["processing"] = len(batch.requests)
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": "ended" if ended else "in_progress",
            "request_counts": counts,
            "created_at": batch.created.isoformat(),
            "expires_at": (batch.created + timedelta(days=1)).isoformat(),
            "ended_at": datetime.now(timezone.utc).isoformat() if ended else None,
            "cancel_initiated_at": None,
            "archived_at": None,
            "results_url": f"{self.url}/v1/messages/batches/{batch.id}/results" if ended else None,
        }

    def _run_batch(self, batch: Batch) -> None:
        for request in batch.requests:
            text = user_text(request["params"])
            fault = next((f for m, f in self.batch_faults.items() if m in text), None)
            if fault == "missing":
                continue
            if fault == "errored":
                result = {"type": "errored", "error": {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}}
            elif fault == "expired":
                result = {"type": "expired"}
            else:
                result = {"type": "succeeded", "message": self.message(request["params"])}
            batch.results.append({"custom_id": request["custom_id"], "result": result})

    # --- HTTP ---------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None, raw: bytes | None = None) -> None:
                data = raw if raw is not None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): that is the point of "slow"

            def _error(self, status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> None:
                self._send(status, {"type": "error", "error": {"type": kind, "message": message}}, headers)

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                path = self.path.split("?")[0]
                if path == "/v1/messages":
                    fault = fake._next_fault(body)
                    fake.seen.append(Seen(path, body, dict(self.headers), time.monotonic(), fault))
                    if fault == "429":
                        return self._error(429, "rate_limit_error", "Rate limited", {"retry-after": str(fake.retry_after)})
                    if fault == "529":
                        return self._error(529, "overloaded_error", "Overloaded")
                    if fault == "500":
                        return self._error(500, "api_error", "Internal server error")
                    if fault == "malformed":
                        return self._send(200, None, raw=b'{"id": "msg_x", "content": [trunc')
                    if fault == "slow":
                        time.sleep(fake.slow_seconds)
                    return self._send(200, fake.message(body))
                if path == "/v1/messages/batches":
                    fake.seen.append(Seen(path, body, dict(self.headers), time.monotonic(), None))
                    batch = Batch(f"msgbatch_{uuid.uuid4().hex[:12]}", body["requests"], datetime.now(timezone.utc))
                    fake._run_batch(batch)
                    fake.batches[batch.id] = batch
                    return self._send(200, fake._batch_json(batch, ended=False))
                self._error(404, "not_found_error", f"no route {path}")

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                fake.seen.append(Seen(path, None, dict(self.headers), time.monotonic(), None))
                parts = path.strip("/").split("/")
                if len(parts) >= 4 and parts[:3] == ["v1", "messages", "batches"] and parts[3] in fake.batches:
                    batch = fake.batches[parts[3]]
                    if len(parts) == 5 and parts[4] == "results":
                        lines = "".join(json.dumps(r) + "\n" for r in batch.results).encode()
                        return self._send(200, None, raw=lines)
                    batch.polls += 1
                    return self._send(200, fake._batch_json(batch, ended=batch.polls > fake.polls_until_ended))
                self._error(404, "not_found_error", f"no route {path}")

        return Handler


if __name__ == "__main__":  # run standalone: python tests/fake_anthropic.py
    server = FakeAnthropic().start()
    print(f"fake Anthropic API at {server.url} (set ANTHROPIC_BASE_URL)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()
