"""The disk cache of built suites: a second process reads the build instead of redoing it, and any
change to the code (or a damaged file) is a rebuild, never a stale read."""

from __future__ import annotations

import pytest

from harness import suite_cache
from harness.suite import Suite, get_suite
from harness.tasks.arithmetic import ArithmeticSuite


@pytest.fixture(autouse=True)
def own_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path))


def never_built(monkeypatch, suite_class: type[Suite]):
    def refuse(self):
        raise AssertionError(f"{self.name} was rebuilt")

    monkeypatch.setattr(suite_class, "build", refuse)


@pytest.mark.parametrize("name", ["arithmetic", "logic", "code"])
def test_second_instance_reads_the_first_build_exactly(name, monkeypatch):
    built = get_suite(name).all_items
    path = suite_cache.cache_path(get_suite(name))
    assert path.is_file()
    fresh = get_suite(name).build()
    never_built(monkeypatch, type(get_suite(name)))
    cached = get_suite(name).all_items
    assert cached == built == fresh
    # answers keep their Python types (a tuple answer read back as a list would score differently)
    assert [type(it.answer) for it in cached] == [type(it.answer) for it in fresh]


def test_seed_and_size_are_separate_builds():
    a, b, c = get_suite("arithmetic"), get_suite("arithmetic", seed=1), get_suite("arithmetic", size=5)
    assert len({suite_cache.cache_path(s) for s in (a, b, c)}) == 3
    assert a.all_items != b.all_items
    assert len(c.items("test", variants=["canonical"])) == 5 < len(a.items("test", variants=["canonical"]))


def test_other_code_is_a_miss_and_replaces_the_old_build(monkeypatch):
    suite = get_suite("arithmetic")
    items = suite.all_items
    old = suite_cache.cache_path(suite)
    monkeypatch.setattr(suite_cache, "code_fingerprint", lambda: "0" * 16)
    assert suite_cache.load(get_suite("arithmetic")) is None  # the code changed: not read
    assert get_suite("arithmetic").all_items == items  # rebuilt, stored under the new code
    assert suite_cache.cache_path(suite).is_file() and not old.exists()


def test_a_damaged_file_is_rebuilt(monkeypatch):
    items = get_suite("arithmetic").all_items
    path = suite_cache.cache_path(get_suite("arithmetic"))
    path.write_bytes(path.read_bytes()[:100])
    assert suite_cache.load(get_suite("arithmetic")) is None
    assert get_suite("arithmetic").all_items == items


def test_the_fingerprint_follows_the_source(tmp_path, monkeypatch):
    import harness.tasks

    before = suite_cache.code_fingerprint()
    suite_cache.code_fingerprint.cache_clear()
    extra = tmp_path / "tasks_copy"
    extra.mkdir()
    (extra / "new_template.py").write_text("TEMPLATES = ['{a} + {b}']\n")
    monkeypatch.setattr(harness.tasks, "__path__", [*harness.tasks.__path__, str(extra)])
    try:
        assert suite_cache.code_fingerprint() != before
    finally:
        suite_cache.code_fingerprint.cache_clear()


def test_suites_defined_outside_harness_are_not_cached(tmp_path):
    class Subclassed(ArithmeticSuite):  # e.g. a plug-in's suite: its code is not in the fingerprint
        pass

    suite = Subclassed()
    assert suite.all_items and not suite_cache.cacheable(suite)
    assert not (tmp_path / "suites").exists() or not any((tmp_path / "suites").iterdir())
