"""GET /v4/experiments and GET /v4/experiments/<expid> on factory-made sites."""

import os

import pytest

from tests.factory import JobDataSpec, RunSpec, add_central_row
from autosubmit_api.readers import cache, list_facts

ITEM_KEYS = {
    "id",
    "name",
    "description",
    "user",
    "hpc",
    "created",
    "version",
    "modified",
    "status",
    "completed",
    "total",
    "submitted",
    "queuing",
    "running",
    "failed",
    "suspended",
}
PAGINATION_KEYS = {"page", "page_size", "total_pages", "page_items", "total_items"}


@pytest.fixture
def many(site):
    """15 central rows a000..a014 (no experiment files), every third one RUNNING."""
    for i in range(15):
        add_central_row(
            site,
            f"a{i:03d}",
            description=f"exp {i}",
            details={"user": "alice" if i % 2 else "bob", "created": f"2024-01-{i + 1:02d}"},
            status="RUNNING" if i % 3 == 0 else "NOT RUNNING",
        )
    return site


def names(response):
    return [e["name"] for e in response.get_json()["experiments"]]


def test_list_has_the_reference_item_fields_and_pagination(client, make_experiment):
    make_experiment(
        "a000",
        details={"user": "alice", "created": "2024-01-08 14:52:35", "hpc": "MN5"},
        status="RUNNING",
        autosubmit_version="4.1.12",
    )
    response = client.get("/v4/experiments")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"experiments", "pagination"}
    (item,) = body["experiments"]
    assert set(item) == ITEM_KEYS
    assert (item["name"], item["user"], item["hpc"], item["created"], item["version"], item["status"]) == (
        "a000",
        "alice",
        "MN5",
        "2024-01-08 14:52:35",
        "4.1.12",
        "RUNNING",
    )
    assert body["pagination"] == {"page": 1, "page_size": 12, "total_pages": 1, "page_items": 1, "total_items": 1}


def test_modified_is_the_pkl_mtime_in_local_iso_and_null_without_pkl(client, make_experiment, site):
    experiment = make_experiment("a000")
    os.utime(experiment.pkl_path, (1784634124, 1784634124))
    add_central_row(site, "a001")
    items = client.get("/v4/experiments").get_json()["experiments"]
    assert items[0]["modified"] == "2026-07-21T11:42:04"  # the suite runs with TZ=UTC
    assert items[1]["modified"] is None
    assert items[1]["status"] == "NOT RUNNING"
    assert (items[1]["user"], items[1]["hpc"], items[1]["created"]) == (None, None, None)


def test_counters_come_from_the_latest_history_run(client, make_experiment):
    runs = [
        RunSpec(run_id=1, start=1700000000, completed=1, total=5),
        RunSpec(
            run_id=2, start=1700001000, completed=3, total=6, failed=1, queuing=1, running=1, submitted=1, suspended=1
        ),
    ]
    make_experiment("a000", runs=runs, job_data=[JobDataSpec(job_name="a000_SIM", run_id=2)])
    item = client.get("/v4/experiments").get_json()["experiments"][0]
    assert {k: item[k] for k in ("completed", "total", "failed", "queuing", "running", "submitted", "suspended")} == {
        "completed": 3,
        "total": 6,
        "failed": 1,
        "queuing": 1,
        "running": 1,
        "submitted": 1,
        "suspended": 1,
    }


def test_counters_are_zero_when_the_latest_run_has_no_jobs_or_there_is_no_history(client, make_experiment):
    make_experiment(
        "a000",
        runs=[RunSpec(run_id=1, start=1, completed=2, total=4), RunSpec(run_id=2, start=2, completed=9, total=0)],
        job_data=[],
    )
    make_experiment("a001", job_data_version=0)
    items = client.get("/v4/experiments").get_json()["experiments"]
    for item in items:
        assert item["completed"] == item["total"] == item["failed"] == 0


def test_a_new_run_shows_up_without_a_restart(client, make_experiment, site):
    make_experiment("a000", runs=[RunSpec(run_id=1, start=1, completed=1, total=4)], job_data=[])
    assert client.get("/v4/experiments").get_json()["experiments"][0]["completed"] == 1
    import sqlite3

    path = site.jobdata_dir / "job_data_a000.db"
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE experiment_run SET completed = 4")
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    assert client.get("/v4/experiments").get_json()["experiments"][0]["completed"] == 4


def test_page_size_minus_one_or_zero_returns_everything(client, many):
    for size in ("-1", "0"):
        body = client.get(f"/v4/experiments?page_size={size}").get_json()
        assert len(body["experiments"]) == 15
        assert body["pagination"] == {
            "page": 1,
            "page_size": None,
            "total_pages": 1,
            "page_items": 15,
            "total_items": 15,
        }


def test_pages_split_the_rows_and_a_page_past_the_end_is_empty(client, many):
    body = client.get("/v4/experiments?page=2&page_size=4").get_json()
    assert [e["name"] for e in body["experiments"]] == ["a004", "a005", "a006", "a007"]
    assert body["pagination"] == {"page": 2, "page_size": 4, "total_pages": 4, "page_items": 4, "total_items": 15}
    body = client.get("/v4/experiments?page=99").get_json()
    assert body["experiments"] == []
    assert body["pagination"]["total_items"] == 15 and body["pagination"]["total_pages"] == 2


def test_pages_below_one_mean_one_and_non_integers_fall_back_to_defaults(client, many):
    # As the reference (Werkzeug type=int): golden v4__experiments__page_size-abc.json answers 200.
    assert names(client.get("/v4/experiments?page=0&page_size=3"))[0] == "a000"
    assert client.get("/v4/experiments?page=-5&page_size=3").get_json()["pagination"]["page"] == 1
    body = client.get("/v4/experiments?page_size=abc").get_json()
    assert body["pagination"]["page_size"] == 12 and len(body["experiments"]) == 12
    body = client.get("/v4/experiments?page=abc&page_size=2").get_json()
    assert body["pagination"]["page"] == 1 and names(client.get("/v4/experiments?page=abc&page_size=2")) == [
        "a000",
        "a001",
    ]


def test_a_huge_page_number_is_an_empty_page_not_an_error(client, many):
    body = client.get("/v4/experiments?page=99999999999999999999999&page_size=5").get_json()
    assert body["experiments"] == [] and body["pagination"]["total_items"] == 15
    assert body["pagination"]["page"] == 99999999999999999999999


def test_page_size_above_the_maximum_is_capped(many, site):
    from autosubmit_api.app import create_app

    client = create_app(site.settings({"PROTECTION_LEVEL": "NONE", "API_MAX_PAGE_SIZE": "5"})).test_client()
    body = client.get("/v4/experiments?page_size=100&page=2").get_json()
    assert body["pagination"] == {"page": 2, "page_size": 5, "total_pages": 3, "page_items": 5, "total_items": 15}
    assert names(client.get("/v4/experiments?page_size=100&page=2")) == ["a005", "a006", "a007", "a008", "a009"]


def test_filters_and_ordering(client, many):
    assert names(client.get("/v4/experiments?only_active=true&page_size=-1")) == [
        "a000",
        "a003",
        "a006",
        "a009",
        "a012",
    ]
    assert len(names(client.get("/v4/experiments?only_active=True&page_size=-1"))) == 15  # exact "true" only
    assert names(client.get("/v4/experiments?owner=alice&page_size=3")) == ["a001", "a003", "a005"]
    assert names(client.get("/v4/experiments?query=A01&page_size=-1")) == ["a010", "a011", "a012", "a013", "a014"]
    assert names(client.get("/v4/experiments?order_by=created&order_desc=true&page_size=2")) == ["a014", "a013"]
    assert names(client.get("/v4/experiments?order_by=expid&order_desc=TRUE&page_size=2")) == ["a000", "a001"]
    assert names(client.get("/v4/experiments?exp_type=test")) == []
    assert len(names(client.get("/v4/experiments?exp_type=bogus&order_by=bogus&page_size=-1"))) == 15


def test_hpc_filter_of_the_current_gui(client, site):
    for expid, hpc in (
        ("a000", "MARENOSTRUM5"),
        ("a001", "marenostrum4"),
        ("a002", "LUMI"),
        ("a003", "MN_5"),
        ("a004", "MN%5"),
        ("a005", None),
    ):
        add_central_row(site, expid, details={"user": "u", "hpc": hpc} if hpc else None)

    def hpc(value):
        return names(client.get("/v4/experiments", query_string={"hpc": value, "page_size": -1}))

    assert hpc("lumi") == ["a002"]  # case-insensitive, whole value
    assert hpc("MARENOSTRUM") == []
    assert hpc("marenostrum*") == ["a000", "a001"]
    assert hpc("*5") == ["a000", "a003", "a004"]
    assert hpc("MN_5") == ["a003"] and hpc("MN%5") == ["a004"]  # LIKE metacharacters are literal
    assert hpc("!marenostrum*") == ["a002", "a003", "a004", "a005"]  # unknown HPC is not excluded
    assert len(hpc("")) == 6  # empty: no filter


def test_hpc_filter_without_a_details_table_matches_nothing(client, site):
    import sqlite3

    add_central_row(site, "a000")
    with sqlite3.connect(site.central_db) as conn:
        conn.execute("DROP TABLE IF EXISTS details")
    assert names(client.get("/v4/experiments?hpc=LUMI")) == []
    assert names(client.get("/v4/experiments?hpc=!LUMI")) == ["a000"]


def test_injection_text_is_matched_literally(client, many):
    body = client.get("/v4/experiments", query_string={"query": "zzz') OR 1=1 OR (name LIKE '"}).get_json()
    assert body["experiments"] == [] and body["pagination"]["total_items"] == 0
    body = client.get("/v4/experiments", query_string={"owner": "x' OR '1'='1"}).get_json()
    assert body["pagination"]["total_items"] == 0


def test_experiment_detail_is_the_experiment_row(client, make_experiment):
    make_experiment("a000", description="my run", autosubmit_version="4.1.11")
    response = client.get("/v4/experiments/a000")
    assert response.status_code == 200
    assert response.get_json() == {"id": 1, "name": "a000", "description": "my run", "autosubmit_version": "4.1.11"}


def test_unknown_experiment_is_404_and_malformed_is_400(client, make_experiment):
    make_experiment("a000")
    response = client.get("/v4/experiments/zzzz")
    assert response.status_code == 404
    assert response.get_json() == {"error": True, "error_message": "Experiment with expid 'zzzz' not found."}
    response = client.get("/v4/experiments/a0%27%20OR%201=1")
    assert response.status_code == 400 and response.get_json()["error"] is True


def test_missing_central_db_is_503_with_the_error_body(client, site):
    site.central_db.unlink()
    response = client.get("/v4/experiments")
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"] is True and "autosubmit.db" in body["error_message"]
    assert str(site.root) not in body["error_message"]
    assert client.get("/v4/experiments/a000").status_code == 503


@pytest.mark.parametrize("level", ["ALL"])
def test_the_list_needs_a_token_under_protection_all(site, env, level, token):
    from autosubmit_api.app import create_app

    env = dict(env, PROTECTION_LEVEL=level)
    client = create_app(site.settings(env)).test_client()
    assert client.get("/v4/experiments").status_code == 401
    assert client.get("/v4/experiments", headers={"Authorization": token()}).status_code == 200


def test_the_list_keeps_its_counters_out_of_the_shared_file_cache(client, make_experiment):
    make_experiment("a000")
    make_experiment("a001")
    list_facts.clear()
    before = cache.size()
    client.get("/v4/experiments")
    # Listing thousands of experiments must not evict the parsed job lists of readers.cache.
    assert cache.size() == before
    assert list_facts.size() == 2
    client.get("/v4/experiments")
    assert list_facts.size() == 2


def test_health_is_open_and_follows_the_central_db(site, env):
    from autosubmit_api import workers
    from autosubmit_api.app import create_app

    workers.METRICS.clear()  # no job has run in this process yet
    add_central_row(site, "a000")
    client = create_app(site.settings(dict(env, PROTECTION_LEVEL="ALL"))).test_client()
    response = client.get("/v4/health")  # no token, even under ALL
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["central_db"]["reachable"] is True
    assert set(body) == {"status", "version", "backend", "examples", "central_db", "background_tasks", "caches"}
    # Every background job is listed before its first run, with its interval.
    tasks = body["background_tasks"]
    assert tasks["enabled"] is False and tasks["cluster"] == []
    assert set(tasks["jobs"]) == {"status", "details", "graph_layouts"}
    assert all(
        job["runs"] == 0 and job["last_run"] is None and job["interval_seconds"] > 0 for job in tasks["jobs"].values()
    )
    site.central_db.unlink()
    response = client.get("/v4/health")
    assert response.status_code == 503
    assert response.get_json()["central_db"] == {
        "reachable": False,
        "message": "The central database autosubmit.db does not exist",
    }
