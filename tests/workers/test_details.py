"""Details worker against factory-made experiments and a temporary SQLite central DB."""
from __future__ import annotations

import os
import pwd
import shutil
import sqlite3
import time

from autosubmit_api.factory.conf import default_as4_config
from autosubmit_api.readers import central_store
from autosubmit_api.workers import details


DEFAULTS = default_as4_config("a000")
ORIGIN = DEFAULTS["GIT"]["PROJECT_ORIGIN"]
BRANCH = DEFAULTS["GIT"]["PROJECT_BRANCH"]
HPC = DEFAULTS["DEFAULT"]["HPCARCH"].upper()


def _details(site):
    with sqlite3.connect(site.central_db) as conn:
        return {r[0]: r[1:] for r in conn.execute(
            'SELECT e.name, d."user", d.created, d.model, d.branch, d.hpc '
            "FROM details d JOIN experiment e ON e.id = d.exp_id")}


def test_details_are_filled_from_the_directory_and_the_configuration(site, settings, make_experiment):
    exp = make_experiment("a000")
    make_experiment("a001", config={"PROJECT": {"PROJECT_TYPE": "none"},
                                    "DEFAULT": {"HPCARCH": "marenostrum4"}})
    details.run(settings)
    rows = _details(site)
    st = os.stat(exp.path)
    assert rows["a000"] == (
        pwd.getpwuid(st.st_uid).pw_name,
        time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(st.st_ctime)),
        ORIGIN, BRANCH, HPC,
    )
    assert rows["a001"][2:] == ("NA", "NA", "MARENOSTRUM4")


def test_a_changed_branch_is_updated_and_created_is_kept(site, settings, make_experiment):
    make_experiment("a000", details={"user": "someone", "created": "2023-05-05T10:00:00+02:00",
                                     "model": "old", "branch": "old", "hpc": "OLD"})
    details.run(settings)
    user, created, model, branch, hpc = _details(site)["a000"]
    assert created == "2023-05-05T10:00:00+02:00"
    assert (model, branch, hpc) == (ORIGIN, BRANCH, HPC)


def test_an_experiment_whose_config_fails_keeps_its_row(site, settings, make_experiment):
    good = make_experiment("a000")
    bad = make_experiment("a001", details={"user": "keeper", "created": "2020-01-01 00:00:00",
                                           "model": "m", "branch": "b", "hpc": "H"})
    (bad.path / "conf" / "jobs_a001.yml").write_text("JOBS: [unclosed\n")
    gone = make_experiment("a002", details={"user": "ghost"})
    shutil.rmtree(gone.path)
    details.run(settings)
    rows = _details(site)
    assert rows["a001"] == ("keeper", "2020-01-01 00:00:00", "m", "b", "H")
    assert rows["a002"][0] == "ghost"
    assert rows["a000"][4] == HPC
    assert good.exp_id != bad.exp_id


def test_collect_reports_why_an_experiment_was_skipped(site, settings, make_experiment):
    make_experiment("a000")
    exp = make_experiment("a001")
    exp.pkl_path.unlink()
    rows, skipped = details.collect(settings, central_store.experiments(settings))
    assert [r.exp_id for r in rows] == [1]
    assert skipped == {"a001": "job list not found"}


def test_a_second_run_changes_nothing(site, settings, make_experiment):
    make_experiment("a000")
    details.run(settings)
    first = _details(site)
    rows, _ = details.collect(settings, central_store.experiments(settings))
    assert central_store.upsert_details(settings, rows, keep_created=True) == {
        "inserted": 0, "updated": 0, "unchanged": 1}
    assert _details(site) == first


def test_details_worker_writes_only_the_details_table(site, settings, make_experiment):
    exp = make_experiment("a000", description="keep me")
    watched = [exp.pkl_path, site.as_times_db, site.jobdata_dir / "job_data_a000.db",
               *sorted((exp.path / "conf").iterdir())]
    before = {p: p.read_bytes() for p in watched}
    with sqlite3.connect(site.central_db) as conn:
        experiment_before = conn.execute("SELECT * FROM experiment").fetchall()
    details.run(settings)
    assert {p: p.read_bytes() for p in watched} == before
    with sqlite3.connect(site.central_db) as conn:
        assert conn.execute("SELECT * FROM experiment").fetchall() == experiment_before


def test_without_a_details_table_the_job_fails_and_creates_nothing(site, settings, make_experiment):
    from autosubmit_api import workers

    make_experiment("a000")
    with sqlite3.connect(site.central_db) as conn:
        conn.execute("DROP TABLE details")
    workers.METRICS.pop("details", None)
    assert workers.run_job(workers.job("details"), settings) is False
    assert "no such table: details" in workers.METRICS["details"]["last_error"]
    with sqlite3.connect(site.central_db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "details" not in tables
