"""Details worker against factory-made experiments, on a temporary SQLite central DB and on
the same site copied into PostgreSQL (the `backend` fixture, tests/workers/conftest.py)."""

from __future__ import annotations

import os
import pwd
import shutil
import time

from autosubmit_api import workers
from tests.factory.conf import default_as4_config
from autosubmit_api.readers import central_db, central_store
from autosubmit_api.workers import details
from tests.workers.conftest import changed


DEFAULTS = default_as4_config("a000")
ORIGIN = DEFAULTS["GIT"]["PROJECT_ORIGIN"]
BRANCH = DEFAULTS["GIT"]["PROJECT_BRANCH"]
HPC = DEFAULTS["DEFAULT"]["HPCARCH"].upper()
# How each driver names the missing table.
MISSING_DETAILS = {"sqlite": "no such table: details", "postgres": 'relation "details" does not exist'}


def _details(settings):
    """expid -> (user, created, model, branch, hpc) of the experiments that have a details row."""
    found = {}
    for ref in central_store.experiments(settings):
        row = central_db.get_experiment(settings, ref.name)
        if row.user is not None:  # `user` is NOT NULL: None means no details row
            found[row.name] = (row.user, row.created, row.model, row.branch, row.hpc)
    return found


def test_details_are_filled_from_the_directory_and_the_configuration(backend, make_experiment):
    exp = make_experiment("a000")
    make_experiment("a001", config={"PROJECT": {"PROJECT_TYPE": "none"}, "DEFAULT": {"HPCARCH": "marenostrum4"}})
    settings = backend.settings()
    details.run(settings)
    rows = _details(settings)
    st = os.stat(exp.path)
    assert rows["a000"] == (
        pwd.getpwuid(st.st_uid).pw_name,
        time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(st.st_ctime)),
        ORIGIN,
        BRANCH,
        HPC,
    )
    assert rows["a001"][2:] == ("NA", "NA", "MARENOSTRUM4")


def test_a_changed_branch_is_updated_and_created_is_kept(backend, make_experiment):
    make_experiment(
        "a000",
        details={
            "user": "someone",
            "created": "2023-05-05T10:00:00+02:00",
            "model": "old",
            "branch": "old",
            "hpc": "OLD",
        },
    )
    settings = backend.settings()
    details.run(settings)
    user, created, model, branch, hpc = _details(settings)["a000"]
    assert created == "2023-05-05T10:00:00+02:00"
    assert (model, branch, hpc) == (ORIGIN, BRANCH, HPC)


def test_an_experiment_whose_config_fails_keeps_its_row(backend, make_experiment):
    good = make_experiment("a000")
    bad = make_experiment(
        "a001", details={"user": "keeper", "created": "2020-01-01 00:00:00", "model": "m", "branch": "b", "hpc": "H"}
    )
    (bad.path / "conf" / "jobs_a001.yml").write_text("JOBS: [unclosed\n")
    gone = make_experiment("a002", details={"user": "ghost"})
    shutil.rmtree(gone.path)
    settings = backend.settings()
    details.run(settings)
    rows = _details(settings)
    assert rows["a001"] == ("keeper", "2020-01-01 00:00:00", "m", "b", "H")
    assert rows["a002"][0] == "ghost"
    assert rows["a000"][4] == HPC
    assert good.exp_id != bad.exp_id


def test_a_config_broken_after_a_run_keeps_the_row_of_that_run(backend, make_experiment):
    make_experiment("a000")
    exp = make_experiment("a001")
    settings = backend.settings()
    details.run(settings)
    first = _details(settings)
    assert first["a001"][4] == HPC
    (exp.path / "conf" / "jobs_a001.yml").write_text("JOBS: [unclosed\n")
    details.run(settings)
    assert _details(settings) == first


def test_collect_reports_why_an_experiment_was_skipped(backend, make_experiment):
    make_experiment("a000")
    exp = make_experiment("a001")
    settings = backend.settings()
    backend.remove_pkl(exp)
    rows, skipped = details.collect(settings, central_store.experiments(settings))
    assert [r.exp_id for r in rows] == [1]
    assert skipped == {"a001": "job list not found"}


def test_a_second_run_changes_nothing(backend, make_experiment):
    make_experiment("a000")
    settings = backend.settings()
    details.run(settings)
    first = _details(settings)
    rows, _ = details.collect(settings, central_store.experiments(settings))
    assert central_store.upsert_details(settings, rows, keep_created=True) == {
        "inserted": 0,
        "updated": 0,
        "unchanged": 1,
    }
    assert _details(settings) == first
    before = backend.snapshot()
    details.run(settings)
    assert changed(before, backend.snapshot()) == set()


def test_details_worker_writes_only_the_details_table(backend, make_experiment):
    make_experiment("a000", description="keep me")
    settings = backend.settings()
    before = backend.snapshot()
    details.run(settings)
    assert "a000" in _details(settings)
    # Not the pickle, the history, the configuration, experiment or experiment_status.
    assert changed(before, backend.snapshot()) == backend.location("details")
    assert central_db.get_experiment(settings, "a000").description == "keep me"


def test_without_a_details_table_the_job_fails_and_creates_nothing(backend, make_experiment):
    make_experiment("a000")
    settings = backend.settings()
    backend.drop_central_table("details")
    workers.METRICS.pop("details", None)
    assert workers.run_job(workers.job("details"), settings) is False
    assert MISSING_DETAILS[backend.name] in workers.METRICS["details"]["last_error"]
    assert "experiment" in backend.central_tables()
    assert "details" not in backend.central_tables()
