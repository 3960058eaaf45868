"""Status worker against factory-made experiments, on a temporary SQLite central DB and on
the same site copied into PostgreSQL (the `backend` fixture, tests/workers/conftest.py)."""

from __future__ import annotations

import os
import time

import pytest

from autosubmit_api import workers
from autosubmit_api.errors import Unavailable
from autosubmit_api.readers import central_store
from autosubmit_api.workers import status
from tests.workers.conftest import changed


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


def test_a_freshly_written_pickle_is_running(backend, make_experiment):
    make_experiment("a000")
    settings = backend.settings()
    status.run(settings)
    rows = central_store.status_rows(settings)
    assert [(r["name"], r["status"], r["seconds_diff"]) for r in rows] == [("a000", "RUNNING", 0)]
    assert time.strptime(rows[0]["modified"], "%Y-%m-%d-%H:%M:%S")


def test_a_stale_pickle_is_not_running_and_a_rewritten_one_is(backend, make_experiment):
    exp = make_experiment("a000", status="RUNNING")
    other = make_experiment("a001")
    settings = backend.settings()
    backend.age_pkl(exp, 7200)
    status.run(settings)
    assert _stored(settings) == {"a000": "NOT RUNNING", "a001": "RUNNING"}
    backend.rewrite_pkl(exp, {exp.jobs[0].name: 4})  # Autosubmit rewrites the pickle as it runs
    backend.age_pkl(other, 7200)
    status.run(settings)
    assert _stored(settings) == {"a000": "RUNNING", "a001": "NOT RUNNING"}


def test_between_ten_minutes_and_an_hour_the_run_log_decides(backend, make_experiment):
    exp = make_experiment("a000")
    quiet = make_experiment("a001")
    settings = backend.settings()
    backend.age_pkl(exp, 1800)
    backend.age_pkl(quiet, 1800)
    log = _run_log(exp, age=30)
    status.run(settings)
    # a001 is NOT RUNNING: no row, as a missing row means (docs/data.md A.3)
    assert _stored(settings) == {"a000": "RUNNING"}
    _age(log, 400)
    status.run(settings)
    assert _stored(settings) == {"a000": "NOT RUNNING"}


def test_an_old_pickle_is_not_running_even_with_a_fresh_log(backend, make_experiment):
    exp = make_experiment("a000", status="RUNNING")
    settings = backend.settings()
    backend.age_pkl(exp, 4000)
    _run_log(exp, age=0)
    status.run(settings)
    assert _stored(settings) == {"a000": "NOT RUNNING"}


def test_without_a_pickle_the_experiment_is_not_running(backend, make_experiment):
    exp = make_experiment("a000", status="RUNNING")
    settings = backend.settings()
    backend.remove_pkl(exp)
    status.run(settings)
    assert _stored(settings) == {"a000": "NOT RUNNING"}


def test_unchanged_statuses_keep_their_modified_time(backend, make_experiment):
    exp = make_experiment("a000", status="NOT RUNNING")
    _age(exp.pkl_path, 7200)
    settings = backend.settings()
    status.run(settings)
    assert central_store.status_rows(settings)[0]["modified"] == "2024-01-01-00:00:00"


def test_a_second_run_with_nothing_changed_writes_nothing(backend, make_experiment):
    make_experiment("a000")
    stale = make_experiment("a001", status="RUNNING")
    _age(stale.pkl_path, 7200)
    settings = backend.settings()
    before = backend.snapshot()
    status.run(settings)
    first = backend.snapshot()
    assert changed(before, first) == backend.location("experiment_status")
    status.run(settings)
    assert changed(first, backend.snapshot()) == set()


def test_rows_of_deleted_experiments_are_removed(backend, make_experiment):
    a = make_experiment("a000")
    b = make_experiment("a001")
    settings = backend.settings()
    status.run(settings)
    assert set(_stored(settings)) == {"a000", "a001"}
    backend.delete_experiment(b)
    status.run(settings)
    assert set(_stored(settings)) == {"a000"}
    assert a.exp_id == central_store.status_rows(settings)[0]["exp_id"]


def test_a_failure_in_the_middle_leaves_the_previous_state(backend, make_experiment):
    make_experiment("a000", status="NOT RUNNING")
    make_experiment("a001", status="NOT RUNNING")
    settings = backend.settings()
    # The second change of the run fails inside the database.
    backend.fail_status_writes_of("a001", "disk full")
    with pytest.raises(Unavailable) as failure:
        status.run(settings)
    assert "disk full" in failure.value.message
    assert _stored(settings) == {"a000": "NOT RUNNING", "a001": "NOT RUNNING"}
    # Run as the scheduler does: recorded as failed, still nothing written.
    workers.METRICS.pop("status", None)
    assert workers.run_job(workers.job("status"), settings) is False
    assert "disk full" in workers.METRICS["status"]["last_error"]
    assert _stored(settings) == {"a000": "NOT RUNNING", "a001": "NOT RUNNING"}


def test_status_worker_never_touches_autosubmit_files(backend, make_experiment):
    exp = make_experiment("a000")
    _age(exp.pkl_path, 1800)
    _run_log(exp, age=10)
    settings = backend.settings()
    before = backend.snapshot()
    status.run(settings)
    assert _stored(settings) == {"a000": "RUNNING"}
    # Only experiment_status changed: not the pickle, the history, the experiment table...
    assert changed(before, backend.snapshot()) == backend.location("experiment_status")
