"""The job table, run_job's metrics and the scheduler's start-up switches (docs/api.md 2.1, 8)."""

from __future__ import annotations

import shutil

import pytest

from autosubmit_api import workers
from autosubmit_api.app import create_app
from autosubmit_api.readers import central_store
from autosubmit_api.services.health import background_tasks


@pytest.fixture(autouse=True)
def _fresh_metrics():
    workers.METRICS.clear()
    yield
    workers.METRICS.clear()


def test_every_job_has_a_run_function_and_an_interval_from_settings(settings):
    table = workers.jobs()
    assert [j.name for j in table][:2] == ["status", "details"]
    changed = settings.replace(worker_interval_seconds=7, details_worker_interval_seconds=11)
    assert workers.job("status").interval(changed) == 7
    assert workers.job("details").interval(changed) == 11
    assert all(callable(j.run) for j in table)


def test_a_failing_run_is_recorded_and_the_next_run_succeeds(site, settings, make_experiment):
    make_experiment("a000")
    saved = site.root / "autosubmit.db.saved"
    shutil.move(site.central_db, saved)
    status_job = workers.job("status")
    assert workers.run_job(status_job, settings) is False
    failed = dict(workers.METRICS["status"])
    assert failed["ok"] is False and failed["errors"] == 1
    assert failed["last_error"].startswith("Unavailable: The central database cannot be read")
    assert not site.central_db.exists()  # the worker never creates Autosubmit's database
    shutil.move(saved, site.central_db)
    assert workers.run_job(status_job, settings) is True
    after = workers.METRICS["status"]
    assert (after["ok"], after["runs"], after["errors"], after["last_error"]) == (True, 2, 1, None)
    assert after["last_error_time"] == failed["last_error_time"]
    assert [r["status"] for r in central_store.status_rows(settings)] == ["RUNNING"]


def test_health_lists_every_job_even_before_its_first_run(settings):
    report = background_tasks(settings)
    assert report["enabled"] is False  # tests never run the scheduler
    assert set(report["jobs"]) == {j.name for j in workers.jobs()}
    assert report["jobs"]["status"]["runs"] == 0
    assert report["jobs"]["status"]["interval_seconds"] == settings.worker_interval_seconds
    assert report["cluster"] == []


def test_the_app_under_tests_starts_no_scheduler(settings):
    app = create_app(settings)
    assert "scheduler" not in app.extensions["autosubmit_api"]


def test_disable_bg_tasks_starts_no_scheduler(site, env):
    settings = site.settings(dict(env, DISABLE_BACKGROUND_TASKS="true"), testing=False)
    app = create_app(settings)
    assert "scheduler" not in app.extensions["autosubmit_api"]


def test_init_bg_tasks_runs_each_job_once_before_serving(site, env, make_experiment):
    make_experiment("a000")
    settings = site.settings(dict(env, RUN_BACKGROUND_TASKS_ON_START="True"), testing=False)
    assert settings.run_background_tasks_on_start
    app = create_app(settings)
    scheduler = app.extensions["autosubmit_api"]["scheduler"]
    try:
        # Ran synchronously inside create_app: the status row is there before any request.
        assert [r["name"] for r in central_store.status_rows(settings)] == ["a000"]
        assert {name: m["runs"] for name, m in workers.METRICS.items()} == {j.name: 1 for j in workers.jobs()}
        ids = {job.id for job in scheduler.get_jobs()}
        assert ids == {j.name for j in workers.jobs()}
        nxt = {job.id: job.next_run_time.timestamp() for job in scheduler.get_jobs()}
        assert nxt["status"] % settings.worker_interval_seconds == pytest.approx(10.0)
    finally:
        scheduler.shutdown(wait=False)


@pytest.mark.parametrize(
    "module,job",
    [
        ("populate_running_experiments", "status"),
        ("populate_details_db", "details"),
        ("populate_graph", "graph_layouts"),
    ],
)
def test_the_reference_standalone_entry_points_run_one_job(site, make_experiment, module, job):
    import os
    import subprocess
    import sys

    make_experiment("a000", status="RUNNING")
    env = dict(os.environ, **site.env(), TZ="UTC", PYTHONPATH=os.getcwd())
    done = subprocess.run(
        [sys.executable, "-m", f"autosubmit_api.workers.{module}"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert f"background job {job} ok" in done.stderr
    assert "background job" not in done.stderr.replace(f"background job {job}", "")
