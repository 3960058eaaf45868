"""The site written by real Autosubmit 4.2.0 (../shared/fixtures-as42: a9m1, a9m2, a9m4):
read through the storage interface and served by every job route. Skips without ../shared.
"""

from __future__ import annotations

import collections
import os

import pytest

from autosubmit_api.app import create_app
from autosubmit_api.readers import job_db, job_list, storage, structure
from tests.conftest import shared_dir
from tests.fixture_site import copy_fixture_tree, settings_for, snapshot

SOURCE = shared_dir() / "fixtures-as42"


@pytest.fixture
def as42_site(tmp_path):
    if not (SOURCE / "a9m1" / "db" / "job_list.db").is_file():
        pytest.skip(f"the Autosubmit 4.2 fixtures are not available at {SOURCE}")
    root = copy_fixture_tree(tmp_path / "site", source=SOURCE)
    for sub in ("metadata/structures", "metadata/graph"):
        os.makedirs(root / sub, exist_ok=True)
    return root, settings_for(root, protection_level="NONE")


def test_the_real_job_lists(as42_site):
    _, settings = as42_site
    a9m1 = job_list.load_job_list(settings, "a9m1")
    assert a9m1.source == job_db.SOURCE and len(a9m1) == 33
    assert {job.status for job in a9m1.jobs} == {5}
    assert a9m1.pkl_mtime == 1796525785  # MAX(jobs.modified) = 2026-12-06 02:56:25 UTC
    assert a9m1.get("a9m1_LOCAL_SETUP").member is None and a9m1.get("a9m1_LOCAL_SETUP").date is None
    assert a9m1.get("a9m1_20000101_fc0_INI").date.isoformat() == "2000-01-01T00:00:00"
    deps = structure.load_dependencies(settings, "a9m1", a9m1)
    assert deps.source == "structure_db" and len(deps.edges()) == 40
    a9m2 = job_list.load_job_list(settings, "a9m2")
    counts = collections.Counter(job.status for job in a9m2.jobs)
    assert counts == {5: 14, -1: 1, 0: 6}
    assert a9m2.get("a9m2_20100101_fc1_2_SIM").status == -1
    sections = job_db.load_sections(settings, storage.locate(settings, "a9m1"))
    assert {s.name for s in sections} >= {"LOCAL_SETUP", "INI", "SIM", "POST", "CLEAN"}
    assert storage.locate(settings, "a9m4").job_list is None


JOB_ROUTES = (
    "/v3/tree/{e}",
    "/v3/quick/{e}",
    "/v3/graph/{e}/standard/none",
    "/v3/graph/{e}/laplacian/status",
    "/v3/summary/{e}",
    "/v3/performance/{e}",
    "/v3/runs/{e}",
    "/v3/stats/{e}/0/Any",
    "/v3/pklinfo/{e}/0",
    "/v3/pkltreeinfo/{e}/0",
    "/v3/expinfo/{e}",
    "/v3/expcount/{e}",
)


def test_every_job_route_answers_with_data_and_writes_nothing(as42_site):
    root, settings = as42_site
    client = create_app(settings).test_client()
    before = snapshot(root / "a9m1")
    for expid in ("a9m1", "a9m2"):
        for route in JOB_ROUTES:
            answer = client.get(route.format(e=expid))
            body = answer.get_json()
            assert answer.status_code == 200 and body.get("error") is not True, (route, body.get("error_message"))
        jobs = client.get(f"/v4/experiments/{expid}/jobs").get_json()["jobs"]
        assert len(jobs) == {"a9m1": 33, "a9m2": 21}[expid]
        assert client.get(f"/v4/experiments/{expid}/wrappers").status_code == 200
    # The runs Autosubmit 4.2 opened with `run` keep counters at 0 but hold the job rows.
    detail = client.get("/v3/rundetail/a9m1/2").get_json()
    assert detail["error"] is False and detail["total"] == 33
    failed = client.get("/v4/experiments/a9m2/jobs/a9m2_20100101_fc1_2_SIM").get_json()
    assert failed["status"] == "FAILED"
    assert snapshot(root / "a9m1") == before


def test_the_experiment_without_a_job_list_gets_clear_answers(as42_site):
    _, settings = as42_site
    client = create_app(settings).test_client()
    for route in JOB_ROUTES:
        answer = client.get(route.format(e="a9m4"))
        assert answer.status_code == 200 and answer.get_json()["error"] is True, route
    for route in (
        "/v4/experiments/a9m4/jobs",
        "/v4/experiments/a9m4/jobs/a9m4_LOCAL_SETUP",
        "/v4/experiments/a9m4/eta",
        "/v4/experiments/a9m4/runs",
    ):
        answer = client.get(route)
        assert answer.status_code in (404, 422, 503) and answer.get_json()["error"] is True, route
    assert client.get("/v4/experiments/a9m4/wrappers").status_code == 200
    assert client.get("/v4/experiments/a9m4/user-metrics-runs").status_code == 200
