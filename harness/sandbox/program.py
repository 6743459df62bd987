"""A sandboxed program and what comes back from it: the job, its calls' outcomes and result, and the
parts both ways of running one share (harness/sandbox/execute.py's per-program path and
harness/sandbox/pool.py's zygotes): the runner source, the payload it reads, the result channel's
parser, and the slots (as root, uids) programs run under, with the sweep that kills what a uid left.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.sandbox.limits import Limits

RUNNER_SOURCE = (Path(__file__).with_name("runner.py")).read_text()
MAX_RESULT_BYTES = 64 * 1024**2


@dataclass(frozen=True)
class Job:
    """A program to run in the sandbox: its source, the function to call and the calls' arguments."""

    source: str
    entry_point: str
    calls: Sequence[Sequence[Any]]  # positional arguments of each call (JSON data)


@dataclass
class CallOutcome:
    """What one call returned or raised inside the sandbox."""

    status: str  # "ok" (value is the encoded return value), "error" (value is the exception) or "missing"
    value: Any = None


@dataclass
class ProgramResult:
    """Every call's outcome of one sandboxed program, with how it ended."""

    outcomes: list[CallOutcome]
    isolation: str
    seconds: float = 0.0
    exit_code: int | None = None
    timed_out: bool = False
    load_error: str | None = None
    protocol_error: str | None = None
    stdout: str = ""
    stderr: str = ""
    mode: str = ""  # "zygote", "per-program" or "fallback" (see isolation.py)
    sandbox_error: str | None = None  # the sandbox itself failed around this program (the program fails)

    def problem(self) -> str | None:
        """Why the program as a whole misbehaved (None when it ran every call and exited cleanly)."""
        if self.sandbox_error:
            return self.sandbox_error
        if self.protocol_error:
            return f"result channel tampered with: {self.protocol_error}"
        if self.load_error:
            return f"solution failed to load: {self.load_error}"
        if self.timed_out:
            return "timed out (wall-clock limit); sandbox killed"
        missing = sum(o.status == "missing" for o in self.outcomes)
        if missing or self.exit_code not in (0, None):
            return f"program died ({describe_exit(self.exit_code)}) with {missing} of {len(self.outcomes)} calls unreported"
        return None


def describe_exit(code: int | None) -> str:
    if code is None:
        return "no exit status"
    # bubblewrap reports a signal-killed child as 128 + signal number.
    signum = -code if code < 0 else code - 128 if code > 128 else None
    if signum:
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = f"signal {signum}"
        hint = {"SIGXCPU": "CPU time limit", "SIGXFSZ": "output/file size limit", "SIGSEGV": "crash, e.g. stack overflow",
                "SIGKILL": "killed"}.get(name)
        return f"{name}: {hint}" if hint else name
    return f"exit code {code}"


class Slots:
    """Numbers for concurrently running programs; as root each maps to its own uid.

    A uid is claimed with an flock on a lock file, so two harness processes on one machine
    never share a uid (the clean-up kills everything running under a program's uid). Claimed
    uids are kept for reuse until the process exits, which releases the locks.
    """

    LOCK_DIR = Path(tempfile.gettempdir()) / "harness-sandbox-uids"
    SPAN = 4096

    def __init__(self):
        self._free: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._held: dict[int, int] = {}  # slot -> lock file descriptor
        self._lock = threading.Lock()

    def acquire(self) -> int:
        try:
            return self._free.get_nowait()
        except queue.Empty:
            pass
        if os.geteuid() != 0:  # no uid switching: slots are just numbers
            with self._lock:
                slot = len(self._held)
                self._held[slot] = -1
            return slot
        import fcntl

        self.LOCK_DIR.mkdir(mode=0o700, exist_ok=True)
        with self._lock:
            for slot in range(self.SPAN):
                if slot in self._held:
                    continue
                fd = os.open(self.LOCK_DIR / f"{slot}.lock", os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                self._held[slot] = fd
                return slot
        raise RuntimeError(f"no free sandbox uid among {self.SPAN}")

    def release(self, slot: int) -> None:
        self._free.put(slot)


SLOTS = Slots()


def live_processes(uid: int) -> list[int]:
    """Processes of a uid that are not yet dead (zombies are dead: they only wait to be reaped)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid != uid:
                continue
            with open(f"/proc/{entry}/stat", "rb") as handle:
                state = handle.read().rsplit(b")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if state not in (b"Z", b"X"):
            pids.append(int(entry))
    return pids


def kill_uid(uid: int, patience: float = 2.0) -> None:
    """As root every program has its own uid: kill whatever still runs under it, and wait for it."""
    deadline = time.monotonic() + patience
    while pids := live_processes(uid):
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if time.monotonic() > deadline:
            break
        time.sleep(0.005)


def read_capped(handle, limit: int) -> str:
    handle.seek(0)
    return handle.read(limit).decode("utf-8", errors="replace")


def parse_results(raw: str, n_calls: int, result: ProgramResult) -> None:
    expected_index = 0
    for number, line in enumerate(raw.splitlines()):
        try:
            index, status, value = json.loads(line)
        except (ValueError, TypeError):
            result.protocol_error = f"malformed line {number + 1}"
            break
        if index == -1 and status == "load_error" and number == 0:
            result.load_error = str(value)[:500]
            continue
        if index != expected_index or status not in ("ok", "error") or index >= n_calls or result.load_error:
            result.protocol_error = f"unexpected record for call {index!r} (expected {expected_index})"
            break
        result.outcomes[index] = CallOutcome(status, value)
        expected_index += 1
    if result.protocol_error:
        result.outcomes = [CallOutcome("missing") for _ in range(n_calls)]


def payload_bytes(job: Job, limits: Limits, result_fd: int) -> bytes:
    """What the in-sandbox runner reads on stdin: limits, source, entry point, inputs (never the expected values)."""
    return json.dumps({
        "rlimits": limits.rlimits(),
        "source": job.source,
        "entry_point": job.entry_point,
        "calls": [json.dumps(list(call)) for call in job.calls],
        "result_fd": result_fd,
    }).encode()


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))
