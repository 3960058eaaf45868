"""Statistics (docs/data.md B.12): retrial selection, hours, summary, and the route on factory data."""

import datetime

import pytest

from autosubmit_api.services import statistics
from tests.services import history_case as case

C = "COMPLETED"


def line(submit, start, finish=None, status=None):
    fields = [f for f in (submit, start, finish, status) if f is not None]
    return statistics._parse_lines([fields])[0]


def stamp(minute, second=0):
    return f"2020010100{minute:02d}{second:02d}"


def test_last_retrials_stop_before_the_second_completed_line_from_the_end():
    lines = [
        line(stamp(0), stamp(1), stamp(2), C),
        line(stamp(3), stamp(4), stamp(5), "FAILED"),
        line(stamp(6), stamp(7), stamp(8), C),
        line(stamp(9), stamp(10)),
    ]
    assert statistics.last_retrials(lines) == lines[1:]


def test_placeholder_words_count_as_missing_fields():
    (parsed,) = statistics._parse_lines([["20200101000000", "start", "end", "status"]])
    assert parsed[:3] == (int(datetime.datetime(2020, 1, 1).timestamp()), 0, 0)
    assert parsed[3] == "status"


def test_job_statistics_in_hours_with_partial_lines_counted_as_failed():
    lines = [
        line(stamp(0), stamp(1), stamp(7), "FAILED"),  # queue 60 s, run 360 s
        line(stamp(10), stamp(12), stamp(22), C),  # queue 120 s, run 600 s
        line(stamp(30), stamp(31)),
    ]  # still running: counted as failed, queue 60 s
    entry = statistics.job_statistics("a_SIM", 4, "01:30", lines)
    assert entry["retrialCount"] == entry["submittedCount"] == 3
    assert (entry["completedCount"], entry["failedCount"]) == (1, 2)
    assert entry["completedQueueTime"] == pytest.approx(120 / 3600)
    assert entry["completedRunTime"] == pytest.approx(600 / 3600)
    assert entry["failedQueueTime"] == pytest.approx(120 / 3600)
    assert entry["failedRunTime"] == pytest.approx(360 / 3600)
    assert entry["cpuConsumption"] == pytest.approx(4 * 960 / 3600)
    assert entry["failedCpuConsumption"] == pytest.approx(4 * 360 / 3600)
    assert entry["realConsumption"] == pytest.approx(960 / 3600)
    assert entry["wallclock"] == 1.5 and entry["expectedCpuConsumption"] == 6.0


def test_summary_rounds_and_computes_the_percentage():
    a = statistics.job_statistics("a", 2, "01:00", [line(stamp(0), stamp(6), stamp(36), C)])
    b = statistics.job_statistics("b", 1, "", [line(stamp(0), stamp(0), stamp(1), "FAILED")])
    summary = statistics.summarize([a, b])
    assert summary["cpuConsumption"] == round(2 * 1800 / 3600 + 60 / 3600, 4)
    assert summary["expectedCpuConsumption"] == 2.0
    assert summary["cpuConsumptionPercentage"] == round((1 + 60 / 3600) / 2 * 100, 2)
    assert summary["totalQueueTime"] == round(360 / 3600, 2)
    assert (summary["runCount"], summary["completedCount"], summary["failedCount"]) == (2, 1, 1)


def test_wallclock_hours():
    assert statistics.wallclock_hours("02:15") == 2.25
    assert statistics.wallclock_hours("") == 0.0


@pytest.fixture
def exp(make_experiment):
    made = case.make(make_experiment)
    tmp = made.path / "tmp"
    (tmp / f"{case.name('1_SIM')}_TOTAL_STATS").write_text(
        "20200101000000 20200101000100 20200101000700 FAILED\n20200101001000 20200101001200 20200101002200 COMPLETED"
    )
    (tmp / f"{case.name('1_POST')}_TOTAL_STATS").write_text("20200101003000 20200101003100 20200101003200 COMPLETED")
    return made


def test_route_lists_jobs_with_stats_files(exp, client):
    body = client.get(f"/v3/stats/{case.EXPID}/0/Any").get_json()
    assert body["error"] is False, body["error_message"]
    assert body["Statistics"]["Period"]["From"] == "None"
    names = [e["name"] for e in body["Statistics"]["JobStatistics"]]
    assert sorted(names) == sorted([case.name("1_SIM"), case.name("1_POST")])
    sim = next(e for e in body["Statistics"]["JobStatistics"] if e["name"] == case.name("1_SIM"))
    # Processors and wallclock of the SIM section in the default config: 48, 02:00.
    assert sim["processors"] == 48 and sim["wallclock"] == 2.0
    assert (sim["completedCount"], sim["failedCount"]) == (1, 1)
    assert body["summary"]["runCount"] == 3


def test_route_filters_by_section(exp, client):
    body = client.get(f"/stats/{case.EXPID}/0/POST").get_json()
    assert [e["name"] for e in body["Statistics"]["JobStatistics"]] == [case.name("1_POST")]


def test_a_period_without_activity_is_the_reference_error(exp, client):
    body = client.get(f"/stats/{case.EXPID}/24/Any").get_json()
    assert body["error"] is True and body["Statistics"] is None and body["summary"] is None
    assert body["error_message"].startswith(
        "Autosubmit API couldn't find jobs that match your search critearia (Section: Any) in the period from "
    )


def test_unknown_section_and_bad_period(exp, client):
    body = client.get(f"/stats/{case.EXPID}/0/Nope").get_json()
    assert body["error"] is True and "(Section: Nope)" in body["error_message"]
    body = client.get(f"/stats/{case.EXPID}/abc/Any").get_json()
    assert body["error"] is True and body["error_message"] == "invalid literal for int() with base 10: 'abc'"


def test_negative_hours_mean_no_period(exp, client):
    body = client.get(f"/stats/{case.EXPID}/-5/Any").get_json()
    assert body["error"] is False and body["Statistics"]["Period"]["From"] == "None"


def test_a_recent_period_keeps_jobs_active_in_it(exp, settings):
    now = datetime.datetime(2020, 1, 1, 0, 40)
    body = statistics.experiment_statistics(settings, case.EXPID, "1", "Any", now=now)
    assert body["Statistics"]["Period"] == {"From": "2019-12-31 23:40:00", "To": "2020-01-01 00:40:00"}
    now = datetime.datetime(2020, 1, 1, 3, 0)
    with pytest.raises(Exception, match="couldn't find jobs"):
        statistics.experiment_statistics(settings, case.EXPID, "1", "Any", now=now)


def test_a_running_jobs_new_attempt_line_is_seen_without_a_pkl_change(exp, client):
    running = exp.path / "tmp" / f"{case.name('4_SIM')}_TOTAL_STATS"
    first = client.get(f"/stats/{case.EXPID}/0/Any").get_json()
    assert case.name("4_SIM") not in [e["name"] for e in first["Statistics"]["JobStatistics"]]
    running.write_text("20200101010000 20200101010100")
    second = client.get(f"/stats/{case.EXPID}/0/Any").get_json()
    entry = next(e for e in second["Statistics"]["JobStatistics"] if e["name"] == case.name("4_SIM"))
    assert entry["failedCount"] == 1  # an in-progress line counts as failed (B.12)


def test_a_completed_jobs_file_is_read_again_after_the_pkl_changes(exp, client):
    from tests.factory import set_statuses

    path = exp.path / "tmp" / f"{case.name('1_POST')}_TOTAL_STATS"
    assert client.get(f"/stats/{case.EXPID}/0/POST").get_json()["summary"]["runCount"] == 1
    path.write_text(path.read_text() + "\n20200101004000 20200101004100 20200101004200 COMPLETED")
    set_statuses(exp, {case.name("1_POST"): 5})
    assert client.get(f"/stats/{case.EXPID}/0/POST").get_json()["summary"]["runCount"] == 1  # last retrials
    body = client.get(f"/stats/{case.EXPID}/0/POST").get_json()
    assert body["Statistics"]["JobStatistics"][0]["completedRunTime"] == pytest.approx(60 / 3600)


def test_the_cached_body_equals_a_fresh_serialisation(exp, settings, app):
    import json

    with app.app_context():
        body = statistics.statistics_body(settings, case.EXPID, "0", "Any")
        fresh = statistics.experiment_statistics(settings, case.EXPID, "0", "Any")
    decoded = json.loads(body)
    assert decoded["Statistics"]["JobStatistics"] == fresh["Statistics"]["JobStatistics"]
    assert decoded["summary"] == fresh["summary"]
    assert body.endswith(b"\n") and b": " not in body


@pytest.mark.parametrize(
    "text",
    [
        "20200101000000",
        "20201231235959",
        "2020",
        "202001",
        "20200101",
        "2020-01-01 10:00:00",
        "status",
        "20201301000000",
    ],
)
def test_the_fast_stamp_parser_agrees_with_the_reference_formats(text):
    from autosubmit_api.services.jobs.times import parse_stamp

    assert statistics._stamp(text) == parse_stamp(text)


def test_cores_of_a_section_are_nodes_times_processors_per_node():
    from autosubmit_api.models import ExperimentConfig, PlatformConfig, SectionConfig
    from autosubmit_api.services.metrics import section_parallelization

    conf = ExperimentConfig(
        expid="a000",
        layout="AS4",
        raw={},
        hpcarch="MN4",
        sections={
            "SIM": SectionConfig("SIM", platform="MN4"),
            "POST": SectionConfig("POST", processors="4", platform="MN4", nodes="3", processors_per_node="48"),
            "INI": SectionConfig("INI", processors="2", platform="LOCAL"),
        },
        platforms={
            "MN4": PlatformConfig("MN4", raw={"NODES": 2, "PROCESSORS_PER_NODE": 8}),
            "LOCAL": PlatformConfig("LOCAL"),
        },
    )
    # The platform's NODES x PROCESSORS_PER_NODE (a003's SIM: 16 where 4.0.1 said 1).
    assert section_parallelization(conf, "SIM", 1)[0] == 16
    # The section's own NODES and PROCESSORS_PER_NODE come first.
    assert section_parallelization(conf, "POST", 4)[0] == 144
    # Without them, the section's processors.
    assert section_parallelization(conf, "INI", 2)[0] == 2
