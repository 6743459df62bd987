"""Where harness keeps its caches: $HARNESS_CACHE, else the platform's user cache dir."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    env = os.environ.get("HARNESS_CACHE")
    if env:
        path = Path(env).expanduser()
    else:
        from platformdirs import user_cache_dir

        path = Path(user_cache_dir("harness"))
    path.mkdir(parents=True, exist_ok=True)
    return path
