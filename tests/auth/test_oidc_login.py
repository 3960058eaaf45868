"""OpenID Connect login through our route against an OIDC provider stand-in on loopback
(docs/gui.md 8: the current GUI's `oidc` login calls `/v4/auth/oidc/login`)."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from autosubmit_api.app import create_app
from tests.auth.conftest import assert_login_token
from tests.conftest import TEST_SECRET

GUI_LOGIN = "http://gui.example/login"


@pytest.fixture
def make_client(site, oidc):
    def make(**extra):
        env = {
            "SECRET_KEY": TEST_SECRET,
            "PROTECTION_LEVEL": "ALL",
            "OIDC_CLIENT_ID": "oidc-client",
            "OIDC_CLIENT_SECRET": "oidc-secret",
            "OIDC_TOKEN_URL": f"{oidc.url}/token",
            "OIDC_USERINFO_URL": f"{oidc.url}/userinfo",
            **extra,
        }
        return create_app(site.settings(env)).test_client()

    return make


def _login(client, code, redirect_uri=GUI_LOGIN):
    query = {}
    if code is not None:
        query["code"] = code
    if redirect_uri is not None:
        query["redirect_uri"] = redirect_uri
    return client.get("/v4/auth/oidc/login", query_string=query)


def test_a_good_code_answers_a_token_for_the_userinfo_sub(make_client, oidc):
    oidc.state.codes["c1"] = (GUI_LOGIN, "jdoe")
    client = make_client()
    token = assert_login_token(_login(client, "c1"), "jdoe")
    exchange, userinfo = oidc.requests
    assert exchange.method == "POST" and exchange.path == "/token"
    assert parse_qs(exchange.body.decode()) == {
        "client_id": ["oidc-client"],
        "client_secret": ["oidc-secret"],
        "code": ["c1"],
        "grant_type": ["authorization_code"],
        "redirect_uri": [GUI_LOGIN],
    }
    assert userinfo.method == "GET" and userinfo.path == "/userinfo"
    assert userinfo.headers["Authorization"] == "Bearer at_jdoe_0"
    # The token works on a gated route, as the GUI then uses it.
    verified = client.get("/v4/auth/verify-token", headers={"Authorization": token})
    assert verified.status_code == 200 and verified.get_json() == {"authenticated": True, "user": "jdoe"}


def test_special_characters_in_code_and_redirect_uri_are_form_encoded(make_client, oidc):
    # The reference joins the form by hand; an '&' in the redirect URI would cut it short.
    redirect = "http://gui.example/login?next=/experiment/a000&tab=tree"
    oidc.state.codes["a+b&c=d"] = (redirect, "jdoe")
    response = _login(make_client(), "a+b&c=d", redirect)
    assert response.status_code == 200 and response.get_json()["user"] == "jdoe"
    form = parse_qs(oidc.requests[0].body.decode())
    assert form["code"] == ["a+b&c=d"] and form["redirect_uri"] == [redirect]


def test_no_code_cannot_verify_and_asks_nothing(make_client, oidc):
    response = _login(make_client(), None)
    assert response.status_code == 401
    assert response.get_json() == {"authenticated": False, "user": None, "token": None, "message": "Can't verify user"}
    assert oidc.requests == []


@pytest.mark.parametrize("case", ["unknown code", "used twice", "other redirect", "wrong secret"])
def test_a_refused_code_finds_no_user(make_client, oidc, case):
    oidc.state.codes["c"] = (GUI_LOGIN, "jdoe")
    extra = {"OIDC_CLIENT_SECRET": "stolen"} if case == "wrong secret" else {}
    client = make_client(**extra)
    if case == "used twice":
        assert _login(client, "c").status_code == 200
    code = "nope" if case == "unknown code" else "c"
    redirect = "http://evil.example/login" if case == "other redirect" else GUI_LOGIN
    response = _login(client, code, redirect)
    assert response.status_code == 401
    assert response.get_json() == {
        "authenticated": False,
        "user": None,
        "token": None,
        "message": "Couldn't find user on OpenID Connect provider",
    }
    # The provider refused the code: userinfo was never asked with a missing token.
    assert oidc.requests[-1].path == "/token"


def test_userinfo_without_sub_is_refused(make_client, oidc):
    oidc.state.codes["c"] = (GUI_LOGIN, "jdoe")
    oidc.state.userinfo_without_sub = True
    response = _login(make_client(), "c")
    assert response.status_code == 401
    assert response.get_json()["token"] is None
    assert [r.path for r in oidc.requests] == ["/token", "/userinfo"]


def test_not_configured_is_503(site):
    client = create_app(site.settings({"SECRET_KEY": TEST_SECRET})).test_client()
    response = _login(client, "c")
    assert response.status_code == 503
    assert response.get_json() == {
        "authenticated": False,
        "user": None,
        "token": None,
        "message": "OpenID Connect is not configured on this server",
    }


def test_provider_unreachable_is_503_not_500(make_client, oidc):
    client = make_client()
    oidc.stop()
    response = _login(client, "c")
    assert response.status_code == 503
    assert response.get_json()["message"] == "The OpenID Connect provider could not be reached"


# --- OIDC_USERNAME_SOURCE / OIDC_USERNAME_CLAIM (upstream 4.2.0's settings) -------------------


def test_the_user_name_from_an_id_token_claim_skips_userinfo(make_client, oidc):
    oidc.state.codes["c"] = (GUI_LOGIN, "jdoe")
    client = make_client(
        OIDC_USERNAME_SOURCE="id_token", OIDC_USERNAME_CLAIM="preferred_username", OIDC_USERINFO_URL=""
    )
    token = assert_login_token(_login(client, "c"), "jdoe-preferred")
    assert [r.path for r in oidc.requests] == ["/token"]
    verified = client.get("/v4/auth/verify-token", headers={"Authorization": token})
    assert verified.get_json() == {"authenticated": True, "user": "jdoe-preferred"}


def test_without_a_userinfo_url_the_id_token_sub_is_the_user(make_client, oidc):
    # Upstream's default source; a site configured for it sets no OIDC_USERINFO_URL.
    oidc.state.codes["c"] = (GUI_LOGIN, "jdoe")
    assert_login_token(_login(make_client(OIDC_USERINFO_URL=""), "c"), "jdoe")
    assert [r.path for r in oidc.requests] == ["/token"]


def test_a_userinfo_claim_other_than_sub(make_client, oidc):
    oidc.state.codes["c"] = (GUI_LOGIN, "jdoe")
    response = _login(make_client(OIDC_USERNAME_SOURCE="userinfo", OIDC_USERNAME_CLAIM="email"), "c")
    assert_login_token(response, "jdoe@example.org")
    assert [r.path for r in oidc.requests] == ["/token", "/userinfo"]


@pytest.mark.parametrize("case", ["other audience", "expired", "claim missing", "claim not a string"])
def test_an_unusable_id_token_finds_no_user(make_client, oidc, case):
    oidc.state.codes["c"] = (GUI_LOGIN, "jdoe")
    if case == "other audience":
        oidc.state.id_token_audience = ["someone-else"]
    elif case == "expired":
        oidc.state.id_token_lifetime = -60
    elif case == "claim not a string":
        oidc.state.id_token_extra = {"preferred_username": ["jdoe"]}
    claim = "nickname" if case == "claim missing" else "preferred_username"
    response = _login(make_client(OIDC_USERNAME_SOURCE="id_token", OIDC_USERNAME_CLAIM=claim), "c")
    assert response.status_code == 401
    assert response.get_json() == {
        "authenticated": False,
        "user": None,
        "token": None,
        "message": "Couldn't find user on OpenID Connect provider",
    }


def test_a_userinfo_source_without_its_url_is_503(site, oidc):
    client = create_app(
        site.settings(
            {"SECRET_KEY": TEST_SECRET, "OIDC_TOKEN_URL": f"{oidc.url}/token", "OIDC_USERNAME_SOURCE": "userinfo"}
        )
    ).test_client()
    assert _login(client, "c").status_code == 503
    assert oidc.requests == []
