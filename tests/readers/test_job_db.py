"""The Autosubmit 4.2 job list (`db/job_list.db`, readers/job_db.py) through the storage
interface (readers/storage.py): the same models as a pickle, the database winning over a
stale pickle, changed rows patched in, and every bad-data case a clear answer, never a write.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime

import pytest

from autosubmit_api.app import create_app
from autosubmit_api.errors import DataError, NotFound
from tests.factory import JobSpec
from tests.factory import job_db as factory_db
from tests.factory import set_statuses
from autosubmit_api.readers import confined, job_db, job_list, packages, storage, structure
from tests.fixture_site import snapshot
from tests.readers.running_autosubmit import writing

COMPLETED, FAILED, WAITING, READY, UNKNOWN = 5, -1, 0, 1, -2


@pytest.fixture
def client_for():
    return lambda settings: create_app(settings).test_client()


@pytest.fixture
def as42(make_experiment, site, env):
    made = make_experiment(
        "a042",
        job_list_layout="db",
        autosubmit_version="4.2.0",
        packages={"a042_ASThread_17000000_0": ["a042_20000101_fc0_1_SIM"]},
    )
    return made, site.settings(env)


def test_the_job_table_gives_the_same_models_as_a_pickle(make_experiment, site, env):
    old = make_experiment("a041", job_list_layout="pkl")
    new = make_experiment(
        "a042",
        job_list_layout="db",
        jobs=[
            JobSpec(
                **{
                    **vars(job),
                    "name": job.name.replace("a041", "a042"),
                    "parents": tuple(p.replace("a041", "a042") for p in job.parents),
                }
            )
            for job in old.jobs
        ],
    )
    settings = site.settings(env)
    pickled, stored = job_list.load_job_list(settings, "a041"), job_list.load_job_list(settings, "a042")
    assert (pickled.source, stored.source) == ("pkl", job_db.SOURCE)
    assert [j.name.replace("a041", "a042") for j in pickled.jobs] == [j.name for j in stored.jobs]
    for a, b in zip(pickled.jobs, stored.jobs):
        assert (a.status, a.section, a.date, a.member, a.chunk, a.priority) == (
            b.status,
            b.section,
            b.date,
            b.member,
            b.chunk,
            b.priority,
        )
        # Unsplit: None in a pickle, -1 in the table (as stored, as upstream 4.2.0 sends it).
        assert (a.split, a.splits, b.split, b.splits) == (None, None, -1, -1)
        # No log yet: "" in a pickle, NULL (None) in the table.
        assert (a.out_path_local or None, a.err_path_local or None) == (b.out_path_local, b.err_path_local)
    deps_old = structure.load_dependencies(settings, "a041", pickled)
    deps_new = structure.load_dependencies(settings, "a042", stored)
    assert deps_new.source == "structure_db"
    assert len(deps_old.edges()) == len(deps_new.edges()) > 0
    assert not (new.path / "pkl").exists()


def test_statuses_are_names_and_an_unknown_name_is_unknown(as42):
    made, settings = as42
    jobs = made.jobs[:3]
    factory_db.update_jobs(
        made.job_db_path,
        jobs,
        factory_db.modified_after(60),
        statuses={jobs[0].name: "FAILED", jobs[1].name: "SOMETHING_NEW", jobs[2].name: " ready "},
    )
    found = job_list.load_job_list(settings, "a042")
    assert [found.get(j.name).status for j in jobs] == [FAILED, UNKNOWN, READY]


def test_null_dates_members_and_logs_are_none_or_empty(as42):
    made, settings = as42
    with sqlite3.connect(made.job_db_path) as conn:
        conn.execute(
            "UPDATE jobs SET date = NULL, member = NULL, chunk = NULL, local_logs_out = NULL, "
            "split = -1, splits = -1, submit_time_timestamp = NULL, modified = '2026-12-06 03:00:00'"
        )
    conn.close()
    found = job_list.load_job_list(settings, "a042")
    job = found.jobs[-1]
    assert (job.date, job.member, job.chunk, job.split, job.splits, job.out_path_local, job.submit_time) == (
        None,
        None,
        None,
        -1,
        -1,
        None,
        None,
    )
    assert found.pkl_mtime == int(
        datetime(2026, 12, 6, 3, 0, 0).replace(tzinfo=factory_db.BASE_MODIFIED.tzinfo).timestamp()
    )


def test_the_database_wins_over_a_stale_pickle(make_experiment, site, env):
    made = make_experiment("a043", job_list_layout="upgraded")
    settings = site.settings(env)
    # The pickle moves on (as if an old Autosubmit had written it last): still the database wins.
    set_statuses(made, {job.name: FAILED for job in made.jobs})
    found = job_list.load_job_list(settings, "a043")
    assert found.source == job_db.SOURCE
    assert FAILED not in {job.status for job in found.jobs}
    assert storage.locate(settings, "a043").job_list == storage.JOB_DB


def test_changed_rows_are_patched_into_the_previous_read(as42):
    made, settings = as42
    # One earlier save, so the previous read's newest `modified` is later than most rows'.
    factory_db.update_jobs(made.job_db_path, made.jobs[:1], factory_db.modified_after(60))
    first = job_list.load_job_list(settings, "a042")
    assert job_list.load_job_list(settings, "a042") is first  # unchanged: the same object
    changed = made.jobs[2]
    changed.status = FAILED
    added = JobSpec(name="a042_EXTRA", section="EXTRA", status=WAITING, parents=(made.jobs[0].name,))
    factory_db.update_jobs(made.job_db_path, [changed, added], factory_db.modified_after(120))
    second = job_list.load_job_list(settings, "a042")
    assert second is not first
    assert second.get(changed.name).status == FAILED and second.get("a042_EXTRA").status == WAITING
    assert [j.name for j in second.jobs] == [j.name for j in first.jobs] + ["a042_EXTRA"]
    # Rows that were not saved again are the very objects of the first read: not re-read.
    untouched = [j for j in first.jobs if j.name not in (changed.name, made.jobs[0].name)]
    assert all(second.get(j.name) is j for j in untouched)
    assert second.pkl_mtime == int(factory_db.modified_after(120).timestamp())


def test_a_deleted_row_costs_a_full_read(as42):
    made, settings = as42
    first = job_list.load_job_list(settings, "a042")
    gone = made.jobs[-1].name
    with sqlite3.connect(made.job_db_path) as conn:
        conn.execute("DELETE FROM jobs WHERE name = ?", (gone,))
    conn.close()
    second = job_list.load_job_list(settings, "a042")
    assert second.get(gone) is None and len(second) == len(first) - 1


def test_a_recreated_database_with_older_rows_is_read_in_full(as42):
    made, settings = as42
    factory_db.update_jobs(made.job_db_path, made.jobs, factory_db.modified_after(600))
    first = job_list.load_job_list(settings, "a042")
    made.jobs[1].status = FAILED
    # `autosubmit create` again from a backup: every row older than the previous read's newest.
    factory_db.write_job_list_db(made.job_db_path, "a042", made.jobs, modified=factory_db.modified_after(5))
    second = job_list.load_job_list(settings, "a042")
    assert second.get(made.jobs[1].name).status == FAILED and first.get(made.jobs[1].name).status != FAILED


def test_packages_and_sections_come_from_the_same_database(as42):
    made, settings = as42
    found = packages.load_packages(settings, "a042")
    assert found.table == "wrappers_jobs"
    assert found.job_to_package == {"a042_20000101_fc0_1_SIM": "a042_ASThread_17000000_0"}
    sections = job_db.load_sections(settings, storage.locate(settings, "a042"))
    assert {s.name for s in sections} == {j.section for j in made.jobs}


def test_an_empty_jobs_table_is_an_empty_job_list(as42, client_for):
    made, settings = as42
    with sqlite3.connect(made.job_db_path) as conn:
        conn.execute("DELETE FROM jobs")
    conn.close()
    assert len(job_list.load_job_list(settings, "a042")) == 0
    client = client_for(settings)
    for path in ("/v3/tree/a042", "/v3/quick/a042", "/v4/experiments/a042/jobs", "/v3/summary/a042"):
        assert client.get(path).status_code == 200, path


def test_a_database_without_the_jobs_table_is_unreadable_not_a_500(as42, client_for):
    made, settings = as42
    with sqlite3.connect(made.job_db_path) as conn:
        conn.execute("DROP TABLE jobs")
    conn.close()
    with pytest.raises(DataError, match="no jobs table"):
        job_list.load_job_list(settings, "a042")
    client = client_for(settings)
    answer = client.get("/v4/experiments/a042/jobs")
    assert answer.status_code == 422 and answer.get_json()["error"] is True
    tree = client.get("/v3/tree/a042")
    assert tree.status_code == 200 and tree.get_json()["error"] is True


def test_a_database_with_no_tables_at_all_and_a_missing_edges_table(as42, client_for):
    made, settings = as42
    with sqlite3.connect(made.job_db_path) as conn:
        conn.execute("DROP TABLE experiment_structure")
    conn.close()
    found = job_list.load_job_list(settings, "a042")
    deps = structure.load_dependencies(settings, "a042", found)
    assert deps.source in ("job_data", "none")  # the history's children, else none: no error
    os.unlink(made.job_db_path)
    sqlite3.connect(made.job_db_path).close()  # a 0-byte file: no database at all
    assert storage.locate(settings, "a042").job_list is None
    with pytest.raises(NotFound):
        job_list.load_job_list(settings, "a042")
    client = client_for(settings)
    assert client.get("/v4/experiments/a042/jobs").status_code == 404
    assert client.get("/v3/tree/a042").get_json()["error"] is True


def test_no_job_list_at_all(make_experiment, site, env, client_for):
    made = make_experiment("a044", job_list_layout="db")
    os.unlink(made.job_db_path)
    settings = site.settings(env)
    assert storage.locate(settings, "a044").job_list is None
    assert job_list.job_list_mtime(settings, "a044") is None
    client = client_for(settings)
    for path in ("/v4/experiments/a044/jobs", "/v4/experiments/a044/jobs/a044_LOCAL_SETUP", "/v4/experiments/a044/eta"):
        answer = client.get(path)
        assert answer.status_code == 404 and answer.get_json()["error"] is True, path
    for path in (
        "/v3/tree/a044",
        "/v3/quick/a044",
        "/v3/graph/a044/standard/none",
        "/v3/summary/a044",
        "/v3/expinfo/a044",
        "/v3/stats/a044/0/Any",
    ):
        answer = client.get(path)
        assert answer.status_code == 200 and answer.get_json()["error"] is True, path
    assert client.get("/v4/experiments/a044/wrappers").status_code == 200


def test_a_running_writer_neither_blocks_nor_is_disturbed(as42, site):
    made, settings = as42
    before_read = job_list.load_job_list(settings, "a042")
    name = made.jobs[0].name
    with writing(
        made.job_db_path, f"UPDATE jobs SET status = 'FAILED', modified = '2030-01-01 00:00:00' WHERE name = '{name}'"
    ) as w:
        assert w["changed"] == 1
        state = snapshot(made.job_db_path.parent)
        during = job_list.load_job_list(settings, "a042")
        # Only committed data is seen, and reading wrote nothing (no file, no journal of ours).
        assert during.get(name).status == before_read.get(name).status
        assert snapshot(made.job_db_path.parent) == state
        w["end"] = "COMMIT"
    after = job_list.load_job_list(settings, "a042")
    assert after.get(name).status == FAILED


def test_job_list_mtime_is_the_latest_modified(as42):
    made, settings = as42
    assert job_list.job_list_mtime(settings, "a042") == int(factory_db.BASE_MODIFIED.timestamp())
    factory_db.update_jobs(made.job_db_path, made.jobs[:1], factory_db.modified_after(30))
    assert job_list.job_list_mtime(settings, "a042") == int(factory_db.modified_after(30).timestamp())


def test_the_routes_answer_on_a_42_experiment(as42, client_for):
    made, settings = as42
    client = client_for(settings)
    sim = "a042_20000101_fc0_1_SIM"
    for path in (
        "/v3/tree/a042",
        "/v3/quick/a042",
        "/v3/graph/a042/standard/none",
        "/v3/graph/a042/laplacian/status",
        "/v3/summary/a042",
        "/v3/expinfo/a042",
        "/v3/pklinfo/a042/0",
        "/v3/pkltreeinfo/a042/0",
        "/v3/stats/a042/0/Any",
        "/v3/performance/a042",
        "/v3/runs/a042",
        "/v3/expcount/a042",
    ):
        answer = client.get(path)
        body = answer.get_json()
        assert answer.status_code == 200 and body.get("error") is not True, (path, body.get("error_message"))
    jobs = client.get("/v4/experiments/a042/jobs").get_json()["jobs"]
    assert {j["name"] for j in jobs} == {j.name for j in made.jobs}
    detail = client.get(f"/v4/experiments/a042/jobs/{sim}")
    assert detail.status_code == 200 and detail.get_json()["name"] == sim
    parents = client.get(f"/v4/experiments/a042/jobs/{sim}/parents").get_json()["parents"]
    assert {p["job_name"] for p in parents} == set(next(j for j in made.jobs if j.name == sim).parents)
    wrappers = client.get("/v4/experiments/a042/wrappers")
    assert wrappers.status_code == 200
    assert "a042_ASThread_17000000_0" in wrappers.get_data(as_text=True)
    graph = client.get("/v3/graph/a042/standard/none").get_json()
    assert len(graph["edges"]) == sum(len(j.parents) for j in made.jobs)


def test_a_symlinked_job_list_database_is_refused(as42, tmp_path):
    made, settings = as42
    elsewhere = tmp_path / "elsewhere.db"
    os.rename(made.job_db_path, elsewhere)
    made.job_db_path.symlink_to(elsewhere)
    with pytest.raises(confined.Refused):
        job_list.load_job_list(settings, "a042")
