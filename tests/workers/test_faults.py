"""Faults of the central databases: locked by another writer, missing, read-only.

The experiment routes keep answering (they read the experiment's own files), the health
route reports the failing job, and the next run after the fault clears writes everything.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess

import pytest

from autosubmit_api import workers
from autosubmit_api.app import create_app
from autosubmit_api.readers import central_store


@pytest.fixture(autouse=True)
def _fresh_metrics():
    workers.METRICS.clear()
    yield
    workers.METRICS.clear()


@pytest.fixture
def quick_settings(site, env):
    # A short busy timeout: the tests wait on purpose for locks they hold themselves.
    return site.settings(env, sqlite_timeout=0.2)


def _health_job(client, name):
    body = client.get("/v4/health").get_json()
    return body, body["background_tasks"]["jobs"][name]


def _experiment_routes_answer(client, expid="a000"):
    for route in (f"/quick/{expid}", f"/tree/{expid}", f"/runs/{expid}", f"/v4/experiments/{expid}/jobs"):
        response = client.get(route)
        assert response.status_code == 200, route
        body = response.get_json()
        assert not (isinstance(body, dict) and body.get("error")), (route, body)


def test_a_central_db_locked_by_another_writer(site, quick_settings, make_experiment):
    make_experiment("a000")
    client = create_app(quick_settings).test_client()
    autosubmit = sqlite3.connect(site.central_db)
    autosubmit.execute("BEGIN IMMEDIATE")
    autosubmit.execute("UPDATE experiment SET description = 'written by autosubmit' WHERE name = 'a000'")
    try:
        assert workers.run_job(workers.job("details"), quick_settings) is False
        body, details = _health_job(client, "details")
        assert "locked" in details["last_error"] and details["ok"] is False
        _experiment_routes_answer(client)
        assert client.get("/v4/experiments/a000").status_code == 200  # readers still read
    finally:
        autosubmit.commit()
        autosubmit.close()
    assert workers.run_job(workers.job("details"), quick_settings) is True
    with sqlite3.connect(site.central_db) as conn:
        assert conn.execute("SELECT description FROM experiment").fetchone()[0] == "written by autosubmit"
        assert conn.execute("SELECT COUNT(*) FROM details").fetchone()[0] == 1
    assert _health_job(client, "details")[1]["last_error"] is None


def test_a_status_db_locked_by_another_writer(site, quick_settings, make_experiment):
    make_experiment("a000")
    client = create_app(quick_settings).test_client()
    autosubmit = sqlite3.connect(site.as_times_db)
    autosubmit.execute("BEGIN IMMEDIATE")
    autosubmit.execute("DELETE FROM experiment_status")
    try:
        assert workers.run_job(workers.job("status"), quick_settings) is False
        assert "locked" in _health_job(client, "status")[1]["last_error"]
        assert client.get("/ifrun/a000").get_json()["running"] is False
        _experiment_routes_answer(client)
    finally:
        autosubmit.commit()
        autosubmit.close()
    assert workers.run_job(workers.job("status"), quick_settings) is True
    assert [(r["name"], r["status"]) for r in central_store.status_rows(quick_settings)] == [("a000", "RUNNING")]
    assert client.get("/ifrun/a000").get_json()["running"] is True


def test_a_missing_central_db(site, quick_settings, make_experiment):
    make_experiment("a000")
    client = create_app(quick_settings).test_client()
    saved = site.root / "autosubmit.db.away"
    shutil.move(site.central_db, saved)
    assert workers.run_job(workers.job("status"), quick_settings) is False
    assert workers.run_job(workers.job("details"), quick_settings) is False
    response = client.get("/v4/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["central_db"]["reachable"] is False
    assert body["background_tasks"]["jobs"]["status"]["errors"] == 1
    _experiment_routes_answer(client)
    assert not site.central_db.exists()  # neither a worker nor a route created an empty one
    shutil.move(saved, site.central_db)
    assert workers.run_job(workers.job("status"), quick_settings) is True
    assert client.get("/v4/health").status_code == 200
    assert [r["status"] for r in central_store.status_rows(quick_settings)] == ["RUNNING"]


@contextlib.contextmanager
def read_only(path):
    """Make a file unwritable even for root: the immutable attribute when running as root
    (root ignores permission bits), permission bits otherwise."""
    if os.geteuid() == 0:
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)]).returncode:
            pytest.skip("running as root and the immutable attribute is not available here")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        os.chmod(path, 0o444)
        os.chmod(path.parent, 0o555)  # no journal can be created beside it either
        try:
            yield
        finally:
            os.chmod(path.parent, 0o755)
            os.chmod(path, 0o644)


def test_a_read_only_central_db(site, quick_settings, make_experiment):
    make_experiment("a000")
    client = create_app(quick_settings).test_client()
    before = site.central_db.read_bytes()
    with read_only(site.central_db):
        assert workers.run_job(workers.job("details"), quick_settings) is False
        error = _health_job(client, "details")[1]["last_error"]
        assert "readonly" in error.replace("-", "").replace(" ", ""), error
        _experiment_routes_answer(client)
        assert client.get("/v4/experiments/a000").status_code == 200
        assert site.central_db.read_bytes() == before
    assert workers.run_job(workers.job("details"), quick_settings) is True
