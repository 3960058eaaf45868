"""The audit trail (docs/audit.md) on a SQLite site: every write through a route (the
description by /v3/updatedesc and by the runner command, the preferred user name) appends who,
when, what, the old and new value, the client address, the request id and the route to the
API's own table in as_times.db, in the write's transaction; `GET /v4/audit` shows it to
API_ADMIN_USERS only, newest first, a page at a time. The PostgreSQL twin is
tests/postgres/test_audit_pg.py."""

from __future__ import annotations

import os
import sqlite3

import pytest

from tests.factory import add_central_row

V3 = "/v3/updatedesc"
V4 = "/v4/runners/command/update-experiment-description"
PREFERRED = "/v4/user-settings/preferred-username"
AUDIT = "/v4/audit"


@pytest.fixture
def owned(site):
    add_central_row(site, "a000", description="old", details={"user": "alice"})
    add_central_row(site, "a001", description="other", details={"user": "bob"})
    return site


@pytest.fixture
def client(make_client, owned):
    return make_client("ALL", API_ADMIN_USERS="root,auditor")


def _h(token, user, rid=None):
    headers = {"Authorization": token(user)}
    if rid:
        headers["X-Request-ID"] = rid
    return headers


def _description(site, expid="a000"):
    with sqlite3.connect(site.central_db) as conn:
        return conn.execute("SELECT description FROM experiment WHERE name = ?", (expid,)).fetchone()[0]


def _trail(client, token, **query):
    response = client.get(AUDIT, query_string=query, headers=_h(token, "auditor"))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_every_write_appends_who_what_old_new_and_from_where(client, owned, token):
    assert (
        client.post(V3, json={"expid": "a000", "description": "first"}, headers=_h(token, "alice", "r-1")).get_json()[
            "error"
        ]
        is False
    )
    body = {"expid": "a000", "description": "second", "profile_name": "description-only", "profile_params": {}}
    assert client.post(V4, json=body, headers=_h(token, "root", "r-2")).status_code == 200
    assert (
        client.post(PREFERRED, json={"preferred_username": "al"}, headers=_h(token, "alice", "r-3")).status_code == 200
    )
    assert client.post(PREFERRED, json={"preferred_username": "al2"}, headers=_h(token, "alice")).status_code == 200

    answer = _trail(client, token)
    entries = answer["entries"]
    assert answer["pagination"] == {"page": 1, "page_size": 50, "total_pages": 1, "page_items": 4, "total_items": 4}
    assert [e["id"] for e in entries] == sorted((e["id"] for e in entries), reverse=True)
    newest_first = [(e["user"], e["action"], e["target"], e["old_value"], e["new_value"], e["route"]) for e in entries]
    assert newest_first == [
        ("alice", "preferred_username", "alice", "al", "al2", "/v4/user-settings/preferred-username"),
        ("alice", "preferred_username", "alice", None, "al", "/v4/user-settings/preferred-username"),
        ("root", "description", "a000", "first", "second", "/v4/runners/command/update-experiment-description"),
        ("alice", "description", "a000", "old", "first", "/v3/updatedesc"),
    ]
    assert [e["request_id"] for e in entries[1:]] == ["r-3", "r-2", "r-1"]
    assert len(entries[0]["request_id"]) == 32  # a request without one gets a new id
    assert {e["client"] for e in entries} == {"127.0.0.1"}
    assert all(e["time"].endswith("+00:00") and len(e["time"]) == 25 for e in entries)
    assert _description(owned) == "second"


def test_the_trail_is_in_the_apis_table_never_in_autosubmit_db(client, owned, token):
    with sqlite3.connect(owned.central_db) as conn:
        before = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    client.post(V3, json={"expid": "a000", "description": "x"}, headers=_h(token, "alice"))
    with sqlite3.connect(owned.central_db) as conn:
        assert {r[0] for r in conn.execute("SELECT name FROM sqlite_master")} == before
    with sqlite3.connect(owned.as_times_db) as conn:
        rows = conn.execute("SELECT user_id, action, target, old_value, new_value FROM api_audit").fetchall()
    assert rows == [("alice", "description", "a000", "old", "x")]


def test_refused_and_failed_writes_leave_no_row(client, owned, token):
    assert (
        client.post(V4, json={"expid": "a001", "description": "defaced"}, headers=_h(token, "alice")).status_code == 403
    )
    assert client.post(V4, json={"expid": "zz99", "description": "x"}, headers=_h(token, "root")).status_code == 404
    assert client.post(PREFERRED, json={"preferred_username": "-bad"}, headers=_h(token, "alice")).status_code == 400
    assert client.post(V3, json={"expid": "a000"}, headers=_h(token, "alice")).get_json()["error"] is True
    assert _trail(client, token)["entries"] == []
    assert _description(owned, "a001") == "other"


def test_pages_and_filters(client, token):
    for n in range(5):
        client.post(V3, json={"expid": "a000", "description": f"a{n}"}, headers=_h(token, "alice"))
    client.post(V3, json={"expid": "a001", "description": "b"}, headers=_h(token, "bob"))
    client.post(PREFERRED, json={"preferred_username": "bobby"}, headers=_h(token, "bob"))

    first = _trail(client, token, page=1, page_size=3)
    second = _trail(client, token, page=2, page_size=3)
    third = _trail(client, token, page="3", page_size="3")
    assert first["pagination"] == {"page": 1, "page_size": 3, "total_pages": 3, "page_items": 3, "total_items": 7}
    assert [e["new_value"] for e in first["entries"]] == ["bobby", "b", "a4"]
    assert [e["new_value"] for e in second["entries"]] == ["a3", "a2", "a1"]
    assert [e["new_value"] for e in third["entries"]] == ["a0"]
    assert _trail(client, token, page=9, page_size=3)["entries"] == []

    bob = _trail(client, token, user="bob")
    assert [(e["action"], e["new_value"]) for e in bob["entries"]] == [
        ("preferred_username", "bobby"),
        ("description", "b"),
    ]
    a000 = _trail(client, token, expid="a000", page_size=2)
    assert [e["new_value"] for e in a000["entries"]] == ["a4", "a3"]
    assert a000["pagination"]["total_items"] == 5
    both = _trail(client, token, expid="a001", user="alice")
    assert both["entries"] == [] and both["pagination"]["total_pages"] == 0


@pytest.mark.parametrize("level", ["ALL", "WRITEONLY", "NONE"])
def test_only_admins_read_the_trail(make_client, owned, token, level):
    client = make_client(level, API_ADMIN_USERS="auditor")
    assert client.get(AUDIT).status_code == 401
    assert client.get(AUDIT, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    refused = client.get(AUDIT, headers=_h(token, "alice"))
    assert refused.status_code == 403 and "API_ADMIN_USERS" in refused.get_json()["error_message"]
    assert client.get(AUDIT, headers=_h(token, "auditor")).status_code == 200


@pytest.mark.parametrize(
    "query", [{"page": "0"}, {"page": "x"}, {"page_size": "-1"}, {"page_size": "1.5"}, {"expid": "../etc"}]
)
def test_bad_query_is_a_clear_400(client, token, query):
    response = client.get(AUDIT, query_string=query, headers=_h(token, "auditor"))
    assert response.status_code == 400
    assert response.get_json()["error"] is True and response.get_json()["error_message"]


def test_page_size_is_capped(make_client, owned, token):
    client = make_client("ALL", API_ADMIN_USERS="auditor", API_MAX_PAGE_SIZE="2")
    assert _trail(client, token, page_size=500)["pagination"]["page_size"] == 2


def test_no_audit_store_refuses_the_write_before_changing_anything(client, owned, token):
    os.remove(owned.as_times_db)
    refused = client.post(V4, json={"expid": "a000", "description": "unaudited"}, headers=_h(token, "alice"))
    assert refused.status_code == 503
    assert refused.get_json()["error_message"].startswith("The audit trail cannot be written")
    assert str(owned.root) not in refused.get_json()["error_message"]
    v3 = client.post(V3, json={"expid": "a000", "description": "unaudited"}, headers=_h(token, "alice"))
    assert v3.status_code == 503 and v3.get_json()["error"] is True
    assert _description(owned) == "old"
    assert not owned.as_times_db.exists()
    assert _trail(client, token)["entries"] == []


def test_an_audit_append_that_fails_after_the_update_rolls_the_write_back(client, owned, token):
    """The UPDATE of autosubmit.db has run when the audit INSERT fails: both files roll back."""
    assert client.post(V4, json={"expid": "a000", "description": "kept"}, headers=_h(token, "alice")).status_code == 200
    assert client.post(PREFERRED, json={"preferred_username": "al"}, headers=_h(token, "alice")).status_code == 200
    with sqlite3.connect(owned.as_times_db) as conn:
        conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON api_audit BEGIN SELECT RAISE(ABORT, 'refused'); END")
    refused = client.post(V4, json={"expid": "a000", "description": "lost"}, headers=_h(token, "alice"))
    assert refused.status_code == 503
    assert _description(owned) == "kept"
    pref = client.post(PREFERRED, json={"preferred_username": "lost"}, headers=_h(token, "alice"))
    assert pref.status_code == 503
    assert client.get(PREFERRED, headers=_h(token, "alice")).get_json()["preferred_username"] == "al"
    assert _trail(client, token)["pagination"]["total_items"] == 2
