"""v3 /search, /searchowner and /running/ (docs/api.md 5.2-5.4) on factory-made sites."""

import os
import shutil
from urllib.parse import quote

import pytest

from tests.factory import RunSpec, add_central_row

ITEM_KEYS = {
    "id",
    "name",
    "description",
    "user",
    "hpc",
    "status",
    "version",
    "wrapper",
    "modified",
    "completed",
    "total",
    "submitted",
    "queuing",
    "running",
    "failed",
    "suspended",
}


@pytest.fixture
def experiments(make_experiment):
    """a000 running (AS4), a001 (AS3, wrapper), t000 test, a002 without config or history."""
    made = {
        "a000": make_experiment(
            "a000",
            autosubmit_version="4.0.95",
            status="RUNNING",
            details={"user": "alice", "hpc": "DETAILS_HPC"},
            config={"CONFIG": {"AUTOSUBMIT_VERSION": "4.1.12"}, "DEFAULT": {"HPCARCH": "MN5"}},
            runs=[RunSpec(run_id=1, start=1, completed=3, total=8, failed=1)],
            job_data=[],
        ),
        "a001": make_experiment(
            "a001",
            as3_config=True,
            autosubmit_version="3.13.0",
            details={"user": "bob", "hpc": "marenostrum4"},
            config={"conf": {"wrapper": {"TYPE": "vertical"}}},
        ),
        "t000": make_experiment("t000", details={"user": "alice"}, status="NOT RUNNING"),
        "a002": make_experiment(
            "a002", details={"user": "carol", "hpc": "LOCAL"}, job_data_version=0, description="no configuration"
        ),
    }
    shutil.rmtree(made["a002"].path / "conf")
    os.utime(made["a000"].pkl_path, (1784634124, 1784634124))
    return made


def search(client, path):
    response = client.get(path)
    assert response.status_code == 200
    return response.get_json()


def names(body):
    return [e["name"] for e in body["experiment"]]


def test_search_items_have_the_reference_fields_and_config_values(client, experiments):
    body = search(client, "/v3/search/a000")
    assert set(body) == {"experiment"}
    (item,) = body["experiment"]
    assert set(item) == ITEM_KEYS
    assert item["version"] == "4.1.12"  # the config's AUTOSUBMIT_VERSION, not the DB column
    assert item["hpc"] == "MN5"  # the config's HPCARCH wins over details.hpc
    assert item["status"] == "RUNNING" and item["user"] == "alice" and item["wrapper"] is None
    assert item["modified"] == "2026-07-21 11:42:04"
    assert (item["completed"], item["total"], item["failed"]) == (3, 8, 1)


def test_as3_experiment_reports_its_upper_cased_wrapper(client, experiments):
    (item,) = search(client, "/v3/search/a001")["experiment"]
    assert item["version"] == "3.13.0" and item["hpc"] == "marenostrum4"
    assert item["wrapper"] == "VERTICAL"


def test_without_config_the_version_is_unknown_and_hpc_comes_from_details(client, experiments):
    (item,) = search(client, "/search/a002")["experiment"]
    assert (item["version"], item["hpc"], item["modified"], item["wrapper"]) == ("Unknown", "LOCAL", None, None)
    # Q15: completed/total are "NA" without a usable run, the other counters 0
    assert (item["completed"], item["total"], item["failed"], item["running"]) == ("NA", "NA", 0, 0)


def test_results_are_sorted_by_name_descending(client, experiments):
    assert names(search(client, "/v3/search/a")) == ["t000", "a002", "a001", "a000"]  # t000: "test experiment"
    assert names(search(client, "/v3/search/a0")) == ["a002", "a001", "a000"]


def test_type_and_activity_filters(client, experiments):
    assert names(search(client, "/v3/search/a/test/all")) == ["t000"]
    assert names(search(client, "/v3/search/a/experiment/all")) == ["a002", "a001", "a000"]
    assert names(search(client, "/v3/search/a/operational/all")) == ["t000", "a002", "a001", "a000"]
    assert names(search(client, "/v3/search/a/all/active")) == ["a000"]
    assert names(search(client, "/v3/search/a/all/ACTIVE")) == ["t000", "a002", "a001", "a000"]
    assert names(search(client, "/v3/search/a/test/active")) == []


def test_search_text_matches_description_and_owner(client, experiments):
    assert names(search(client, "/v3/search/configuration")) == ["a002"]
    assert names(search(client, "/v3/search/BOB")) == ["a001"]


def test_injection_text_is_matched_literally_and_wildcards_kept(client, experiments):
    assert search(client, "/v3/search/" + quote("zzz') OR 1=1 OR (name LIKE '")) == {"experiment": []}
    assert search(client, "/v3/searchowner/" + quote("x' OR '1'='1")) == {"experiment": []}
    assert names(search(client, "/v3/search/a_0")) == ["a002", "a001", "a000"]  # Q41


def test_searchowner_is_an_exact_owner_match(client, experiments):
    assert names(search(client, "/v3/searchowner/alice")) == ["t000", "a000"]
    assert names(search(client, "/searchowner/ali")) == []
    assert names(search(client, "/v3/searchowner/alice/experiment/all")) == ["a000"]
    assert names(search(client, "/v3/searchowner/alice/test/active")) == []
    assert names(search(client, "/v3/searchowner/alice/all/active")) == ["a000"]


def test_running_lists_running_experiments_with_their_own_hpc(client, experiments, site):
    # Q16 fixed: a running experiment whose config fails uses its own details.hpc.
    add_central_row(site, "a009", details={"user": "dave", "hpc": "OWN_HPC"}, status="RUNNING")
    add_central_row(site, "a008", details=None, status="RUNNING")
    body = search(client, "/v3/running/")
    assert names(body) == ["a009", "a008", "a000"]
    by_name = {e["name"]: e for e in body["experiment"]}
    assert by_name["a009"]["hpc"] == "OWN_HPC" and by_name["a000"]["hpc"] == "MN5"
    assert by_name["a008"]["user"] == "None" and by_name["a008"]["hpc"] is None  # str(None), as the reference
    assert by_name["a009"]["completed"] == "NA"
    assert search(client, "/running/") == body


def test_running_without_slash_redirects(client, experiments):
    for path in ("/running", "/v3/running"):
        response = client.get(path)
        assert response.status_code == 308
        assert response.headers["Location"].endswith(path + "/")


def test_missing_central_db_is_the_v3_error_body(client, experiments, site):
    site.central_db.unlink()
    for path in ("/v3/search/a", "/searchowner/alice", "/v3/running/"):
        body = search(client, path)
        assert body["experiment"] == [] and body["error"] is True
        assert "autosubmit.db" in body["error_message"] and str(site.root) not in body["error_message"]


def test_search_needs_a_token_under_protection_all(site, env, experiments, token):
    from autosubmit_api.app import create_app

    client = create_app(site.settings(dict(env, PROTECTION_LEVEL="ALL"))).test_client()
    assert client.get("/v3/search/a").status_code == 401
    assert client.get("/v3/running/").status_code == 401
    response = client.get("/v3/search/a", headers={"Authorization": token()})
    assert response.status_code == 200 and len(response.get_json()["experiment"]) == 4
