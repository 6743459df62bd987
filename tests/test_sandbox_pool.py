"""The zygote fast path: programs share a pre-started sandbox, so nothing may pass from one to the next."""

from __future__ import annotations

import os
import signal
import time

import pytest

from harness.sandbox import Job, Limits, isolation, judge, run_many, run_program
from harness.sandbox.pool import POOL

FAST = Limits(wall_seconds=4, cpu_seconds=2, memory_bytes=256 * 1024**2, processes=8)
ADD = "def add(a, b):\n    return a + b\n"

pytestmark = pytest.mark.skipif(
    isolation.detect().mode != "zygote" and not os.environ.get("CI"), reason="the zygote fast path is not usable here"
)


@pytest.fixture(autouse=True)
def zygote_mode(monkeypatch):
    monkeypatch.setenv(isolation.MODE_VARIABLE, "zygote")
    isolation.detect.cache_clear()
    assert isolation.detect().mode == "zygote", isolation.detect().detail
    yield
    isolation.detect.cache_clear()


def one_by_one(sources: list[str], limits: Limits = FAST) -> list:
    """Run programs one after another on one worker (so on one zygote); their single call's results."""
    started = POOL.started
    results = run_many([Job(src, "f", [[0]]) for src in sources], limits, workers=1)
    assert POOL.started == started, "the zygote was restarted"
    return results


def value(result):
    assert result.outcomes[0].status == "ok", result
    return result.outcomes[0].value


def test_fast_path_is_used_and_correct():
    result = run_program(Job(ADD, "add", [[1, 2], ["a", "b"]]), FAST)
    assert result.mode == "zygote" and judge(result, [3, "ab"]).all_passed


def test_each_program_has_a_fresh_private_tmp():
    writer = "import os\ndef f(x):\n    open('/tmp/secret.txt', 'w').write('answer')\n    os.mkdir('/tmp/d')\n    return sorted(os.listdir('/tmp'))\n"
    reader = "import os\ndef f(x):\n    return [os.getcwd(), os.environ['HOME'], sorted(os.listdir('/tmp'))]\n"
    results = one_by_one([writer, reader])
    assert value(results[0]) == ["d", "secret.txt"]
    assert value(results[1]) == ["/tmp", "/tmp", []]


def test_background_process_does_not_reach_the_next_program():
    leaver = (
        "import os, time\ndef f(x):\n    pid = os.fork()\n    if pid == 0:\n        os.setsid()\n"
        "        for _ in range(200):\n            time.sleep(0.01)\n            try:\n"
        "                open('/tmp/planted', 'w').write('x')\n            except OSError:\n                pass\n"
        "        os._exit(0)\n    return pid\n"
    )
    results = one_by_one([leaver, "def f(x):\n    return 0\n"])
    daemon = value(results[0])
    looker = (
        "import os, time\ndef f(x):\n    time.sleep(0.3)\n    try:\n        os.kill(%d, 0)\n        alive = True\n"
        "    except ProcessLookupError:\n        alive = False\n    return [alive, os.listdir('/tmp')]\n" % daemon
    )
    assert value(one_by_one([looker])[0]) == [False, []]


def test_only_its_own_descriptors_are_open_and_forged_records_fail():
    probe = (
        "import os\ndef f(x):\n    open_fds = []\n    for fd in range(1024):\n        try:\n            os.fstat(fd)\n"
        "            open_fds.append(fd)\n        except OSError:\n            pass\n    return open_fds\n"
    )
    assert value(one_by_one([probe])[0]) == [0, 1, 2, 3]  # stdin, stdout, stderr, result channel: no control socket
    forger = "import os\nos.write(3, b'[0, \"ok\", 1]\\n')\ndef f(x):\n    return 1\n"
    result = one_by_one([forger])[0]
    assert result.protocol_error and not judge(result, [1]).all_passed


def test_program_cannot_kill_stop_or_trace_the_zygote():
    attacker = (
        "import ctypes, os, signal, time\ndef f(x):\n    done = []\n"
        "    for sig in (signal.SIGKILL, signal.SIGSTOP, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):\n"
        "        for pid in (os.getppid(), 1):\n            os.kill(pid, sig)\n    time.sleep(0.2)\n"
        "    libc = ctypes.CDLL(None, use_errno=True)\n"
        "    attached = libc.ptrace(16, 1, None, None) == 0\n"  # PTRACE_ATTACH to the zygote
        "    return ['alive', attached]\n"
    )
    results = one_by_one([attacker, ADD.replace("add(a, b)", "f(a)").replace("a + b", "a + 1")])
    assert value(results[0]) == ["alive", False]
    assert not judge(results[0], [1]).all_passed  # what a program returns is all it can influence
    assert judge(results[1], [1]).all_passed


def test_program_has_no_capabilities():
    probe = (
        "import ctypes, os\ndef f(x):\n    libc = ctypes.CDLL(None, use_errno=True)\n"
        "    header = (ctypes.c_uint32 * 2)(0x20080522, 0)\n    data = (ctypes.c_uint32 * 6)()\n"
        "    libc.capget(header, data)\n"
        "    unshared = libc.unshare(0x00020000) == 0\n"
        "    mounted = libc.mount(b'none', b'/usr', b'tmpfs', 0, None) == 0\n"
        "    try:\n        os.setuid(0)\n        root = True\n    except OSError:\n        root = False\n"
        "    return [list(data), unshared, mounted, root]\n"
    )
    assert value(one_by_one([probe])[0]) == [[0] * 6, False, False, False]


def test_no_trace_of_earlier_programs_in_memory():
    marker = "MARKER_" + "7f3a9c"
    first = f"def f(x):\n    secret = '{marker}' * 3\n    return len(secret)\n"
    scanner = (
        "import gc\ndef f(x):\n    needle = 'MARKER_' + '7f3a9c'\n"
        "    return sum(isinstance(o, str) and needle in o and o != needle for o in gc.get_objects())\n"
    )
    results = one_by_one([first, scanner])
    assert value(results[1]) == 0


def test_timeout_kills_the_program_and_the_zygote_carries_on():
    loop = "def f(x):\n    while True:\n        pass\n"
    results = one_by_one([loop, "def f(x):\n    return 5\n"], Limits(wall_seconds=0.5, cpu_seconds=5))
    assert results[0].timed_out and "timed out" in judge(results[0], [1]).reason
    assert judge(results[1], [5]).all_passed


def test_fork_bomb_is_swept_before_the_next_program():
    bomb = "import os\ndef f(x):\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass\n"
    counter = "import os\ndef f(x):\n    return os.getpid() > 1\n"
    results = one_by_one([bomb, counter], Limits(wall_seconds=1, cpu_seconds=1, processes=8))
    assert not judge(results[0], [1]).all_passed
    assert judge(results[1], [True]).all_passed


def test_zygote_dying_mid_program_fails_only_that_program_and_is_replaced():
    """A zygote killed from outside (a crash) while a program runs: that program fails, the next one passes."""
    POOL.close()
    run_program(Job(ADD, "add", [[1, 1]]), FAST)  # exactly one zygote idle: the one the next program takes
    (zygote,) = POOL.idle()
    started = POOL.started
    sleeper = "import time\ndef f(x):\n    time.sleep(2)\n    return 1\n"

    def kill_soon():
        time.sleep(0.3)
        os.killpg(zygote.proc.pid, signal.SIGKILL)

    import threading

    killer = threading.Thread(target=kill_soon)
    killer.start()
    crashed = run_many([Job(sleeper, "f", [[0]])], FAST, workers=1)[0]
    killer.join()
    assert crashed.sandbox_error and "sandbox worker failed" in judge(crashed, [1]).reason
    after = run_program(Job(ADD, "add", [[2, 3]]), FAST)
    assert judge(after, [5]).all_passed and after.mode == "zygote"
    assert POOL.started > started


def test_zygote_found_dead_while_idle_costs_no_program():
    run_program(Job(ADD, "add", [[1, 1]]), FAST)
    for zygote in POOL.idle():
        os.killpg(zygote.proc.pid, signal.SIGKILL)
        zygote.proc.wait()
    result = run_program(Job(ADD, "add", [[2, 3]]), FAST)
    assert judge(result, [5]).all_passed and result.mode == "zygote"


def test_modes_can_be_chosen(monkeypatch):
    monkeypatch.setenv(isolation.MODE_VARIABLE, "per-program")
    isolation.detect.cache_clear()
    assert run_program(Job(ADD, "add", [[1, 2]]), FAST).mode == "per-program"
    monkeypatch.setenv(isolation.MODE_VARIABLE, "bogus")
    isolation.detect.cache_clear()
    with pytest.raises(ValueError):
        isolation.detect()


def test_zygote_that_cannot_start_sends_programs_to_the_per_program_path(monkeypatch, capfd):
    from harness.sandbox import pool

    POOL.close()

    def broken_start(self):
        raise OSError("no zygote today")

    monkeypatch.setattr(pool.Zygote, "_start", broken_start)
    monkeypatch.setattr(isolation, "_zygote_failed", __import__("threading").Event())
    results = run_many([Job(ADD, "add", [[1, 2]]), Job(ADD, "add", [[3, 4]])], FAST, workers=1)
    assert [r.mode for r in results] == ["per-program", "per-program"]
    assert judge(results[0], [3]).all_passed and judge(results[1], [7]).all_passed
    assert capfd.readouterr().err.count("zygote could not start") == 1


def test_detect_falls_back_to_per_program_when_the_probe_fails(monkeypatch):
    from harness.sandbox import pool

    monkeypatch.setenv(isolation.MODE_VARIABLE, "auto")
    monkeypatch.setattr(pool, "probe", lambda iso: (False, "probe says no"))
    isolation.detect.cache_clear()
    chosen = isolation.detect()
    assert chosen.strong and chosen.mode == "per-program" and "probe says no" in chosen.detail


def test_a_forked_harness_uses_its_own_zygotes():
    import multiprocessing

    run_program(Job(ADD, "add", [[1, 1]]), FAST)
    parents = {z.proc.pid for z in POOL.idle()}

    def child(queue):
        result = run_program(Job(ADD, "add", [[2, 2]]), FAST)
        queue.put((judge(result, [4]).all_passed, result.mode, {z.proc.pid for z in POOL.idle()}))

    queue = multiprocessing.get_context("fork").Queue()
    proc = multiprocessing.get_context("fork").Process(target=child, args=(queue,))
    proc.start()
    passed, mode, childs = queue.get(timeout=30)
    proc.join(30)
    assert passed and mode == "zygote" and childs and not childs & parents
    assert {z.proc.pid for z in POOL.idle()} == parents and all(z.alive for z in POOL.idle())
    assert judge(run_program(Job(ADD, "add", [[3, 3]]), FAST), [6]).all_passed
