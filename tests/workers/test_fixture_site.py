"""The workers on a copy of the real fixture tree (../shared/fixtures): every experiment is
handled, and no file Autosubmit owns changes."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from autosubmit_api.readers import central_store
from autosubmit_api.workers import details, graph_layouts, status
from tests.fixture_site import copy_fixture_tree, settings_for


@pytest.fixture
def fixture_site(tmp_path):
    root = copy_fixture_tree(tmp_path / "fixtures")
    return root, settings_for(root)


def _digests(root):
    """sha256 of every file Autosubmit owns (all but the two central DBs and the graph dir)."""
    skip = {root / "autosubmit.db", root / "as_times.db", root / ".autosubmitrc"}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p not in skip and (root / "metadata" / "graph") not in p.parents
    }


def test_workers_handle_every_fixture_experiment_and_touch_nothing_else(fixture_site):
    root, settings = fixture_site
    before = _digests(root)
    with sqlite3.connect(root / "autosubmit.db") as conn:
        experiment_rows = conn.execute("SELECT * FROM experiment ORDER BY id").fetchall()
        details_before = dict((r[0], r[1:]) for r in conn.execute("SELECT * FROM details"))
    status.run(settings)
    details.run(settings)
    graph_layouts.run(settings)
    names = [e.name for e in central_store.experiments(settings)]
    assert len(names) == 9
    # Old pickles (the tree's mtimes are months old): nothing is running, no row is written.
    assert {r["status"] for r in central_store.status_rows(settings)} <= {"NOT RUNNING"}
    with sqlite3.connect(root / "autosubmit.db") as conn:
        assert conn.execute("SELECT * FROM experiment ORDER BY id").fetchall() == experiment_rows
        details_after = dict((r[0], r[1:]) for r in conn.execute("SELECT * FROM details"))
    # The five rows the tree had are kept (created too), and the four newer experiments,
    # whose configurations all load, get theirs.
    ids = [r[0] for r in experiment_rows]
    assert sorted(details_after) == sorted(ids) and len(ids) == 9
    assert {k: v[1] for k, v in details_after.items() if k in details_before} == {
        k: v[1] for k, v in details_before.items()
    }
    assert _digests(root) == before
