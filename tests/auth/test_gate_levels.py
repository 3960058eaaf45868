"""The gate under each PROTECTION_LEVEL, for every kind of Authorization header (docs/api.md 3.1,
3.2; docs/decisions.md Q9, Q10): real requests through the test client."""

from __future__ import annotations

import pytest
from flask import Blueprint, g

from autosubmit_api.app import create_app
from autosubmit_api.auth import gate
from tests.auth.conftest import GOOD_KINDS, TOKEN_KINDS, headers
from tests.conftest import TEST_SECRET

LEVELS = ("ALL", "WRITEONLY", "NONE")

# Routes that exist only in these tests, one per threshold, answering who the gate let in.
probe = Blueprint("probe", __name__)


@probe.get("/probe/all")
@gate("ALL")
def probe_all():
    return {"user": g.user}


@probe.get("/probe/writeonly")
@gate("WRITEONLY")
def probe_writeonly():
    return {"user": g.user}


@probe.get("/probe/none")
@gate("NONE")
def probe_none():
    return {"user": g.user}


@pytest.fixture
def client_at(site):
    def make(level, **env):
        app = create_app(site.settings({"PROTECTION_LEVEL": level, "SECRET_KEY": TEST_SECRET, **env}))
        app.register_blueprint(probe)
        return app.test_client()

    return make


def _expected_refusal(kind):
    return {"error": True, "error_message": "Expired token" if kind == "expired" else "Unauthorized"}


def _gate_fires(threshold, level):
    return (
        threshold != "NONE"
        and {"ALL": 100, "WRITEONLY": 20}[threshold] <= {"ALL": 100, "WRITEONLY": 20, "NONE": 0}[level]
    )


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("threshold", ("all", "writeonly", "none"))
@pytest.mark.parametrize("kind", TOKEN_KINDS)
def test_probe_routes_answer_as_the_reference_gate(client_at, level, threshold, kind):
    response = client_at(level).get(f"/probe/{threshold}", headers=headers(kind))
    if kind in GOOD_KINDS:
        assert response.status_code == 200
        assert response.get_json() == {"user": "tester"}
    elif _gate_fires(threshold.upper(), level):
        assert response.status_code == 401
        assert response.get_json() == _expected_refusal(kind)
    else:
        assert response.status_code == 200
        assert response.get_json() == {"user": None}


def test_unset_protection_level_means_all(site):
    app = create_app(site.settings({"SECRET_KEY": TEST_SECRET}))
    app.register_blueprint(probe)
    assert app.extensions["autosubmit_api"]["settings"].protection_level == "ALL"
    assert app.test_client().get("/probe/all").status_code == 401


@pytest.mark.parametrize("value", ["none", "", "all", "readonly"])
def test_unknown_or_lowercase_level_means_all(client_at, value):
    assert client_at(value).get("/probe/all").status_code == 401


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("kind", TOKEN_KINDS)
@pytest.mark.parametrize("path", ["/tokentest", "/v3/tokentest"])
def test_tokentest_judges_the_user_under_every_level(client_at, level, kind, path):
    client = client_at(level)
    for method in (client.get, client.post):
        response = method(path, headers=headers(kind))
        if kind in GOOD_KINDS:
            assert (response.status_code, response.get_json()) == (200, {"isValid": True, "message": None})
        else:
            assert response.status_code == 401
            assert response.get_json() == {"isValid": False, "message": "Unauthorized"}


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("kind", TOKEN_KINDS)
def test_verify_token_judges_the_user_under_every_level(client_at, level, kind):
    response = client_at(level).get("/v4/auth/verify-token", headers=headers(kind))
    if kind in GOOD_KINDS:
        assert (response.status_code, response.get_json()) == (200, {"authenticated": True, "user": "tester"})
    else:
        assert (response.status_code, response.get_json()) == (401, {"authenticated": False, "user": None})


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("kind", [k for k in TOKEN_KINDS if k not in GOOD_KINDS])
def test_updatedesc_without_a_valid_user_is_refused_at_every_level(client_at, level, kind):
    response = client_at(level).post(
        "/v3/updatedesc", headers=headers(kind), json={"expid": "a000", "description": "x"}
    )
    assert response.status_code == 401
    if level == "NONE":
        # No gate answer under NONE: the route refuses by itself (docs/api.md 4.2).
        assert response.get_json() == {
            "error": True,
            "auth": False,
            "description": None,
            "message": "It seems that your session has expired, please log in again.",
        }
    else:
        assert response.get_json() == _expected_refusal(kind)


def test_the_user_is_put_on_flask_g(client_at):
    client = client_at("NONE")
    assert client.get("/probe/none", headers=headers("valid", user="alice")).get_json() == {"user": "alice"}


def test_sub_alone_names_the_user(client_at):
    import jwt

    token = jwt.encode({"sub": "bob", "exp": 4102444800}, TEST_SECRET, algorithm="HS256")
    response = client_at("ALL").get("/probe/all", headers={"Authorization": token})
    assert response.get_json() == {"user": "bob"}


def test_cors_preflight_needs_no_token_under_all(client_at):
    response = client_at("ALL").options(
        "/probe/all",
        headers={
            "Origin": "http://gui.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "http://gui.example"
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()


def test_a_gate_refusal_carries_cors_headers(client_at):
    response = client_at("ALL").get("/probe/all", headers={"Origin": "http://gui.example"})
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == "http://gui.example"
