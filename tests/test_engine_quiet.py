"""A quiet vLLM engine start (harness/backends/_engine_quiet.py): the CLI sets vLLM's log level to ERROR on
default runs, and the chatter outside vLLM's loggers is turned off for the engine's processes too.
(tests/test_backends_vllm.py checks a real default run prints none of it.)"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings

import pytest

from harness.backends._engine_quiet import engine_is_quiet, quiet_engine


@pytest.fixture
def clean_env(monkeypatch):
    for key in ("VLLM_LOGGING_LEVEL", "TORCH_LOGS", "TORCH_CPP_LOG_LEVEL", "PYTHONWARNINGS"):
        monkeypatch.delenv(key, raising=False)
    with warnings.catch_warnings():
        yield monkeypatch


def test_quiet_means_vllm_logs_at_error(clean_env):
    assert not engine_is_quiet()  # vLLM's own default: INFO
    for level, quiet in (("WARNING", False), ("error", True), ("CRITICAL", True), ("DEBUG", False)):
        clean_env.setenv("VLLM_LOGGING_LEVEL", level)
        assert engine_is_quiet() is quiet


def test_the_engines_processes_inherit_the_quiet_settings_the_user_keeps_theirs(clean_env):
    clean_env.setenv("TORCH_CPP_LOG_LEVEL", "INFO")  # set by the user: kept
    clean_env.setenv("PYTHONWARNINGS", "error::DeprecationWarning")
    quiet_engine()
    quiet_engine()  # idempotent
    assert os.environ["TORCH_LOGS"] == "-torch" and os.environ["TORCH_CPP_LOG_LEVEL"] == "INFO"
    assert os.environ["PYTHONWARNINGS"].split(",") == [
        "error::DeprecationWarning", "ignore::FutureWarning:vllm.triton_utils.dispatcher",
        "ignore:resource_tracker:UserWarning:"]
    assert logging.getLogger("torch._library.triton").getEffectiveLevel() == logging.ERROR
    # a child Python (as vLLM's engine core and worker are) reads them: torch's logger and the warning filter
    child = subprocess.run([sys.executable, "-c", (
        "import logging, warnings, torch\n"
        "print(logging.getLogger('torch._library.triton').getEffectiveLevel())\n"
        "warnings.warn_explicit('reduce_op is deprecated', FutureWarning, 'dispatcher.py', 138, "
        "module='vllm.triton_utils.dispatcher')\n"
        "warnings.warn_explicit('resource_tracker: There appear to be 1 leaked shared_memory objects', "
        "UserWarning, 'resource_tracker.py', 254, module='multiprocessing.resource_tracker')\n"
        "warnings.warn('other warnings still show', FutureWarning)\n")], capture_output=True, text=True, env=os.environ)
    assert child.returncode == 0, child.stderr
    assert child.stdout.split() == [str(logging.ERROR)]
    assert "reduce_op" not in child.stderr and "resource_tracker" not in child.stderr
    assert "other warnings still show" in child.stderr


def test_in_this_process_the_two_warnings_are_filtered_and_others_are_not(clean_env):
    quiet_engine()
    with warnings.catch_warnings(record=True) as seen:
        warnings.warn_explicit("reduce_op", FutureWarning, "dispatcher.py", 1, module="vllm.triton_utils.dispatcher")
        warnings.warn_explicit("reduce_op", FutureWarning, "mine.py", 1, module="mine")
    assert [str(w.message) for w in seen] == ["reduce_op"] and seen[0].filename == "mine.py"


def test_the_cli_runs_vllm_quietly_unless_debug_serve_or_the_user_says(clean_env):
    from harness import cli as harness_cli

    seen = {}

    def record(args):
        seen["level"] = os.environ.get("VLLM_LOGGING_LEVEL")
        return 0

    class Module:
        run = staticmethod(record)

        @staticmethod
        def add_arguments(parser):
            pass

    clean_env.setattr(harness_cli, "command_module", lambda entry: Module)
    for argv, env, expected in ((["doctor"], None, "ERROR"), (["--debug", "doctor"], None, None),
                                (["serve"], None, None), (["doctor"], "INFO", "INFO")):
        clean_env.delenv("VLLM_LOGGING_LEVEL", raising=False)
        if env:
            clean_env.setenv("VLLM_LOGGING_LEVEL", env)
        assert harness_cli.main(argv) == 0
        assert seen["level"] == expected, argv
