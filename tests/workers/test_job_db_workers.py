"""The status, details and layout workers on Autosubmit 4.2 experiments (the job list in
`db/job_list.db`, or in the expid schema's `jobs` table on PostgreSQL), on both backends
(the `backend` fixture, tests/workers/conftest.py)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

from tests.factory import job_db as factory_db
from autosubmit_api.readers import central_db, central_store
from autosubmit_api.workers import details, graph_layouts, status


def _saved(backend, exp, when):
    """Autosubmit 4.2 saves one row of the job list at `when`."""
    if backend.is_postgres:
        factory_db.update_jobs_postgres(backend.url, exp.expid, exp.jobs[:1], when)
    else:
        factory_db.update_jobs(exp.job_db_path, exp.jobs[:1], when)


def _statuses(settings):
    return {row["name"]: row["status"] for row in central_store.status_rows(settings)}


def test_the_status_worker_follows_the_latest_saved_row(backend, make_experiment):
    exp = make_experiment("a042", job_list_layout="db", autosubmit_version="4.2.0")
    old = make_experiment("a043", job_list_layout="db", autosubmit_version="4.2.0")
    settings = backend.settings()
    now = datetime.now(timezone.utc)
    _saved(backend, exp, now - timedelta(seconds=30))
    _saved(backend, old, now - timedelta(hours=5))
    assert {row.name: row.status for row in status.compute(settings)} == {"a042": "RUNNING", "a043": "NOT RUNNING"}
    status.run(settings)
    assert _statuses(settings)["a042"] == "RUNNING"


def test_the_details_worker_sees_the_job_list(backend, make_experiment):
    make_experiment("a042", job_list_layout="db", autosubmit_version="4.2.0")
    gone = make_experiment("a043", job_list_layout="db", autosubmit_version="4.2.0")
    if not backend.is_postgres:
        gone.job_db_path.unlink()  # an experiment whose create failed: no job list at all
    settings = backend.settings()
    if backend.is_postgres:
        backend._pg('DROP TABLE "a043".jobs')
    rows, skipped = details.collect(settings, central_store.experiments(settings))
    assert [r.exp_id for r in rows] == [1]
    assert skipped == {"a043": "job list not found"}
    details.run(settings)
    assert central_db.get_experiment(settings, "a042").user is not None


def test_the_layout_worker_stores_a_42_experiments_layout(backend, site, make_experiment):
    exp = make_experiment("a042", job_list_layout="db", autosubmit_version="4.2.0", status="RUNNING")
    settings = backend.settings()
    graph_layouts.run(settings)
    with sqlite3.connect(f"file:{site.graph_dir / 'graph_data_a042.db'}?mode=ro", uri=True) as conn:
        names = {r[0] for r in conn.execute("SELECT job_name FROM experiment_graph_draw")}
    conn.close()
    assert names == {job.name for job in exp.jobs}
