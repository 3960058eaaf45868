"""Runs and history routes through the test client (docs/api.md 7.1-7.5)."""

import pytest

from tests.services import history_case as case


@pytest.fixture
def exp(make_experiment):
    return case.make(make_experiment)


@pytest.mark.parametrize("prefix", ["", "/v3"])
def test_history_route(exp, client, prefix):
    body = client.get(f"{prefix}/history/{case.EXPID}/{case.name('1_SIM')}").get_json()
    assert body["error"] is False and [r["counter"] for r in body["history"]] == [2, 1]


def test_history_of_an_unknown_experiment_is_the_legacy_error(site, client):
    resp = client.get("/v3/history/zzzz/zzzz_SIM")
    assert resp.status_code == 200
    assert resp.get_json()["error"] is True and resp.get_json()["history"] is None


@pytest.mark.parametrize("prefix", ["", "/v3"])
def test_runs_route(exp, client, prefix):
    body = client.get(f"{prefix}/runs/{case.EXPID}").get_json()
    assert [r["run_id"] for r in body["runs"]] == [2, 1]
    assert body["runs"][1]["SYPD"] == 60.0


def test_runs_unknown_experiment_is_legacy_200(site, client):
    resp = client.get("/runs/zzzz")
    assert resp.status_code == 200
    assert resp.get_json() == {"error": True, "error_message": "Experiment zzzz does not exist", "runs": []}


def test_v4_runs_route(exp, client):
    body = client.get(f"/v4/experiments/{case.EXPID}/runs").get_json()
    assert [r["run_id"] for r in body["runs"]] == [1, 2]


def test_v4_runs_unknown_experiment_is_404_with_the_error_shape(site, client):
    resp = client.get("/v4/experiments/zzzz/runs")
    assert resp.status_code == 404
    assert set(resp.get_json()) == {"error", "error_message"}


def test_v4_run_config_non_numeric_id(exp, client):
    resp = client.get(f"/v4/experiments/{case.EXPID}/runs/abc/config")
    assert resp.status_code == 200
    assert resp.get_json() == {"run_id": None, "config": {"contains_nones": True}}


def test_routes_are_gated(exp, site, env, token):
    from autosubmit_api.app import create_app

    env["PROTECTION_LEVEL"] = "ALL"
    client = create_app(site.settings(env)).test_client()
    for url in (f"/runs/{case.EXPID}", f"/v3/history/{case.EXPID}/x", f"/v4/experiments/{case.EXPID}/runs"):
        assert client.get(url).status_code == 401
        assert client.get(url, headers={"Authorization": token()}).status_code == 200


def test_experiment_without_history_db(make_experiment, client):
    """Autosubmit 3 experiments may have no job_data DB: the reference's answers, no crash."""
    make_experiment("a002", case.jobs(), job_data_version=0)
    body = client.get("/runs/a002").get_json()
    assert body["error"] is True and body["runs"] == []
    assert client.get("/v4/experiments/a002/runs").status_code == 404
    assert client.get("/v4/experiments/a002/runs/1/config").get_json() == {
        "run_id": None,
        "config": {"contains_nones": True},
    }
    body = client.get("/rundetail/a002/1").get_json()
    assert body["error"] is True and body["reference"] == []
    assert client.get("/history/a002/x").get_json()["history"] is None


def test_v3_routes_with_a_malformed_expid_keep_the_legacy_shape(site, client):
    body = client.get("/runs/a..b").get_json()
    assert body["error"] is True and body["runs"] == []
