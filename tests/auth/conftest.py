"""Fixtures for the authentication tests: the CAS, GitHub and OIDC stand-ins, a site whose
`.autosubmitrc` names allowed clients, and every kind of token the gate must judge."""

from __future__ import annotations

import time

import jwt
import pytest

from tests.factory import make_site
from tests.auth.standins import CASStandIn, GitHubStandIn, OIDCStandIn
from tests.conftest import TEST_SECRET

GUI = "http://gui.example"
OTHER_CLIENT = "https://portal.example/app"


@pytest.fixture
def site(tmp_path):
    site = make_site(tmp_path / "site")
    with open(site.rc_path, "a", encoding="utf-8") as rc:
        rc.write(f"[clients]\nauthorized = {GUI} {OTHER_CLIENT}\n")
    return site


@pytest.fixture
def cas():
    server = CASStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def github():
    server = GitHubStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def oidc():
    server = OIDCStandIn().start()
    yield server
    server.stop()


def make_tokens(user="tester"):
    """Header values by kind: what a client may send in `Authorization`."""
    now = int(time.time())
    valid = jwt.encode({"user_id": user, "sub": user, "iat": now, "exp": now + 3600}, TEST_SECRET, algorithm="HS256")
    return {
        "none": None,
        "valid": valid,
        "bearer": f"Bearer {valid}",
        "expired": jwt.encode({"user_id": user, "iat": 978000000, "exp": 978307200}, TEST_SECRET, algorithm="HS256"),
        "wrongkey": jwt.encode(
            {"user_id": user, "exp": now + 3600}, "another-secret-key-of-enough-length", algorithm="HS256"
        ),
        "alg_none": jwt.encode({"user_id": user, "exp": now + 3600}, None, algorithm="none"),
        "nouser": jwt.encode({"iat": now, "exp": now + 3600}, TEST_SECRET, algorithm="HS256"),
        "future_iat": jwt.encode(
            {"user_id": user, "iat": now + 86400, "exp": now + 90000}, TEST_SECRET, algorithm="HS256"
        ),
        "audience": jwt.encode(
            {"user_id": user, "aud": "elsewhere", "exp": now + 3600}, TEST_SECRET, algorithm="HS256"
        ),
        "malformed": "not.a.jwt",
        "bearer_only": "Bearer",
        "basic": "Basic dXNlcjpwYXNz",
        "null": "null",
        "bearer_null": "Bearer null",
    }


TOKEN_KINDS = tuple(make_tokens())
GOOD_KINDS = ("valid", "bearer")


def headers(kind, user="tester"):
    value = make_tokens(user)[kind]
    return {} if value is None else {"Authorization": value}


def assert_login_token(response, user):
    """A login route's success: 200, the login body naming `user`, and a token of ours for it.
    Returns the token."""
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["authenticated"] is True and body["user"] == user
    assert body["message"] == "Token generated"
    claims = jwt.decode(body["token"], TEST_SECRET, algorithms=["HS256"])
    assert claims["user_id"] == claims["sub"] == user
    return body["token"]
