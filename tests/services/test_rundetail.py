"""Run detail tree (B.8.4) on the hand-made history of history_case."""

import pytest

from autosubmit_api.errors import NotFound
from tests.factory import JobDataSpec, RunSpec
from tests.factory.history import write_structure_data
from autosubmit_api.services import rundetail
from tests.services import history_case as case


@pytest.fixture
def exp(make_experiment):
    return case.make(make_experiment)


def test_run_detail_groups_rows_by_date_and_section_column(exp, settings):
    body = rundetail.run_detail(settings, case.EXPID, "1", now=case.NOW)
    assert body["error"] is False and body["pkl_timestamp"] == 10000000
    # Run 1 has 4 rows; SIM_1 appears twice (failed, then completed), the second renamed.
    names = [job["id"] for job in body["jobs"]]
    assert names == [case.name("1_SIM"), case.name("2_SIM"), case.name("1_POST"), case.name("1_SIM") + "+"]
    (date_folder,) = body["tree"]
    assert date_folder["refKey"] == f"{case.EXPID}_20200101"
    keys = [folder["refKey"] for folder in date_folder["children"]]
    assert keys == [f"{case.EXPID}_20200101_POST", f"{case.EXPID}_20200101_SIM"]
    assert body["reference"][f"{case.EXPID}_20200101_SIM"] == {
        "completed": 2,
        "running": 0,
        "queuing": 0,
        "failed": 1,
        "total": 3,
    }
    sim_folder = date_folder["children"][1]
    # No space before the completed count in run-detail folders (B.8.4 step 5).
    assert "background-color:#ffffb3'>2 / 3 COMPLETED" in sim_folder["title"]
    assert "1 FAILED" in sim_folder["title"]


def test_run_detail_nodes_keep_the_reference_quirks(exp, settings):
    body = rundetail.run_detail(settings, case.EXPID, "1", now=case.NOW)
    node = next(job for job in body["jobs"] if job["id"] == case.name("1_SIM") + "+")
    assert node["submit"] == "1970-01-01-00:33:20"  # dash format (Q3)
    assert node["minutes_queue"] == 20 and node["minutes"] == 120  # seconds (Q4)
    assert node["member"] == "SIM" and node["section"] == "fc0"  # swapped (Q30)
    assert node["date"] == "2020 01 01" and node["date_plus"] == "2020 02 01"
    assert node["SYPD"] == 60.0
    # POST rows are found by the *member* column (here "fc0"), so no POST average: 7200 / 140
    assert node["ASYPD"] == 51.43
    assert node["out"].endswith(f"/tmp/LOG_{case.EXPID}/{case.name('1_SIM')}.2.out")
    assert node["children"] is None and node["sync"] is False


def test_a_failed_attempt_before_the_last_falls_back_to_start_times(make_experiment, settings):
    rows = [case._row("a005_X", 1, 100, 0, 0, "FAILED", 1, 1, "SIM", last=0)]
    make_experiment("a005", case.jobs(), runs=case.runs(), job_data=rows)
    (node,) = rundetail.run_detail(settings, "a005", "1", now=case.NOW)["jobs"]
    assert node["start"] == node["finish"] == node["submit"] == "1970-01-01-00:01:40"


def test_wrapped_rows_get_a_wrappers_folder(make_experiment, settings):
    rows = [
        case._row("a006_A", 1, 100, 110, 210, "COMPLETED", 1, 1, "SIM", rowtype=77),
        case._row("a006_B", 1, 100, 300, 400, "COMPLETED", 1, 2, "SIM", rowtype=77),
    ]
    make_experiment("a006", case.jobs(), runs=case.runs(), job_data=rows)
    body = rundetail.run_detail(settings, "a006", "1", now=case.NOW)
    wrappers = body["tree"][-1]
    assert wrappers["refKey"] == "Wrappers_a006"
    (folder,) = wrappers["children"]
    assert folder["refKey"] == "Wrapper: 77" and folder["data"]["total"] == 2
    assert body["reference"]["packages"] == [77]
    node_b = next(job for job in body["jobs"] if job["id"] == "a006_B")
    # queue 200 minus A's queue 10 and run 100
    assert node_b["minutes_queue"] == 90 and node_b["wrapper_code"] == 77


@pytest.mark.parametrize("run_id", ["999", "abc"])
def test_unknown_or_non_numeric_run_is_the_header_error(exp, settings, run_id):
    with pytest.raises(NotFound, match="couldn't fin the experiment header"):
        rundetail.run_detail(settings, case.EXPID, run_id)


def test_a_run_without_total_is_still_a_run_and_an_unknown_run_the_header_error(make_experiment, settings):
    # 4.0.1 answered the header error for a run whose counters were never written (golden
    # a3tb run 1); upstream 4.2.0 answers its detail, as we do.
    make_experiment(
        "a007",
        case.jobs(),
        runs=[RunSpec(run_id=1, start=1, total=0)],
        job_data=[JobDataSpec(job_name="a007_X", run_id=1)],
    )
    body = rundetail.run_detail(settings, "a007", "1")
    assert body["error"] is False and [job["id"] for job in body["jobs"]] == ["a007_X"]
    with pytest.raises(NotFound):
        rundetail.run_detail(settings, "a007", "2")


def test_an_autosubmit_42_run_without_total_shows_its_rows(make_experiment, settings, site):
    # Autosubmit 4.2 leaves the counters of the runs `autosubmit run` opens at 0; its history
    # has the `structure_data` table (docs/data.md A.13).
    make_experiment(
        "a007",
        case.jobs(),
        runs=[RunSpec(run_id=1, start=1, total=0)],
        job_data=[JobDataSpec(job_name="a007_X", run_id=1)],
    )
    write_structure_data(site.jobdata_dir / "job_data_a007.db", {})
    body = rundetail.run_detail(settings, "a007", "1")
    assert body["error"] is False and [job["id"] for job in body["jobs"]] == ["a007_X"]


def test_an_autosubmit_42_run_lists_its_own_edges(make_experiment, settings, site):
    # Each run keeps the edges it ran with (structure_data): run 1 had A -> B, run 2 A -> C.
    rows = [
        JobDataSpec(job_name=name, run_id=run, counter=run) for run in (1, 2) for name in ("a007_A", "a007_B", "a007_C")
    ]
    make_experiment(
        "a007",
        case.jobs(),
        job_data=rows,
        runs=[RunSpec(run_id=1, start=1, total=3), RunSpec(run_id=2, start=2, total=3)],
    )
    write_structure_data(site.jobdata_dir / "job_data_a007.db", {1: [("a007_A", "a007_B")], 2: [("a007_A", "a007_C")]})

    def edges(run):
        return {
            job["id"]: (job["children"], job["children_list"], job["parents"], job["parent_list"])
            for job in rundetail.run_detail(settings, "a007", run)["jobs"]
        }

    assert edges("1") == {"a007_A": (1, ["a007_B"], 0, []), "a007_B": (0, [], 1, ["a007_A"]), "a007_C": (0, [], 0, [])}
    assert edges("2") == {"a007_A": (1, ["a007_C"], 0, []), "a007_B": (0, [], 0, []), "a007_C": (0, [], 1, ["a007_A"])}


def test_a_history_before_42_keeps_the_null_edges_of_401(exp, settings):
    assert rundetail.run_detail(settings, case.EXPID, "1")["jobs"]
    for job in rundetail.run_detail(settings, case.EXPID, "1")["jobs"]:
        assert (job["children"], job["children_list"], job["parents"], job["parent_list"]) == (None,) * 4


def test_a_run_without_rows_is_empty_without_error(make_experiment, settings):
    make_experiment("a008", case.jobs(), runs=[RunSpec(run_id=1, start=1, total=3)], job_data=[])
    body = rundetail.run_detail(settings, "a008", "1")
    assert body == {
        "tree": [],
        "jobs": [],
        "total": 0,
        "reference": {},
        "error": False,
        "error_message": "",
        "pkl_timestamp": 10000000,
    }


def test_route_error_shape(site, client):
    body = client.get("/rundetail/zzzz/1").get_json()
    assert body["error"] is True and body["reference"] == [] and body["pkl_timestamp"] == 0
