"""The Autosubmit 4.2 job list in PostgreSQL (the expid schema's `jobs`, `experiment_structure`,
`sections`, wrapper tables): the same reader as on SQLite (readers/job_db.py over
readers/store.py), the `jobs` table winning over `job_pkl`, patched re-reads, empty schemas;
and the two real PostgreSQL sites of ../shared/fixtures-pg, each restored into its own fresh
database (skipped without ../shared or without psql).
"""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
from datetime import datetime

import pytest

from autosubmit_api.app import create_app
from autosubmit_api.errors import NotFound
from tests.factory import postgres as pgf
from tests.factory import JobDataSpec, JobSpec, RunSpec, pickles
from tests.factory.history import write_structure_data
from tests.factory import job_db as factory_db
from autosubmit_api.readers import job_db, job_list, packages, storage, structure
from autosubmit_api.services import rundetail
from tests.conftest import shared_dir
from tests.fixture_site import copy_fixture_tree, settings_for

FAILED, WAITING = -1, 0


@pytest.fixture
def pg42(site, env, make_experiment, pg_url):
    made = make_experiment(
        "a042",
        job_list_layout="db",
        autosubmit_version="4.2.0",
        packages={"a042_ASThread_17000000_0": ["a042_20000101_fc0_1_SIM"]},
    )
    sqlite_settings = site.settings(env)
    expected = job_list.load_job_list(sqlite_settings, "a042")
    pgf.copy_site(site, pg_url)
    pgf.remove_sqlite_files(site, ["a042"])
    pgf.write_pg_rc(site, pg_url)
    return made, site.settings(env), expected


def test_the_schema_gives_the_same_job_list_as_the_sqlite_file(pg42):
    made, settings, expected = pg42
    assert storage.locate(settings, "a042") == storage.Storage("a042", True, storage.JOB_DB)
    found = job_list.load_job_list(settings, "a042")
    assert found.source == job_db.SOURCE
    assert dict(found.by_name) == dict(expected.by_name)
    assert found.pkl_mtime == expected.pkl_mtime
    deps = structure.load_dependencies(settings, "a042", found)
    assert deps.source == "structure_db" and len(deps.edges()) == sum(len(j.parents) for j in made.jobs)
    assert packages.load_packages(settings, "a042").job_to_package == {
        "a042_20000101_fc0_1_SIM": "a042_ASThread_17000000_0"
    }
    assert {s.name for s in job_db.load_sections(settings, storage.locate(settings, "a042"))} == {
        j.section for j in made.jobs
    }


def test_the_jobs_table_wins_over_job_pkl(pg42, pg_url, tmp_path):
    made, settings, expected = pg42
    stale = tmp_path / "stale.pkl"  # a pickle of other jobs: it must not be read for a042
    pickles.write_job_list(stale, [JobSpec(name="a042_GONE", section="GONE")], "F4")
    pgf.set_job_pkl(pg_url, "a042", stale.read_bytes(), datetime(2031, 1, 1))
    found = job_list.load_job_list(settings, "a042")
    assert found.source == job_db.SOURCE and set(found.by_name) == set(expected.by_name)


def test_changed_rows_are_patched_in(pg42, pg_url):
    made, settings, _ = pg42
    factory_db.update_jobs_postgres(pg_url, "a042", made.jobs[:1], factory_db.modified_after(60))
    first = job_list.load_job_list(settings, "a042")
    assert job_list.load_job_list(settings, "a042") is first
    changed = made.jobs[3]
    changed.status = FAILED
    factory_db.update_jobs_postgres(
        pg_url, "a042", [changed], factory_db.modified_after(120), statuses={changed.name: "FAILED"}
    )
    second = job_list.load_job_list(settings, "a042")
    assert second.get(changed.name).status == FAILED
    untouched = [j for j in first.jobs if j.name not in (changed.name, made.jobs[0].name)]
    assert all(second.get(j.name) is j for j in untouched)
    assert job_list.job_list_mtime(settings, "a042") == int(factory_db.modified_after(120).timestamp())


def test_routes_answer_from_the_schema(pg42):
    made, settings, _ = pg42
    client = create_app(settings).test_client()
    for path in (
        "/v3/tree/a042",
        "/v3/quick/a042",
        "/v3/graph/a042/standard/none",
        "/v3/summary/a042",
        "/v3/expinfo/a042",
        "/v3/performance/a042",
        "/v3/runs/a042",
        "/v3/stats/a042/0/Any",
    ):
        answer = client.get(path)
        assert answer.status_code == 200 and answer.get_json().get("error") is not True, path
    assert len(client.get("/v4/experiments/a042/jobs").get_json()["jobs"]) == len(made.jobs)
    assert client.get("/v4/experiments/a042/wrappers").status_code == 200


def test_an_empty_jobs_table_a_schema_without_tables_and_no_schema(pg42, pg_url):
    made, settings, _ = pg42
    engine = pgf.engine_for(pg_url)
    with engine.begin() as conn:
        conn.execute(pgf.text('DELETE FROM "a042".jobs'))
    engine.dispose()
    assert len(job_list.load_job_list(settings, "a042")) == 0
    client = create_app(settings).test_client()
    assert client.get("/v4/experiments/a042/jobs").status_code == 200
    pgf.drop_schemas(pg_url, ["a042"])
    engine = pgf.engine_for(pg_url)
    with engine.begin() as conn:
        conn.execute(pgf.text('CREATE SCHEMA "a042"'))
    engine.dispose()
    with pytest.raises(NotFound):
        job_list.load_job_list(settings, "a042")
    for path in ("/v4/experiments/a042/jobs", "/v4/experiments/a042/jobs/a042_LOCAL_SETUP"):
        answer = client.get(path)
        assert answer.status_code == 404 and answer.get_json()["error"] is True, path
    for path in ("/v3/tree/a042", "/v3/graph/a042/standard/none", "/v3/stats/a042/0/Any"):
        answer = client.get(path)
        assert answer.status_code == 200 and answer.get_json()["error"] is True, path
    assert client.get("/v4/experiments/a042/wrappers").status_code == 200


# --- the real sites --------------------------------------------------------------------


def test_run_detail_lists_the_runs_own_edges_from_the_schema(site, env, make_experiment, pg_url):
    rows = [JobDataSpec(job_name=name, run_id=1) for name in ("a042_A", "a042_B")]
    make_experiment("a042", job_list_layout="db", runs=[RunSpec(run_id=1, start=1, total=2)], job_data=rows)
    write_structure_data(site.jobdata_dir / "job_data_a042.db", {1: [("a042_A", "a042_B")]})
    pgf.copy_site(site, pg_url)
    pgf.remove_sqlite_files(site, ["a042"])
    pgf.write_pg_rc(site, pg_url)
    jobs = rundetail.run_detail(site.settings(env), "a042", "1")["jobs"]
    assert {j["id"]: (j["children_list"], j["parent_list"]) for j in jobs} == {
        "a042_A": (["a042_B"], []),
        "a042_B": ([], ["a042_A"]),
    }


def _restore(site_name, pg_url, tmp_path):
    source = shared_dir() / "fixtures-pg" / site_name
    if not (source / "site.sql").is_file():
        pytest.skip(f"the PostgreSQL fixtures are not available at {source}")
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed")
    done = subprocess.run(
        ["psql", "-q", "-v", "ON_ERROR_STOP=0", pg_url.replace("+psycopg", ""), "-f", str(source / "site.sql")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    root = copy_fixture_tree(tmp_path / "site", source=source)
    for sub in ("metadata/structures", "metadata/graph", "metadata/data"):
        os.makedirs(root / sub, exist_ok=True)
    rc = (
        (root / ".autosubmitrc")
        .read_text()
        .replace("backend = sqlite", f"backend = postgres\nconnection_url = {pg_url}")
    )
    (root / ".autosubmitrc").write_text(rc)
    return settings_for(root, protection_level="NONE")


def test_the_real_4117_site(pg_url, tmp_path):
    settings = _restore("as4117", pg_url, tmp_path)
    where = storage.locate(settings, "a8p1")
    assert (where.job_list, where.pkl_schema) == (storage.PICKLE, "public")
    a8p1 = job_list.load_job_list(settings, "a8p1")
    assert len(a8p1) == 33 and {j.status for j in a8p1.jobs} == {5}
    a8p2 = job_list.load_job_list(settings, "a8p2")
    assert len(a8p2) == 21 and a8p2.get("a8p2_20100101_fc1_2_SIM").status == FAILED
    client = create_app(settings).test_client()
    for expid in ("a8p1", "a8p2"):
        for path in (
            "/v3/tree/{e}",
            "/v3/quick/{e}",
            "/v3/graph/{e}/standard/none",
            "/v3/summary/{e}",
            "/v3/expinfo/{e}",
            "/v3/performance/{e}",
            "/v3/runs/{e}",
        ):
            answer = client.get(path.format(e=expid))
            assert answer.status_code == 200 and answer.get_json().get("error") is not True, (expid, path)
        assert client.get(f"/v4/experiments/{expid}/wrappers").get_json()["wrappers"] == []
    assert len(client.get("/v3/graph/a8p1/standard/none").get_json()["edges"]) == 40


def test_the_real_42_site(pg_url, tmp_path):
    settings = _restore("as42", pg_url, tmp_path)
    assert storage.locate(settings, "a9p1").job_list == storage.JOB_DB
    a9p1 = job_list.load_job_list(settings, "a9p1")
    assert collections.Counter(j.status for j in a9p1.jobs) == {5: 9, 1: 3, 0: 21}
    assert a9p1.pkl_mtime == 1796526302  # MAX(jobs.modified) = 03:05:02 UTC
    client = create_app(settings).test_client()
    for expid in ("a9p1", "a9p2"):
        for path in (
            "/v3/tree/{e}",
            "/v3/quick/{e}",
            "/v3/graph/{e}/standard/none",
            "/v3/summary/{e}",
            "/v3/expinfo/{e}",
            "/v3/performance/{e}",
            "/v3/runs/{e}",
            "/v3/stats/{e}/0/Any",
            "/v4/experiments/{e}/runs/1/user-metrics",
        ):
            answer = client.get(path.format(e=expid))
            assert answer.status_code == 200 and answer.get_json().get("error") is not True, (expid, path)
        assert client.get(f"/v4/experiments/{expid}/wrappers").get_json()["wrappers"] == []
    assert len(client.get("/v3/graph/a9p1/standard/none").get_json()["edges"]) == 40
    assert len(client.get("/v4/experiments/a9p1/jobs").get_json()["jobs"]) == 33
