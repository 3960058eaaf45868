"""Log routes through the test client: /exprun, /joblog, the v4 tail, and what they refuse."""

import gzip
import lzma
import os

import pytest


def _exp_dirs(site, expid="a000"):
    path = site.exp_dir(expid)
    for sub in ("tmp/ASLOGS", f"tmp/LOG_{expid}", "conf", "pkl"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    return path


def _lines(n):
    return "".join(f"line {i}\n" for i in range(n))


@pytest.mark.parametrize("prefix", ["", "/v3"])
def test_exprun_returns_the_last_150_lines_of_the_newest_run_log(site, client, prefix):
    path = _exp_dirs(site)
    log = path / "tmp" / "ASLOGS" / "20240101_000000_run.log"
    log.write_text(_lines(200))
    os.utime(log, (1700000000, 1700000000))
    older = path / "tmp" / "ASLOGS" / "20230101_000000_run.log"
    older.write_text("old\n")
    os.utime(older, (1600000000, 1600000000))
    body = client.get(f"{prefix}/exprun/a000").get_json()
    assert body["found"] is True and body["error"] is False
    assert body["logfile"] == "20240101_000000_run.log"
    assert body["timeStamp"] == 1700000000
    assert body["lastModified"] == "2023-11-14 22:13:20"
    assert len(body["logcontent"]) == 150
    assert body["logcontent"][0] == {"index": 0, "content": "line 50"}
    assert body["logcontent"][-1] == {"index": 149, "content": "line 199"}


def test_exprun_cuts_a_real_character_of_a_final_line_without_newline(site, client):
    path = _exp_dirs(site)
    (path / "tmp" / "ASLOGS" / "x_run.log").write_text("first\nlast")
    content = [item["content"] for item in client.get("/exprun/a000").get_json()["logcontent"]]
    assert content == ["first", "las"]


def test_exprun_without_log_is_not_found_with_empty_string_timestamp(site, client):
    _exp_dirs(site)
    body = client.get("/exprun/a000").get_json()
    assert body == {
        "error": False,
        "error_message": "",
        "found": False,
        "lastModified": "",
        "logcontent": [],
        "logfile": "",
        "timeStamp": "",
    }


def test_exprun_of_an_unknown_experiment_is_not_found(site, client):
    body = client.get("/exprun/zzzz").get_json()
    assert body["found"] is False and body["error"] is False


def test_joblog_reads_the_job_log_and_names_its_full_path(site, client):
    path = _exp_dirs(site)
    log = path / "tmp" / "LOG_a000" / "a000_SIM.20240101000000.out"
    log.write_text("hello\nworld\n")
    resp = client.get("/v3/joblog/a000_SIM.20240101000000.out")
    body = resp.get_json()
    assert resp.status_code == 200
    assert body["found"] is True
    assert body["logfile"] == str(log)
    assert [item["content"] for item in body["logcontent"]] == ["hello", "world"]


@pytest.mark.parametrize("suffix,opener", [(".gz", gzip.open), (".xz", lzma.open)])
def test_joblog_decompresses_compressed_logs(site, client, suffix, opener):
    path = _exp_dirs(site)
    with opener(path / "tmp" / "LOG_a000" / f"a000_CLEAN.1.err{suffix}", "wt") as handle:
        handle.write("compressed line\n")
    body = client.get(f"/joblog/a000_CLEAN.1.err{suffix}").get_json()
    assert body["error"] is False
    assert [item["content"] for item in body["logcontent"]] == ["compressed line"]


def test_joblog_of_a_missing_file_is_not_found_without_error(site, client):
    _exp_dirs(site)
    body = client.get("/joblog/a000_NOPE.out").get_json()
    assert body["found"] is False and body["error"] is False
    assert body["logfile"].endswith("/a000/tmp/LOG_a000/a000_NOPE.out")


@pytest.mark.parametrize("prefix", ["", "/v3"])
def test_joblog_without_a_name_says_there_is_no_log_yet(site, client, prefix):
    # The tree links the bare folder for a job whose history row has no log name.
    resp = client.get(f"{prefix}/joblog/")
    assert resp.status_code == 200
    assert resp.get_json() == {
        "logfile": "",
        "found": False,
        "lastModified": "",
        "timeStamp": "",
        "error": False,
        "error_message": "No log for this job yet",
        "logcontent": [],
    }


@pytest.mark.parametrize("name", ["..", "%2e%2e", "..%00", "a000_x%00.out", "a000_%5C..%5Cx"])
def test_joblog_refuses_names_that_could_leave_the_directory(site, client, name):
    _exp_dirs(site)
    resp = client.get(f"/v3/joblog/{name}")
    assert 400 <= resp.status_code < 500
    if resp.is_json and resp.status_code == 400:
        body = resp.get_json()
        assert body["error"] is True and body["logcontent"] == [] and body["found"] is False


@pytest.mark.parametrize("url", ["/v3/joblog/..%2F..%2Fetc%2Fpasswd", "/joblog/a000_x/../../secret"])
def test_encoded_slashes_never_reach_a_file(site, client, url):
    _exp_dirs(site)
    resp = client.get(url)
    assert 400 <= resp.status_code < 500
    assert b"secret" not in resp.data


def test_joblog_refuses_a_symlink_out_of_the_log_directory(site, client):
    path = _exp_dirs(site)
    secret = site.root / "secret.txt"
    secret.write_text("top secret\n")
    (path / "tmp" / "LOG_a000" / "a000_x.out").symlink_to(secret)
    resp = client.get("/joblog/a000_x.out")
    assert resp.status_code == 400
    assert b"top secret" not in resp.data
    assert resp.get_json()["logcontent"] == []


def test_joblog_of_a_1gb_sparse_file_answers_its_last_lines(site, client):
    path = _exp_dirs(site)
    with open(path / "tmp" / "LOG_a000" / "a000_big.out", "wb") as handle:
        handle.write(b"beginning\n")
        handle.seek(1 << 30)
        handle.write(b"\nnext to last\nlast\n")
    content = [item["content"] for item in client.get("/joblog/a000_big.out").get_json()["logcontent"]]
    assert content == ["next to last", "last"]


def test_v4_log_tail_returns_n_lines(site, client):
    path = _exp_dirs(site)
    (path / "tmp" / "LOG_a000" / "a000_SIM.1.out").write_text(_lines(50))
    body = client.get("/v4/experiments/a000/logs/a000_SIM.1.out?tail=3").get_json()
    assert body["lines"] == ["line 47", "line 48", "line 49"]
    assert body["tail"] == 3 and body["directory"] == "LOG_a000" and body["truncated"] is False


def test_v4_log_tail_also_serves_aslogs(site, client):
    path = _exp_dirs(site)
    (path / "tmp" / "ASLOGS" / "20240101_run.log").write_text("a\nb\n")
    body = client.get("/v4/experiments/a000/logs/20240101_run.log").get_json()
    assert body["lines"] == ["a", "b"] and body["directory"] == "ASLOGS"


@pytest.mark.parametrize("tail", ["0", "-1", "abc", "10001"])
def test_v4_log_tail_refuses_bad_tail(site, client, tail):
    path = _exp_dirs(site)
    (path / "tmp" / "LOG_a000" / "a000_SIM.1.out").write_text("x\n")
    resp = client.get(f"/v4/experiments/a000/logs/a000_SIM.1.out?tail={tail}")
    assert resp.status_code == 400
    assert resp.get_json()["error"] is True


def test_v4_log_tail_unknown_file_and_experiment_are_404(site, client):
    _exp_dirs(site)
    assert client.get("/v4/experiments/a000/logs/nope.out").status_code == 404
    assert client.get("/v4/experiments/zzzz/logs/nope.out").status_code == 404


def test_v4_log_tail_refuses_traversal_with_400(site, client):
    _exp_dirs(site)
    for name in ("..", "..%00x", "x%5C..%5Cy"):
        resp = client.get(f"/v4/experiments/a000/logs/{name}")
        assert resp.status_code == 400, name
        assert set(resp.get_json()) == {"error", "error_message"}


@pytest.fixture
def protected_client(site, env):
    from autosubmit_api.app import create_app

    env["PROTECTION_LEVEL"] = "ALL"
    return create_app(site.settings(env)).test_client()


def test_log_routes_are_gated(site, protected_client, token):
    _exp_dirs(site)
    assert protected_client.get("/exprun/a000").status_code == 401
    assert protected_client.get("/joblog/a000_x.out").status_code == 401
    assert protected_client.get("/v3/joblog/").status_code == 401
    assert protected_client.get("/v4/experiments/a000/logs/x.out").status_code == 401
    assert protected_client.get("/exprun/a000", headers={"Authorization": token()}).status_code == 200


def test_joblog_of_a_name_that_names_no_experiment_is_not_found(site, client):
    resp = client.get("/joblog/a3tb.out")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["found"] is False and body["error"] is False
    assert body["logfile"].endswith("/a3tb.out/tmp/LOG_a3tb.out/a3tb.out")
