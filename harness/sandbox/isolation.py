"""How the sandbox is built: bubblewrap when it works here, otherwise a weaker fallback.

bubblewrap gives each program new user, pid, network, ipc and uts namespaces, a read-only
view of /usr only (no /etc, /proc, /root, /home, /work or /var; /dev holds null, zero and
urandom), a private size-capped tmpfs at /tmp, a cleared environment and death with its parent. The fallback is a plain
process with the same rlimits, a scrubbed environment and a private temp dir: it has no
network or filesystem isolation and says so loudly, once per process.

When the harness runs as root, each concurrently running program gets its own unprivileged
uid (so the process-count limit is per program and nothing it does runs as root). The uid is
set by `setpriv` in front of the command rather than by subprocess's `user=`, which would
force a full fork() of the parent: with a model loaded that costs ~100 ms per program.

Modes (`HARNESS_SANDBOX_MODE`, default: the best that works here):
- zygote: bubblewrap, one pre-started sandbox and interpreter per worker that forks each
  program with its own mount/IPC namespace, tmpfs /tmp, session and no capabilities (pool.py);
- per-program: bubblewrap, a new sandbox and interpreter for every program (slower);
- fallback: no bubblewrap, rlimits only (`HARNESS_SANDBOX_FALLBACK=1` forces it too).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from harness.sandbox.limits import Limits

# The only variables a sandboxed program sees.
ENV_ALLOW_LIST = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONIOENCODING": "utf-8",
}
UID_BASE = int(os.environ.get("HARNESS_SANDBOX_UID_BASE", "61000"))
_FORCE_FALLBACK = "HARNESS_SANDBOX_FALLBACK"  # set to 1 to test or to run without bubblewrap
MODE_VARIABLE = "HARNESS_SANDBOX_MODE"  # auto (default), zygote, per-program or fallback
MODES = ("zygote", "per-program", "fallback")


@dataclass(frozen=True)
class Isolation:
    """Which sandbox runs programs here (bubblewrap or the rlimit fallback) and how."""

    name: str  # "bubblewrap" or "fallback"
    python: str  # interpreter used inside the sandbox
    bwrap: str | None
    detail: str
    mode: str = "per-program"  # one of MODES; "fallback" exactly when name == "fallback"

    @property
    def strong(self) -> bool:
        return self.name == "bubblewrap"


def _system_python() -> str:
    """An interpreter readable by an unprivileged uid and living under /usr when possible."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.access(candidate, os.X_OK):
            return candidate
    return os.path.realpath(sys.executable)


def _extra_binds(python: str) -> list[str]:
    real = os.path.realpath(python)
    if real.startswith("/usr/"):
        return []
    prefix = os.path.realpath(sys.base_prefix)
    return ["--ro-bind", prefix, prefix]


def bwrap_command(bwrap: str, python: str, limits: Limits) -> list[str]:
    cmd = [bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--clearenv"]
    for key, value in ENV_ALLOW_LIST.items():
        cmd += ["--setenv", key, value]
    cmd += ["--ro-bind", "/usr", "/usr"]
    for link in ("bin", "lib", "lib64", "sbin"):
        if os.path.islink(f"/{link}"):
            cmd += ["--symlink", os.readlink(f"/{link}"), f"/{link}"]
        elif os.path.isdir(f"/{link}"):
            cmd += ["--ro-bind", f"/{link}", f"/{link}"]
    cmd += _extra_binds(python)
    # No /etc, no /proc; only the harmless device nodes.
    for device in ("/dev/null", "/dev/zero", "/dev/urandom"):
        cmd += ["--dev-bind", device, device]
    cmd += ["--size", str(limits.tmp_bytes), "--tmpfs", "/tmp"]
    cmd += ["--chdir", "/tmp", "--remount-ro", "/"]
    return cmd


def _bwrap_works(bwrap: str, python: str) -> tuple[bool, str]:
    prefix, kwargs = spawn_identity(0)
    probe = prefix + bwrap_command(bwrap, python, Limits()) + ["--", python, "-I", "-S", "-c", "print('ok')"]
    try:
        proc = subprocess.run(probe, capture_output=True, text=True, timeout=20, **kwargs)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"{type(exc).__name__}: {exc}"
    if proc.returncode == 0 and proc.stdout.strip() == "ok":
        return True, "ok"
    return False, (proc.stderr.strip() or f"exit {proc.returncode}")[:300]


_CAN_DROP_ROOT = threading.Event()  # cleared when the interpreter is unusable by an unprivileged uid
_CAN_DROP_ROOT.set()


def slot_uid(slot: int) -> int | None:
    """The unprivileged uid a program in this slot runs as (None: we are not root, nothing to drop)."""
    if os.geteuid() != 0 or not _CAN_DROP_ROOT.is_set():
        return None
    return UID_BASE + slot


def spawn_identity(slot: int) -> tuple[list[str], dict]:
    """(command prefix, subprocess keyword arguments) that run a command as the slot's uid."""
    uid = slot_uid(slot)
    if uid is None:
        return [], {}
    setpriv = shutil.which("setpriv")
    if setpriv:
        return [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"], {}
    return [], {"user": uid, "group": uid, "extra_groups": []}


@functools.cache
def detect() -> Isolation:
    python = _system_python()
    bwrap = shutil.which("bwrap")
    wanted = os.environ.get(MODE_VARIABLE, "auto")
    if wanted not in ("auto", *MODES):
        raise ValueError(f"{MODE_VARIABLE}={wanted!r}: expected auto or one of {', '.join(MODES)}")
    if os.environ.get(_FORCE_FALLBACK) == "1" or wanted == "fallback":
        return _fallback(python, f"{_FORCE_FALLBACK}=1" if os.environ.get(_FORCE_FALLBACK) == "1" else f"{MODE_VARIABLE}=fallback")
    if bwrap is None:
        return _fallback(python, "bwrap not found (apt-get install bubblewrap)")
    ok, why = _bwrap_works(bwrap, python)
    if not ok:
        return _fallback(python, f"bwrap present but failed: {why}")
    detail = f"{bwrap} (user/pid/net/ipc namespaces, read-only system, tmpfs /tmp)"
    per_program = Isolation("bubblewrap", python, bwrap, f"{detail}; a new sandbox per program", "per-program")
    if wanted == "per-program":
        return per_program
    from harness.sandbox import pool

    zygote = Isolation("bubblewrap", python, bwrap, f"{detail}; one pre-started sandbox per worker, a forked child "
                       "per program with its own mount/ipc namespace, tmpfs /tmp, session, no capabilities", "zygote")
    ok, why = pool.probe(zygote)
    if not ok:
        return Isolation("bubblewrap", python, bwrap, f"{per_program.detail} (zygote unusable: {why})", "per-program")
    return zygote


_zygote_failed = threading.Event()


def note_zygote_failure(why: str) -> None:
    """A zygote could not be started for a program: that program runs on the per-program path (said once)."""
    if not _zygote_failed.is_set():
        _zygote_failed.set()
        print(f"harness: sandbox zygote could not start ({why[:200]}); such programs use a per-program sandbox",
              file=sys.stderr)


def _fallback(python: str, why: str) -> Isolation:
    """The weak sandbox; as root it still drops to an unprivileged uid when the interpreter allows it."""
    _CAN_DROP_ROOT.set()
    prefix, kwargs = spawn_identity(0)
    if prefix or kwargs:
        try:
            probe = subprocess.run(prefix + [python, "-I", "-S", "-c", "print('ok')"], capture_output=True, text=True,
                                   timeout=20, cwd="/", **kwargs)
            usable = probe.returncode == 0 and probe.stdout.strip() == "ok"
        except (OSError, subprocess.TimeoutExpired):
            usable = False
        if not usable:
            _CAN_DROP_ROOT.clear()
            why += f"; {python} is not usable by an unprivileged uid, so programs run as ROOT"
    return Isolation("fallback", python, None, why, "fallback")


_warned = threading.Event()


def warn_if_weak(isolation: Isolation) -> None:
    if isolation.strong or _warned.is_set():
        return
    _warned.set()
    bar = "!" * 78
    print(
        f"{bar}\nharness: WARNING: code runs in the WEAK fallback sandbox ({isolation.detail}).\n"
        "harness: rlimits, a scrubbed environment and a private temp dir only: NO network isolation and\n"
        "harness: NO read-only filesystem. Install bubblewrap for real isolation (`harness doctor`).\n"
        f"{bar}",
        file=sys.stderr,
    )


def fallback_tmpdir(slot: int) -> Path:
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="harness-sandbox-"))
    uid = slot_uid(slot)
    if uid is not None:
        os.chown(path, uid, uid)
    path.chmod(0o700)
    return path
