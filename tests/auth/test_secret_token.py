"""AS_API_SECRET_TOKEN (upstream 4.2.0's setting; the current GUI's `secret-token` login, which
stores `Bearer <the token>` and calls verify-token): a static token accepted by the gate like
a login token, standing for AS_API_SECRET_TOKEN_USER, compared in constant time, off when unset."""

from __future__ import annotations

import pytest

from autosubmit_api import auth
from tests.factory import add_central_row
from tests.conftest import TEST_SECRET

SECRET = "a-static-site-token-of-forty-characters!"


@pytest.mark.parametrize("header", [f"Bearer {SECRET}", SECRET, f"bearer {SECRET}"])
def test_the_secret_token_logs_in_as_its_user(make_client, header):
    client = make_client(AS_API_SECRET_TOKEN=SECRET)
    verified = client.get("/v4/auth/verify-token", headers={"Authorization": header})
    assert verified.status_code == 200
    assert verified.get_json() == {"authenticated": True, "user": "User"}
    assert client.get("/v4/experiments", headers={"Authorization": header}).status_code == 200


def test_the_user_it_stands_for_is_configurable_and_owner_checked(make_client, site):
    add_central_row(site, "a000", description="old", details={"user": "alice"})
    add_central_row(site, "a001", description="old", details={"user": "bob"})
    client = make_client(AS_API_SECRET_TOKEN=SECRET, AS_API_SECRET_TOKEN_USER="alice")
    header = {"Authorization": f"Bearer {SECRET}"}
    assert client.get("/v4/auth/verify-token", headers=header).get_json()["user"] == "alice"
    assert client.get("/tokentest", headers=header).get_json()["isValid"] is True
    mine = client.post("/v3/updatedesc", json={"expid": "a000", "description": "new"}, headers=header)
    assert mine.status_code == 200
    other = client.post("/v3/updatedesc", json={"expid": "a001", "description": "new"}, headers=header)
    assert other.status_code == 403


@pytest.mark.parametrize(
    "header",
    [
        f"Bearer {SECRET[:-1]}",
        f"Bearer {SECRET}x",
        f"Bearer {SECRET.upper()}",
        "Bearer ",
        "Bearer null",
        f"Basic {SECRET}",
    ],
)
def test_anything_else_is_refused(make_client, header):
    client = make_client(AS_API_SECRET_TOKEN=SECRET)
    response = client.get("/v4/experiments", headers={"Authorization": header})
    assert response.status_code == 401
    assert client.get("/v4/auth/verify-token", headers={"Authorization": header}).status_code == 401


@pytest.mark.parametrize("env", [{}, {"AS_API_SECRET_TOKEN": ""}])
def test_off_when_unset(make_client, env):
    client = make_client(**env)
    for header in ("Bearer ", "Bearer User", "Bearer", ""):
        assert client.get("/v4/auth/verify-token", headers={"Authorization": header}).status_code == 401


def test_jwts_still_work_beside_it(make_client, token):
    client = make_client(AS_API_SECRET_TOKEN=SECRET)
    verified = client.get("/v4/auth/verify-token", headers={"Authorization": token("jdoe")})
    assert verified.get_json() == {"authenticated": True, "user": "jdoe"}


def test_the_comparison_is_constant_time_on_bytes():
    assert auth.is_secret_token(SECRET, SECRET)
    assert not auth.is_secret_token(SECRET, "")
    assert not auth.is_secret_token("", "")
    assert not auth.is_secret_token(None, SECRET)
    # Non-ASCII is compared as UTF-8 bytes (hmac.compare_digest refuses non-ASCII str).
    assert auth.is_secret_token("clé-secrète", "clé-secrète")
    assert not auth.is_secret_token("clé-secrète", "cle-secrete")


def test_a_short_or_admin_secret_token_is_warned_about(site):
    conf = site.settings(
        {
            "SECRET_KEY": TEST_SECRET,
            "AS_API_SECRET_TOKEN": "short",
            "AS_API_SECRET_TOKEN_USER": "ops",
            "API_ADMIN_USERS": "ops",
        }
    )
    warnings = auth.startup_warnings(conf)
    assert any("AS_API_SECRET_TOKEN is shorter" in w for w in warnings)
    assert any("member of API_ADMIN_USERS" in w for w in warnings)
    assert not any(
        "AS_API_SECRET_TOKEN" in w
        for w in auth.startup_warnings(site.settings({"SECRET_KEY": TEST_SECRET, "AS_API_SECRET_TOKEN": SECRET}))
    )
