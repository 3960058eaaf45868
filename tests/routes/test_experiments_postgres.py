"""The experiment list, detail and v3 searches answer the same on PostgreSQL as on SQLite.

A site is written by the SQLite factory, copied into PostgreSQL as Autosubmit 4.1.16+ lays it
out (factory/postgres.py), its SQLite files and pickles removed, and the answers compared.
Skips when no PostgreSQL server is reachable (tests/postgres/fixtures.py).
"""

import os

import pytest

from autosubmit_api.app import create_app
from tests.factory import RunSpec
from tests.factory import postgres as pgf
from tests.postgres.fixtures import pg_url  # noqa: F401 - fixture

PATHS = [
    "/v4/experiments?page_size=-1",
    "/v4/experiments?query=A0&order_by=created&order_desc=true",
    "/v4/experiments?owner=alice&page=2&page_size=1",
    "/v4/experiments?only_active=true",
    "/v4/experiments?exp_type=test&order_by=description",
    "/v4/experiments?hpc=local",
    "/v4/experiments?hpc=!LO*AL",
    "/v4/experiments?hpc=LO_AL",
    "/v4/experiments/a001",
    "/v4/experiments/zzzz",
    "/v3/search/a",
    "/v3/searchowner/alice",
    "/v3/running/",
]


@pytest.fixture
def clients(site, env, make_experiment, pg_url):  # noqa: F811 - pytest fixture
    make_experiment(
        "a000",
        details={"user": "alice", "created": "2024-02-01 00:00:00"},
        status="RUNNING",
        runs=[
            RunSpec(run_id=1, start=1, completed=2, total=5),
            RunSpec(run_id=2, start=2, completed=3, total=6, failed=1),
        ],
        job_data=[],
    )
    make_experiment("a001", details={"user": "alice", "created": "2024-01-01 00:00:00"}, pkl_format="F3")
    make_experiment("t000", description="Zeta test", details={"user": "bob", "created": "2024-03-01"})
    for made in ("a000", "a001", "t000"):
        os.utime(site.exp_dir(made) / "pkl" / f"job_list_{made}.pkl", (1784634124, 1784634124))
    sqlite_client = create_app(site.settings(env)).test_client()
    expected = {path: (r.status_code, r.get_json()) for path in PATHS for r in [sqlite_client.get(path)]}
    names = pgf.copy_site(site, pg_url)
    pgf.remove_sqlite_files(site, names)
    pg_client = create_app(site.settings(env, db_backend="postgres", db_connection_url=pg_url)).test_client()
    return expected, pg_client


def test_postgres_answers_equal_sqlite_answers(clients):
    # One database for every path: creating one per case costs seconds each.
    expected, pg_client = clients
    for path in PATHS:
        response = pg_client.get(path)
        assert (response.status_code, response.get_json()) == expected[path], path
    # The HPC filter (ILIKE with `*`, `!` and literal `_`) behaves alike on both dialects.
    assert expected["/v4/experiments?hpc=local"][1]["pagination"]["total_items"] == 3
    assert expected["/v4/experiments?hpc=LO_AL"][1]["pagination"]["total_items"] == 0
    item = pg_client.get("/v4/experiments").get_json()["experiments"][0]
    assert (item["completed"], item["total"], item["failed"]) == (3, 6, 1)
    assert item["modified"] == "2026-07-21T11:42:04"
