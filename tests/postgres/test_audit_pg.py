"""The audit trail on a PostgreSQL site (docs/audit.md): rows in the API's own
`autosubmit_api.audit` table, written in the same transaction as the description
(`public.experiment`) or the preferred user name, read by `GET /v4/audit`; nothing added to
Autosubmit's `public` schema. The SQLite twin is tests/routes/test_audit.py."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

from autosubmit_api.app import create_app
from tests.factory import add_central_row
from tests.factory import postgres as pgf
from autosubmit_api.readers import backend
from tests.conftest import TEST_SECRET

V3 = "/v3/updatedesc"
V4 = "/v4/runners/command/update-experiment-description"
PREFERRED = "/v4/user-settings/preferred-username"


def _run(settings, sql, params=None):
    engine = create_engine(backend.postgres_url(settings))
    try:
        with engine.begin() as conn:
            result = conn.execute(text(sql), params or {})
            return result.all() if result.returns_rows else None
    finally:
        engine.dispose()


def _public_tables(settings):
    engine = create_engine(backend.postgres_url(settings))
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names(schema="public"))
    finally:
        engine.dispose()


def test_the_trail_on_postgres(site, pg_url, token):
    add_central_row(site, "a000", description="old", details={"user": "alice"})
    pgf.copy_site(site, pg_url)
    settings = site.settings(
        {"PROTECTION_LEVEL": "ALL", "SECRET_KEY": TEST_SECRET, "API_ADMIN_USERS": "auditor"},
        db_backend="postgres",
        db_connection_url=pg_url,
    )
    client = create_app(settings).test_client()
    public = _public_tables(settings)
    alice = {"Authorization": token("alice"), "X-Request-ID": "pg-1"}
    auditor = {"Authorization": token("auditor")}

    assert client.post(V3, json={"expid": "a000", "description": "first"}, headers=alice).get_json()["error"] is False
    assert client.post(V4, json={"expid": "a000", "description": "second"}, headers=alice).status_code == 200
    assert client.post(PREFERRED, json={"preferred_username": "al"}, headers=alice).status_code == 200
    assert client.post(V4, json={"expid": "zz99", "description": "x"}, headers=alice).status_code == 404

    assert client.get("/v4/audit", headers={"Authorization": token("alice")}).status_code == 403
    assert client.get("/v4/audit").status_code == 401
    answer = client.get("/v4/audit", query_string={"page_size": 2}, headers=auditor).get_json()
    assert answer["pagination"] == {"page": 1, "page_size": 2, "total_pages": 2, "page_items": 2, "total_items": 3}
    assert [(e["action"], e["old_value"], e["new_value"]) for e in answer["entries"]] == [
        ("preferred_username", None, "al"),
        ("description", "first", "second"),
    ]
    assert {(e["user"], e["client"], e["request_id"]) for e in answer["entries"]} == {("alice", "127.0.0.1", "pg-1")}
    only = client.get("/v4/audit", query_string={"expid": "a000"}, headers=auditor).get_json()
    assert [e["route"] for e in only["entries"]] == [
        "/v4/runners/command/update-experiment-description",
        "/v3/updatedesc",
    ]
    assert _public_tables(settings) == public
    rows = _run(settings, "SELECT user_id, action, target FROM autosubmit_api.audit ORDER BY id")
    assert [tuple(r) for r in rows] == [
        ("alice", "description", "a000"),
        ("alice", "description", "a000"),
        ("alice", "preferred_username", "alice"),
    ]

    # An audit append that fails after the UPDATE rolls the description back with it.
    _run(
        settings,
        "CREATE FUNCTION autosubmit_api.refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ "
        "LANGUAGE plpgsql",
    )
    _run(
        settings,
        "CREATE TRIGGER refuse BEFORE INSERT ON autosubmit_api.audit "
        "FOR EACH ROW EXECUTE FUNCTION autosubmit_api.refuse()",
    )
    assert client.post(V4, json={"expid": "a000", "description": "lost"}, headers=alice).status_code == 503
    assert client.post(PREFERRED, json={"preferred_username": "lost"}, headers=alice).status_code == 503
    assert _run(settings, "SELECT description FROM public.experiment WHERE name = 'a000'")[0][0] == "second"
    assert client.get(PREFERRED, headers=alice).get_json()["preferred_username"] == "al"
