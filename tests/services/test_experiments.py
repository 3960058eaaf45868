"""services.experiments and services.health without an app, on factory-made sites."""

import pytest

from autosubmit_api.errors import BadRequest, NotFound, Unavailable
from tests.factory import RunSpec, add_central_row
from autosubmit_api.services import experiments as service
from autosubmit_api.services import health


@pytest.fixture
def seven(site):
    for i in range(7):
        add_central_row(site, f"a{i:03d}", details={"user": "u"})
    return site


@pytest.mark.parametrize(
    "page, size, expected_names, pagination",
    [
        (1, 3, ["a000", "a001", "a002"], {"page": 1, "page_size": 3, "total_pages": 3, "page_items": 3}),
        (3, 3, ["a006"], {"page": 3, "page_size": 3, "total_pages": 3, "page_items": 1}),
        (
            0,
            7,
            ["a000", "a001", "a002", "a003", "a004", "a005", "a006"],
            {"page": 1, "page_size": 7, "total_pages": 1, "page_items": 7},
        ),
        (
            5,
            -1,
            ["a000", "a001", "a002", "a003", "a004", "a005", "a006"],
            {"page": 5, "page_size": None, "total_pages": 1, "page_items": 7},
        ),
    ],
)
def test_pagination_arithmetic(seven, settings, page, size, expected_names, pagination):
    body = service.list_experiments(settings, service.ListQuery(page=page, page_size=size))
    assert [e["name"] for e in body["experiments"]] == expected_names
    assert body["pagination"] == dict(pagination, total_items=7)


def test_page_size_is_capped_by_the_setting(seven, settings):
    body = service.list_experiments(settings.replace(max_page_size=2), service.ListQuery(page_size=50))
    assert body["pagination"]["page_size"] == 2 and body["pagination"]["total_pages"] == 4


def test_list_item_counts_only_a_latest_run_with_jobs(site, settings, make_experiment):
    make_experiment("a000", runs=[RunSpec(run_id=5, start=1, completed=2, total=3, suspended=1)], job_data=[])
    row = service.central_db.get_experiment(settings, "a000")
    item = service.list_item(settings, row)
    assert (item["completed"], item["total"], item["suspended"]) == (2, 3, 1)
    assert item["modified"] is not None and "T" in item["modified"]


def test_search_item_defaults_without_config_or_history(site, settings):
    add_central_row(site, "a000", description="bare", details={"user": "u", "hpc": "H"})
    row = service.central_db.get_experiment(settings, "a000")
    item = service.search_item(settings, row)
    assert item == {
        "id": 1,
        "name": "a000",
        "description": "bare",
        "user": "u",
        "hpc": "H",
        "status": "NOT RUNNING",
        "version": "Unknown",
        "wrapper": None,
        "modified": None,
        "completed": "NA",
        "total": "NA",
        "submitted": 0,
        "queuing": 0,
        "running": 0,
        "failed": 0,
        "suspended": 0,
    }
    assert service.search_item(settings, row, running_list=True)["user"] == "u"


def test_get_experiment_errors(site, settings):
    add_central_row(site, "a000")
    assert service.get_experiment(settings, "a000")["name"] == "a000"
    with pytest.raises(NotFound, match="'zzzz' not found"):
        service.get_experiment(settings, "zzzz")
    with pytest.raises(BadRequest):
        service.get_experiment(settings, "../etc")


def test_health_reports_reachability_and_the_backend(site, settings):
    add_central_row(site, "a000")
    report = health.health(settings)
    assert report["status"] == "ok" and report["central_db"] == {"reachable": True, "message": "1 experiments"}
    assert report["backend"] == "sqlite" and report["version"] == "4.0.1"
    assert report["background_tasks"]["enabled"] is False  # testing settings start no scheduler
    site.central_db.unlink()
    report = health.health(settings)
    assert report["status"] == "unavailable" and report["central_db"]["reachable"] is False
    with pytest.raises(Unavailable):
        service.list_experiments(settings, service.ListQuery())
