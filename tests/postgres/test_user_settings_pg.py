"""The preferred user name on a PostgreSQL site: stored in the API's own
`autosubmit_api.user_preferences` table (the API's own schema, created at the first write),
through the real routes; nothing in Autosubmit's `public` schema."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

from autosubmit_api.app import create_app
from tests.factory import postgres as pgf
from autosubmit_api.readers import backend
from tests.conftest import TEST_SECRET

PREFERRED = "/v4/user-settings/preferred-username"


def test_preferred_username_lives_in_the_apis_table_on_postgres(site, pg_url, token):
    pgf.copy_site(site, pg_url)
    settings = site.settings(
        {"PROTECTION_LEVEL": "ALL", "SECRET_KEY": TEST_SECRET}, db_backend="postgres", db_connection_url=pg_url
    )
    client = create_app(settings).test_client()
    probe = create_engine(backend.postgres_url(settings))
    try:
        with probe.connect() as conn:
            public_tables = set(inspect(conn).get_table_names(schema="public"))
    finally:
        probe.dispose()
    alice, bob = {"Authorization": token("alice")}, {"Authorization": token("bob")}
    assert client.get(PREFERRED, headers=alice).get_json()["preferred_username"] == ""
    assert client.post(PREFERRED, json={"preferred_username": "al"}, headers=alice).status_code == 200
    assert client.post(PREFERRED, json={"preferred_username": "bo"}, headers=bob).status_code == 200
    second = client.post(PREFERRED, json={"preferred_username": "alice"}, headers=alice).get_json()
    assert second["preferred_username"] == "alice" and second["created"] <= second["modified"]
    assert client.get(PREFERRED, headers=alice).get_json() == second
    assert client.get(PREFERRED, headers=bob).get_json()["preferred_username"] == "bo"
    engine = create_engine(backend.postgres_url(settings))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT user_id, preferred_username FROM autosubmit_api.user_preferences ORDER BY user_id")
            ).all()
            public_after = set(inspect(conn).get_table_names(schema="public"))
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [("alice", "alice"), ("bob", "bo")]
    assert public_after == public_tables
