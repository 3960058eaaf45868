"""Per-experiment tables read from the PostgreSQL schema <expid> give the same models as the
SQLite files they were copied from (the readers over readers/store.py, the job list located by
readers/storage.py: `public.job_pkl` keyed by expid, as Autosubmit 4.1.16/4.1.17 write it)."""

from __future__ import annotations

from datetime import datetime

import pytest

from autosubmit_api.errors import NotFound, Unavailable
from tests.factory import postgres as pgf
from tests.factory import set_statuses
from autosubmit_api.readers import job_data, job_list, packages, storage, store, user_metrics
from tests.factory.metrics import write_user_metrics


@pytest.fixture
def pair(site, env, make_experiment, pg_url):
    exp = make_experiment("a000", job_data_version=21)
    names = [job.name for job in exp.jobs]
    make_experiment("a001", job_data_version=19, packages={"a001_ASThread_17128472368642_1_2": names[:2]})
    make_experiment("a002", job_data_version=0)
    # Out of run order, so the readers' ordering (run, then id) shows.
    write_user_metrics(
        pgf.user_metrics_db(site, "a000"),
        [
            (2, names[3], "SYPD", "9.0", "2024-01-02 00:00:00"),
            (1, names[3], "SYPD", "12.5", "2024-01-01 00:00:00"),
            (1, names[5], "CHSY", "1500", "2024-01-01 01:00:00"),
        ],
    )
    pgf.copy_site(site, pg_url)
    return site.settings(env), site.settings(env, db_backend="postgres", db_connection_url=pg_url), exp


@pytest.mark.parametrize("expid", ["a000", "a001"])
def test_history_matches_the_sqlite_file(pair, expid):
    sqlite_settings, pg_settings, _ = pair
    assert job_data.load_history(pg_settings, expid) == job_data.load_history(sqlite_settings, expid)
    assert job_data.load_history(pg_settings, expid, last_only=True) == job_data.load_history(
        sqlite_settings, expid, last_only=True
    )


def test_an_experiment_without_history_is_not_found(pair):
    _, pg_settings, _ = pair
    assert job_data.load_history(pg_settings, "a002", optional=True) is None
    with pytest.raises(job_data.HistoryNotFound):
        job_data.load_history(pg_settings, "a002")


def test_packages_match_the_sqlite_file(pair):
    sqlite_settings, pg_settings, _ = pair
    pg = packages.load_packages(pg_settings, "a001")
    assert pg == packages.load_packages(sqlite_settings, "a001")
    assert pg.table == "job_package" and len(pg.job_to_package) == 2
    assert packages.load_packages(pg_settings, "a000") == packages.load_packages(sqlite_settings, "a000")


def test_user_metrics_match_the_sqlite_file(pair):
    sqlite_settings, pg_settings, exp = pair
    pg = user_metrics.load_metrics(pg_settings, "a000")
    assert pg == user_metrics.load_metrics(sqlite_settings, "a000")
    assert [(m.run_id, m.metric_value) for m in pg] == [(1, "12.5"), (1, "1500"), (2, "9.0")]
    for run_id in (1, 2, 3):
        assert user_metrics.load_metrics(pg_settings, "a000", run_id) == user_metrics.load_metrics(
            sqlite_settings, "a000", run_id
        )
    assert [m.job_name for m in user_metrics.load_metrics(pg_settings, "a000", 1)] == [
        exp.jobs[3].name,
        exp.jobs[5].name,
    ]


def test_an_experiment_without_user_metrics_has_none(pair, pg_url):
    _, pg_settings, _ = pair
    assert user_metrics.load_metrics(pg_settings, "a001") == []  # schema without the table
    with store.open_schema(pg_settings, "a001") as st:
        assert not st.has_table("user_metrics") and st.has_table("job_data")
    pgf.drop_schemas(pg_url, ["a002"])
    assert user_metrics.load_metrics(pg_settings, "a002", 1) == []  # no schema at all


def test_user_metrics_of_an_unreachable_server_are_unavailable(site, env):
    # An outage must not read as "no metrics".
    settings = site.settings(
        env, db_backend="postgres", db_connection_url="postgresql://nobody@127.0.0.1:1/none", sqlite_timeout=1
    )
    with pytest.raises(Unavailable):
        user_metrics.load_metrics(settings, "a000")


def test_the_job_list_comes_from_job_pkl(pair):
    sqlite_settings, pg_settings, exp = pair
    assert storage.locate(pg_settings, "a000") == storage.Storage("a000", True, storage.PICKLE, "public")
    pg = job_list.load_job_list(pg_settings, "a000")
    disk = job_list.read_job_list_file(sqlite_settings, str(exp.pkl_path), "a000")
    assert pg.jobs == disk.jobs and pg.pkl_format == disk.pkl_format
    assert pg.pkl_mtime == int(exp.pkl_path.stat().st_mtime)


def test_a_rewritten_job_pkl_is_read_again(pair, pg_url):
    _, pg_settings, exp = pair
    first = job_list.load_job_list(pg_settings, "a000")
    assert job_list.load_job_list(pg_settings, "a000") is first  # cached while unchanged
    set_statuses(exp, {exp.jobs[0].name: 5})
    pgf.set_job_pkl(pg_url, "a000", exp.pkl_path.read_bytes(), datetime(2030, 1, 2, 3, 4, 5))
    second = job_list.load_job_list(pg_settings, "a000")
    assert second.by_name[exp.jobs[0].name].status == 5
    assert second.pkl_mtime == int(datetime(2030, 1, 2, 3, 4, 5).timestamp())


def test_the_older_job_pkl_location_in_the_expid_schema_is_read_too(pair, pg_url):
    _, pg_settings, exp = pair
    engine = pgf.engine_for(pg_url)
    with engine.begin() as conn:
        conn.execute(pgf.text("DELETE FROM public.job_pkl WHERE expid = 'a000'"))
    engine.dispose()
    with pytest.raises(NotFound):
        job_list.load_job_list(pg_settings, "a000")
    pgf.set_job_pkl(pg_url, "a000", exp.pkl_path.read_bytes(), datetime(2030, 1, 2, 3, 4, 5), in_schema=True)
    assert storage.locate(pg_settings, "a000").pkl_schema == "a000"
    found = job_list.load_job_list(pg_settings, "a000")
    assert len(found) == len(exp.jobs) and found.pkl_mtime == int(datetime(2030, 1, 2, 3, 4, 5).timestamp())


def test_a_transaction_of_ours_is_read_only(pair):
    _, pg_settings, _ = pair
    with store.open_schema(pg_settings, "a000") as st:
        assert st.first("SHOW transaction_read_only")[0] == "on"
        with pytest.raises(Exception, match="read-only"):
            st.rows('CREATE TABLE "a000".intruder(x int)')


def test_a_missing_job_pkl_is_not_found(pair, pg_url):
    _, pg_settings, _ = pair
    pgf.drop_schemas(pg_url, ["a002"])
    engine = pgf.engine_for(pg_url)
    with engine.begin() as conn:
        conn.execute(pgf.text("DELETE FROM public.job_pkl WHERE expid = 'a002'"))
    engine.dispose()
    with pytest.raises(NotFound):
        job_list.load_job_list(pg_settings, "a002")
    assert job_list.job_list_mtime(pg_settings, "a002") is None


@pytest.mark.parametrize(
    "value,expected",
    [
        ("2024-05-06 07:08:09.123456", int(datetime(2024, 5, 6, 7, 8, 9).timestamp())),
        ("2024-05-06 07:08:09+0000", 1714979289),
        ("", 0),
        (None, 0),
        ("garbage", 0),
    ],
)
def test_job_pkl_modified_formats(value, expected):
    assert storage.parse_pkl_modified(value) == expected


def test_history_versions_follow_the_columns():
    assert job_data.history_user_version(["id", "children", "workflow_commit", "fail_count"]) == 21
    assert job_data.history_user_version(["id", "children", "workflow_commit"]) == 19
    assert job_data.history_user_version(["id", "children"]) == 18
    assert job_data.history_user_version(["id"]) == 0
