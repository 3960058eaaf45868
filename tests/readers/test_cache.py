"""readers/cache.py: separate bounds for large and small kinds, and invalidation by file
identity (path, mtime, size)."""

from __future__ import annotations

import os

import pytest

from autosubmit_api.app import create_app
from autosubmit_api.readers import cache, exp_config, job_list


@pytest.fixture
def bounds():
    """Restore the process-wide bounds whatever a test configures."""
    yield
    cache.configure(64, 1024)


def _bump_mtime(path, seconds=10):
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + seconds * 1_000_000_000))


@pytest.mark.slow
def test_many_small_entries_do_not_evict_a_parsed_job_list(bounds, site, make_experiment):
    # A v3 search reads the configuration of every experiment listed (two entries each):
    # with one entry count shared by both, 40 experiments evicted every parsed job list.
    cache.configure(64, 1024)
    make_experiment("a000")
    settings = site.settings({})
    big = job_list.load_job_list(settings, "a000")
    for n in range(1, 41):
        expid = f"b{n:03d}"
        make_experiment(expid, jobs=[])
        exp_config.load_config(settings, expid)
    large, small = cache.sizes()
    assert small >= 40  # the configurations were cached...
    assert large == 1  # ...in their own LRU, beside the one job list
    assert job_list.load_job_list(settings, "a000") is big


def test_the_small_bound_evicts_only_small_entries(bounds):
    cache.configure(2, 3)
    big = cache.cached("job_list", "key", lambda: object())
    for n in range(10):
        cache.cached("exp_config", n, lambda: object())
    assert cache.sizes() == (1, 3)
    assert cache.cached("job_list", "key", lambda: object()) is big
    recent = cache.cached("exp_config", 9, lambda: object())
    assert cache.cached("exp_config", 9, lambda: object()) is recent


def test_unlisted_kinds_count_as_large(bounds):
    cache.configure(2, 1024)
    first = cache.cached("some_new_kind", 1, lambda: object())
    cache.cached("some_new_kind", 2, lambda: object())
    cache.cached("job_data", 3, lambda: object())
    assert cache.sizes() == (2, 0)
    assert cache.cached("some_new_kind", 1, lambda: object()) is not first  # evicted


def test_a_changed_pickle_is_parsed_again(site, make_experiment):
    experiment = make_experiment("a000")
    settings = site.settings({})
    first = job_list.load_job_list(settings, "a000")
    assert job_list.load_job_list(settings, "a000") is first
    _bump_mtime(experiment.pkl_path)
    second = job_list.load_job_list(settings, "a000")
    assert second is not first
    assert [j.name for j in second.jobs] == [j.name for j in first.jobs]


def test_a_changed_configuration_is_read_again(site, make_experiment):
    experiment = make_experiment("a000")
    settings = site.settings({})
    first = exp_config.load_config(settings, "a000")
    conf_dir = experiment.path / "conf"
    for name in os.listdir(conf_dir):
        _bump_mtime(conf_dir / name)
    assert exp_config.load_config(settings, "a000") is not first


def test_settings_configure_both_bounds(bounds, site):
    settings = site.settings({"API_CACHE_ENTRIES": "3", "API_CACHE_SMALL_ENTRIES": "5"})
    assert (settings.cache_entries, settings.cache_small_entries) == (3, 5)
    create_app(settings, start_workers=False)
    for n in range(10):
        cache.cached("job_list", n, lambda: n)
        cache.cached("exp_config", n, lambda: n)
    assert cache.sizes() == (3, 5)
    assert cache.large_bound() == 3
