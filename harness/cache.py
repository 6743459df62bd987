"""Persistent response cache: one SQLite row per (model, prompt, generation params, sample index).

A re-run answers from here instead of asking the backend again, and a run killed at any
moment resumes where it stopped: the evaluator commits each answered batch as it arrives
(WAL journal, one transaction per batch), so a row is either fully there or absent.
Failed requests are never stored, so a re-run asks again for exactly those. A row is the
Generation's JSON, `finish_reason` included; rows stored before that field existed read back
with None (unknown), which the gate's truncation limits treat as such (`--refresh` re-asks).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.types import Generation, GenerationParams, Item

CACHE_FILE = "responses.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    generation TEXT NOT NULL,
    created REAL NOT NULL
)
"""


def default_cache_path() -> Path:
    from harness.paths import cache_dir

    return cache_dir() / CACHE_FILE


# What open_response_cache returns instead of the SQLite file, while a `serving_cache` block is active
# (a Ray shard's worker answers from, and writes to, the driver's cache: harness/executors/ray_executor.py).
_OPENER: Callable[[Path], "ResponseCache"] | None = None


def open_response_cache(path: str | Path) -> "ResponseCache":
    """The response cache at `path`: the SQLite file, or what the active `serving_cache` block serves instead."""
    return _OPENER(Path(path)) if _OPENER is not None else ResponseCache(path)


@contextmanager
def serving_cache(opener: Callable[[Path], "ResponseCache"]) -> Iterator[None]:
    """Inside the block, every open_response_cache(path) returns opener(path) (this process only)."""
    global _OPENER
    previous, _OPENER = _OPENER, opener
    try:
        yield
    finally:
        _OPENER = previous


def item_prefix(fingerprint: dict[str, Any], item: Item, params: GenerationParams) -> str:
    """Everything that determines an answer except the sample index."""
    payload = {
        "model": fingerprint,
        "messages": [m.model_dump() for m in item.messages],
        "params": params.model_dump(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def sample_keys(fingerprint: dict[str, Any], item: Item, params: GenerationParams) -> list[str]:
    prefix = item_prefix(fingerprint, item, params)
    return [f"{prefix}:{index}" for index in range(params.samples)]


class ResponseCache:
    """A key → Generation store; safe to open from several processes at once."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process kills
        self._conn.execute(SCHEMA)

    def get_many(self, keys: Sequence[str]) -> dict[str, Generation]:
        found: dict[str, Generation] = {}
        for start in range(0, len(keys), 500):  # stay under SQLite's bound-parameter limit
            chunk = list(keys[start : start + 500])
            marks = ",".join("?" * len(chunk))
            for key, text in self._conn.execute(f"SELECT key, generation FROM responses WHERE key IN ({marks})", chunk):
                found[key] = Generation.model_validate_json(text)
        return found

    def put_many(self, rows: Iterable[tuple[str, Generation]]) -> int:
        """Store rows in one transaction (all or nothing); failed generations are refused."""
        rows = list(rows)
        if any(gen.error is not None for _, gen in rows):
            raise ValueError("failed generations are not cached")
        now = time.time()
        data = [(key, gen.model_dump_json(), now) for key, gen in rows]
        with self._conn:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.executemany("INSERT OR REPLACE INTO responses (key, generation, created) VALUES (?, ?, ?)", data)
        return len(data)

    def count(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "ResponseCache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
