"""The sandbox contains hostile programs and cannot be fooled into counting a pass."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from harness.sandbox import Job, Limits, isolation, judge, run_many, run_program
from harness.sandbox.program import SLOTS, live_processes
from harness.sandbox.pool import POOL

FAST = Limits(wall_seconds=4, cpu_seconds=2, memory_bytes=256 * 1024**2, processes=8)
ADD = "def add(a, b):\n    return a + b\n"
FAKE_KEY = "sk-ant-api03-FAKE-0123456789abcdef"

# In CI (CI=true) bubblewrap must work: the hostile corpus is the point of these tests.
needs_bwrap = pytest.mark.skipif(
    not isolation.detect().strong and not os.environ.get("CI"), reason="bubblewrap is not usable here"
)
STRONG_MODES = ["zygote", "per-program"] if isolation.detect().mode == "zygote" or os.environ.get("CI") else ["per-program"]


@pytest.fixture(params=STRONG_MODES)
def sandbox_mode(request, monkeypatch):
    """Run the test against each bubblewrap path: the zygote fast path and one sandbox per program."""
    monkeypatch.setenv(isolation.MODE_VARIABLE, request.param)
    isolation.detect.cache_clear()
    if isolation.detect().strong:
        assert isolation.detect().mode == request.param, isolation.detect().detail
    yield request.param
    isolation.detect.cache_clear()


# Forged records: the forger cannot know the expected values (they never enter the sandbox),
# so it can only claim success in words or guess values.
FORGE = (
    "import os\nfor fd in range(3, 40):\n    try:\n"
    "        os.write(fd, b'[0, \"ok\", true]\\n[1, \"ok\", \"PASS\"]\\n{\"passed\": 2, \"failed\": 0}\\n')\n"
    "    except OSError:\n        pass\n"
)


def verdict(source: str, calls, expected, limits: Limits = FAST, entry: str = "f"):
    result = run_program(Job(source, entry, calls), limits)
    return judge(result, expected), result


def slot_uid_processes(patience: float = 2.0) -> list[int]:
    """Live processes under this process's sandbox uids, after giving dying ones a moment.

    An idle zygote's own two processes (outer bwrap and its interpreter) are not leftovers."""
    deadline = time.monotonic() + patience
    while True:
        own = POOL.host_pids()
        alive = [pid for slot in list(SLOTS._held) for pid in live_processes(isolation.UID_BASE + slot) if pid not in own]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def test_correct_function_passes_and_wrong_one_fails():
    good, _ = verdict(ADD, [[1, 2], [-5, 5], ["a", "b"], [[1], [2]]], [3, 0, "ab", [1, 2]], entry="add")
    assert good.all_passed and good.reason is None
    bad, _ = verdict("def add(a, b):\n    return a - b\n", [[1, 2], [2, 0]], [3, 2], entry="add")
    assert bad.passed == 1 and not bad.all_passed and "wrong value" in bad.reason


def test_types_are_checked_strictly():
    # True is not 1, "3" is not 3, tuples equal lists, floats compare with a tolerance
    v, _ = verdict("def f(x):\n    return [True, '3', (1, 2), 0.1 + 0.2][x]\n", [[0], [1], [2], [3]], [1, 3, [1, 2], 0.3])
    assert [f["test"] for f in v.failures] == [0, 1]


# --- the runner cannot be fooled -----------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "import sys\nsys.exit(0)\n",
        "import os\nos._exit(0)\n",
        "def f(x):\n    import os\n    os._exit(0)\n",
        "def f(x):\n    raise SystemExit(0)\n",
        "print('10 passed, 0 failed')\nprint('ALL TESTS PASSED')\ndef f(x):\n    return None\n",
        "import builtins\nbuiltins.AssertionError = Exception\ndef f(x):\n    assert False\n    return 0\n",
        # rewrite the runner's encoder and reporting through the caller's frame
        "import sys\ng = sys._getframe(1).f_globals\ng['encode'] = lambda v, depth=0: 'PASS'\n"
        "g['values_equal'] = lambda *a: True\ndef f(x):\n    return 0\n",
        # forge "pass" records on every open descriptor, then let the real runner report as well
        FORGE + "def f(x):\n    return 0\n",
        # forge records and exit before the runner can write anything
        FORGE + "os._exit(0)\n",
    ],
    ids=["sys.exit", "os._exit-load", "os._exit-call", "SystemExit", "fake-passed", "redefine-assert", "patch-runner",
         "forge-and-run", "forge-and-exit"],
)
def test_runner_cannot_be_fooled(source, sandbox_mode):
    v, result = verdict(source, [[1], [2]], [10, 17])  # expected values live only in the parent
    assert not v.all_passed, (source, result)
    assert v.reason


def test_forged_lines_fail_even_when_the_function_is_right(sandbox_mode):
    v, result = verdict(FORGE + "def f(x):\n    return x * 2\n", [[1], [2]], [2, 4])
    assert result.protocol_error and not v.all_passed and "tampered" in v.reason


# --- hostile corpus ------------------------------------------------------------------------


@pytest.fixture
def loopback_server():
    """A TCP service on the parent's loopback; records whether anyone connected."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    connections = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            connections.append(conn)
            conn.sendall(b"secret-from-parent")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], connections
    stop.set()
    thread.join()
    server.close()


def hostile_corpus(port: int, home: str) -> dict[str, tuple[str, object]]:
    """name -> (source of f(x), the value f would return if the attack had worked)."""
    return {
        "infinite_loop": ("def f(x):\n    while True:\n        pass\n", 1),
        "fork_bomb": (
            "import os\ndef f(x):\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass\n",
            1,
        ),
        "memory_bomb": ("def f(x):\n    blocks = []\n    while True:\n        blocks.append(bytearray(50 * 2**20))\n", 1),
        "loopback_network": (
            "import socket\ndef f(x):\n    s = socket.create_connection(('127.0.0.1', %d), timeout=2)\n"
            "    return s.recv(100).decode()\n" % port,
            "secret-from-parent",
        ),
        "write_home": (
            f"def f(x):\n    open({home!r} + '/sandbox_pwned.txt', 'w').write('pwned')\n    return 'written'\n",
            "written",
        ),
        "write_etc": ("def f(x):\n    open('/etc/sandbox_pwned.txt', 'w').write('pwned')\n    return 'written'\n", "written"),
        "read_api_key": (
            "import os\ndef f(x):\n    for pid in ['self', '1', str(os.getppid())]:\n        try:\n"
            "            env = open(f'/proc/{pid}/environ').read()\n        except OSError:\n            continue\n"
            "        if 'ANTHROPIC_API_KEY' in env:\n            return env.split('ANTHROPIC_API_KEY=')[1].split('\\0')[0]\n"
            "    return os.environ['ANTHROPIC_API_KEY']\n",
            FAKE_KEY,
        ),
        "kill_parent": (
            "import os, signal, time\ndef f(x):\n    os.kill(os.getppid(), signal.SIGKILL)\n    time.sleep(0.5)\n"
            "    return 'parent killed'\n",
            x_value := 1,
        ),
        "gigabyte_output": (
            "import sys\ndef f(x):\n    chunk = 'x' * 2**20\n    for _ in range(1024):\n        sys.stdout.write(chunk)\n"
            "    sys.stdout.flush()\n    return 'wrote a gigabyte'\n",
            "wrote a gigabyte",
        ),
        "deep_recursion": ("def f(x):\n    return f(x + 1) + 1\n", 1),
        "deep_recursion_raised_limit": (
            "import sys\nsys.setrecursionlimit(10**8)\ndef f(x):\n    return f(x + 1) + 1\n",
            1,
        ),
    }


@needs_bwrap
def test_hostile_corpus_is_contained(monkeypatch, loopback_server, tmp_path, sandbox_mode):
    port, connections = loopback_server
    home = Path(os.path.expanduser("~"))
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    corpus = hostile_corpus(port, str(home))
    names = list(corpus)
    jobs = [Job(src, "f", [[0]]) for src, _ in corpus.values()]
    jobs.append(Job(ADD, "add", [[2, 3]]))  # an honest program after the hostile ones still runs
    started = time.perf_counter()
    results = run_many(jobs, FAST, workers=2)
    elapsed = time.perf_counter() - started
    assert {r.mode for r in results} == {sandbox_mode}

    verdicts = {name: judge(r, [corpus[name][1]]) for name, r in zip(names, results)}
    for name, v in verdicts.items():
        assert not v.all_passed, f"{name} was not contained: {results[names.index(name)]}"
        assert v.reason, name
    assert judge(results[-1], [5]).all_passed, results[-1]

    assert "timed out" in verdicts["infinite_loop"].reason or "SIGXCPU" in verdicts["infinite_loop"].reason
    assert "MemoryError" in verdicts["memory_bomb"].reason
    assert "Recursion" in verdicts["deep_recursion"].reason
    assert not connections, "the sandbox reached the parent's loopback service"
    assert not (home / "sandbox_pwned.txt").exists()
    assert not Path("/etc/sandbox_pwned.txt").exists()
    assert FAKE_KEY not in str(results[names.index("read_api_key")])
    output = results[names.index("gigabyte_output")]
    assert len(output.stdout) <= FAST.output_chars
    assert elapsed < 60
    assert not slot_uid_processes(), "sandboxed processes outlived their run"


def test_limits_hold_in_the_weak_fallback(monkeypatch, capfd):
    """Without bubblewrap the rlimits, scrubbed environment and clean-up still hold, with a loud warning."""
    monkeypatch.setenv("HARNESS_SANDBOX_FALLBACK", "1")
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    isolation.detect.cache_clear()
    monkeypatch.setattr(isolation, "_warned", threading.Event())
    try:
        assert isolation.detect().name == "fallback"
        corpus = hostile_corpus(1, "/nonexistent")
        chosen = ["infinite_loop", "memory_bomb", "read_api_key", "gigabyte_output", "deep_recursion", "fork_bomb"]
        results = run_many([Job(corpus[n][0], "f", [[0]]) for n in chosen] + [Job(ADD, "add", [[2, 3]])], FAST)
        for name, result in zip(chosen, results):
            assert not judge(result, [corpus[name][1]]).all_passed, name
        assert judge(results[-1], [5]).all_passed
        err = capfd.readouterr().err
        assert err.count("WEAK fallback sandbox") == 1
        if os.geteuid() == 0:
            assert not slot_uid_processes()
    finally:
        isolation.detect.cache_clear()
