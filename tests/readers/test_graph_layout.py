"""readers/graph_layout.py: the API's own layout DB (docs/data.md A.11)."""

from __future__ import annotations

import os
import sqlite3

from tests.factory import packages as factory_packages
from autosubmit_api.readers import graph_layout, paths


def test_missing_layout_is_empty_and_nothing_is_created(settings):
    assert graph_layout.load_layout(settings, "a000") == {}
    assert not os.path.exists(paths.graph_db(settings, "a000"))


def test_factory_layout_round_trips(settings):
    positions = {"a000_LOCAL_SETUP": (154, -652), "a000_INI": (154, -562)}
    factory_packages.write_graph_layout(paths.graph_db(settings, "a000"), positions)
    assert graph_layout.load_layout(settings, "a000") == positions


def test_write_layout_replaces_the_file_atomically(settings, tmp_path):
    first = {"a": (1, 2), "b": (3, 4)}
    path = graph_layout.write_layout(settings, "a000", first)
    assert graph_layout.load_layout(settings, "a000") == first
    # A connection opened on the old file keeps seeing the old, complete table.
    old = sqlite3.connect(path)
    second = {"c": (5, 6)}
    graph_layout.write_layout(settings, "a000", second)
    assert dict((n, (x, y)) for n, x, y in old.execute("SELECT job_name, x, y FROM experiment_graph_draw")) == first
    old.close()
    assert graph_layout.load_layout(settings, "a000") == second
    leftovers = [f for f in os.listdir(os.path.dirname(path)) if f.endswith(".tmp")]
    assert leftovers == []
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o644)
    columns = [r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(experiment_graph_draw)")]
    assert columns == ["id", "job_name", "x", "y"]


def test_write_layout_creates_the_graph_directory(site, settings):
    os.rmdir(site.graph_dir)
    graph_layout.write_layout(settings, "a000", {"a": (0, 0)})
    assert graph_layout.load_layout(settings, "a000") == {"a": (0, 0)}


def test_file_without_table_is_empty(settings):
    sqlite3.connect(paths.graph_db(settings, "a000")).close()
    assert graph_layout.load_layout(settings, "a000") == {}
