"""The background jobs on a PostgreSQL-only site (Autosubmit 4.1.16+ layout): the same
behaviour as on SQLite, with the pickle time read from `<expid>.job_pkl.modified`."""
from __future__ import annotations

import socket
import time
from datetime import datetime

import pytest
from sqlalchemy import text

from autosubmit_api import workers
from autosubmit_api.factory import postgres as pgf
from autosubmit_api.factory import set_statuses
from autosubmit_api.factory.conf import default_as4_config
from autosubmit_api.readers import central_store, graph_layout
from autosubmit_api.workers import details, graph_layouts, status


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


def _age_pkl(url, expid, seconds):
    engine = pgf.engine_for(url)
    with engine.begin() as conn:
        conn.execute(text(f'UPDATE "{expid}".job_pkl SET modified = :m'),
                     {"m": str(datetime.fromtimestamp(time.time() - seconds))})
    engine.dispose()


def _public(url, sql):
    engine = pgf.engine_for(url)
    with engine.connect() as conn:
        rows = conn.execute(text(sql)).all()
    engine.dispose()
    return rows


def _statuses(settings):
    """name -> status; a missing row means NOT RUNNING (data.md A.3)."""
    stored = {r["name"]: r["status"] for r in central_store.status_rows(settings)}
    return {name: stored.get(name, "NOT RUNNING") for name in ("a000", "a001")}


def test_status_follows_job_pkl_modified(pg_site):
    settings, url, (a, b) = pg_site
    _age_pkl(url, "a001", 7200)
    status.run(settings)
    assert _statuses(settings) == {"a000": "RUNNING", "a001": "NOT RUNNING"}
    _age_pkl(url, "a000", 7200)
    set_statuses(b, {b.jobs[0].name: 5})  # rewrites the factory's copy; Autosubmit writes job_pkl
    pgf.set_job_pkl(url, "a001", b.pkl_path.read_bytes())
    status.run(settings)
    assert _statuses(settings) == {"a000": "NOT RUNNING", "a001": "RUNNING"}


def test_status_uses_the_run_log_on_disk_between_ten_minutes_and_an_hour(pg_site):
    settings, url, (a, _) = pg_site
    _age_pkl(url, "a000", 1800)
    _age_pkl(url, "a001", 1800)
    (a.path / "tmp" / "ASLOGS" / "20240101_run.log").write_text("running\n")
    status.run(settings)
    assert _statuses(settings) == {"a000": "RUNNING", "a001": "NOT RUNNING"}


def test_a_failing_status_run_leaves_the_previous_rows(pg_site):
    settings, url, _ = pg_site
    engine = pgf.engine_for(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE FUNCTION fail_a001() RETURNS trigger AS $$ BEGIN "
                          "IF NEW.name = 'a001' THEN RAISE EXCEPTION 'disk full'; END IF; RETURN NEW; "
                          "END $$ LANGUAGE plpgsql"))
        conn.execute(text("CREATE TRIGGER fail_a001 BEFORE INSERT OR UPDATE ON public.experiment_status "
                          "FOR EACH ROW EXECUTE FUNCTION fail_a001()"))
    engine.dispose()
    assert workers.run_job(workers.job("status"), settings) is False
    assert "disk full" in workers.METRICS["status"]["last_error"]
    assert central_store.status_rows(settings) == []  # a000's change was rolled back too


def test_details_fill_public_details_and_keep_rows_of_failing_configs(pg_site):
    settings, url, (a, b) = pg_site
    details.run(settings)
    hpc = default_as4_config("a000")["DEFAULT"]["HPCARCH"].upper()
    rows = dict(_public(url, 'SELECT e.name, d.hpc FROM public.details d JOIN public.experiment e ON e.id = d.exp_id'))
    assert rows == {"a000": hpc, "a001": hpc}
    (b.path / "conf" / "jobs_a001.yml").write_text("JOBS: [unclosed\n")
    engine = pgf.engine_for(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE public.details SET hpc = 'KEEP' WHERE exp_id = :e"), {"e": b.exp_id})
    engine.dispose()
    details.run(settings)
    rows = dict(_public(url, 'SELECT e.name, d.hpc FROM public.details d JOIN public.experiment e ON e.id = d.exp_id'))
    assert rows == {"a000": hpc, "a001": "KEEP"}


def test_graph_layouts_of_running_pg_experiments_are_stored_and_reused(pg_site):
    settings, url, (a, _) = pg_site
    status.run(settings)  # both RUNNING: fresh job_pkl rows
    graph_layouts.run(settings)
    saved = graph_layout.load_layout(settings, "a000")
    assert set(saved) == {job.name for job in a.jobs}
    assert graph_layouts.refresh(settings, "a000") == "reused"


def test_run_job_takes_the_advisory_lock_and_records_the_interval(pg_site):
    settings, _, _ = pg_site
    assert workers.run_job(workers.job("status"), settings) is True
    assert workers.run_job(workers.job("status"), settings) is False  # same interval, skipped
    assert workers.METRICS["status"]["last_skip_reason"] == "already run in this interval"
    assert workers.run_job(workers.job("status"), settings, force=True) is True
    cluster = {row["job"]: row for row in workers.health(settings)["cluster"]}
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
