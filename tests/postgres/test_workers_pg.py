"""What only the PostgreSQL backend does for the background jobs: the advisory lock that
lets one host per interval run a job, and the health route naming that host.

What each job computes and writes is the same on both backends and is tested once, on
SQLite and on PostgreSQL, by tests/workers/test_status.py, test_details.py and
test_graph_layouts.py (their `backend` fixture, tests/workers/conftest.py).
"""

from __future__ import annotations

import socket

import pytest

from autosubmit_api import workers
from autosubmit_api.services.health import background_tasks
from tests.factory import postgres as pgf


@pytest.fixture(autouse=True)
def _fresh_metrics():
    workers.METRICS.clear()
    yield
    workers.METRICS.clear()


@pytest.fixture
def pg_site(site, env, make_experiment, pg_url):
    """Two experiments copied into PostgreSQL, SQLite files and pickles removed."""
    experiments = [make_experiment("a000"), make_experiment("a001")]
    pgf.copy_site(site, pg_url)
    pgf.write_pg_rc(site, pg_url)
    pgf.remove_sqlite_files(site, ["a000", "a001"])
    settings = site.settings(env)
    return settings, pg_url, experiments


def test_run_job_takes_the_advisory_lock_and_records_the_interval(pg_site):
    settings, _, _ = pg_site
    assert workers.run_job(workers.job("status"), settings) is True
    assert workers.run_job(workers.job("status"), settings) is False  # same interval, skipped
    assert workers.METRICS["status"]["last_skip_reason"] == "already run in this interval"
    assert workers.run_job(workers.job("status"), settings, force=True) is True
    cluster = {row["job"]: row for row in background_tasks(settings)["cluster"]}
    assert cluster["status"]["ok"] is True


def test_the_health_route_shows_which_host_ran_each_job(pg_site):
    from autosubmit_api.app import create_app

    settings, _, _ = pg_site
    assert workers.run_job(workers.job("status"), settings) is True
    body = create_app(settings).test_client().get("/v4/health").get_json()
    assert body["backend"] == "postgres" and body["central_db"]["reachable"] is True
    assert body["background_tasks"]["jobs"]["status"]["ok"] is True
    cluster = {row["job"]: row for row in body["background_tasks"]["cluster"]}
    assert cluster["status"]["host"] == socket.gethostname()
