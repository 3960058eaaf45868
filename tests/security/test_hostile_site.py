"""Issue 14, items 1-4, through the test client on a hostile site built by the factory:
symlinked log directories and run logs never serve a file outside the site's roots, the
check-then-open race leaks nothing, and compressed or plain log bombs are answered within
the log bounds (cut lines carry the marker)."""

from __future__ import annotations

import gzip
import json
import os

import pytest

from tests.factory import hostile
from autosubmit_api.readers import logs

SECRET = "root:SECRET-OUTSIDE-THE-ROOTS:0:0"


@pytest.fixture
def outside(tmp_path):
    """A directory outside every root of the site (the site lives in tmp_path/site), laid out
    like an experiment's tmp/ so every kind of symlink finds something to serve."""
    root = tmp_path / "outside"
    for sub in ("", "LOG_a000", "ASLOGS"):
        directory = root / sub
        directory.mkdir(parents=True, exist_ok=True)
        for name in ("shadow", "a000_x.out", "29991231_235959_run.log", "29991231_235959_LOCAL_log_recovery.log"):
            (directory / name).write_text(SECRET + "\n")
    return root


@pytest.fixture
def exp(make_experiment):
    return make_experiment("a000")


def _clean(resp, site):
    """Nothing of the secret, never a 500, no server path in an error message."""
    assert resp.status_code < 500
    assert b"SECRET-OUTSIDE" not in resp.data
    body = resp.get_json()
    if body.get("error"):
        assert str(site.root.parent) not in body["error_message"]


# --- 1. symlinked log directories ---------------------------------------------------------


@pytest.mark.parametrize("which,target", [("LOG_a000", "LOG_a000"), ("ASLOGS", "ASLOGS"), ("", "")])
def test_v4_log_route_refuses_a_symlinked_log_directory(site, client, exp, outside, which, target):
    hostile.symlink_dir(exp.path, which, outside / target)
    for name in ("shadow", "a000_x.out"):
        resp = client.get(f"/v4/experiments/a000/logs/{name}")
        _clean(resp, site)
        assert resp.status_code == 403
        body = resp.get_json()
        assert body["error"] is True and set(body) == {"error", "error_message"}
        assert str(outside) not in body["error_message"] and str(site.root) not in body["error_message"]


@pytest.mark.parametrize("which", ["LOG_a000", ""])
@pytest.mark.parametrize("prefix", ["", "/v3"])
def test_joblog_refuses_a_symlinked_log_directory(site, client, exp, outside, which, prefix):
    hostile.symlink_dir(exp.path, which, outside / which)
    resp = client.get(f"{prefix}/joblog/a000_x.out")
    _clean(resp, site)
    body = resp.get_json()
    assert resp.status_code == 200
    assert body["error"] is True and body["found"] is False and body["logcontent"] == []
    assert str(outside) not in json.dumps(body)


@pytest.mark.parametrize("which", ["ASLOGS", ""])
def test_run_logs_and_recovery_logs_of_a_symlinked_directory_are_not_listed(site, client, exp, outside, which):
    hostile.symlink_dir(exp.path, which, outside / which)
    body = client.get("/exprun/a000").get_json()
    assert body["found"] is False and body["logcontent"] == []
    assert "SECRET" not in json.dumps(body)
    body = client.get("/v3/exp-recovery-logs/a000").get_json()
    assert body["platform_recovery_logs"] == []
    logrun = client.get("/logrun/a000").get_json()
    assert logrun["log_path"] is None


def test_a_log_directory_on_an_extra_root_is_served(site, env, tmp_path, exp):
    """Real sites link LOG_<expid> to a scratch filesystem: API_EXTRA_ROOTS allows it."""
    from autosubmit_api.app import create_app

    scratch = tmp_path / "scratch" / "LOG_a000"
    scratch.mkdir(parents=True)
    (scratch / "a000_SIM.1.out").write_text("from scratch\n")
    hostile.symlink_dir(exp.path, "LOG_a000", scratch)
    refused = create_app(site.settings(env)).test_client()
    assert refused.get("/v4/experiments/a000/logs/a000_SIM.1.out").status_code == 403
    allowed = create_app(site.settings({**env, "API_EXTRA_ROOTS": str(tmp_path / "scratch")})).test_client()
    resp = allowed.get("/v4/experiments/a000/logs/a000_SIM.1.out")
    assert resp.status_code == 200 and resp.get_json()["lines"] == ["from scratch"]
    assert allowed.get("/joblog/a000_SIM.1.out").get_json()["logcontent"][0]["content"] == "from scratch"


# --- 2. symlinked run logs ----------------------------------------------------------------


def test_exprun_never_serves_a_symlinked_run_log_outside_the_roots(site, client, exp, outside):
    aslogs = exp.path / "tmp" / "ASLOGS"
    real = aslogs / "20240101_000000_run.log"
    real.write_text("the real run log\n")
    os.utime(real, (1700000000, 1700000000))
    hostile.symlink_file(aslogs / "29991231_235959_run.log", outside / "shadow")
    for prefix in ("", "/v3"):
        resp = client.get(f"{prefix}/exprun/a000")
        _clean(resp, site)
        body = resp.get_json()
        assert body["logfile"] == "20240101_000000_run.log"
        assert [line["content"] for line in body["logcontent"]] == ["the real run log"]


def test_recovery_logs_never_serve_a_symlinked_log_outside_the_roots(site, client, exp, outside):
    aslogs = exp.path / "tmp" / "ASLOGS"
    (aslogs / "20240101_000000_MN5_log_recovery.log").write_text("recovered\n")
    hostile.symlink_file(aslogs / "29991231_235959_LOCAL_log_recovery.log", outside / "shadow")
    resp = client.get("/v3/exp-recovery-logs/a000")
    _clean(resp, site)
    items = resp.get_json()["platform_recovery_logs"]
    assert [item["platform"] for item in items] == ["MN5"]


def test_v4_log_route_refuses_a_symlinked_aslogs_file(site, client, exp, outside):
    hostile.symlink_file(exp.path / "tmp" / "ASLOGS" / "29991231_235959_run.log", outside / "shadow")
    resp = client.get("/v4/experiments/a000/logs/29991231_235959_run.log")
    _clean(resp, site)
    assert resp.status_code in (400, 403)


# --- 3. the check-then-open race ----------------------------------------------------------

SWAPS = 2000


@pytest.mark.parametrize("url", ["/joblog/a000_race.out", "/v4/experiments/a000/logs/a000_race.out"])
def test_a_log_swapped_with_a_symlink_in_a_loop_never_leaks(site, client, exp, outside, url):
    path = exp.path / "tmp" / "LOG_a000" / "a000_race.out"
    path.write_text("an honest log line\n")
    leaks = errors = served = requests = 0
    with hostile.Swapper(path, outside / "shadow") as swapper:
        while requests < SWAPS or swapper.swaps < SWAPS:
            resp = client.get(url)
            requests += 1
            leaks += b"SECRET-OUTSIDE" in resp.data
            errors += resp.status_code >= 500
            served += b"an honest log line" in resp.data
    assert swapper.swaps >= SWAPS
    assert (leaks, errors) == (0, 0)
    # The honest file was served between the swaps: the test exercised the race.
    assert served > 0


# --- 4. bombs -----------------------------------------------------------------------------

MARKER = logs.cut_marker(64 * 1024).decode()
# The default bounds (2 MiB kept, 64 KiB lines) with JSON overhead and index fields.
MAX_ANSWER = 4 * 1024 * 1024


def _bomb_urls(name):
    return [f"/joblog/{name}", f"/v4/experiments/a000/logs/{name}?tail=10000"]


def test_a_gz_of_2mb_lines_is_answered_within_the_bounds_with_cut_lines(site, client, exp):
    name = "a000_LONG.1.out.gz"
    hostile.gzip_long_lines(exp.path / "tmp" / "LOG_a000" / name)
    for url in _bomb_urls(name):
        resp = client.get(url)
        assert resp.status_code == 200
        assert len(resp.data) < MAX_ANSWER
        body = resp.get_json()
        lines = [item["content"] for item in body["logcontent"]] if "logcontent" in body else body["lines"]
        assert lines and all(line.endswith(MARKER) for line in lines)
        assert all(line.startswith("A" * 1000) for line in lines)


def test_a_plain_log_of_long_lines_is_cut_with_the_marker(site, client, exp):
    name = "a000_LONG.1.out"
    with open(exp.path / "tmp" / "LOG_a000" / name, "wb") as handle:
        for _ in range(20):
            handle.write(b"B" * (1024 * 1024) + b"\n")
        handle.write(b"short last line\n")
    for url in _bomb_urls(name):
        resp = client.get(url)
        assert resp.status_code == 200 and len(resp.data) < MAX_ANSWER
        body = resp.get_json()
        lines = [item["content"] for item in body["logcontent"]] if "logcontent" in body else body["lines"]
        assert lines[-1].startswith("short last line")
        assert lines[-2].endswith(MARKER) and lines[-2].startswith("B" * 1000)


@pytest.mark.parametrize("suffix", [".gz", ".xz", ".bz2"])
def test_a_gigabyte_of_zeros_stops_at_the_decompression_bound(site, client, exp, suffix):
    name = f"a000_ZERO.1.out{suffix}"
    hostile.zeros_archive(exp.path / "tmp" / "LOG_a000" / name)
    resp = client.get(f"/v4/experiments/a000/logs/{name}?tail=10000")
    assert resp.status_code == 200 and len(resp.data) < MAX_ANSWER
    body = resp.get_json()
    assert body["truncated"] is True
    assert len(body["lines"]) == 1 and body["lines"][0].endswith(MARKER)
    resp = client.get(f"/joblog/{name}")
    assert resp.status_code == 200 and len(resp.data) < MAX_ANSWER


def test_the_bounds_are_settings(site, env, exp):
    from autosubmit_api.app import create_app

    name = "a000_SMALL.1.out.gz"
    with gzip.open(exp.path / "tmp" / "LOG_a000" / name, "wb") as handle:
        handle.write(b"".join(b"%05d %s\n" % (i, b"x" * 200) for i in range(1000)))
    client = create_app(
        site.settings({**env, "API_LOG_MAX_LINE_BYTES": "10", "API_LOG_MAX_KEPT_BYTES": "1000"})
    ).test_client()
    body = client.get(f"/v4/experiments/a000/logs/{name}?tail=500").get_json()
    marker = logs.cut_marker(10).decode()
    assert body["truncated"] is True
    assert body["lines"][-1] == "00999 xxxx" + marker
    assert sum(len(line) + 1 for line in body["lines"]) <= 1000
    client = create_app(site.settings({**env, "API_LOG_MAX_DECOMPRESSED_BYTES": "2100"})).test_client()
    body = client.get(f"/v4/experiments/a000/logs/{name}?tail=500").get_json()
    assert body["truncated"] is True
    assert body["lines"][-2].startswith("00009 ") and body["lines"][-1].startswith("00010 ")


# --- the same opener behind every other route -----------------------------------------------


def test_a_symlinked_pickle_or_configuration_is_a_403_in_v4_and_an_error_body_in_v3(site, client, exp, outside):
    (outside / "job_list.pkl").write_bytes(b"SECRET-OUTSIDE")
    hostile.symlink_file(exp.pkl_path, outside / "job_list.pkl")
    resp = client.get("/v4/experiments/a000/jobs")
    _clean(resp, site)
    assert resp.status_code == 403 and set(resp.get_json()) == {"error", "error_message"}
    resp = client.get("/tree/a000")
    _clean(resp, site)
    assert resp.status_code == 200 and resp.get_json()["error"] is True

    conf = next(p for p in sorted((exp.path / "conf").iterdir()) if p.suffix in (".yml", ".yaml"))
    (outside / "conf.yml").write_text("SECRET-OUTSIDE: 1\n")
    hostile.symlink_file(conf, outside / "conf.yml")
    resp = client.get("/v4/experiments/a000/filesystem-config")
    _clean(resp, site)
    assert resp.status_code == 403
    resp = client.get("/cconfig/a000")
    _clean(resp, site)
    body = resp.get_json()  # this route reports an unreadable configuration as a warning
    assert body["warning"] is True and "outside" in body["warning_message"]
    assert str(site.root.parent) not in body["warning_message"]


# --- one experiment linked to another's files ------------------------------------------------


def test_an_experiment_cannot_link_another_experiments_files(site, client, make_experiment):
    """Both experiments are inside the roots, but a000's owner must not read a001's job list
    or logs through links in a000's directory; links inside a000's own directory still work."""
    mine, theirs = make_experiment("a000"), make_experiment("a001")
    own_copy = mine.path / "pkl" / "copy.pkl"
    os.rename(mine.pkl_path, own_copy)
    os.symlink(theirs.pkl_path, mine.pkl_path)
    resp = client.get("/v4/experiments/a000/jobs")
    _clean(resp, site)
    assert resp.status_code == 403

    their_logs = theirs.path / "tmp" / "LOG_a001"
    their_logs.mkdir(parents=True, exist_ok=True)
    (their_logs / "a000_x.out").write_text(SECRET + "\n")
    hostile.symlink_dir(mine.path, "LOG_a000", their_logs)
    resp = client.get("/v4/experiments/a000/logs/a000_x.out")
    _clean(resp, site)
    assert resp.status_code == 403
    resp = client.get("/joblog/a000_x.out")
    _clean(resp, site)
    assert resp.get_json()["found"] is False

    assert client.get("/v4/experiments/a001/jobs").status_code == 200
    os.unlink(mine.pkl_path)
    os.symlink(own_copy, mine.pkl_path)
    assert client.get("/v4/experiments/a000/jobs").status_code == 200
