"""GitHub OAuth login through our route against a GitHub stand-in on loopback (docs/api.md 4.7)."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from autosubmit_api.app import create_app
from tests.auth.conftest import assert_login_token
from tests.conftest import TEST_SECRET


@pytest.fixture
def make_client(site, github):
    def make(**extra):
        env = {
            "SECRET_KEY": TEST_SECRET,
            "GITHUB_OAUTH_CLIENT_ID": "gh-client",
            "GITHUB_OAUTH_CLIENT_SECRET": "gh-secret",
            "GITHUB_API_URL": github.url,
            "GITHUB_OAUTH_URL": github.url,
            **extra,
        }
        return create_app(site.settings(env)).test_client()

    return make


def _login(client, code):
    return client.get("/v4/auth/oauth2/github/login", query_string={"code": code} if code else None)


def test_no_code_cannot_verify(make_client):
    response = _login(make_client(), None)
    assert response.status_code == 401
    assert response.get_json() == {"authenticated": False, "user": None, "token": None, "message": "Can't verify user"}


def test_good_code_without_whitelist_answers_a_token(make_client, github):
    github.state.codes["c1"] = "octocat"
    assert_login_token(_login(make_client(), "c1"), "octocat")
    exchange = github.requests[0]
    assert exchange.method == "POST" and exchange.path == "/login/oauth/access_token"
    assert parse_qs(exchange.body.decode()) == {
        "client_id": ["gh-client"],
        "client_secret": ["gh-secret"],
        "code": ["c1"],
    }
    assert exchange.headers["Accept"] == "application/json"
    assert github.requests[1].path == "/user"
    assert github.requests[1].headers["Authorization"].startswith("Bearer gho_octocat")


def test_unknown_code_finds_no_user(make_client):
    response = _login(make_client(), "wrong")
    assert response.status_code == 401
    assert response.get_json()["message"] == "Couldn't find user on GitHub"


def test_wrong_client_secret_finds_no_user(make_client, github):
    github.state.codes["c2"] = "octocat"
    response = _login(make_client(GITHUB_OAUTH_CLIENT_SECRET="stolen"), "c2")
    assert response.status_code == 401
    assert response.get_json()["message"] == "Couldn't find user on GitHub"


def test_org_member_is_admitted_and_outsider_refused(make_client, github):
    github.state.org_members["bsc"] = {"alice"}
    client = make_client(GITHUB_OAUTH_WHITELIST_ORGANIZATION="bsc")
    github.state.codes.update({"a": "alice", "m": "mallory"})
    assert _login(client, "a").get_json()["user"] == "alice"
    assert github.requests[-1].path == "/orgs/bsc/members/alice"
    refused = _login(client, "m")
    assert refused.status_code == 401
    assert refused.get_json() == {
        "authenticated": False,
        "user": None,
        "token": None,
        "message": "User is not member of organization or team",
    }


@pytest.mark.parametrize("login, admitted", [("alice", True), ("pending", False), ("outsider", False)])
def test_team_whitelist_admits_only_active_members(make_client, github, login, admitted):
    github.state.org_members["bsc"] = {"alice", "pending", "outsider"}
    github.state.team_members[("bsc", "es-team")] = {"alice": "active", "pending": "pending"}
    client = make_client(GITHUB_OAUTH_WHITELIST_ORGANIZATION="bsc", GITHUB_OAUTH_WHITELIST_TEAM="es-team")
    github.state.codes["k"] = login
    response = _login(client, "k")
    assert response.status_code == (200 if admitted else 401)
    assert github.requests[-1].path == f"/orgs/bsc/teams/es-team/memberships/{login}"


def test_team_alone_without_org_admits_everyone(make_client, github):
    # The reference checks the team only together with the organization.
    github.state.codes["t"] = "anyone"
    response = _login(make_client(GITHUB_OAUTH_WHITELIST_TEAM="es-team"), "t")
    assert response.status_code == 200


def test_not_configured_is_503_and_asks_github_nothing(site, github):
    env = {"SECRET_KEY": TEST_SECRET, "GITHUB_API_URL": github.url, "GITHUB_OAUTH_URL": github.url}
    response = _login(create_app(site.settings(env)).test_client(), "c")
    assert response.status_code == 503
    assert response.get_json()["message"] == "GitHub login is not configured on this server"
    assert github.requests == []


def test_github_unreachable_is_503_not_500(site, github):
    url = github.url
    github.stop()
    env = {
        "SECRET_KEY": TEST_SECRET,
        "GITHUB_API_URL": url,
        "GITHUB_OAUTH_URL": url,
        "GITHUB_OAUTH_CLIENT_ID": "gh-client",
    }
    response = _login(create_app(site.settings(env)).test_client(), "c")
    assert response.status_code == 503
    assert response.get_json()["authenticated"] is False
