"""/filestatus/ (no gate, archive_status last row) and /shutdown/<route> (docs/api.md 7.13, 7.14)."""

import sqlite3

import pytest


def _probe_db(site, rows):
    path = site.root / "as_metadata" / "test"
    path.mkdir(parents=True)
    with sqlite3.connect(path / "status.db") as conn:
        conn.execute(
            "CREATE TABLE archive_status(id INTEGER PRIMARY KEY, status INTEGER, avg_latency REAL,"
            " avg_bandwidth REAL, current_latency REAL, current_bandwidth REAL,"
            " response_time REAL, modified TEXT)"
        )
        conn.executemany(
            "INSERT INTO archive_status(status, avg_latency, avg_bandwidth, current_latency,"
            " current_bandwidth, response_time, modified) VALUES (?,?,?,?,?,?,?)",
            rows,
        )


@pytest.fixture
def protected(site, env):
    from autosubmit_api.app import create_app

    env["PROTECTION_LEVEL"] = "ALL"
    return create_app(site.settings(env)).test_client()


def test_without_probe_db_it_is_offline_with_nulls_even_without_token(site, protected):
    body = protected.get("/filestatus/").get_json()
    assert body["status"] == "OFFLINE" and body["error"] is False
    assert body["reponse_time"] is None and body["datetime"] is None
    assert not (site.root / "as_metadata").exists()  # nothing created by a read


def test_the_last_row_decides_and_warnings_compare_with_the_average(site, client):
    _probe_db(
        site, [(0, 1, 100, 1, 100, 0, "2024-01-01-00:00:00"), (1, 1.0, 200.0, 5.0, 50.0, 2.5, "2024-01-02-10:00:00")]
    )
    body = client.get("/v3/filestatus/").get_json()
    assert body["status"] == "ONLINE"
    assert body["datetime"] == "2024-01-02-10:00:00"
    assert body["current_latency"] == 5.0 and body["reponse_time"] == 2.5
    assert body["latency_warning"] == "Higher latency than usual"
    assert body["bandwidth_warning"] == "Lower bandwidth than usual"
    assert body["response_warning"] == "Higher response times than usual"


def test_an_online_probe_within_usual_values_has_no_warnings(site, client):
    _probe_db(site, [(1, 2.0, 100.0, 2.0, 100.0, 0.5, "2024-01-02-10:00:00")])
    body = client.get("/filestatus/").get_json()
    assert body["status"] == "ONLINE"
    assert (body["latency_warning"], body["bandwidth_warning"], body["response_warning"]) == (None, None, None)


def test_without_trailing_slash_it_redirects_308(client):
    resp = client.get("/filestatus")
    assert resp.status_code == 308
    assert resp.headers["Location"].endswith("/filestatus/")


def test_shutdown_answers_an_empty_html_body(client):
    resp = client.get("/v3/shutdown/graph?loggedUser=someone&expid=a003")
    assert resp.status_code == 200
    assert resp.data == b""
    assert resp.mimetype == "text/html"


def test_shutdown_is_gated(protected, token):
    assert protected.get("/shutdown/tree").status_code == 401
    assert protected.get("/shutdown/tree", headers={"Authorization": token()}).status_code == 200
