"""The fast path: one pre-started sandboxed interpreter (zygote.py) per worker, one fork per program.

Starting bubblewrap, setpriv and a Python interpreter costs ~17 ms of CPU per program; a zygote
pays it once and forks each program inside the same namespaces (see zygote.py for what each
child gets on its own). Results travel exactly as on the per-program path: the harness creates
the stdin/stdout/stderr/result files, passes their descriptors, and parses and judges the
result file itself, so the expected values never enter the sandbox.

A zygote that dies, stops answering or answers nonsense is killed and replaced; the program it
was running fails, with the reason in ProgramResult.sandbox_error. A zygote found dead before a
program was handed to it costs nothing: the program goes to a fresh one.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import signal
import socket
import subprocess
import tempfile
import threading
import time
from concurrent.futures import Future
from pathlib import Path

from harness.sandbox import isolation as iso_mod
from harness.sandbox.limits import Limits
from harness.sandbox.program import (
    MAX_RESULT_BYTES, RUNNER_SOURCE, SLOTS, CallOutcome, Job, ProgramResult, default_workers, kill_uid, parse_results,
    payload_bytes, read_capped,
)

ZYGOTE_SOURCE = Path(__file__).with_name("zygote.py").read_text()
START_TIMEOUT = 20.0
REPLY_GRACE = 5.0  # beyond the wall-clock limit, for the zygote's own kill and sweep
SETUP_FAILED = 121  # zygote.SETUP_FAILED


class ZygoteError(RuntimeError):
    """A pre-started sandbox interpreter died or broke its protocol."""


class _LongLivedThread:
    """Runs callables on one thread that lives as long as the process.

    bwrap --die-with-parent uses PR_SET_PDEATHSIG, which fires when the *thread* that started
    it exits; zygotes outlive the worker threads of any one run_many, so they start here.
    """

    def __init__(self):
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def call(self, fn):
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="sandbox-zygote-spawner", daemon=True)
                self._thread.start()
        future: Future = Future()
        self._calls.put((fn, future))
        return future.result()

    def _loop(self):
        while True:
            fn, future = self._calls.get()
            try:
                future.set_result(fn())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                future.set_exception(exc)


_SPAWNER = _LongLivedThread()


def zygote_command(isolation: iso_mod.Isolation, sock_fd: int) -> list[str]:
    source = f"RUNNER_SOURCE = {RUNNER_SOURCE!r}\n" + ZYGOTE_SOURCE
    assert isolation.bwrap is not None  # zygotes run only under bubblewrap
    return iso_mod.bwrap_command(isolation.bwrap, isolation.python, Limits(tmp_bytes=1024**2)) + [
        "--as-pid-1", "--cap-add", "ALL", "--", isolation.python, "-I", "-S", "-c", source, str(sock_fd),
    ]


class Zygote:
    """One sandbox with a pre-started interpreter; used by one thread at a time."""

    def __init__(self, isolation: iso_mod.Isolation):
        self.isolation = isolation
        self.slot: int | None = SLOTS.acquire()
        self.uid = iso_mod.slot_uid(self.slot)
        self.programs = 0
        self._closed = False
        self.proc: subprocess.Popen | None = None
        self.sock: socket.socket | None = None
        self._stderr = tempfile.TemporaryFile()
        try:
            _SPAWNER.call(self._start)
        except OSError as exc:
            self.close()
            raise ZygoteError(f"could not start: {exc}") from exc
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock = ours
        assert self.slot is not None  # released only by close()
        prefix, identity = iso_mod.spawn_identity(self.slot)
        try:
            self.proc = subprocess.Popen(
                prefix + zygote_command(self.isolation, theirs.fileno()),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr,
                pass_fds=(theirs.fileno(),), env=dict(iso_mod.ENV_ALLOW_LIST), start_new_session=True, **identity,
            )
        finally:
            theirs.close()
        hello = self._receive(START_TIMEOUT)
        if not hello.get("ready"):
            raise ZygoteError(f"zygote did not start: {hello}")

    def _receive(self, timeout: float) -> dict:
        sock = self.sock
        assert sock is not None, "zygote socket used after close"
        sock.settimeout(timeout)
        try:
            message = sock.recv(65536)
        except TimeoutError as exc:
            raise ZygoteError(f"no answer within {timeout:.1f} s") from exc
        except OSError as exc:
            raise ZygoteError(f"channel broken: {exc}") from exc
        if not message:
            raise ZygoteError(f"zygote exited ({self.exit_status()})")
        try:
            reply = json.loads(message)
        except ValueError as exc:
            raise ZygoteError("malformed answer") from exc
        if not isinstance(reply, dict):
            raise ZygoteError("malformed answer")
        return reply

    def exit_status(self) -> str:
        code = self.proc.poll() if self.proc else None
        self._stderr.seek(0)
        err = self._stderr.read(2000).decode("utf-8", errors="replace").strip()
        return f"exit {code}" + (f": {err}" if err else "")

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None and self.sock is not None

    def host_pids(self) -> set[int]:
        """The zygote's own processes on the host (outer bwrap and the interpreter), for leak checks."""
        if not self.alive or self.proc is None:
            return set()
        pid = self.proc.pid
        pids = {pid}
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                pids.update(int(p) for p in Path(f"/proc/{pid}/task/{task}/children").read_text().split())
        except OSError:
            pass
        return pids

    def run(self, job: Job, limits: Limits) -> ProgramResult:
        """Run one program; raises ZygoteError only when the program was never handed over."""
        started = time.perf_counter()
        result = ProgramResult(outcomes=[CallOutcome("missing") for _ in job.calls], isolation=self.isolation.name,
                               mode="zygote")
        with (
            tempfile.TemporaryFile() as stdin_file,
            tempfile.TemporaryFile() as stdout_file,
            tempfile.TemporaryFile() as stderr_file,
            tempfile.TemporaryFile() as result_file,
        ):
            stdin_file.write(payload_bytes(job, limits, result_fd=3))
            stdin_file.seek(0)
            header = json.dumps({"wall_seconds": limits.wall_seconds, "tmp_bytes": limits.tmp_bytes}).encode()
            files = [f.fileno() for f in (stdin_file, stdout_file, stderr_file, result_file)]
            if not self.alive:
                raise ZygoteError(f"zygote is gone ({self.exit_status()})")
            try:
                assert self.sock is not None  # alive implies an open socket
                socket.send_fds(self.sock, [header], files)
            except OSError as exc:
                raise ZygoteError(f"could not hand over the program: {exc}") from exc
            self.programs += 1
            try:
                reply = self._receive(limits.wall_seconds + REPLY_GRACE)
                if "error" in reply:
                    raise ZygoteError(str(reply["error"])[:300])
            except ZygoteError as exc:
                # Whatever happened, this program fails and this zygote is not used again.
                result.sandbox_error = f"sandbox worker failed during the program: {exc}"
                result.timed_out = "no answer" in str(exc)
                self.close()
                result.seconds = time.perf_counter() - started
                return result
            result.exit_code = reply.get("exit_code")
            result.timed_out = bool(reply.get("timed_out"))
            result.seconds = time.perf_counter() - started
            result.stdout = read_capped(stdout_file, limits.output_chars)
            result.stderr = read_capped(stderr_file, limits.output_chars)
            if reply.get("setup_failed") and result.exit_code == SETUP_FAILED:
                result.sandbox_error = f"sandbox set-up of the program failed: {result.stderr[-300:]}"
                return result
            parse_results(read_capped(result_file, MAX_RESULT_BYTES), len(job.calls), result)
            return result

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # bwrap; its sandbox dies with it (--die-with-parent)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.wait()
        if self.uid is not None and self.proc is not None:
            kill_uid(self.uid)
        if self.slot is not None:
            SLOTS.release(self.slot)
            self.slot = None
        self._stderr.close()


class ZygotePool:
    """Idle zygotes, at most one per core kept; any thread takes one, runs a program, gives it back."""

    def __init__(self):
        self._idle: list[Zygote] = []
        self._lock = threading.Lock()
        self.started = 0  # zygotes started in this process (restarts included)

    def _take(self, isolation: iso_mod.Isolation) -> Zygote:
        while True:
            with self._lock:
                zygote = self._idle.pop() if self._idle else None
            if zygote is None:
                self.started += 1
                return Zygote(isolation)
            if zygote.alive and zygote.isolation == isolation:
                return zygote
            zygote.close()

    def _give_back(self, zygote: Zygote) -> None:
        if zygote.alive:
            with self._lock:
                if len(self._idle) < default_workers():
                    self._idle.append(zygote)
                    return
        zygote.close()

    def run(self, job: Job, limits: Limits, isolation: iso_mod.Isolation) -> ProgramResult:
        for attempt in range(2):
            zygote = self._take(isolation)
            try:
                return zygote.run(job, limits)
            except ZygoteError:
                zygote.close()  # found dead before the program ran: the program goes to a fresh one
                if attempt:
                    raise
            finally:
                self._give_back(zygote)
        raise AssertionError("unreachable")

    def host_pids(self) -> set[int]:
        with self._lock:
            return set().union(*(z.host_pids() for z in self._idle))

    def idle(self) -> list[Zygote]:
        with self._lock:
            return list(self._idle)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for zygote in idle:
            zygote.close()


POOL = ZygotePool()
atexit.register(POOL.close)


def _forget_in_forked_child() -> None:
    """A fork of the harness must not share the parent's zygotes (their channels would carry both
    processes' programs) nor close them (that would kill them under the parent): it starts its own."""
    POOL._idle = []
    POOL._lock = threading.Lock()
    _SPAWNER._lock = threading.Lock()
    _SPAWNER._thread = None
    _SPAWNER._calls = queue.SimpleQueue()


os.register_at_fork(after_in_child=_forget_in_forked_child)


def probe(isolation: iso_mod.Isolation) -> tuple[bool, str]:
    """Does the fast path work here? Runs one trivial program in a fresh zygote (kept for reuse)."""
    try:
        result = POOL.run(Job("def f(x):\n    return x + 1\n", "f", [[1]]), Limits(), isolation)
    except (ZygoteError, OSError) as exc:
        return False, str(exc)[:300]
    if result.outcomes[0].status == "ok" and result.outcomes[0].value == 2:
        return True, "ok"
    return False, (result.problem() or "wrong answer")[:300]
