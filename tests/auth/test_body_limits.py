"""Request bodies and descriptions are bounded (issue 14, item 8): a body over
API_MAX_BODY_BYTES is answered 413 without being read, on every route, in the route's body
shape; a description over MAX_DESCRIPTION_CHARS is answered 400; neither changes anything."""

from __future__ import annotations

import io
import json
import sqlite3

import pytest

from autosubmit_api.app import create_app
from tests.factory import add_central_row
from autosubmit_api.services.description import MAX_DESCRIPTION_CHARS
from tests.auth.conftest import headers
from tests.conftest import TEST_SECRET

LIMIT = 2**20
TOO_LARGE = f"The request body is larger than {LIMIT} bytes"


@pytest.fixture
def owned(site):
    add_central_row(site, "a000", description="old", details={"user": "alice"})
    return site


@pytest.fixture
def client(site):
    return create_app(site.settings({"PROTECTION_LEVEL": "WRITEONLY", "SECRET_KEY": TEST_SECRET})).test_client()


def _description(site):
    with sqlite3.connect(site.central_db) as conn:
        return conn.execute("SELECT description FROM experiment WHERE name = 'a000'").fetchone()[0]


def _big_body(size=LIMIT + 1):
    description = "d" * (size - len('{"expid": "a000", "description": ""}'))
    body = json.dumps({"expid": "a000", "description": description}).encode()
    assert len(body) == size
    return body


@pytest.mark.parametrize("path", ["/updatedesc", "/v3/updatedesc"])
def test_a_body_over_the_limit_is_413_and_changes_nothing(client, owned, path):
    resp = client.post(path, data=_big_body(), content_type="application/json", headers=headers("valid", user="alice"))
    assert resp.status_code == 413
    assert resp.get_json() == {"error": True, "auth": False, "description": None, "message": TOO_LARGE}
    assert _description(owned) == "old"


def test_a_body_over_the_limit_is_413_before_the_gate(client, owned):
    resp = client.post("/v3/updatedesc", data=_big_body(), content_type="application/json")
    assert resp.status_code == 413 and resp.get_json()["message"] == TOO_LARGE
    assert _description(owned) == "old"


class _Stream(io.BytesIO):
    """A request body that counts what the server read of it."""

    read_bytes = 0

    def read(self, size=-1):
        data = super().read(size)
        self.read_bytes += len(data)
        return data


def test_a_chunked_body_without_length_stops_being_read_at_the_limit(client, owned):
    # Chunked, as gunicorn passes it: no Content-Length, the stream ends where the body does.
    stream = _Stream(_big_body(3 * LIMIT))
    resp = client.post(
        "/v3/updatedesc",
        input_stream=stream,
        content_type="application/json",
        headers={**headers("valid", user="alice"), "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert resp.status_code == 413
    assert resp.get_json() == {"error": True, "auth": False, "description": None, "message": TOO_LARGE}
    assert _description(owned) == "old"
    assert stream.read_bytes <= LIMIT + 64 * 1024


@pytest.mark.parametrize("path", ["/tokentest", "/v3/tokentest"])
def test_tokentest_answers_413_in_its_shape(client, path):
    resp = client.post(path, data=b"x" * (LIMIT + 1), headers=headers("valid"))
    assert resp.status_code == 413 and resp.get_json() == {"isValid": False, "message": TOO_LARGE}


@pytest.mark.parametrize("path", ["/v4/experiments", "/v4/health", "/v3/cconfig/a000"])
def test_every_other_route_answers_413_with_the_error_body(client, owned, path):
    resp = client.get(path, data=b"x" * (LIMIT + 1))
    assert resp.status_code == 413 and resp.get_json() == {"error": True, "error_message": TOO_LARGE}


def test_the_limit_is_a_setting(site, owned):
    client = create_app(
        site.settings({"PROTECTION_LEVEL": "NONE", "SECRET_KEY": TEST_SECRET, "API_MAX_BODY_BYTES": "100"})
    ).test_client()
    resp = client.post(
        "/v3/updatedesc", json={"expid": "a000", "description": "x" * 100}, headers=headers("valid", user="alice")
    )
    assert resp.status_code == 413 and resp.get_json()["message"] == "The request body is larger than 100 bytes"
    resp = client.post(
        "/v3/updatedesc", json={"expid": "a000", "description": "short"}, headers=headers("valid", user="alice")
    )
    assert resp.status_code == 200 and _description(owned) == "short"


@pytest.mark.parametrize("path", ["/updatedesc", "/v3/updatedesc"])
def test_a_description_over_the_limit_is_400_and_changes_nothing(client, owned, path):
    resp = client.post(
        path,
        json={"expid": "a000", "description": "d" * (MAX_DESCRIPTION_CHARS + 1)},
        headers=headers("valid", user="alice"),
    )
    assert resp.status_code == 400
    assert resp.get_json() == {
        "error": True,
        "auth": False,
        "description": None,
        "message": f"The description is longer than {MAX_DESCRIPTION_CHARS} characters.",
    }
    assert _description(owned) == "old"
    at_limit = "é" * MAX_DESCRIPTION_CHARS
    resp = client.post(path, json={"expid": "a000", "description": at_limit}, headers=headers("valid", user="alice"))
    assert resp.status_code == 200 and _description(owned) == at_limit


def test_a_body_within_the_limit_reaches_the_description_check(client, owned):
    resp = client.post(
        "/v3/updatedesc", data=_big_body(LIMIT), content_type="application/json", headers=headers("valid", user="alice")
    )
    assert resp.status_code == 400 and _description(owned) == "old"


def test_a_chunked_body_within_the_limit_reaches_the_view_whole(client, owned):
    body = json.dumps({"expid": "a000", "description": "chunked text"}).encode() + b" " * (LIMIT - 100)
    resp = client.post(
        "/v3/updatedesc",
        input_stream=_Stream(body),
        content_type="application/json",
        headers={**headers("valid", user="alice"), "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert resp.status_code == 200 and _description(owned) == "chunked text"


V4_UPDATE = "/v4/runners/command/update-experiment-description"


@pytest.mark.parametrize("path", [V4_UPDATE, "/v4/user-settings/preferred-username"])
def test_the_v4_post_routes_answer_413_with_the_error_body(client, owned, path):
    resp = client.post(path, data=_big_body(), content_type="application/json", headers=headers("valid", user="alice"))
    assert resp.status_code == 413 and resp.get_json() == {"error": True, "error_message": TOO_LARGE}
    assert _description(owned) == "old"


def test_the_v4_description_route_refuses_a_long_description(client, owned):
    body = {
        "expid": "a000",
        "description": "d" * (MAX_DESCRIPTION_CHARS + 1),
        "profile_name": "description-only",
        "profile_params": {},
    }
    resp = client.post(V4_UPDATE, json=body, headers=headers("valid", user="alice"))
    assert resp.status_code == 400
    assert resp.get_json() == {
        "error": True,
        "error_message": f"The description is longer than {MAX_DESCRIPTION_CHARS} characters.",
    }
    assert _description(owned) == "old"
