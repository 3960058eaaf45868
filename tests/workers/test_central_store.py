"""central_store writes against a factory-made SQLite site (autosubmit.db, as_times.db)."""

from __future__ import annotations

import os
import sqlite3

import pytest

from autosubmit_api.errors import Unavailable
from tests.factory import add_central_row
from autosubmit_api.models import AuditOrigin
from autosubmit_api.readers import backend, central_store
from autosubmit_api.models import DetailsRow, StatusRow

WRITER = AuditOrigin("alice", "127.0.0.1", "req-1", "/v3/updatedesc")
NOW = "2026-01-01T00:00:00+00:00"


@pytest.fixture(autouse=True)
def _fresh_engines():
    backend.dispose_all()
    yield
    backend.dispose_all()


def _description(site, expid):
    with sqlite3.connect(site.central_db) as conn:
        return conn.execute("SELECT description FROM experiment WHERE name = ?", (expid,)).fetchone()[0]


def test_update_description_changes_only_that_experiment(site, settings):
    add_central_row(site, "a000", description="old")
    add_central_row(site, "a001", description="other")
    assert central_store.update_description(settings, "a000", "new text", WRITER, NOW) is True
    assert _description(site, "a000") == "new text"
    assert _description(site, "a001") == "other"


def test_update_description_of_unknown_experiment_is_false(site, settings):
    add_central_row(site, "a000")
    assert central_store.update_description(settings, "zz99", "x", WRITER, NOW) is False


def test_update_description_never_creates_a_missing_central_db(site, settings):
    os.remove(site.central_db)
    with pytest.raises(Unavailable):
        central_store.update_description(settings, "a000", "x", WRITER, NOW)
    assert not site.central_db.exists()


def test_update_description_on_a_locked_db_is_unavailable(site, env):
    add_central_row(site, "a000", description="old")
    settings = site.settings(env, sqlite_timeout=0.1)
    holder = sqlite3.connect(site.central_db)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(Unavailable) as info:
            central_store.update_description(settings, "a000", "new", WRITER, NOW)
        assert "locked" in info.value.message
        assert str(site.root) not in info.value.message
    finally:
        holder.rollback()
        holder.close()
    assert _description(site, "a000") == "old"
    assert central_store.update_description(settings, "a000", "new", WRITER, NOW) is True


def test_upsert_details_inserts_updates_and_keeps_other_rows(site, settings):
    a = add_central_row(site, "a000", details={"user": "u0", "hpc": "MN5"})
    b = add_central_row(site, "a001", details={"user": "u1"})
    c = add_central_row(site, "a002")
    counts = central_store.upsert_details(
        settings,
        [
            DetailsRow(a, "u0", "2024-01-01 00:00:00", "NA", "NA", "MN5"),
            DetailsRow(c, "u2", "2024-02-02 00:00:00", "git@x", "main", "LOCAL"),
        ],
    )
    assert counts == {"inserted": 1, "updated": 0, "unchanged": 1}
    with sqlite3.connect(site.central_db) as conn:
        rows = dict((r[0], r[1:]) for r in conn.execute("SELECT exp_id, user, hpc FROM details"))
    assert rows[b] == ("u1", "LOCAL")  # not in this run: kept
    assert rows[c] == ("u2", "LOCAL")


def test_apply_statuses_writes_changes_and_drops_deleted_experiments(site, settings):
    a = add_central_row(site, "a000", status="NOT RUNNING")
    b = add_central_row(site, "a001", status="RUNNING")
    counts = central_store.apply_statuses(
        settings,
        [StatusRow(a, "a000", "RUNNING", "2024-05-05-10:00:00")],
        existing_ids=[a],
    )
    assert counts == {"written": 1, "deleted": 1}
    rows = central_store.status_rows(settings)
    assert [(r["exp_id"], r["status"], r["modified"]) for r in rows] == [(a, "RUNNING", "2024-05-05-10:00:00")]
    assert b not in [r["exp_id"] for r in rows]
