"""`/updatedesc` (docs/api.md 4.2): the reference's answers, plus the owner check of docs/decisions.md Q12,
against a real central DB written by the factory."""

from __future__ import annotations

import os
import pwd
import sqlite3

import pytest

from tests.factory import add_central_row
from tests.auth.conftest import headers

ME = pwd.getpwuid(os.getuid()).pw_name


@pytest.fixture
def make_client(make_client):
    """The shared factory (tests/conftest.py), PROTECTION_LEVEL=NONE unless told: the reference's
    /updatedesc answers were captured without protection."""

    def make(level="NONE", **env):
        return make_client(level, **env)

    return make


@pytest.fixture
def owned(site):
    """a000 owned by alice (details row), b000 without details whose directory the test user owns."""
    add_central_row(site, "a000", description="old", details={"user": "alice"})
    add_central_row(site, "b000", description="old b")
    site.exp_dir("b000").mkdir(parents=True)
    return site


def _description(site, expid):
    with sqlite3.connect(site.central_db) as conn:
        return conn.execute("SELECT description FROM experiment WHERE name = ?", (expid,)).fetchone()[0]


def _post(client, user, body, path="/v3/updatedesc"):
    return client.post(path, json=body, headers=headers("valid", user=user) if user else {})


@pytest.mark.parametrize("path", ["/updatedesc", "/v3/updatedesc"])
def test_owner_updates_the_description(make_client, owned, path):
    response = _post(make_client(), "alice", {"expid": "a000", "description": "new text"}, path)
    assert response.status_code == 200
    assert response.get_json() == {
        "error": False,
        "auth": True,
        "description": "new text",
        "message": "Description Updated.",
    }
    assert _description(owned, "a000") == "new text"


def test_another_user_is_forbidden_and_nothing_changes(make_client, owned):
    response = _post(make_client(), "mallory", {"expid": "a000", "description": "defaced"})
    assert response.status_code == 403
    assert response.get_json() == {
        "error": True,
        "auth": False,
        "description": None,
        "message": "User mallory is not the owner of experiment a000.",
    }
    assert _description(owned, "a000") == "old"


def test_an_admin_user_may_change_any_experiment(make_client, owned):
    client = make_client(API_ADMIN_USERS="ops, root-admin")
    response = _post(client, "root-admin", {"expid": "a000", "description": "by ops"})
    assert response.get_json()["message"] == "Description Updated."
    assert _description(owned, "a000") == "by ops"


def test_owner_check_off_lets_any_user_change_it(make_client, owned):
    response = _post(make_client(API_OWNER_CHECK="false"), "mallory", {"expid": "a000", "description": "q12"})
    assert response.status_code == 200
    assert _description(owned, "a000") == "q12"


def test_without_details_the_directory_owner_is_the_owner(make_client, owned):
    client = make_client()
    assert _post(client, ME, {"expid": "b000", "description": "mine"}).status_code == 200
    assert _description(owned, "b000") == "mine"
    assert _post(client, "someone-else", {"expid": "b000", "description": "x"}).status_code == 403


def test_without_details_nor_directory_nobody_but_admins_owns_it(make_client, site):
    add_central_row(site, "c000", description="orphan")
    assert _post(make_client(), ME, {"expid": "c000", "description": "x"}).status_code == 403
    assert _post(make_client(API_ADMIN_USERS=ME), ME, {"expid": "c000", "description": "x"}).status_code == 200


@pytest.mark.parametrize("env", [{}, {"API_OWNER_CHECK": "false"}])
@pytest.mark.parametrize("expid", ["zzzz", "../etc", None])
def test_unknown_experiment_is_the_reference_failure(make_client, owned, env, expid):
    response = _post(make_client(**env), "alice", {"expid": expid, "description": "x"})
    assert response.status_code == 200
    assert response.get_json() == {
        "error": True,
        "auth": False,
        "description": None,
        "message": f"Update on experiment {expid} failed.",
    }


@pytest.mark.parametrize(
    "body", [{"expid": "a000"}, {"expid": "a000", "description": ""}, {"expid": "a000", "description": 5}]
)
def test_user_without_description_is_told_so(make_client, owned, body):
    response = _post(make_client(), "alice", body)
    assert response.status_code == 200
    assert response.get_json() == {
        "error": True,
        "auth": False,
        "description": None,
        "message": "No description provided.",
    }
    assert _description(owned, "a000") == "old"


def test_get_and_non_json_bodies_count_as_no_description(make_client, owned):
    client = make_client()
    for response in (
        client.get("/updatedesc", headers=headers("valid", user="alice")),
        client.post("/updatedesc", data="expid=a000&description=x", headers=headers("valid", user="alice")),
        client.post(
            "/updatedesc", data="{broken", content_type="application/json", headers=headers("valid", user="alice")
        ),
    ):
        assert response.status_code == 200
        assert response.get_json()["message"] == "No description provided."


def test_no_user_answers_401_with_the_reference_messages(make_client, owned):
    client = make_client()
    with_description = _post(client, None, {"expid": "a000", "description": "x"})
    assert with_description.status_code == 401
    assert with_description.get_json()["message"] == "It seems that your session has expired, please log in again."
    without = client.get("/v3/updatedesc")
    assert without.status_code == 401
    assert without.get_json() == {
        "error": True,
        "auth": False,
        "description": None,
        "message": "Not a valid user and no description provided",
    }
    assert _description(owned, "a000") == "old"


@pytest.mark.parametrize("level", ["ALL", "WRITEONLY"])
def test_gated_levels_need_a_token_then_write(make_client, owned, level):
    client = make_client(level)
    assert _post(client, None, {"expid": "a000", "description": "x"}).get_json() == {
        "error": True,
        "error_message": "Unauthorized",
    }
    assert _post(client, "alice", {"expid": "a000", "description": "gated"}).status_code == 200
    assert _description(owned, "a000") == "gated"


def test_missing_central_db_is_503_with_the_route_shape(make_client, owned):
    client = make_client(API_OWNER_CHECK="false")
    os.remove(owned.central_db)
    response = _post(client, "alice", {"expid": "a000", "description": "x"})
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"] is True and body["auth"] is False and body["description"] is None
    assert "/" not in body["message"]
    assert not os.path.exists(owned.central_db)
