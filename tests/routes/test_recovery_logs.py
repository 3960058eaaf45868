"""`/exp-recovery-logs/<expid>` (API 4.1, read by the development GUI's run-log page)."""

import gzip
import os

import pytest


def _aslogs(make_experiment, site, expid="a000"):
    make_experiment(expid)
    return site.exp_dir(expid) / "tmp" / "ASLOGS"


@pytest.mark.parametrize("prefix", ["", "/v3"])
def test_newest_recovery_log_of_each_platform(site, client, make_experiment, prefix):
    aslogs = _aslogs(make_experiment, site)
    (aslogs / "20240101_000000_MN5_log_recovery.log").write_text("old mn5\n")
    newest = aslogs / "20240301_120000_MN5_log_recovery.log"
    newest.write_text("".join(f"mn5 line {i}\n" for i in range(200)))
    os.utime(newest, (1709294400, 1709294400))
    with gzip.open(aslogs / "20240201_080000_local_log_recovery.log.gz", "wt") as fh:
        fh.write("local 1\nlocal 2\n")
    (aslogs / "20240101_000000_run.log").write_text("not a recovery log\n")
    body = client.get(f"{prefix}/exp-recovery-logs/a000").get_json()
    assert body["error"] is False and body["error_message"] == ""
    logs = {item["platform"]: item for item in body["platform_recovery_logs"]}
    assert sorted(logs) == ["MN5", "local"]
    mn5 = logs["MN5"]
    assert mn5["filename"] == "20240301_120000_MN5_log_recovery.log"
    assert mn5["datetime"] == "2024-03-01T12:00:00"
    assert mn5["modified_date"] == "2024-03-01 12:00:00"  # TZ=UTC in the suite
    assert len(mn5["content"]) == 150
    assert mn5["content"][0] == {"index": 0, "content": "mn5 line 50"}
    assert mn5["content"][-1] == {"index": 149, "content": "mn5 line 199"}
    assert [c["content"] for c in logs["local"]["content"]] == ["local 1", "local 2"]


def test_no_recovery_logs_is_an_empty_list(site, client, make_experiment):
    _aslogs(make_experiment, site)
    body = client.get("/v3/exp-recovery-logs/a000").get_json()
    assert body == {"platform_recovery_logs": [], "error": False, "error_message": ""}


def test_unknown_experiment_is_a_legacy_error_body(client):
    resp = client.get("/v3/exp-recovery-logs/zz99")
    body = resp.get_json()
    assert resp.status_code == 200
    assert body["error"] is True and "zz99" in body["error_message"]
    assert body["platform_recovery_logs"] == []
