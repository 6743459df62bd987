"""The pre-started sandboxed interpreter ("zygote"), run inside one bubblewrap sandbox per worker.

Executed as `python -I -S -c <RUNNER_SOURCE = '...' + this source> <socket fd>` as pid 1 of the
sandbox's pid namespace (bwrap --as-pid-1), holding capabilities only inside its own user
namespace (bwrap --cap-add ALL; they mean nothing outside it). Per program the harness sends a
small header and four file descriptors over a unix socket (stdin holding the payload, stdout,
stderr, result channel: files the harness created and reads back itself). The zygote forks one
child per program; the child, before any untrusted code runs:
- starts its own session and process group (setsid);
- unshares a mount and an IPC namespace and mounts a fresh size-capped tmpfs on /tmp, so no
  program sees another's files or System V objects; the mount dies with the child's processes;
- moves the four descriptors to 0-3 and closes every other one (the control socket included);
- drops every capability (bounding set, ambient set, capset to zero, securebits locked,
  no_new_privs) and verifies none is left;
- then runs runner.main(), which applies the rlimits and runs the solution.
The zygote never reads a payload or a result (they go straight between the harness's files
and the child), so its memory, which every later child inherits, holds nothing of earlier
programs. As pid 1 it receives no signal from inside the namespace that it has no handler for
(SIGKILL and SIGSTOP included), and it is not dumpable, so a program can neither kill, stop
nor ptrace it. After each program it kills every other process in the namespace (kill(-1)) and
reaps them all before it answers: nothing a program leaves behind reaches the next one.
"""

import ctypes
import fcntl
import gc
import json
import os
import select
import signal
import socket
import sys
import time

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
MS_NOSUID, MS_NODEV, MS_REC, MS_PRIVATE = 2, 4, 16384, 1 << 18
PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_SECUREBITS, PR_SET_NO_NEW_PRIVS = 4, 24, 28, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
# SECBIT_NOROOT(+LOCKED) and SECBIT_NO_CAP_AMBIENT_RAISE(+LOCKED): uid 0 regains nothing on exec.
SECUREBITS = 1 | 2 | 64 | 128
CAPABILITY_VERSION_3 = 0x20080522
SETUP_FAILED = 121  # the child's exit code when it refused to run the program
# Imported once here so that each child inherits them instead of importing them again.
PRELOAD = ("collections", "itertools", "functools", "re", "string", "heapq", "bisect", "math", "json", "resource")

_libc = ctypes.CDLL(None, use_errno=True)
_ulong = ctypes.c_ulong


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _check(ret, what):
    if ret != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _prctl(option, arg=0):
    return _libc.prctl(ctypes.c_int(option), _ulong(arg), _ulong(0), _ulong(0), _ulong(0))


def private_tmp(size_bytes):
    _check(_libc.unshare(ctypes.c_int(CLONE_NEWNS | CLONE_NEWIPC)), "unshare(mount, ipc)")
    _check(_libc.mount(None, b"/", None, _ulong(MS_REC | MS_PRIVATE), None), "make mounts private")
    options = f"size={int(size_bytes)},mode=0700".encode()
    _check(_libc.mount(b"tmpfs", b"/tmp", b"tmpfs", _ulong(MS_NOSUID | MS_NODEV), options), "mount tmpfs on /tmp")


def drop_capabilities():
    _check(_prctl(PR_SET_SECUREBITS, SECUREBITS), "set securebits")
    cap = 0
    while _prctl(PR_CAPBSET_DROP, cap) == 0:
        cap += 1
    if ctypes.get_errno() != 22 or cap < 32:  # EINVAL: past the last capability the kernel knows
        raise OSError(ctypes.get_errno(), f"could not drop capability {cap} from the bounding set")
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    header, data = _CapHeader(CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")
    _check(_prctl(PR_SET_NO_NEW_PRIVS, 1), "no_new_privs")
    _check(_libc.capget(ctypes.byref(header), data), "capget")
    if any(d.effective or d.permitted or d.inheritable for d in data):
        raise OSError(1, "capabilities still held after dropping them")


def _child(request, fds, runner):
    try:
        os.setsid()
        private_tmp(request["tmp_bytes"])
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in fds]
        for target, fd in enumerate(high):
            os.dup2(fd, target)
        os.closerange(4, max(os.sysconf("SC_OPEN_MAX"), 1024))
        os.chdir("/tmp")
        drop_capabilities()
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a fresh interpreter
    except BaseException as exc:  # noqa: BLE001 - never run the program half set up
        try:
            os.write(2, f"sandbox set-up failed: {exc}\n".encode())
        finally:
            os._exit(SETUP_FAILED)
    try:
        runner["main"]()  # ends with os._exit
    finally:
        os._exit(0)


def sweep():
    """Kill and reap every process in the namespace but this one; how many there were."""
    reaped = 0
    while True:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return reaped
        reaped += 1


def run_one(request, fds, runner):
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _child(request, fds, runner)
    for fd in fds:
        os.close(fd)
    pidfd = os.pidfd_open(pid)
    try:
        timed_out = not select.select([pidfd], [], [], request["wall_seconds"])[0]
    finally:
        os.close(pidfd)
    if timed_out:
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    _, status = os.waitpid(pid, 0)
    seconds = time.monotonic() - started
    leftovers = sweep()
    return {"exit_code": os.waitstatus_to_exitcode(status), "timed_out": timed_out, "leftovers": leftovers,
            "seconds": seconds, "setup_failed": os.WIFEXITED(status) and os.WEXITSTATUS(status) == SETUP_FAILED}


def serve(sock_fd):
    sock = socket.socket(fileno=sock_fd)
    _check(_prctl(PR_SET_DUMPABLE, 0), "set not dumpable")
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # pid 1 without a handler: the signal never arrives
    os.chdir("/")
    for name in PRELOAD:
        __import__(name)
    runner = {"__name__": "harness_sandbox_runner"}
    exec(compile(RUNNER_SOURCE, "runner.py", "exec"), runner)  # noqa: F821 - prepended by the harness
    gc.collect()
    gc.freeze()  # children then do not touch (copy) the zygote's objects when collecting
    sock.send(json.dumps({"ready": True, "pid": os.getpid(), "uid": os.getuid()}).encode())
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(sock, 65536, 8)
        except OSError:
            return
        if not message:  # the harness closed the channel
            return
        try:
            request = json.loads(message)
            if len(fds) != 4:
                raise ValueError(f"expected 4 descriptors, got {len(fds)}")
        except ValueError as exc:
            for fd in fds:
                os.close(fd)
            reply = {"error": f"bad request: {exc}"}
        else:
            try:
                reply = run_one(request, fds, runner)
            except Exception as exc:  # noqa: BLE001 - answer, then let the harness decide
                reply = {"error": f"{type(exc).__name__}: {exc}"}
        sock.send(json.dumps(reply).encode())


if __name__ == "__main__":
    serve(int(sys.argv[1]))
