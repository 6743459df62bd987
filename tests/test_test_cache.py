"""The test session never uses the user's harness cache (tests/conftest.py, isolate_harness_cache)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import SESSION_CACHE_VARIABLE, session_harness_cache

from harness.paths import cache_dir


def test_the_session_cache_carries_converted_models_and_probes_over_read_only(tmp_path):
    user = tmp_path / "user"
    (user / "models" / "ready").mkdir(parents=True)
    (user / "models" / "ready" / "config.json").write_text(json.dumps({"model_type": "llama"}))
    (user / "models" / "half").mkdir()  # a conversion that never finished: no config.json
    (user / "models" / "old").mkdir()  # converted by harness 0.1.0: mended in place on use, so not linked
    (user / "models" / "old" / "config.json").write_text(json.dumps({"quantization_config": {"quant_method": "gguf"}}))
    (user / "models" / ".ready.lock").write_text("")
    (user / "engine_probes.json").write_text("{}")
    (user / "suites").mkdir()
    before = sorted(str(p.relative_to(user)) for p in user.rglob("*"))

    session = session_harness_cache(user, tmp_path / "session")
    assert sorted(p.name for p in (session / "models").iterdir()) == ["ready"]
    assert (session / "models" / "ready").resolve() == (user / "models" / "ready").resolve()
    assert not (session / "engine_probes.json").is_symlink() and (session / "engine_probes.json").read_text() == "{}"
    assert not (session / "suites").exists()
    (session / "engine_probes.json").write_text('{"new": 1}')
    assert (user / "engine_probes.json").read_text() == "{}"
    assert sorted(str(p.relative_to(user)) for p in user.rglob("*")) == before


def test_this_session_runs_on_its_own_harness_cache():
    if os.environ.get(SESSION_CACHE_VARIABLE) != os.environ.get("HARNESS_CACHE"):
        pytest.skip("HARNESS_CACHE was given explicitly: the session uses that cache")
    from platformdirs import user_cache_dir

    assert cache_dir().resolve() == Path(os.environ[SESSION_CACHE_VARIABLE]).resolve()
    assert cache_dir().resolve() != Path(user_cache_dir("harness")).resolve()
