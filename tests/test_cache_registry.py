"""autosubmit_api/cache_registry.py: every module-level cache registers itself, `clear_all()`
empties them all, and `/v4/health` shows their sizes and counts (docs/performance.md, "Caches")."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from autosubmit_api import cache_registry
from autosubmit_api.readers import cache
from autosubmit_api.services import timefmt
from autosubmit_api.services.jobs import loading

PACKAGE = Path(__file__).resolve().parents[1] / "autosubmit_api"

# Every cache of the package, with its bound as registered at import (default settings).
EXPECTED = {
    "http_cache.recent": "64 MiB or 512 entries",
    "readers.backend.engines": "one per database",
    "readers.cache.large": 64,
    "readers.cache.small": 1024,
    "readers.central_db.shapes": 17,
    "readers.confined.real_roots": 16,
    "readers.exp_config.last_deps": "one per experiment",
    "readers.list_facts.counters": 20000,
    "services.jobs.chunk_dates.chunk_range": 65536,
    "services.jobs.loading.views": 256,
    "services.rendered.versions": "one per held body",
    "services.statistics.hour_epochs": 200000,
    "services.statistics.previous_stats": 8,
    "services.timefmt.fmt_dt": 65536,
    "workers.lock.table_ready": "one per database",
}

# Module-level containers that are state, not caches: never cleared between tests.
NOT_CACHES = {
    ("readers/worker_state.py", "METRICS"),  # the background jobs' outcomes (the health route's)
    ("workers/lock.py", "_local_locks"),  # one lock per job name
    ("cache_registry.py", "_caches"),  # the registry itself
    ("models.py", "EMPTY_MAP"),  # a shared empty default, never written
    ("readers/load_stats.py", "_last"),  # the last job-list load per kind, for /metrics
}


def _import_all():
    for name in (
        "http_cache",
        "readers.exp_config.loading",
        "readers.list_facts",
        "services.jobs.chunk_dates",
        "services.statistics",
        "workers.lock",
    ):
        importlib.import_module(f"autosubmit_api.{name}")


def test_every_cache_is_registered_with_its_bound():
    _import_all()
    stats = cache_registry.stats()
    assert {name: stats[name]["bound"] for name in EXPECTED} == EXPECTED
    for name, values in stats.items():
        assert {"entries", "bound", "hits", "misses"} <= set(values), name
    assert stats["http_cache.recent"]["bytes"] == 0


def _is_container(value: ast.AST) -> bool:
    if isinstance(value, ast.Dict) and not value.keys:
        return True
    if isinstance(value, ast.Call) and not value.args and not value.keywords:
        name = value.func.attr if isinstance(value.func, ast.Attribute) else getattr(value.func, "id", "")
        return name in ("dict", "OrderedDict", "set", "WeakValueDictionary")
    return False


def _caches_and_registrations(tree: ast.Module):
    """(names of module-level empty containers and lru_cache functions, register calls)."""
    caches, registrations = [], 0
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and _is_container(node.value):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            caches += [t.id for t in targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                func = deco.func if isinstance(deco, ast.Call) else deco
                if ast.unparse(func).endswith(("lru_cache", "functools.cache")):
                    caches.append(node.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func).startswith("cache_registry.register"):
            registrations += 1
    return caches, registrations


def test_no_module_keeps_an_unregistered_cache():
    # A new module-level dict or lru_cache function without its own registration fails here:
    # it would survive clear_all() and leak from one test into the next.
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith("client/"):
            continue
        caches, registrations = _caches_and_registrations(ast.parse(path.read_text(encoding="utf-8")))
        caches = [name for name in caches if (rel, name) not in NOT_CACHES]
        if len(caches) > registrations:
            problems.append(f"{rel}: {len(caches)} caches ({', '.join(caches)}), {registrations} registered")
    assert not problems, "register each cache with autosubmit_api.cache_registry:\n" + "\n".join(problems)


def test_the_scan_sees_an_unregistered_cache():
    source = "import functools\n_seen = {}\n@functools.lru_cache(maxsize=4)\ndef f(x):\n    return x\n"
    assert _caches_and_registrations(ast.parse(source)) == (["_seen", "f"], 0)
    registered = source + 'cache_registry.register_lru_cache("f", f)\n'
    assert _caches_and_registrations(ast.parse(registered)) == (["_seen", "f"], 1)


def test_each_test_starts_with_every_cache_empty():
    # tests/conftest.py clears the registry around each test.
    _import_all()
    dirty = {name: v for name, v in cache_registry.stats().items() if v["entries"] or v["hits"] or v["misses"]}
    assert dirty == {}


def test_counts_and_clear_all():
    first = cache.cached("job_list", "k", lambda: object())
    assert cache.cached("job_list", "k", lambda: object()) is first
    assert cache.get("exp_config", "absent") is None
    timefmt.fmt_dt(86400)
    timefmt.fmt_dt(86400)
    stats = cache_registry.stats()
    assert stats["readers.cache.large"] == {"entries": 1, "bound": 64, "hits": 1, "misses": 1}
    assert stats["readers.cache.small"] == {"entries": 0, "bound": 1024, "hits": 0, "misses": 1}
    assert stats["services.timefmt.fmt_dt"] == {"entries": 1, "bound": 65536, "hits": 1, "misses": 1}
    cache_registry.clear_all()
    stats = cache_registry.stats()
    assert stats["readers.cache.large"] == {"entries": 0, "bound": 64, "hits": 0, "misses": 0}
    assert stats["services.timefmt.fmt_dt"]["entries"] == 0
    assert cache.cached("job_list", "k", lambda: None) is None  # recomputed, not the old object


def test_a_configured_bound_is_reported():
    try:
        cache.configure(5, 7)
        stats = cache_registry.stats()
        assert stats["readers.cache.large"]["bound"] == 5
        assert stats["readers.cache.small"]["bound"] == 7
        assert stats["services.jobs.loading.views"]["bound"] == 5 * loading.VIEWS_PER_ENTRY
    finally:
        cache.configure(64, 1024)


def test_a_registration_needs_a_name():
    with pytest.raises(ValueError):
        cache_registry.register("", bound=1, entries=lambda: 0, clear=lambda: None)


def test_health_shows_the_caches(client, make_experiment):
    make_experiment("a000")
    assert client.get("/v4/experiments/a000/jobs").status_code == 200
    assert client.get("/v4/experiments/a000/jobs").status_code == 200
    # A body built per request: its version goes to http_cache's LRU.
    assert client.get("/v4/experiments/a000").status_code == 200
    health = client.get("/v4/health")
    assert health.headers["Cache-Control"] == "no-store"  # live: never kept by that LRU
    caches = health.get_json()["caches"]
    assert set(EXPECTED) <= set(caches)
    views = caches["services.jobs.loading.views"]
    assert views["entries"] >= 1 and views["hits"] >= 1 and views["bound"] == 256
    assert caches["readers.cache.large"]["entries"] >= 1
    recent = caches["http_cache.recent"]
    assert recent["entries"] >= 1 and recent["bytes"] > 0 and recent["misses"] >= 1
    assert caches["services.rendered.versions"]["entries"] >= 1  # the jobs view's body
