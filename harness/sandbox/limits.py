"""Resource limits for one sandboxed program."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed program: wall time, CPU, memory, processes, file sizes."""

    wall_seconds: float = 10.0  # enforced by the parent: the whole sandbox is killed after this
    cpu_seconds: int = 5  # RLIMIT_CPU inside the sandbox
    memory_bytes: int = 512 * 1024**2  # RLIMIT_AS per process
    processes: int = 10  # RLIMIT_NPROC: counted per sandbox (own user namespace / own uid)
    file_bytes: int = 8 * 1024**2  # RLIMIT_FSIZE: caps every file write, stdout and stderr included
    open_files: int = 64  # RLIMIT_NOFILE
    tmp_bytes: int = 32 * 1024**2  # size of the private writable /tmp (bubblewrap tmpfs)
    output_chars: int = 8192  # how much of stdout/stderr the parent keeps for reasons and debugging

    def rlimits(self) -> dict[str, int]:
        """The limits the in-sandbox runner applies before any untrusted code runs."""
        return {
            "RLIMIT_CPU": self.cpu_seconds,
            "RLIMIT_AS": self.memory_bytes,
            "RLIMIT_NPROC": self.processes,
            "RLIMIT_FSIZE": self.file_bytes,
            "RLIMIT_NOFILE": self.open_files,
            "RLIMIT_CORE": 0,
        }

    def as_dict(self) -> dict:
        return asdict(self)
