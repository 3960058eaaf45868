"""Job history (B.11) and the run views (B.8.1-B.8.3) on a hand-computed history."""

import pytest

from autosubmit_api.errors import NotFound
from autosubmit_api.services import history, runs
from tests.services import history_case as case


@pytest.fixture
def exp(make_experiment):
    return case.make(make_experiment)


def test_history_lists_every_attempt_newest_counter_first(exp, settings):
    body = history.job_history(settings, case.EXPID, case.name("1_SIM"), now=case.NOW)
    assert body["error"] is False
    assert body["path_to_logs"].endswith(f"/{case.EXPID}/tmp/LOG_{case.EXPID}")
    completed, failed = body["history"]
    assert (completed["counter"], failed["counter"]) == (2, 1)
    assert completed["queue_time"] == "0:00:20" and completed["run_time"] == "0:02:00"
    assert completed["submit"] == "1970-01-01 00:33:20"
    # SYPD = 7200 / 120; ASYPD = 7200 / (20 + 120 + average POST 50)
    assert completed["SYPD"] == 60.0
    assert completed["ASYPD"] == 37.89
    assert completed["run_created"] == "1970-01-01-00:15:00"
    assert completed["out"] == f"{case.name('1_SIM')}.2.out"
    assert failed["status"] == "FAILED" and failed["SYPD"] is None and failed["ASYPD"] is None
    assert failed["run_time"] == "0:01:40"


def test_history_of_a_running_job_finishes_now(exp, settings):
    (row,) = history.job_history(settings, case.EXPID, case.name("4_SIM"), now=case.NOW)["history"]
    assert row["finish"] == "1970-01-01 01:41:40"
    assert row["run_time"] == "0:01:40"
    assert row["status"] == "RUNNING" and row["SYPD"] is None


def test_history_of_an_unknown_job_is_empty(exp, settings):
    assert history.job_history(settings, case.EXPID, "nope")["history"] == []


def test_history_without_db_is_the_reference_error(make_experiment, settings):
    make_experiment("a002", case.jobs(), job_data_version=0)
    body = history.job_history(settings, "a002", "x")
    assert body["error"] is True and body["history"] is None
    assert body["error_message"] == "Job/Runs database does not exist"


def test_history_row_without_run_shows_na(make_experiment, settings):
    rows = [case._row("a003_X", 1, 10, 20, 30, "COMPLETED", None, 1, "SIM")]
    make_experiment("a003", case.jobs(), runs=[], job_data=rows)
    (row,) = history.job_history(settings, "a003", "a003_X")["history"]
    assert row["SYPD"] == "NA" and row["ASYPD"] == "NA" and row["run_created"] == "NA"


def test_qpkg_subtracts_the_longest_earlier_member_of_the_package(make_experiment, settings):
    rows = [
        case._row("a004_A", 1, 100, 110, 210, "COMPLETED", 1, 1, "SIM", rowtype=77),
        case._row("a004_B", 1, 100, 300, 400, "COMPLETED", 1, 2, "SIM", rowtype=77),
    ]
    make_experiment("a004", case.jobs(), runs=case.runs(), job_data=rows)
    body = history.job_history(settings, "a004", "a004_B")
    # queue 200 minus (A's queue 10 + run 100) = 90
    assert body["history"][0]["queue_time"] == "0:01:30"


def test_v3_runs_compute_sypd_and_asypd_per_run(exp, settings):
    body = runs.v3_runs(settings, case.EXPID, now=case.NOW)
    assert [r["run_id"] for r in body["runs"]] == [2, 1]
    run2, run1 = body["runs"]
    # Run 1: SYPD = (1/12) * 2 * 86400 / 240; ASYPD = 14400 / ((20+120)+(5+120) + POST 50)
    assert run1["SYPD"] == 60.0
    assert run1["ASYPD"] == 45.71
    assert run1["finish"] == "1970-01-01 01:08:20" and run1["failed"] == 1 and run1["total"] == 5
    # Run 2: one COMPLETED SIM (240 s), no POST -> no ASYPD; running run has finish null
    assert run2["SYPD"] == 30.0 and run2["ASYPD"] is None and run2["finish"] is None


def test_v3_runs_of_an_unknown_experiment(settings, site):
    with pytest.raises(NotFound, match="Experiment zzzz does not exist"):
        runs.v3_runs(settings, "zzzz")


def test_v4_runs_are_utc_iso_in_table_order(exp, settings):
    assert runs.v4_runs(settings, case.EXPID) == {
        "runs": [
            {"run_id": 1, "start": "1970-01-01T00:15:00+00:00", "finish": "1970-01-01T01:08:20+00:00"},
            {"run_id": 2, "start": "1970-01-01T01:21:40+00:00", "finish": None},
        ]
    }


def test_v4_runs_unknown_experiment_is_404(settings, site):
    with pytest.raises(NotFound):
        runs.v4_runs(settings, "zzzz")


def test_run_config_returns_the_saved_metadata(make_experiment, settings):
    saved = case.runs()
    saved[0].metadata = '{"CONFIG": {"AUTOSUBMIT_VERSION": "4.1.12"}, "MAIL": null}'
    case.make(make_experiment, runs=saved)
    assert runs.run_config(settings, case.EXPID, "1") == {
        "run_id": 1,
        "config": {"CONFIG": {"AUTOSUBMIT_VERSION": "4.1.12"}, "MAIL": None, "contains_nones": True},
    }


@pytest.mark.parametrize("run_id", ["2", "999", "abc", "-1"])
def test_run_config_failures_are_the_empty_answer(make_experiment, settings, run_id):
    saved = case.runs()
    saved[1].total = 0
    case.make(make_experiment, runs=saved)
    assert runs.run_config(settings, case.EXPID, run_id) == {"run_id": None, "config": {"contains_nones": True}}


def test_v3_runs_need_a_readable_configuration(exp, settings):
    from autosubmit_api.errors import APIError

    (exp.path / "conf" / "broken.yml").write_text("A: [unclosed\n")
    with pytest.raises(APIError):
        runs.v3_runs(settings, case.EXPID)
