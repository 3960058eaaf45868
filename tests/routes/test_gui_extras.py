"""The v4 routes the development GUI calls that 4.0.1 lacks: job detail, neighbours, ETA,
user metrics and the runner configuration (docs/gui.md section 8)."""

from datetime import datetime

import pytest

from tests.factory import JobDataSpec, JobSpec, RunSpec
from tests.factory.metrics import write_user_metrics

WAITING, RUNNING, COMPLETED, FAILED = 0, 4, 5, -1
T0 = 1_700_000_000


def _jobs(expid):
    return [
        JobSpec(f"{expid}_LOCAL_SETUP", "LOCAL_SETUP", status=COMPLETED),
        JobSpec(
            f"{expid}_20000101_fc0_1_SIM",
            "SIM",
            status=COMPLETED,
            chunk=1,
            member="fc0",
            parents=(f"{expid}_LOCAL_SETUP",),
            id=101,
            processors="48",
        ),
        JobSpec(
            f"{expid}_20000101_fc0_2_SIM",
            "SIM",
            status=COMPLETED,
            chunk=2,
            member="fc0",
            parents=(f"{expid}_20000101_fc0_1_SIM",),
            id=102,
            processors="48",
        ),
        JobSpec(
            f"{expid}_20000101_fc0_3_SIM",
            "SIM",
            status=RUNNING,
            chunk=3,
            member="fc0",
            parents=(f"{expid}_20000101_fc0_2_SIM",),
            id=103,
            processors="48",
        ),
        JobSpec(
            f"{expid}_20000101_fc0_4_SIM",
            "SIM",
            status=WAITING,
            chunk=4,
            member="fc0",
            parents=(f"{expid}_20000101_fc0_3_SIM",),
        ),
        JobSpec(
            f"{expid}_20000101_fc0_1_POST",
            "POST",
            status=FAILED,
            chunk=1,
            member="fc0",
            parents=(f"{expid}_20000101_fc0_1_SIM",),
        ),
    ]


def _history(expid):
    def row(name, counter, submit, start, finish, status, section, chunk):
        return JobDataSpec(
            job_name=name,
            counter=counter,
            submit=submit,
            start=start,
            finish=finish,
            status=status,
            section=section,
            chunk=chunk,
            member="fc0",
            run_id=1,
            last=1,
            date="2000-01-01 00:00:00",
        )

    rows = [
        row(f"{expid}_LOCAL_SETUP", 1, T0, T0 + 10, T0 + 20, "COMPLETED", "LOCAL_SETUP", 0),
        row(f"{expid}_20000101_fc0_1_SIM", 1, T0 + 30, T0 + 60, T0 + 660, "COMPLETED", "SIM", 1),
        row(f"{expid}_20000101_fc0_2_SIM", 1, T0 + 700, T0 + 760, T0 + 1960, "COMPLETED", "SIM", 2),
        row(f"{expid}_20000101_fc0_3_SIM", 1, T0 + 2000, T0 + 2100, 0, "RUNNING", "SIM", 3),
        row(f"{expid}_20000101_fc0_1_POST", 1, T0 + 700, T0 + 710, T0 + 720, "FAILED", "POST", 1),
    ]
    runs = [RunSpec(run_id=1, start=T0, created="2023-11-14-22:13:20", total=6, completed=3)]
    return runs, rows


@pytest.fixture
def exp(make_experiment):
    runs, rows = _history("a001")
    return make_experiment("a001", _jobs("a001"), runs=runs, job_data=rows)


def test_job_detail_shows_the_job_and_its_history_times(client, exp):
    body = client.get("/v4/experiments/a001/jobs/a001_20000101_fc0_2_SIM").get_json()
    assert body["name"] == "a001_20000101_fc0_2_SIM"
    assert body["status"] == "COMPLETED"
    assert body["section"] == "SIM" and body["chunk"] == 2 and body["member"] == "fc0"
    assert body["remote_id"] == 102
    assert body["run_time"] == 1200 and body["queue_time"] == 60
    # ISO 8601 with the offset, as upstream 4.2.0 sends them (the GUI computes run and queue
    # times from them); the client fixture's site runs with the test process's time zone.
    expected = [datetime.fromtimestamp(T0 + s).astimezone().isoformat(timespec="seconds") for s in (700, 760, 1960)]
    assert [body["submit"], body["start"], body["finish"]] == expected
    waiting = client.get("/v4/experiments/a001/jobs/a001_20000101_fc0_4_SIM").get_json()
    assert (waiting["submit"], waiting["start"], waiting["finish"]) == (None, None, None)
    assert body["qos"] == "bsc_es"  # the section's queue
    # A section without a queue: "" (upstream 4.2.0), not the tree's "None" (docs/data.md B.0.2).
    tree_qos = {job["id"]: job["queue"] for job in client.get("/v3/tree/a001").get_json()["jobs"]}
    setup = client.get("/v4/experiments/a001/jobs/a001_LOCAL_SETUP").get_json()
    assert (tree_qos["a001_LOCAL_SETUP"], setup["qos"]) == ("None", "")


def test_job_detail_date_is_yyyymmdd_and_split_jobs_say_which_split(client, make_experiment):
    from datetime import datetime

    jobs = [
        JobSpec(
            "a002_20000101_fc0_1_2_SIM",
            "SIM",
            status=COMPLETED,
            chunk=1,
            member="fc0",
            date=datetime(2000, 1, 1),
            split=2,
            splits=4,
        ),
        JobSpec(
            "a002_19930501_fc0_1_SIM", "SIM", status=COMPLETED, chunk=1, member="fc0", date=datetime(1993, 5, 1, 12, 30)
        ),
    ]
    make_experiment("a002", jobs)
    body = client.get("/v4/experiments/a002/jobs/a002_20000101_fc0_1_2_SIM").get_json()
    # The GUI slices YYYY, MM and DD out of it for the chunk's start date.
    assert body["date"] == "20000101"
    assert (body["split"], body["splits"]) == (2, 4)
    body = client.get("/v4/experiments/a002/jobs/a002_19930501_fc0_1_SIM").get_json()
    assert body["date"] == "199305011230" and body["split"] is None and body["splits"] is None
    listed = {job["name"]: job for job in client.get("/v4/experiments/a002/jobs").get_json()["jobs"]}
    assert (listed["a002_20000101_fc0_1_2_SIM"]["split"], listed["a002_20000101_fc0_1_2_SIM"]["splits"]) == (2, 4)
    assert listed["a002_19930501_fc0_1_SIM"]["split"] is None


@pytest.mark.parametrize("view", ["base", "quick"])
def test_v4_jobs_pages(client, exp, view):
    whole = client.get(f"/v4/experiments/a001/jobs?view={view}").get_json()
    names = [job["name"] for job in whole["jobs"]]
    assert len(names) == 6
    assert whole["pagination"] == {"page": 1, "page_size": None, "page_items": 6, "total_items": 6, "total_pages": 1}
    first = client.get(f"/v4/experiments/a001/jobs?view={view}&page_size=4").get_json()
    second = client.get(f"/v4/experiments/a001/jobs?view={view}&page_size=4&page=2").get_json()
    beyond = client.get(f"/v4/experiments/a001/jobs?view={view}&page_size=4&page=3").get_json()
    assert [job["name"] for job in first["jobs"] + second["jobs"]] == names
    assert first["pagination"] == {"page": 1, "page_size": 4, "page_items": 4, "total_items": 6, "total_pages": 2}
    assert second["pagination"]["page_items"] == 2 and second["pagination"]["page"] == 2
    assert beyond["jobs"] == [] and beyond["pagination"]["page_items"] == 0


@pytest.mark.parametrize("query", ["page=0", "page=x", "page_size=0", "page_size=-1", "page_size=abc"])
def test_v4_jobs_bad_page_is_400(client, exp, query):
    response = client.get(f"/v4/experiments/a001/jobs?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"] is True


def test_unknown_job_is_404_and_unknown_experiment_is_404(client, exp):
    response = client.get("/v4/experiments/a001/jobs/a001_NOPE")
    assert response.status_code == 404
    assert response.get_json()["error"] is True
    assert client.get("/v4/experiments/zzzz/jobs/x").status_code == 404


def test_parents_and_children_with_status(client, exp):
    body = client.get("/v4/experiments/a001/jobs/a001_20000101_fc0_1_SIM/children?include_status=true").get_json()
    assert body["children"] == [
        {"job_name": "a001_20000101_fc0_1_POST", "status": "FAILED"},
        {"job_name": "a001_20000101_fc0_2_SIM", "status": "COMPLETED"},
    ]
    body = client.get("/v4/experiments/a001/jobs/a001_20000101_fc0_1_SIM/parents").get_json()
    assert body["parents"] == [{"job_name": "a001_LOCAL_SETUP"}]


def test_bad_include_status_is_400(client, exp):
    response = client.get("/v4/experiments/a001/jobs/a001_LOCAL_SETUP/parents?include_status=maybe")
    assert response.status_code == 400


def test_eta_is_the_mean_completed_run_time_times_the_chunks_left(client, exp):
    body = client.get("/v4/experiments/a001/eta?section=SIM").get_json()
    assert body["chunks_total"] == 4
    assert body["chunks_remaining"] == 2
    assert body["avg_runtime_per_chunk_seconds"] == 900.0  # (600 + 1200) / 2
    assert body["eta_seconds"] == 1800.0


def test_eta_counts_a_chunk_once_across_members_with_its_wall_time(client, make_experiment):
    """Chunk 1 ran on two members in parallel (wall time 60..1000: 940 s), chunk 2 is complete
    on one member only: one chunk done of two, ETA one mean chunk."""

    def sim(member, chunk, status, start, finish):
        name = f"a003_20000101_{member}_{chunk}_SIM"
        job = JobSpec(name, "SIM", status=status, chunk=chunk, member=member, date=datetime(2000, 1, 1))
        row = JobDataSpec(
            job_name=name,
            counter=1,
            submit=start - 10,
            start=start,
            finish=finish,
            status="COMPLETED" if status == COMPLETED else "RUNNING",
            section="SIM",
            chunk=chunk,
            member=member,
            run_id=1,
            last=1,
            date="2000-01-01 00:00:00",
        )
        return job, row

    made = [
        sim("fc0", 1, COMPLETED, T0 + 60, T0 + 700),
        sim("fc1", 1, COMPLETED, T0 + 100, T0 + 1000),
        sim("fc0", 2, COMPLETED, T0 + 1100, T0 + 1500),
        sim("fc1", 2, RUNNING, T0 + 1100, 0),
    ]
    runs = [RunSpec(run_id=1, start=T0, created="2023-11-14-22:13:20", total=4, completed=3)]
    make_experiment("a003", [j for j, _ in made], runs=runs, job_data=[r for _, r in made])
    body = client.get("/v4/experiments/a003/eta").get_json()
    assert (body["chunks_total"], body["chunks_remaining"]) == (2, 1)
    assert body["avg_runtime_per_chunk_seconds"] == 940
    assert body["eta_seconds"] == 940


def test_eta_defaults_to_sim_and_refuses_a_section_without_chunks(client, exp):
    assert client.get("/v4/experiments/a001/eta").get_json()["section"] == "SIM"
    assert client.get("/v4/experiments/a001/eta?section=LOCAL_SETUP").status_code == 404


def test_eta_without_completed_chunks_is_unknown(client, make_experiment):
    jobs = [JobSpec("a002_20000101_fc0_1_SIM", "SIM", chunk=1, member="fc0")]
    make_experiment("a002", jobs, runs=[], job_data=[])
    body = client.get("/v4/experiments/a002/eta").get_json()
    assert body["eta_seconds"] is None and body["chunks_remaining"] == 1


def test_user_metrics_per_run(client, exp):
    write_user_metrics(
        exp.path / "tmp" / "metrics_a001.db",
        [
            (1, "a001_20000101_fc0_1_SIM", "sypd", "12.5", "2024-01-01T00:00:00Z"),
            (1, "a001_20000101_fc0_2_SIM", "sypd", "13.0", "2024-01-01T01:00:00Z"),
            (2, "a001_20000101_fc0_1_SIM", "sypd", "9.0", "2024-01-02T00:00:00Z"),
        ],
    )
    runs = client.get("/v4/experiments/a001/user-metrics-runs").get_json()["runs"]
    assert [r["run_id"] for r in runs] == [2, 1]
    assert runs[1]["created"] == "2023-11-14-22:13:20"
    metrics = client.get("/v4/experiments/a001/runs/1/user-metrics").get_json()["metrics"]
    assert [(m["job_name"], m["metric_value"]) for m in metrics] == [
        ("a001_20000101_fc0_1_SIM", "12.5"),
        ("a001_20000101_fc0_2_SIM", "13.0"),
    ]


def test_user_metrics_without_a_metrics_db_are_empty_and_create_nothing(client, exp):
    assert client.get("/v4/experiments/a001/user-metrics-runs").get_json()["runs"] == []
    assert client.get("/v4/experiments/a001/runs/1/user-metrics").get_json()["metrics"] == []
    assert not (exp.path / "tmp" / "metrics_a001.db").exists()


def test_user_metrics_bad_run_id_is_400(client, exp):
    assert client.get("/v4/experiments/a001/runs/x/user-metrics").status_code == 400


def test_runner_features_are_disabled_but_the_description_write(client):
    # tests/routes/test_runners.py covers the runner routes in full.
    body = client.get("/v4/runners/configuration/endpoints").get_json()
    assert body["RUNNER_RUN"] == {"ENABLED": False}
    assert [name for name, feature in body.items() if feature["ENABLED"] is not False] == ["UPDATE_EXPERIMENT_DETAILS"]
