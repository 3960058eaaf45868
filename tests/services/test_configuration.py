"""/cconfig and the v4 filesystem config (docs/data.md B.13), and /logrun (B.14.1)."""

import json
import os
import time

from autosubmit_api.services import configuration, logs
from tests.services import history_case as case


def test_differences_are_one_sided_nested_and_compare_str_int_as_text():
    base = {"A": 1, "B": {"C": "2", "D": {"E": True}}, "F": "x", "G": None}
    other = {"A": "1", "B": {"C": 3, "D": {"E": False}}, "F": "x", "ONLY_OTHER": 1}
    # G: None against a missing key is equal; A: 1 against "1" is equal as text.
    assert configuration.differences(base, other) == ["B", "B.C", "B.D", "B.D.E"]


def test_differences_of_equal_configs_are_empty():
    assert configuration.differences({"A": {"B": 1}}, {"A": {"B": "1"}, "Z": 2}) == []


def _with_metadata(make_experiment, metadata, **kwargs):
    runs = case.runs()
    runs[-1].metadata = json.dumps(metadata)
    return case.make(make_experiment, runs=runs, **kwargs)


def test_cconfig_compares_the_newest_run_with_the_files(make_experiment, settings):
    _with_metadata(make_experiment, {"CONFIG": {"AUTOSUBMIT_VERSION": "4.0.0"}, "MAIL": None})
    body = configuration.current_config(settings, case.EXPID)
    assert body["error"] is False and body["warning"] is False
    assert body["configuration_current_run"]["contains_nones"] is True
    assert body["configuration_filesystem"]["CONFIG"]["AUTOSUBMIT_VERSION"] == "4.1.12"
    assert "CONFIG.AUTOSUBMIT_VERSION" in body["differences"] and "CONFIG" in body["differences"]
    assert body["are_equal"] is False
    assert body["differences"] == sorted(body["differences"])


def test_cconfig_of_as3_keeps_five_keys_and_drops_duplicated_expid(make_experiment, settings):
    metadata = {
        "conf": {"config": {"A": "1"}},
        "exp": {"experiment": {"EXPID": case.EXPID}, "project": {"EXPID": case.EXPID, "X": "y"}},
        "jobs": {},
        "platforms": {},
        "proj": {},
        "extra": {"Z": 1},
    }
    _with_metadata(make_experiment, metadata, as3_config=True)
    body = configuration.current_config(settings, case.EXPID)
    run = body["configuration_current_run"]
    assert set(run) == {"conf", "exp", "jobs", "platforms", "proj", "contains_nones"}
    assert run["exp"]["experiment"] == {"EXPID": case.EXPID} and "EXPID" not in run["exp"]["project"]
    assert set(body["configuration_filesystem"]) <= {"conf", "exp", "jobs", "platforms", "proj", "contains_nones"}


def test_cconfig_with_unreadable_files_is_a_warning(make_experiment, settings):
    made = _with_metadata(make_experiment, {"CONFIG": {}})
    (made.path / "conf" / "broken.yml").write_text("A: [unclosed\n")
    body = configuration.current_config(settings, case.EXPID)
    assert body["error"] is False and body["warning"] is True
    assert body["warning_message"].startswith("The filesystem system configuration can't be retrieved because")
    assert body["configuration_filesystem"] == {"contains_nones": True}


def test_cconfig_of_an_unknown_experiment(site, settings):
    body = configuration.current_config(settings, "zzzz")
    assert body["error"] is True and body["error_message"] == "Experiment zzzz does not exist"
    assert body["are_equal"] is True and body["differences"] == []


def test_cconfig_without_history_db(make_experiment, settings):
    make_experiment("a002", case.jobs(), job_data_version=0)
    body = configuration.current_config(settings, "a002")
    assert body["error"] is False and body["configuration_current_run"] == {"contains_nones": True}


def test_filesystem_config_route(make_experiment, client):
    case.make(make_experiment)
    body = client.get(f"/v4/experiments/{case.EXPID}/filesystem-config").get_json()
    assert body["config"]["DEFAULT"]["EXPID"] == case.EXPID
    # contains_nones says whether a top-level value is null.
    assert body["config"]["contains_nones"] is any(
        v is None for k, v in body["config"].items() if k != "contains_nones"
    )
    resp = client.get("/v4/experiments/zzzz/filesystem-config")
    assert resp.status_code == 404 and set(resp.get_json()) == {"error", "error_message"}


def test_hpc_root_dir_on_the_local_and_on_a_remote_platform():
    local = {"HPCARCH": "LOCAL", "LOCAL_ROOT_DIR": "/site", "LOCAL_TMP_DIR": "tmp"}
    assert configuration.hpc_root_dir("a001", local) == "/site/a001/tmp"
    remote = {
        "HPCARCH": "MN5",
        "PLATFORMS": {"MN5": {"TYPE": "slurm", "SCRATCH_DIR": "/gpfs/scratch", "PROJECT": "bsc32", "USER": "me"}},
    }
    assert configuration.hpc_root_dir("a001", remote) == "/gpfs/scratch/bsc32/me/a001"
    remote["PLATFORMS"]["MN5"]["PROJECT_DIR"] = "other"
    assert configuration.hpc_root_dir("a001", remote) == "/gpfs/scratch/other/me/a001"
    del remote["PLATFORMS"]["MN5"]["SCRATCH_DIR"]
    assert configuration.hpc_root_dir("a001", remote) is None


def test_computed_keys_in_both_configuration_views(make_experiment, settings, client):
    _with_metadata(make_experiment, {"CONFIG": {"AUTOSUBMIT_VERSION": "4.0.0"}})
    body = configuration.current_config(settings, case.EXPID)
    fs = body["configuration_filesystem"]
    root = configuration.hpc_root_dir(case.EXPID, fs)
    assert root and root.endswith(f"/{case.EXPID}")
    assert fs["HPCROOTDIR"] == root and fs["HPCLOGDIR"] == f"{root}/LOG_{case.EXPID}"
    assert fs["DEFAULT"]["DESCRIPTION"] == client.get(f"/v3/expinfo/{case.EXPID}").get_json()["description"]
    # The run's saved configuration never has them: `differences` does not list them.
    assert not {"HPCROOTDIR", "HPCLOGDIR", "DEFAULT.DESCRIPTION"} & set(body["differences"])
    config = client.get(f"/v4/experiments/{case.EXPID}/filesystem-config").get_json()["config"]
    assert (config["HPCROOTDIR"], config["HPCLOGDIR"]) == (fs["HPCROOTDIR"], fs["HPCLOGDIR"])
    assert config["DEFAULT"]["DESCRIPTION"] == fs["DEFAULT"]["DESCRIPTION"]


def test_cconfig_route_at_root_and_v3(make_experiment, client):
    case.make(make_experiment)
    for prefix in ("", "/v3"):
        body = client.get(f"{prefix}/cconfig/{case.EXPID}").get_json()
        assert body["error"] is False and "configuration_filesystem" in body


def _log(path, age, now):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x\n")
    os.utime(path, (now - age, now - age))


def test_logrun_is_running_when_the_run_log_is_younger_than_five_minutes(make_experiment, settings):
    made = case.make(make_experiment)
    now = time.time()
    _log(made.path / "tmp" / "ASLOGS" / "20240101_000000_run.log", 60, now)
    body = logs.log_running(settings, case.EXPID, "4.1.12", now=now)
    assert body["is_running"] is True and body["timediff"] == 60
    assert body["log_path"].endswith("/tmp/ASLOGS/20240101_000000_run.log")
    body = logs.log_running(settings, case.EXPID, "4.1.12", now=now + 400)
    assert body["is_running"] is False and body["timediff"] == 460


def test_logrun_looks_in_tmp_first_for_autosubmit_3_12(make_experiment, settings):
    made = case.make(make_experiment)
    now = time.time()
    _log(made.path / "tmp" / "ASLOGS" / "a_run.log", 10, now)
    _log(made.path / "tmp" / "b_run.log", 1000, now)
    assert logs.log_running(settings, case.EXPID, "3.12.1", now=now)["log_path"].endswith("/tmp/b_run.log")
    assert logs.log_running(settings, case.EXPID, "4.0.0", now=now)["log_path"].endswith("/ASLOGS/a_run.log")


def test_logrun_without_logs(make_experiment, client):
    case.make(make_experiment)
    assert client.get(f"/logrun/{case.EXPID}").get_json() == {
        "error": False,
        "error_message": "",
        "is_running": False,
        "log_path": None,
        "timediff": 0,
    }
