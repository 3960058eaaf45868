"""Performance metrics (docs/data.md B.9): formulas on model objects, then the whole route."""

import pytest

from autosubmit_api.services import metrics, performance
from autosubmit_api.services.performance import TimedJob


def sim(name, status="COMPLETED", **kw):
    return TimedJob(name=name, section="SIM", status=status, **kw)


def _case():
    jobs = [
        sim("S1", chunk=1, queue=10, run=100, energy=1000, start=1000),
        sim("S2", chunk=2, queue=20, run=110),
        sim("S3", chunk=3, queue=5, run=0),  # zero run time: never considered
        sim("S4", chunk=4, queue=0, run=100, energy=3000, run_id=2),  # run 2 has 1-year chunks
        sim("S5", status="RUNNING", chunk=5, queue=1, run=50),  # not COMPLETED: ignored
        sim("S6", chunk=6, queue=0, run=5000),  # outlier by modified z-score
        TimedJob("P1", "POST", "COMPLETED", queue=4, run=16),
        TimedJob("C1", "CLEAN", "COMPLETED", finish=11080),
        TimedJob("P2", "POST", "FAILED", queue=1000, run=1000),
    ]
    return performance.compute(jobs, 8, "month", 1, {1: 1 / 12, 2: 1.0}, ["config warning"])


def test_experiment_metrics_are_computed_over_considered_jobs():
    body = _case()
    # Y = 1/12 + 1/12 + 1, R = 310, Q = 30, POST average 20
    assert body["SYPD"] == pytest.approx(325.1613)
    assert body["ASYPD"] == pytest.approx(280.0)
    # D = CLEAN finish - start of the first considered SIM = 10080
    assert body["RSYPD"] == pytest.approx(10.0)
    # JPSY averages over considered jobs with energy: (12000 + 3000) / 2
    assert body["JPSY"] == pytest.approx(7500.0)
    assert body["CHSY"] == pytest.approx(1.94)
    assert body["Parallelization"] == 8
    assert body["error"] is False and body["error_message"] == ""


def test_per_job_values_are_rounded_to_two_decimals():
    s1, s2, s4 = _case()["considered"]
    assert (s1["name"], s2["name"], s4["name"]) == ("S1", "S2", "S4")
    assert s1 == {
        "name": "S1",
        "queue": 10,
        "running": 100,
        "CHSY": 2.67,
        "JPSY": 12000.0,
        "SYPD": 72.0,
        "ASYPD": 55.38,
        "energy": 1000,
        "footprint": 0.0,
        "yps": 1 / 12,
        "ncpus": 8,
        "chunk": 1,
    }
    assert (s2["SYPD"], s2["ASYPD"], s2["JPSY"], s2["CHSY"]) == (65.45, 48.0, 0.0, 2.93)
    assert (s4["yps"], s4["SYPD"], s4["ASYPD"], s4["CHSY"]) == (1.0, 864.0, 720.0, 0.22)


def test_simulated_years_energy_and_footprint_of_the_considered_jobs():
    platform = performance.PlatformInfo("MN5", cf=357000.0, pue=1.08)
    jobs = [
        sim("S1", chunk=1, queue=10, run=100, energy=1_570_000),
        sim("S2", chunk=2, queue=20, run=110, energy=3_600_000),
    ]
    body = performance.compute(jobs, 8, "month", 1, {}, (), platform, ["footprint warning"])
    s1, s2 = body["considered"]
    # kWh x CF (g/kWh) x PUE / 1000: 1.57 MJ = 0.436 kWh -> 168.147 kg
    assert s1["footprint"] == pytest.approx(168.147)
    assert s2["footprint"] == pytest.approx(385.56)
    assert body["Total_footprint"] == pytest.approx(168.147 + 385.56)
    assert body["Total_energy"] == 5_170_000
    assert body["SY"] == pytest.approx(2 / 12)
    assert body["platform_info"] == {"name": "MN5", "CF": 357000.0, "PUE": 1.08}
    assert body["warnings_job_data"][0] == "footprint warning"


def test_outliers_carry_their_footprint_too():
    platform = performance.PlatformInfo("P", cf=1000.0, pue=2.0)
    jobs = [sim(f"S{i}", chunk=i, run=run, energy=3_600_000) for i, run in enumerate((100, 110, 90, 105, 95), start=1)]
    jobs.append(sim("S9", chunk=9, run=9000, energy=7_200_000))  # outlier
    body = performance.compute(jobs, 1, "month", 1, {}, (), platform)
    (outlier,) = body["not_considered"]
    assert outlier["name"] == "S9" and outlier["footprint"] == pytest.approx(4.0)
    assert body["Total_footprint"] == pytest.approx(5 * 2.0)  # outliers are not in the totals


def test_per_job_rates_of_a_split_job_are_divided_by_its_splits():
    jobs = [sim("S_1_1", chunk=1, run=100, queue=20, splits=4), sim("S_2", chunk=2, run=100, queue=20)]
    split, whole = performance.compute(jobs, 1, "month", 1, {})["considered"]
    assert whole["SYPD"] == 72.0 and split["SYPD"] == 18.0
    assert whole["ASYPD"] == 60.0 and split["ASYPD"] == 15.0
    assert split["CHSY"] == whole["CHSY"]


def test_outliers_and_zero_run_times_are_not_considered_and_warned_first():
    body = _case()
    s3, s6 = body["not_considered"]
    assert (s3["name"], s6["name"]) == ("S3", "S6")
    # Outliers get no POST average in their ASYPD.
    assert (s3["SYPD"], s3["ASYPD"], s3["CHSY"]) == (0, 1440.0, 0.0)
    assert (s6["SYPD"], s6["ASYPD"], s6["CHSY"]) == (1.44, 1.44, 133.33)
    assert body["warnings_job_data"] == [
        "Considered | Job S3 (Package No Package) has no energy information and is not going to be "
        "considered for energy calculations.",
        "Considered | Job S6 (Package No Package) has no energy information and is not going to be "
        "considered for energy calculations.",
        performance.WARN_CLEAN_ONLY,
        "config warning",
    ]


def test_without_completed_jobs_everything_is_zero_with_warnings():
    body = performance.compute([sim("S1", status="FAILED", run=10)], 4, "month", 1, {})
    assert (body["SYPD"], body["ASYPD"], body["RSYPD"], body["CHSY"], body["JPSY"]) == (0, 0, 0, 0, 0)
    assert body["considered"] == [] and body["not_considered"] == []
    assert body["warnings_job_data"] == [performance.WARN_NO_SIM, performance.WARN_NO_POST, performance.WARN_NO_SUPPORT]


def test_unknown_chunk_unit_gives_zero_years_and_zero_rates():
    (entry,) = performance.compute([sim("S1", chunk=1, run=100)], 1, "NA", 1, {})["considered"]
    assert (entry["yps"], entry["SYPD"], entry["CHSY"], entry["JPSY"]) == (0.0, 0, 0, 0)


def test_outlier_filter_uses_mean_absolute_deviation_when_mad_is_zero():
    runs = [10, 10, 10, 10, 1000]
    valid, outliers = metrics.split_outliers(runs, lambda x: x)
    # MAD = 0, MeanAD = 316.8: z(1000) = 990 / (1.2533 * 316.8) < 7, so all are valid
    assert valid == runs and outliers == []


def test_outlier_filter_with_one_value_keeps_positive_runs():
    assert metrics.split_outliers([0, 50], lambda x: x) == ([50], [0])


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("8", (8, None)),
        ("36:10", (72, "Parallelization parsing | 36:10 was interpreted as 72 cores.")),
        ("x", (0, "CHSY Critical | Autosubmit API could not parse the number of processors for the SIM job.")),
    ],
)
def test_parse_processors(raw, expected):
    assert metrics.parse_processors(raw) == expected


@pytest.mark.parametrize(
    "args,pe",
    [
        ((48, None, None, 48, False), 48),
        ((96, None, None, 48, False), 96),
        ((10, None, 2, 48, False), 96),
        ((10, None, None, 48, True), 48),
        ((100, 50, None, 48, False), 96),
        ((20, None, None, None, False), 20),
    ],
)
def test_processing_elements(args, pe):
    assert metrics.processing_elements(*args)[0] == pe


def test_tasks_without_processors_per_node_warns():
    assert metrics.processing_elements(20, 4, None, None, False) == (20, metrics.MISSING_PPN_WARNING)


def test_years_per_chunk():
    assert metrics.years_per_chunk("year", 2) == 2
    assert metrics.years_per_chunk("month", 6) == 0.5
    assert metrics.years_per_chunk("day", 73) == 0.2
    assert metrics.years_per_chunk("hour", 876) == 0.1
    assert metrics.years_per_chunk("MONTH", 1) == 0.0


def test_performance_of_a_factory_experiment(make_experiment, client):
    from tests.services import history_case as case

    case.make(make_experiment)
    body = client.get(f"/v3/performance/{case.EXPID}").get_json()
    assert body["error"] is False, body["error_message"]
    # Last rows: SIM_1 (q20 r120), SIM_2 (q5 r120), SIM_3 (q30 r240); POST q10 r40 -> average 50.
    # The default config's SIM section: 48 processors, NODES 1, PROCESSORS_PER_NODE 48.
    assert body["Parallelization"] == 48
    assert [job["name"] for job in body["considered"]] == [case.name(f"{i}_SIM") for i in (1, 2, 3)]
    assert body["SYPD"] == pytest.approx(45.0)  # (3/12) * 86400 / 480
    assert body["ASYPD"] == pytest.approx(36.9231)  # 21600 / (480 + 55 + 50)
    assert body["RSYPD"] == 0
    assert performance.WARN_NO_SUPPORT in body["warnings_job_data"]


def test_performance_of_an_unknown_experiment_has_the_q31_shape(site, client):
    body = client.get("/performance/zzzz").get_json()
    assert body["error"] is True and body["PE"] is None and "not_considered" not in body
    assert body["considered"] == []


def test_performance_without_history_db_answers_with_zero_times(make_experiment, client):
    from tests.services import history_case as case

    make_experiment("a002", case.jobs(), job_data_version=0)
    body = client.get("/performance/a002").get_json()
    assert body["error"] is False
    assert body["SYPD"] == 0 and body["considered"] == []
