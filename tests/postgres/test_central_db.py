"""The central-DB readers and writers give the same answers on PostgreSQL as on SQLite.

A site is written by the SQLite factory, copied into a fresh PostgreSQL database the way
Autosubmit 4.1.16+ lays it out (factory/postgres.py), and each read is compared.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.factory import add_central_row
from tests.factory import postgres as pgf
from autosubmit_api.models import AuditOrigin
from autosubmit_api.readers import backend, central_db, central_store
from autosubmit_api.models import DetailsRow, StatusRow

WRITER = AuditOrigin("alice", "127.0.0.1", "req-1", "/v3/updatedesc")
NOW = "2026-01-01T00:00:00+00:00"


@pytest.fixture
def both(site, env, pg_url):
    """(sqlite settings, postgres settings) over the same content."""
    add_central_row(
        site,
        "a000",
        description="Zeta test",
        details={"user": "alice", "hpc": "MN5", "created": "2024-01-02 00:00:00"},
        status="RUNNING",
    )
    add_central_row(
        site,
        "t001",
        description="alpha",
        autosubmit_version="3.15.0",
        details={"user": "bob", "created": "2023-12-31 00:00:00"},
    )
    add_central_row(site, "o002", description="operational Á", autosubmit_version=None)
    add_central_row(site, "a003", description="Beta_", details={"user": "alice"}, status="NOT RUNNING")
    pgf.copy_site(site, pg_url)
    sqlite_settings = site.settings(env)
    pg_settings = site.settings(env, db_backend="postgres", db_connection_url=pg_url)
    return sqlite_settings, pg_settings


CALLS = [
    ("list", lambda s: central_db.list_experiments(s)),
    ("list query", lambda s: central_db.list_experiments(s, query="ALPHA")),
    ("list owner", lambda s: central_db.list_experiments(s, owner="alice", order_by="created", order_desc=True)),
    ("list page", lambda s: central_db.list_experiments(s, order_by="description", limit=2, offset=1)),
    ("list type", lambda s: central_db.list_experiments(s, exp_type="operational")),
    ("list active", lambda s: central_db.list_experiments(s, only_active=True)),
    ("list version", lambda s: central_db.list_experiments(s, autosubmit_version="3.15.0")),
    ("search", lambda s: central_db.search(s, text="a")),
    ("search type", lambda s: central_db.search(s, exp_type="test")),
    ("search underscore", lambda s: central_db.search(s, text="_")),
    ("running", lambda s: central_db.running(s)),
    ("get", lambda s: central_db.get_experiment(s, "t001")),
    ("get missing", lambda s: central_db.get_experiment(s, "zz99")),
    ("names", lambda s: central_db.experiment_names(s, ["a000", "o002", "nope"])),
    ("db_version", lambda s: central_db.db_version(s)),
    ("statuses", lambda s: central_db.statuses(s)),
    ("ping", lambda s: central_db.ping(s)),
]


@pytest.mark.parametrize("name,call", CALLS, ids=[c[0] for c in CALLS])
def test_reads_match_sqlite(both, name, call):
    sqlite_settings, pg_settings = both
    assert call(pg_settings) == call(sqlite_settings)


def test_the_postgres_site_is_read_from_its_autosubmitrc(site, env, pg_url):
    add_central_row(site, "a000", description="from rc")
    pgf.copy_site(site, pg_url)
    pgf.write_pg_rc(site, pg_url)
    pgf.remove_sqlite_files(site, ["a000"])
    settings = site.settings(env)
    assert backend.is_postgres(settings)
    assert central_db.get_experiment(settings, "a000").description == "from rc"


def test_writes_go_to_the_public_schema(both, pg_url):
    _, settings = both
    assert central_store.update_description(settings, "a000", "new", WRITER, NOW) is True
    assert central_store.update_description(settings, "zz99", "new", WRITER, NOW) is False
    central_store.upsert_details(settings, [DetailsRow(3, "carol", "2024-03-03 00:00:00", "NA", "NA", "LOCAL")])
    central_store.apply_statuses(
        settings,
        [
            StatusRow(1, "a000", "NOT RUNNING", "2024-05-05-00:00:00"),
            StatusRow(2, "t001", "RUNNING", "2024-05-05-00:00:00"),
        ],
    )
    engine = pgf.engine_for(pg_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT description FROM public.experiment WHERE name = 'a000'")).scalar() == "new"
        assert conn.execute(text('SELECT "user" FROM public.details WHERE exp_id = 3')).scalar() == "carol"
        assert dict(conn.execute(text("SELECT name, status FROM public.experiment_status")).all()) == {
            "a000": "NOT RUNNING",
            "t001": "RUNNING",
            "a003": "NOT RUNNING",
        }
    engine.dispose()
    assert central_db.get_experiment(settings, "o002").user == "carol"


def test_an_unreachable_server_is_unavailable(site, env):
    settings = site.settings(
        env, db_backend="postgres", db_connection_url="postgresql://nobody@127.0.0.1:1/none", sqlite_timeout=1
    )
    ok, message = central_db.ping(settings)
    assert ok is False and message.startswith("The central database cannot be read")
    from autosubmit_api.errors import Unavailable

    with pytest.raises(Unavailable):
        central_store.update_description(settings, "a000", "x", WRITER, NOW)
