"""The current GUI's runner and settings routes (docs/runners.md): what the GUI reads from
`configuration/endpoints`, `profiles` and `ssh-public-keys`; the description write through
`command/update-experiment-description` (the /v3/updatedesc rule: owner or API_ADMIN_USERS);
the preferred user name kept in the API's own table on SQLite (here) and PostgreSQL
(tests/postgres/test_user_settings_pg.py)."""

from __future__ import annotations

import sqlite3

import pytest

from tests.factory import add_central_row

UPDATE = "/v4/runners/command/update-experiment-description"
PREFERRED = "/v4/user-settings/preferred-username"


@pytest.fixture
def owned(site):
    add_central_row(site, "a000", description="old", details={"user": "alice"})
    return site


def _auth(token, user):
    return {"Authorization": token(user)} if user else {}


def _description(site, expid="a000"):
    with sqlite3.connect(site.central_db) as conn:
        return conn.execute("SELECT description FROM experiment WHERE name = ?", (expid,)).fetchone()[0]


def _gui_body(description, expid="a000"):
    # What UpdateDescriptionModal sends once a profile is chosen.
    return {"expid": expid, "description": description, "profile_name": "description-only", "profile_params": {}}


def test_endpoints_use_the_gui_keys_and_enable_only_the_description(make_client, token):
    body = make_client().get("/v4/runners/configuration/endpoints", headers=_auth(token, "alice")).get_json()
    assert body == {
        "RUNNER_RUN": {"ENABLED": False},
        "SET_JOB_STATUS": {"ENABLED": False},
        "CREATE_EXPERIMENT": {"ENABLED": False},
        "UPDATE_EXPERIMENT_DETAILS": {"ENABLED": True},
    }


def test_profiles_and_keys_have_upstreams_shape(make_client, token):
    client = make_client()
    profiles = client.get("/v4/runners/configuration/profiles", headers=_auth(token, "alice")).get_json()
    assert isinstance(profiles, dict) and list(profiles) == ["description-only"]
    assert (
        profiles["description-only"]["RUNNER_TYPE"]
        and profiles["description-only"]["MODULE_LOADER_TYPE"] == "NO_MODULE"
    )
    keys = client.get("/v4/runners/configuration/ssh-public-keys", headers=_auth(token, "alice"))
    assert keys.status_code == 200 and keys.get_json() == []


@pytest.mark.parametrize(
    "path", ["run-experiment", "stop-experiment", "set-job-status", "create-experiment", "get-runner-run-status"]
)
def test_the_runner_commands_are_not_served(make_client, token, path):
    response = make_client().post(f"/v4/runners/command/{path}", json={"expid": "a000"}, headers=_auth(token, "alice"))
    assert response.status_code == 404


@pytest.mark.parametrize("level", ["ALL", "WRITEONLY", "NONE"])
def test_the_owner_writes_the_description_at_every_level(make_client, owned, token, level):
    response = make_client(level).post(UPDATE, json=_gui_body("new text"), headers=_auth(token, "alice"))
    assert response.status_code == 200
    assert response.get_json() == {"message": "Description for experiment a000 updated successfully."}
    assert _description(owned) == "new text"


@pytest.mark.parametrize("level", ["ALL", "WRITEONLY", "NONE"])
def test_another_user_is_forbidden_at_every_level(make_client, owned, token, level):
    response = make_client(level).post(UPDATE, json=_gui_body("defaced"), headers=_auth(token, "mallory"))
    assert response.status_code == 403
    assert response.get_json() == {"error": True, "error_message": "User mallory is not the owner of experiment a000."}
    assert _description(owned) == "old"


@pytest.mark.parametrize("level", ["ALL", "WRITEONLY", "NONE"])
def test_no_token_is_401_at_every_level(make_client, owned, level):
    response = make_client(level).post(UPDATE, json=_gui_body("anonymous"))
    assert response.status_code == 401
    assert response.get_json() == {"error": True, "error_message": "Unauthorized"}
    assert _description(owned) == "old"


def test_an_admin_may_write_any_description(make_client, owned, token):
    response = make_client(API_ADMIN_USERS="ops").post(UPDATE, json=_gui_body("by ops"), headers=_auth(token, "ops"))
    assert response.status_code == 200 and _description(owned) == "by ops"


def test_a_script_may_leave_out_the_profile(make_client, owned, token):
    response = make_client().post(UPDATE, json={"expid": "a000", "description": "plain"}, headers=_auth(token, "alice"))
    assert response.status_code == 200 and _description(owned) == "plain"


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"expid": "a000"},
        {"expid": "a000", "description": ""},
        {"expid": "a000", "description": 5},
        {"description": "x"},
        {"expid": 7, "description": "x"},
    ],
)
def test_a_bad_body_is_400_and_changes_nothing(make_client, owned, token, body):
    client = make_client()
    if body is None:
        response = client.post(UPDATE, data="{broken", content_type="application/json", headers=_auth(token, "alice"))
    else:
        response = client.post(UPDATE, json=body, headers=_auth(token, "alice"))
    assert response.status_code == 400 and response.get_json()["error"] is True
    assert _description(owned) == "old"


@pytest.mark.parametrize("expid", ["zzzz", "../etc"])
def test_an_unknown_experiment_is_404(make_client, owned, token, expid):
    response = make_client().post(UPDATE, json=_gui_body("x", expid), headers=_auth(token, "alice"))
    assert response.status_code == 404
    assert response.get_json() == {"error": True, "error_message": f"Update on experiment {expid} failed."}


def test_a_missing_central_db_is_503_without_paths(make_client, owned, token):
    owned.central_db.unlink()
    response = make_client(API_OWNER_CHECK="false").post(UPDATE, json=_gui_body("x"), headers=_auth(token, "alice"))
    assert response.status_code == 503 and "/" not in response.get_json()["error_message"]
    assert not owned.central_db.exists()


# --- preferred user name ---------------------------------------------------------------------


def _stored(site):
    with sqlite3.connect(site.as_times_db) as conn:
        return conn.execute("SELECT user_id, preferred_username FROM api_user_preferences ORDER BY user_id").fetchall()


@pytest.mark.parametrize("level", ["ALL", "WRITEONLY", "NONE"])
def test_preferred_username_is_stored_per_user(make_client, site, token, level):
    client = make_client(level)
    empty = client.get(PREFERRED, headers=_auth(token, "alice"))
    assert empty.status_code == 200
    assert empty.get_json() == {"user_id": "alice", "preferred_username": "", "created": None, "modified": None}
    saved = client.post(PREFERRED, json={"preferred_username": "a.lice_01"}, headers=_auth(token, "alice"))
    assert saved.status_code == 200
    body = saved.get_json()
    assert body["user_id"] == "alice" and body["preferred_username"] == "a.lice_01"
    assert body["created"] == body["modified"] and body["created"].endswith("+00:00")
    client.post(PREFERRED, json={"preferred_username": "bob2"}, headers=_auth(token, "bob"))
    again = client.post(PREFERRED, json={"preferred_username": " alice "}, headers=_auth(token, "alice"))
    assert again.get_json()["preferred_username"] == "alice"
    assert again.get_json()["created"] == body["created"]
    assert client.get(PREFERRED, headers=_auth(token, "alice")).get_json()["preferred_username"] == "alice"
    assert client.get(PREFERRED, headers=_auth(token, "bob")).get_json()["preferred_username"] == "bob2"
    assert _stored(site) == [("alice", "alice"), ("bob", "bob2")]


@pytest.mark.parametrize("level", ["ALL", "WRITEONLY", "NONE"])
def test_preferred_username_needs_a_user_at_every_level(make_client, site, level):
    client = make_client(level)
    for response in (
        client.get(PREFERRED),
        client.post(PREFERRED, json={"preferred_username": "x"}),
        client.get(PREFERRED, headers={"Authorization": "null"}),
    ):
        assert response.status_code == 401
        assert response.get_json() == {"error": True, "error_message": "Unauthorized", "detail": "Unauthorized"}
    with sqlite3.connect(site.as_times_db) as conn:
        assert not conn.execute("SELECT name FROM sqlite_master WHERE name = 'api_user_preferences'").fetchall()


@pytest.mark.parametrize("value", ["", "   ", 5, None, "-rf", "a b", "x;rm", "é", "a" * 129])
def test_a_bad_preferred_username_is_400_with_a_detail(make_client, site, token, value):
    client = make_client()
    response = client.post(PREFERRED, json={"preferred_username": value}, headers=_auth(token, "alice"))
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] is True and body["detail"] == body["error_message"]
    assert client.get(PREFERRED, headers=_auth(token, "alice")).get_json()["preferred_username"] == ""


def test_a_body_without_the_field_is_400(make_client, token):
    client = make_client()
    for kwargs in ({"json": {}}, {"json": ["x"]}, {"data": "preferred_username=x"}):
        assert client.post(PREFERRED, headers=_auth(token, "alice"), **kwargs).status_code == 400


def test_without_as_times_db_get_is_empty_and_post_is_503(make_client, site, token):
    site.as_times_db.unlink()
    client = make_client()
    assert client.get(PREFERRED, headers=_auth(token, "alice")).get_json()["preferred_username"] == ""
    response = client.post(PREFERRED, json={"preferred_username": "alice"}, headers=_auth(token, "alice"))
    assert response.status_code == 503 and "/" not in response.get_json()["error_message"]
    assert not site.as_times_db.exists()


def test_autosubmits_database_is_not_touched(make_client, site, token):
    before = site.central_db.read_bytes()
    make_client().post(PREFERRED, json={"preferred_username": "alice"}, headers=_auth(token, "alice"))
    assert site.central_db.read_bytes() == before
