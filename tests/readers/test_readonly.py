"""Readers never change Autosubmit's files, never create any, and do not hang on locks."""
from __future__ import annotations

import os
import sqlite3
import threading

import pytest

from autosubmit_api.errors import DataError, Unavailable
from autosubmit_api.readers import cache, exp_config, graph_layout, job_data, packages, paths
from tests.fixture_site import EXPIDS, copy_fixtures, settings_for, snapshot


@pytest.fixture
def fixture_root(tmp_path):
    return copy_fixtures(tmp_path)


def _read_everything(settings):
    for expid in EXPIDS:
        job_data.load_history(settings, expid)
        job_data.load_history(settings, expid, last_only=True)
        job_data.children_map(settings, expid)
        packages.load_packages(settings, expid)
        graph_layout.load_layout(settings, expid)
        exp_config.load_config(settings, expid)
        exp_config.load_metadata_config(settings, expid)


def test_reading_every_fixture_changes_and_creates_nothing(fixture_root):
    settings = settings_for(fixture_root)
    before = snapshot(fixture_root)
    _read_everything(settings)
    cache.clear()
    _read_everything(settings)
    after = snapshot(fixture_root)
    assert set(after) == set(before), set(after) ^ set(before)
    assert after == before


def test_missing_optional_files_create_nothing(fixture_root):
    settings = settings_for(fixture_root)
    for path in (paths.packages_db(settings, "a003"), paths.graph_db(settings, "a003"),
                 paths.job_data_db(settings, "a003")):
        os.remove(path)
    before = snapshot(fixture_root)
    assert not packages.load_packages(settings, "a003")
    assert graph_layout.load_layout(settings, "a003") == {}
    assert job_data.load_history(settings, "a003", optional=True) is None
    assert snapshot(fixture_root) == before


def _hold_exclusive(path, ready, release):
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    ready.set()
    release.wait(30)
    conn.execute("ROLLBACK")
    conn.close()


@pytest.mark.parametrize("reader", ["job_data", "packages", "graph_layout"])
def test_a_write_lock_gives_an_answer_or_a_typed_error(fixture_root, reader):
    settings = settings_for(fixture_root, sqlite_timeout=0.2)
    path = {"job_data": paths.job_data_db(settings, "a003"),
            "packages": paths.packages_db(settings, "a003"),
            "graph_layout": paths.graph_db(settings, "a003")}[reader]
    ready, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_exclusive, args=(path, ready, release), daemon=True)
    holder.start()
    assert ready.wait(10)
    outcome = {}

    def call():
        try:
            if reader == "job_data":
                outcome["value"] = job_data.load_history(settings, "a003")
            elif reader == "packages":
                outcome["value"] = packages.load_packages(settings, "a003")
            else:
                outcome["value"] = graph_layout.load_layout(settings, "a003")
        except (Unavailable, DataError) as exc:
            outcome["error"] = exc
        except BaseException as exc:  # anything else is a failure of the test
            outcome["unexpected"] = exc

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(20)  # generous: only "does not hang" is asserted, never a speed
    release.set()
    holder.join(10)
    assert not worker.is_alive(), "the read hung on the lock"
    assert "unexpected" not in outcome, outcome.get("unexpected")
    assert "value" in outcome or isinstance(outcome["error"], (Unavailable, DataError))
    if "error" in outcome:
        assert os.path.basename(path) in outcome["error"].message
    # Once the lock is gone, the read works.
    cache.clear()
    call_result = job_data.load_history(settings, "a003") if reader == "job_data" else None
    assert call_result is None or len(call_result.rows) == 16


@pytest.mark.parametrize("content", [b"", b"\x00garbage\xff" * 500])
def test_corrupt_or_empty_history_is_a_data_error(fixture_root, content):
    settings = settings_for(fixture_root)
    with open(paths.job_data_db(settings, "a007"), "wb") as handle:
        handle.write(content)
    with pytest.raises(DataError) as info:
        job_data.load_history(settings, "a007")
    assert "job_data_a007.db" in info.value.message


def test_corrupt_graph_db_is_a_data_error(fixture_root):
    settings = settings_for(fixture_root)
    with open(paths.graph_db(settings, "a003"), "wb") as handle:
        handle.write(b"\x00garbage\xff" * 500)
    with pytest.raises(DataError) as info:
        graph_layout.load_layout(settings, "a003")
    assert "graph_data_a003.db" in info.value.message
