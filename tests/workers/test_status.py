"""Status worker against factory-made experiments and a temporary SQLite central DB."""
from __future__ import annotations

import os
import sqlite3
import time

import pytest

from autosubmit_api.errors import Unavailable
from autosubmit_api.factory import set_statuses
from autosubmit_api.readers import central_store
from autosubmit_api.workers import status


def _age(path, seconds):
    then = time.time() - seconds
    os.utime(path, (then, then))


def _stored(settings):
    return {row["name"]: row["status"] for row in central_store.status_rows(settings)}


def _run_log(exp, name="20240101_run.log", age=0):
    path = exp.path / "tmp" / "ASLOGS" / name
    path.write_text("running\n")
    _age(path, age)
    return path


def test_a_freshly_written_pickle_is_running(settings, make_experiment):
    make_experiment("a000")
    status.run(settings)
    rows = central_store.status_rows(settings)
    assert [(r["name"], r["status"], r["seconds_diff"]) for r in rows] == [("a000", "RUNNING", 0)]
    assert time.strptime(rows[0]["modified"], "%Y-%m-%d-%H:%M:%S")


def test_a_stale_pickle_is_not_running_and_a_rewritten_one_is(settings, make_experiment):
    exp = make_experiment("a000", status="RUNNING")
    _age(exp.pkl_path, 7200)
    status.run(settings)
    assert _stored(settings) == {"a000": "NOT RUNNING"}
    set_statuses(exp, {exp.jobs[0].name: 4})  # Autosubmit rewrites the pickle as it runs
    status.run(settings)
    assert _stored(settings) == {"a000": "RUNNING"}


def test_between_ten_minutes_and_an_hour_the_run_log_decides(settings, make_experiment):
    exp = make_experiment("a000")
    _age(exp.pkl_path, 1800)
    log = _run_log(exp, age=30)
    status.run(settings)
    assert _stored(settings) == {"a000": "RUNNING"}
    _age(log, 400)
    status.run(settings)
    assert _stored(settings) == {"a000": "NOT RUNNING"}


def test_an_old_pickle_is_not_running_even_with_a_fresh_log(settings, make_experiment):
    exp = make_experiment("a000", status="RUNNING")
    _age(exp.pkl_path, 4000)
    _run_log(exp, age=0)
    status.run(settings)
    assert _stored(settings) == {"a000": "NOT RUNNING"}


def test_without_a_pickle_the_experiment_is_not_running(settings, make_experiment):
    exp = make_experiment("a000", status="RUNNING")
    exp.pkl_path.unlink()
    status.run(settings)
    assert _stored(settings) == {"a000": "NOT RUNNING"}


def test_unchanged_statuses_keep_their_modified_time(site, settings, make_experiment):
    exp = make_experiment("a000", status="NOT RUNNING")
    _age(exp.pkl_path, 7200)
    status.run(settings)
    assert central_store.status_rows(settings)[0]["modified"] == "2024-01-01-00:00:00"


def test_rows_of_deleted_experiments_are_removed(site, settings, make_experiment):
    a = make_experiment("a000")
    b = make_experiment("a001")
    status.run(settings)
    assert set(_stored(settings)) == {"a000", "a001"}
    with sqlite3.connect(site.central_db) as conn:
        conn.execute("DELETE FROM experiment WHERE id = ?", (b.exp_id,))
    status.run(settings)
    assert set(_stored(settings)) == {"a000"}
    assert a.exp_id == central_store.status_rows(settings)[0]["exp_id"]


def test_a_failure_in_the_middle_leaves_the_previous_state(site, settings, make_experiment):
    make_experiment("a000", status="NOT RUNNING")
    make_experiment("a001", status="NOT RUNNING")
    with sqlite3.connect(site.as_times_db) as conn:
        # The second change of the run fails inside the database.
        conn.execute("CREATE TRIGGER fail_second BEFORE UPDATE ON experiment_status "
                     "WHEN NEW.name = 'a001' BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    with pytest.raises(Unavailable):
        status.run(settings)
    assert _stored(settings) == {"a000": "NOT RUNNING", "a001": "NOT RUNNING"}


def test_status_worker_never_touches_autosubmit_files(site, settings, make_experiment):
    exp = make_experiment("a000")
    _age(exp.pkl_path, 1800)
    _run_log(exp, age=10)
    watched = [exp.pkl_path, site.central_db, site.jobdata_dir / "job_data_a000.db"]
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in watched}
    status.run(settings)
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in watched} == before
