"""The v4 change feed on PostgreSQL sites: the expid schema's `jobs` table (rows saved again
with a newer `modified`) and a `job_pkl` row rewritten, as Autosubmit 4.2 and 4.1.16+ write
them; the same answers as on SQLite."""

from __future__ import annotations

from datetime import datetime

import pytest

from autosubmit_api.app import create_app
from tests.factory import job_db as factory_db
from tests.factory import pickles
from tests.factory import postgres as pgf
from autosubmit_api.readers import cache

FAILED, RUNNING = -1, 4


def feed(client, expid, since=""):
    answer = client.get(f"/v4/experiments/{expid}/jobs", query_string={"since": since})
    assert answer.status_code == 200, answer.data
    return answer.get_json()


def names(body):
    return {job["name"]: job["status"] for job in body["jobs"]}


@pytest.fixture
def pg_site(site, env, make_experiment, pg_url):
    as42 = make_experiment("a042", job_list_layout="db", autosubmit_version="4.2.0")
    as41 = make_experiment("a000")
    pgf.copy_site(site, pg_url)
    pgf.remove_sqlite_files(site, ["a042"])
    pgf.write_pg_rc(site, pg_url)
    client = create_app(site.settings(env)).test_client()
    return client, as42, as41


def test_rows_saved_again_in_the_jobs_table(pg_site, pg_url):
    client, as42, _ = pg_site
    first = feed(client, "a042")
    assert first["full"] is True and len(first["jobs"]) == len(as42.jobs)
    assert feed(client, "a042", first["cursor"])["jobs"] == []
    job = as42.jobs[2]
    job.status = RUNNING
    factory_db.update_jobs_postgres(
        pg_url, "a042", [job], factory_db.modified_after(120), times={job.name: (1.7e9, 1.7e9 + 5, None)}
    )
    cache.clear()  # another worker process: the cursor alone carries the state
    after = feed(client, "a042", first["cursor"])
    assert after["full"] is False and names(after) == {job.name: "RUNNING"}
    assert after["jobs"][0]["start_time"] == 1700000005
    assert feed(client, "a042", after["cursor"])["jobs"] == []


def test_a_rewritten_job_pkl_row(pg_site, pg_url, tmp_path):
    client, _, as41 = pg_site
    first = feed(client, "a000")
    assert first["full"] is True and len(first["jobs"]) == len(as41.jobs)
    as41.jobs[1].status = FAILED
    rewritten = tmp_path / "job_list_a000.pkl"
    pickles.write_job_list(rewritten, as41.jobs, "F4")
    pgf.set_job_pkl(pg_url, "a000", rewritten.read_bytes(), datetime(2031, 1, 1))
    after = feed(client, "a000", first["cursor"])
    assert after["full"] is False and names(after) == {as41.jobs[1].name: "FAILED"}
    assert feed(client, "a000", after["cursor"])["jobs"] == []
