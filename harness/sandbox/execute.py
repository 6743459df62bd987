"""Run untrusted Python functions on test inputs in the sandbox, one program or many in parallel."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness.sandbox import isolation as iso_mod
from harness.sandbox.limits import Limits
from harness.sandbox.program import (
    MAX_RESULT_BYTES, RUNNER_SOURCE, SLOTS, CallOutcome, Job, ProgramResult, default_workers, kill_uid, parse_results,
    payload_bytes, read_capped,
)


def _wait_for_exit(proc: subprocess.Popen, timeout: float) -> bool:
    """True when the process exited within the timeout. With a pidfd the exited process stays
    unreaped (so its pid, our process-group id, cannot be reused before the group is killed),
    and there is none of Popen.wait(timeout)'s polling sleeps (up to 50 ms of latency per run)."""
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        try:
            proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False
    try:
        ready, _, _ = select.select([pidfd], [], [], timeout)
    finally:
        os.close(pidfd)
    return bool(ready)


def run_program(job: Job, limits: Limits | None = None) -> ProgramResult:
    """Run one program's calls in a fresh sandbox; never raises for anything the program does."""
    limits = limits or Limits()
    isolation = iso_mod.detect()
    iso_mod.warn_if_weak(isolation)
    if isolation.mode == "zygote":
        from harness.sandbox import pool

        try:
            return pool.POOL.run(job, limits, isolation)
        except pool.ZygoteError as exc:
            iso_mod.note_zygote_failure(str(exc))  # this program takes the per-program path instead
    return _run_in_own_sandbox(job, limits, isolation)


def _run_in_own_sandbox(job: Job, limits: Limits, isolation: iso_mod.Isolation) -> ProgramResult:
    """The per-program path: a new bubblewrap sandbox (or fallback process) and interpreter for this program."""
    slot = SLOTS.acquire()
    started = time.perf_counter()
    fallback_dir: Path | None = None
    try:
        with (
            tempfile.TemporaryFile() as stdin_file,
            tempfile.TemporaryFile() as stdout_file,
            tempfile.TemporaryFile() as stderr_file,
            tempfile.TemporaryFile() as result_file,
        ):
            stdin_file.write(payload_bytes(job, limits, result_file.fileno()))
            stdin_file.seek(0)
            prefix, identity = iso_mod.spawn_identity(slot)
            command = [isolation.python, "-I", "-S", "-c", RUNNER_SOURCE]
            env = dict(iso_mod.ENV_ALLOW_LIST)
            cwd = None
            if isolation.strong:
                assert isolation.bwrap is not None  # strong isolation is bubblewrap
                command = iso_mod.bwrap_command(isolation.bwrap, isolation.python, limits) + ["--", *command]
            else:
                fallback_dir = iso_mod.fallback_tmpdir(slot)
                env.update(HOME=str(fallback_dir), TMPDIR=str(fallback_dir))
                cwd = fallback_dir
            command = prefix + command
            result = ProgramResult(outcomes=[CallOutcome("missing") for _ in job.calls], isolation=isolation.name,
                                   mode="per-program" if isolation.strong else "fallback")
            proc = subprocess.Popen(
                command,
                stdin=stdin_file,
                stdout=stdout_file,
                stderr=stderr_file,
                pass_fds=(result_file.fileno(),),
                env=env,
                cwd=cwd,
                start_new_session=True,
                **identity,
            )
            result.timed_out = not _wait_for_exit(proc, limits.wall_seconds)
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the whole process group, every time
            except (ProcessLookupError, PermissionError):
                pass
            # bubblewrap: the pid namespace dies with its init, which exits with the runner, so only
            # a run that had to be killed is swept. The fallback has no such guarantee: always sweep.
            uid = iso_mod.slot_uid(slot)
            if uid is not None and (result.timed_out or not isolation.strong):
                kill_uid(uid)
            result.exit_code = proc.wait()
            result.seconds = time.perf_counter() - started
            result.stdout = read_capped(stdout_file, limits.output_chars)
            result.stderr = read_capped(stderr_file, limits.output_chars)
            parse_results(read_capped(result_file, MAX_RESULT_BYTES), len(job.calls), result)
            return result
    finally:
        if fallback_dir is not None:
            import shutil

            shutil.rmtree(fallback_dir, ignore_errors=True)
        SLOTS.release(slot)


def run_many(jobs: Sequence[Job], limits: Limits | None = None, workers: int | None = None) -> list[ProgramResult]:
    """Run many programs with a bounded pool (default: one per available core); order is kept."""
    if not jobs:
        return []
    workers = min(len(jobs), workers or default_workers())
    if workers == 1:
        return [run_program(job, limits) for job in jobs]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sandbox") as pool:
        return list(pool.map(lambda job: run_program(job, limits), jobs))
