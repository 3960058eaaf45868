"""AS_API_ROOT_PATH (upstream 4.2.0's setting): the API served under a path prefix behind a
proxy, through a real `autosubmit_api start` on loopback, as the GUI calls it (its API
address then ends with the prefix), and as a proxy that strips the prefix forwards it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest

from autosubmit_api.app import create_app
from tests.factory import make_experiment, make_site
from tests.conftest import TEST_SECRET
from tests.test_cli import clean_env, serving

PREFIX = "/as-api"
GUI = "http://gui.example"
# The API's public address without the prefix; the CAS route's own URL adds AS_API_ROOT_PATH.
PUBLIC = "https://api.example.org"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _call(url, method="GET", headers=None):
    request = urllib.request.Request(url, method=method, headers=headers or {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("root_path")
    site = make_site(tmp_path / "site")
    make_experiment(site, "a000", details={"user": "alice"}, description="under a prefix")
    env = clean_env(
        AUTOSUBMIT_CONFIGURATION=str(site.rc_path),
        HOME=str(tmp_path),
        PROTECTION_LEVEL="NONE",
        SECRET_KEY=TEST_SECRET,
        AS_API_ROOT_PATH="as-api/",
        CAS_SERVER_URL="https://cas.example/cas/",
        API_PUBLIC_URL=PUBLIC,
    )
    with serving(env, "--disable-bg-tasks", "-w", "1", cwd=tmp_path) as srv:
        yield srv


def test_the_gui_calls_under_the_prefix_are_answered(server):
    api = server.base + PREFIX
    status, _, body = _call(api + "/")
    assert status == 200 and json.loads(body)["name"] == "Autosubmit API"
    status, _, body = _call(api + "/v4/experiments?page_size=5", headers={"Origin": GUI})
    assert status == 200 and [e["name"] for e in json.loads(body)["experiments"]] == ["a000"]
    status, _, body = _call(api + "/v3/expinfo/a000")
    assert status == 200 and json.loads(body)["description"] == "under a prefix"
    status, _, body = _call(api + "/v4/runners/configuration/endpoints")
    assert status == 200 and json.loads(body)["RUNNER_RUN"] == {"ENABLED": False}


def test_a_preflight_under_the_prefix_is_allowed(server):
    status, headers, _ = _call(
        server.base + PREFIX + "/v4/experiments",
        method="OPTIONS",
        headers={
            "Origin": GUI,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert 200 <= status < 300
    assert headers.get("Access-Control-Allow-Origin") == GUI


def test_urls_the_api_builds_carry_the_prefix(server):
    status, headers, _ = _call(server.base + PREFIX + "/v4/auth/cas/v2/login")
    assert status == 302
    location = urlsplit(headers["Location"])
    assert parse_qs(location.query)["service"] == [PUBLIC + PREFIX + "/v4/auth/cas/v2/login"]


def test_a_proxy_that_strips_the_prefix_is_served_too(server):
    status, _, body = _call(server.base + "/v4/experiments/a000")
    assert status == 200 and json.loads(body)["name"] == "a000"
    status, headers, _ = _call(server.base + "/v4/auth/cas/v2/login")
    assert parse_qs(urlsplit(headers["Location"]).query)["service"] == [PUBLIC + PREFIX + "/v4/auth/cas/v2/login"]


def test_a_path_that_only_begins_like_the_prefix_is_not_under_it(server):
    status, _, body = _call(server.base + PREFIX + "x/v4/experiments")
    assert status == 404 and json.loads(body)["error"] is True


def test_without_the_setting_nothing_is_rewritten(site):
    client = create_app(site.settings({"PROTECTION_LEVEL": "NONE", "SECRET_KEY": TEST_SECRET})).test_client()
    assert client.get(PREFIX + "/").status_code == 404
    assert client.get("/").status_code == 200
