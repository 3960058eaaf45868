"""CAS logins through our routes against a CAS stand-in on loopback (docs/api.md 4.5, 4.6)."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from autosubmit_api.app import create_app
from autosubmit_api.services.login import UnsafeXML, parse_cas_user
from tests.auth.conftest import GUI, OTHER_CLIENT
from tests.auth.standins import CAS_FAILURE, CAS_HOSTILE, CAS_SUCCESS
from tests.conftest import TEST_SECRET

NOT_CLIENT = (
    "Your client is not authorized for this operation. The API admin needs to add "
    "your URL to the list of allowed clients."
)
PUBLIC = "https://api.example.org/autosubmit"
OWN_SERVICE = "https%3A%2F%2Fapi.example.org%2Fautosubmit%2Fv4%2Fauth%2Fcas%2Fv2%2Flogin"
NOT_SERVICE = (
    "Your service is not authorized for this operation. The API admin needs to add "
    "your URL to the list of allowed clients."
)


@pytest.fixture
def client(site, cas):
    env = {"PROTECTION_LEVEL": "ALL", "SECRET_KEY": TEST_SECRET, "CAS_SERVER_URL": cas.base, "API_PUBLIC_URL": PUBLIC}
    return create_app(site.settings(env)).test_client()


def _claims(token):
    return jwt.decode(token, TEST_SECRET, algorithms=["HS256"])


# --- XML parsing ----------------------------------------------------------------------


def test_cas_success_xml_names_the_user():
    assert parse_cas_user(CAS_SUCCESS.format(user="alice").encode()) == "alice"


def test_cas_failure_xml_names_nobody():
    assert parse_cas_user(CAS_FAILURE.format(ticket="ST-1").encode()) is None


@pytest.mark.parametrize(
    "content",
    [b"", b"<html>oops</html>", b"not xml at all <", b'<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"/>'],
)
def test_unexpected_cas_answers_name_nobody(content):
    assert parse_cas_user(content) is None


@pytest.mark.parametrize(
    "content",
    [
        CAS_HOSTILE.encode(),
        b'<!doctype x [<!ENTITY a "aaaa">]><x>&a;</x>',
        b'<?xml version="1.0"?><!ENTITY x SYSTEM "http://attacker.example/">',
    ],
)
def test_cas_xml_with_doctype_or_entity_is_refused(content):
    with pytest.raises(UnsafeXML):
        parse_cas_user(content)


# --- v3 /login ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/v3/login"])
def test_v3_login_without_referer_is_refused(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.get_json() == {"authenticated": False, "user": None, "token": None, "message": NOT_CLIENT}


def test_v3_login_with_a_foreign_referer_is_refused(client):
    response = client.get("/v3/login?ticket=ST-1", headers={"Referer": "http://not-allowed.example/"})
    assert response.status_code == 401
    assert response.get_json()["message"] == NOT_CLIENT


def test_v3_login_without_ticket_redirects_to_cas_with_an_encoded_service(client, cas):
    response = client.get("/v3/login?env=/dev", headers={"Referer": GUI + "/experiment/a000"})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == cas.base + "login"
    assert "service=http%3A%2F%2Fgui.example%2Fdev%2Flogin" in location.query
    assert parse_qs(location.query) == {"service": [GUI + "/dev/login"]}


def test_v3_login_with_a_good_ticket_answers_a_token(client, cas):
    cas.tickets["ST-42"] = (GUI + "/login", "alice")
    before = int(time.time())
    response = client.get("/v3/login?ticket=ST-42", headers={"Referer": GUI + "/"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["authenticated"] is True and body["user"] == "alice"
    assert body["message"] == "Token generated."
    claims = _claims(body["token"])
    assert claims["user_id"] == claims["sub"] == "alice"
    assert before <= claims["iat"] <= int(time.time())
    assert claims["exp"] - claims["iat"] == 420000
    validate = [r for r in cas.requests if r.path == "/cas/serviceValidate"][-1]
    assert validate.query == {"service": [GUI + "/login"], "ticket": ["ST-42"]}
    # The token opens the gated routes.
    assert client.get("/v3/tokentest", headers={"Authorization": body["token"]}).status_code == 200


def test_v3_login_matches_the_service_of_the_client_the_referer_names(client, cas):
    cas.tickets["ST-7"] = (OTHER_CLIENT + "/login", "bob")
    response = client.get("/login?ticket=ST-7", headers={"Referer": OTHER_CLIENT + "/x"})
    assert response.get_json()["user"] == "bob"


@pytest.mark.parametrize("ticket", ["ST-unknown", "ST-BROKEN"])
def test_v3_login_with_a_bad_ticket_cannot_verify(client, ticket):
    response = client.get(f"/v3/login?ticket={ticket}", headers={"Referer": GUI})
    assert response.status_code == 401
    assert response.get_json() == {"authenticated": False, "user": None, "token": None, "message": "Can't verify user."}


def test_v3_login_ticket_for_another_service_cannot_verify(client, cas):
    cas.tickets["ST-9"] = ("http://elsewhere.example/login", "mallory")
    response = client.get("/v3/login?ticket=ST-9", headers={"Referer": GUI})
    assert response.status_code == 401


def test_v3_login_hostile_cas_answer_is_refused_without_a_token(client):
    response = client.get("/v3/login?ticket=ST-HOSTILE", headers={"Referer": GUI})
    assert response.status_code == 503
    body = response.get_json()
    assert body["authenticated"] is False and body["token"] is None


def test_v3_login_uses_cas_login_and_verify_urls_when_given(site, cas):
    env = {
        "SECRET_KEY": TEST_SECRET,
        "CAS_LOGIN_URL": cas.url + "/cas/login",
        "CAS_VERIFY_URL": cas.url + "/cas/p3/serviceValidate",
    }
    client = create_app(site.settings(env)).test_client()
    cas.tickets["ST-3"] = (GUI + "/login", "carol")
    assert client.get("/login?ticket=ST-3", headers={"Referer": GUI}).get_json()["user"] == "carol"
    assert cas.requests[-1].path == "/cas/p3/serviceValidate"


def test_v3_login_with_cas_unreachable_is_503_not_500(site, cas):
    url = cas.url
    cas.stop()
    env = {"SECRET_KEY": TEST_SECRET, "CAS_SERVER_URL": url + "/cas/"}
    client = create_app(site.settings(env)).test_client()
    response = client.get("/login?ticket=ST-1", headers={"Referer": GUI})
    assert response.status_code == 503
    assert response.get_json()["authenticated"] is False


# --- v4 /v4/auth/cas/v2/login -----------------------------------------------------------


def test_v4_cas_without_ticket_redirects_with_its_own_url_as_service(client, cas):
    response = client.get("/v4/auth/cas/v2/login")
    assert response.status_code == 302
    assert response.headers["Location"] == cas.base + "login?service=" + OWN_SERVICE


def test_v4_cas_without_server_redirects_to_a_relative_login(site):
    client = create_app(site.settings({"SECRET_KEY": TEST_SECRET, "API_PUBLIC_URL": PUBLIC + "/"})).test_client()
    response = client.get("/v4/auth/cas/v2/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "login?service=" + OWN_SERVICE


# Issue 14, item 6: the route's own URL comes from API_PUBLIC_URL, never from the Host header.


def test_v4_cas_own_url_ignores_the_host_header(client, cas):
    response = client.get("/v4/auth/cas/v2/login", headers={"Host": "evil.example"})
    assert response.status_code == 302
    assert response.headers["Location"] == cas.base + "login?service=" + OWN_SERVICE


def test_v4_cas_service_on_the_requests_host_is_refused(client, cas):
    service = "http://evil.example/v4/auth/cas/v2/login"
    cas.tickets["ST-EVIL"] = (service, "alice")
    for query in ({"service": service}, {"service": service, "ticket": "ST-EVIL"}):
        response = client.get("/v4/auth/cas/v2/login", query_string=query, headers={"Host": "evil.example"})
        assert response.status_code == 401
        assert response.get_json() == {"authenticated": False, "user": None, "token": None, "message": NOT_SERVICE}
    assert not any(r.path.endswith("serviceValidate") for r in cas.requests)


def test_v4_cas_ticket_for_the_configured_own_url_answers_a_token(client, cas):
    own = PUBLIC + "/v4/auth/cas/v2/login"
    cas.tickets["ST-OWN"] = (own, "erin")
    response = client.get("/v4/auth/cas/v2/login", query_string={"ticket": "ST-OWN"}, headers={"Host": "evil.example"})
    assert response.status_code == 200 and response.get_json()["user"] == "erin"
    validate = [r for r in cas.requests if r.path.endswith("serviceValidate")][-1]
    assert validate.query == {"service": [own], "ticket": ["ST-OWN"]}


def test_v4_cas_without_a_public_url_needs_a_service(site, cas):
    client = create_app(site.settings({"SECRET_KEY": TEST_SECRET, "CAS_SERVER_URL": cas.base})).test_client()
    for query in ({}, {"ticket": "ST-1"}, {"service": ""}):
        response = client.get("/v4/auth/cas/v2/login", query_string=query, headers={"Host": "evil.example"})
        assert response.status_code == 503
        body = response.get_json()
        assert body["authenticated"] is False and body["token"] is None
        assert body["message"].startswith("CAS login is not configured on this server")
    assert cas.requests == []
    # The GUI's flow names its service, which [clients] authorized allows: no public URL needed.
    cas.tickets["ST-GUI"] = (GUI + "/login", "frank")
    response = client.get("/v4/auth/cas/v2/login", query_string={"ticket": "ST-GUI", "service": GUI + "/login"})
    assert response.status_code == 200 and response.get_json()["user"] == "frank"


@pytest.mark.parametrize("path", ["/login", "/v3/login"])
def test_v3_login_service_never_comes_from_the_host_header(client, cas, path):
    response = client.get(path, headers={"Referer": GUI + "/x", "Host": "evil.example"})
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query) == {"service": [GUI + "/login"]}


def test_v4_cas_foreign_service_is_refused(client):
    response = client.get("/v4/auth/cas/v2/login?service=http://evil.example/")
    assert response.status_code == 401
    assert response.get_json() == {"authenticated": False, "user": None, "token": None, "message": NOT_SERVICE}


def test_v4_cas_gui_login_flow_answers_a_token(client, cas):
    service = GUI + "/login"
    cas.tickets["ST-100"] = (service, "alice")
    response = client.get("/v4/auth/cas/v2/login", query_string={"ticket": "ST-100", "service": service})
    assert response.status_code == 200
    body = response.get_json()
    assert body == {"authenticated": True, "user": "alice", "token": body["token"], "message": "Token generated"}
    claims = _claims(body["token"])
    assert claims["user_id"] == "alice" and claims["exp"] - claims["iat"] == 420000
    assert abs(claims["iat"] - time.time()) < 300  # UTC epoch, not local time (Q8)
    verify = client.get("/v4/auth/verify-token", headers={"Authorization": body["token"]})
    assert verify.get_json() == {"authenticated": True, "user": "alice"}


def test_v4_cas_star_client_allows_any_service(tmp_path, cas):
    from tests.factory import make_site

    site = make_site(tmp_path / "star")
    with open(site.rc_path, "a") as rc:
        rc.write("[clients]\nauthorized = *\n")
    client = create_app(site.settings({"SECRET_KEY": TEST_SECRET, "CAS_SERVER_URL": cas.base})).test_client()
    cas.tickets["ST-1"] = ("http://anything.example/login", "dave")
    response = client.get(
        "/v4/auth/cas/v2/login", query_string={"ticket": "ST-1", "service": "http://anything.example/login"}
    )
    assert response.get_json()["user"] == "dave"


@pytest.mark.parametrize("ticket", ["ST-nope", "ST-BROKEN"])
def test_v4_cas_bad_ticket_cannot_verify(client, ticket):
    response = client.get("/v4/auth/cas/v2/login", query_string={"ticket": ticket, "service": GUI + "/login"})
    assert response.status_code == 401
    assert response.get_json()["message"] == "Can't verify user"


def test_v4_cas_hostile_xml_is_refused(client):
    response = client.get("/v4/auth/cas/v2/login", query_string={"ticket": "ST-HOSTILE", "service": GUI + "/login"})
    assert response.status_code == 503
    assert response.get_json()["token"] is None


def test_v4_cas_server_url_without_trailing_slash_still_reaches_service_validate(site, cas):
    env = {"SECRET_KEY": TEST_SECRET, "CAS_SERVER_URL": cas.url + "/cas"}
    client = create_app(site.settings(env)).test_client()
    cas.tickets["ST-5"] = (GUI + "/login", "erin")
    response = client.get("/v4/auth/cas/v2/login", query_string={"ticket": "ST-5", "service": GUI + "/login"})
    assert response.get_json()["user"] == "erin"


@pytest.mark.parametrize("public", ["https://api.example.org", "https://api.example.org/as-api"])
def test_v4_cas_own_url_adds_the_root_path_once(site, cas, public):
    settings = site.settings(
        {"SECRET_KEY": TEST_SECRET, "CAS_SERVER_URL": cas.base, "API_PUBLIC_URL": public, "AS_API_ROOT_PATH": "/as-api"}
    )
    response = create_app(settings).test_client().get("/as-api/v4/auth/cas/v2/login")
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query) == {
        "service": ["https://api.example.org/as-api/v4/auth/cas/v2/login"]
    }
