"""Request ids and API_LOG_FORMAT=json (docs/logging.md): a real gunicorn's error log read back,
one JSON object per line, a request line per request with its fields, warnings with the
request id, and no token, ticket or secret anywhere."""

from __future__ import annotations

import json
import logging
import re
import urllib.error
import urllib.request

import pytest

from autosubmit_api.app import create_app
from autosubmit_api.auth import issue_token
from autosubmit_api.config import ConfigError, load_settings
from tests.factory import make_experiment, make_site
from autosubmit_api.request_log import HEADER, REDACTED, JsonFormatter, scrub
from tests.conftest import TEST_SECRET, free_port
from tests.test_cli import Server, clean_env

BAD_TOKEN = "Bearer not-a-token-SECRETVALUE-0123"
QUERY_SECRET = "QUERYSECRET-4567"
TICKET = "ST-TICKETSECRET-89"


def _get(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture(scope="module")
def json_log(tmp_path_factory):
    """(answers by name, the error log's lines, the valid token) of a server run in json mode."""
    root = tmp_path_factory.mktemp("json-log")
    site = make_site(root / "site")
    make_experiment(site, "l000", details={"user": "alice"})
    with open(site.rc_path, "a") as rc:
        rc.write("[clients]\nauthorized = http://gui.example\n")
    env = clean_env(
        AUTOSUBMIT_CONFIGURATION=str(site.rc_path),
        HOME=str(root),
        PROTECTION_LEVEL="ALL",
        SECRET_KEY=TEST_SECRET,
        API_LOG_FORMAT="json",
        CAS_SERVER_URL=f"http://127.0.0.1:{free_port()}/cas/",
    )
    token = issue_token("alice", TEST_SECRET, 3600)
    srv = Server(env, "--disable-bg-tasks", "-w", "1", cwd=root)
    answers = {}
    try:
        srv.wait()
        base = srv.base
        answers["listed"] = _get(base + "/v4/experiments", {"Authorization": token, HEADER: "req-abc.123"})
        answers["unknown"] = _get(base + "/v4/experiments/zzzz", {"Authorization": f"Bearer {token}"})
        answers["refused"] = _get(base + "/v4/experiments", {"Authorization": BAD_TOKEN})
        answers["query"] = _get(
            base + f"/v4/experiments?token={QUERY_SECRET}", {"Authorization": token, HEADER: "bad id with spaces"}
        )
        answers["cas"] = _get(base + f"/login?ticket={TICKET}", {HEADER: "cas-1", "Referer": "http://gui.example/"})
    finally:
        _, err = srv.stop()
    return answers, err.splitlines(), token


def _lines(err_lines):
    parsed = []
    for line in err_lines:
        if line.strip():
            parsed.append(json.loads(line))  # every line of the error log is one JSON object
    return parsed


def _request_line(entries, request_id):
    found = [e for e in entries if e.get("event") == "request" and e.get("request_id") == request_id]
    assert len(found) == 1, (request_id, entries)
    return found[0]


def test_every_line_is_json_and_each_request_has_one_line(json_log):
    answers, err_lines, _ = json_log
    entries = _lines(err_lines)
    assert any(e["logger"].startswith("gunicorn") for e in entries)  # gunicorn's own lines too
    listed = _request_line(entries, "req-abc.123")
    assert answers["listed"][1][HEADER] == "req-abc.123" and answers["listed"][0] == 200
    assert listed["route"] == "/v4/experiments" and listed["method"] == "GET" and listed["status"] == 200
    assert listed["user"] == "alice" and listed["client"] == "127.0.0.1"
    assert listed["bytes"] == len(answers["listed"][2]) and listed["duration_ms"] >= 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", listed["time"])
    assert listed["level"] == "INFO" and listed["logger"] == "autosubmit_api.requests"


def test_generated_ids_and_error_statuses(json_log):
    answers, err_lines, _ = json_log
    entries = _lines(err_lines)
    status, headers, _ = answers["unknown"]
    assert status == 404 and re.fullmatch(r"[0-9a-f]{32}", headers[HEADER])
    unknown = _request_line(entries, headers[HEADER])
    assert unknown["route"] == "/v4/experiments/<expid>" and unknown["status"] == 404
    status, headers, _ = answers["refused"]
    refused = _request_line(entries, headers[HEADER])
    assert status == 401 and refused["status"] == 401 and refused["user"] is None
    status, headers, _ = answers["query"]
    assert status == 200 and headers[HEADER] != "bad id with spaces"  # replaced by a fresh id
    assert _request_line(entries, headers[HEADER])["route"] == "/v4/experiments"


def test_a_warning_carries_the_request_id_and_no_ticket(json_log):
    answers, err_lines, _ = json_log
    entries = _lines(err_lines)
    assert answers["cas"][1][HEADER] == "cas-1"
    warnings = [e for e in entries if e["level"] == "WARNING" and e.get("request_id") == "cas-1"]
    assert warnings and "CAS validation" in warnings[0]["message"]
    assert f"ticket={REDACTED}" in warnings[0]["message"]
    assert _request_line(entries, "cas-1")["route"] == "/login"


def test_no_token_or_secret_in_any_line(json_log):
    _, err_lines, token = json_log
    text = "\n".join(err_lines)
    for secret in (token, "SECRETVALUE", QUERY_SECRET, TICKET, TEST_SECRET):
        assert secret not in text, secret


def test_request_ids_in_text_mode_and_no_request_lines(site, caplog):
    app = create_app(site.settings({"PROTECTION_LEVEL": "NONE", "SECRET_KEY": TEST_SECRET}))
    client = app.test_client()
    with caplog.at_level(logging.INFO, logger="autosubmit_api"):
        given = client.get("/v4/experiments", headers={HEADER: "mine-1"})
        fresh = client.get("/")
        big = client.post("/updatedesc", data=b"x" * (2**20 + 10), headers={HEADER: "big-1"})
    assert given.headers[HEADER] == "mine-1"
    assert re.fullmatch(r"[0-9a-f]{32}", fresh.headers[HEADER])
    assert big.status_code == 413 and big.headers[HEADER] == "big-1"  # answered before the views
    assert not [r for r in caplog.records if r.name == "autosubmit_api.requests"]


def test_the_json_mode_logs_a_request_line_per_request(site, caplog):
    app = create_app(site.settings({"PROTECTION_LEVEL": "NONE", "SECRET_KEY": TEST_SECRET, "API_LOG_FORMAT": "json"}))
    with caplog.at_level(logging.INFO, logger="autosubmit_api.requests"):
        app.test_client().get("/v4/experiments/zzzz", headers={HEADER: "one"})
    records = [r for r in caplog.records if r.name == "autosubmit_api.requests"]
    assert len(records) == 1 and records[0].request["status"] == 404
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["request_id"] == "one" and line["route"] == "/v4/experiments/<expid>"


def test_scrub_removes_tokens_and_secrets():
    jwt = issue_token("bob", TEST_SECRET, 60)
    text = (
        f"GET http://cas/serviceValidate?service=x&ticket={TICKET}&code=abc123 Authorization: Bearer tok123 "
        f'jwt {jwt} password=hunter2 client_secret: s3cr3t token="quoted"'
    )
    clean = scrub(text)
    for secret in (TICKET, "abc123", "tok123", jwt, "hunter2", "s3cr3t", "quoted"):
        assert secret not in clean, secret
    assert "service=x" in clean and "serviceValidate" in clean


def test_api_log_format_is_checked(tmp_path):
    assert load_settings({"HOME": str(tmp_path)}, dotenv=False).log_format == "text"
    assert load_settings({"HOME": str(tmp_path), "API_LOG_FORMAT": " JSON "}, dotenv=False).log_format == "json"
    with pytest.raises(ConfigError, match="API_LOG_FORMAT"):
        load_settings({"HOME": str(tmp_path), "API_LOG_FORMAT": "xml"}, dotenv=False)
