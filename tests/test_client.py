"""`autosubmit_api client` against a real `autosubmit_api start` on loopback (PROTECTION_LEVEL ALL):
every command's table and JSON, the filters, the token, the exit codes, `logs --follow`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter

import pytest

from autosubmit_api.auth import issue_token
from autosubmit_api.client import api as client_api
from autosubmit_api.client.main import main as client_main
from autosubmit_api.client.main import new_lines, table
from tests.factory import make_experiment, make_site, workflow
from tests.conftest import TEST_SECRET, free_port
from tests.test_cli import clean_env, serving

FAILED_JOB = "c000_20000101_fc0_3_SIM"
LOG_LINES = [f"c000 out line {i}" for i in range(1, 41)]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = make_site(tmp_path_factory.mktemp("client-site") / "site")
    jobs = workflow.standard_jobs("c000", chunks=3)
    for job in jobs:
        if job.name == FAILED_JOB:
            job.status, job.fail_count, job.id = -1, 1, 4242
            job.out_log, job.err_log = f"{job.name}.20240101120000.out", f"{job.name}.20240101120000.err"
    make_experiment(
        site, "c000", jobs, details={"user": "alice"}, status="RUNNING", description="client experiment zero"
    )
    make_experiment(site, "c001", details={"user": "bob"}, description="client experiment one")
    logs = site.exp_dir("c000") / "tmp" / "LOG_c000"
    (logs / f"{FAILED_JOB}.20240101120000.out").write_text("".join(f"{line}\n" for line in LOG_LINES))
    (logs / f"{FAILED_JOB}.20240101120000.err").write_text("Traceback: it failed\n")
    return site


@pytest.fixture(scope="module")
def server(site, tmp_path_factory):
    home = tmp_path_factory.mktemp("client-server-home")
    env = clean_env(
        AUTOSUBMIT_CONFIGURATION=str(site.rc_path), HOME=str(home), PROTECTION_LEVEL="ALL", SECRET_KEY=TEST_SECRET
    )
    with serving(env, "--disable-bg-tasks", "-w", "2", cwd=home) as srv:
        yield srv


@pytest.fixture
def env(server, tmp_path):
    """The client's environment: the server's address, a good token, no config file."""
    return {
        "AUTOSUBMIT_API_URL": server.base,
        "AUTOSUBMIT_API_TOKEN": issue_token("alice", TEST_SECRET, 3600),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "HOME": str(tmp_path),
    }


@pytest.fixture
def run(env, capsys):
    """client(args...) -> (exit code, stdout, stderr), in this process."""

    def call(*args, env_=None):
        code = client_main(list(args), env=env if env_ is None else env_)
        out, err = capsys.readouterr()
        return code, out, err

    return call


def api_get(server, path):
    request = urllib.request.Request(
        server.base + path, headers={"Authorization": issue_token("alice", TEST_SECRET, 3600)}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def rows(out):
    """The table's lines split into cells (header first), without the trailing count line."""
    lines = [line.split() for line in out.strip().splitlines()]
    return lines[:-1] if lines and len(lines[-1]) == 2 and lines[-1][1].endswith("(s)") else lines


# --- experiments ------------------------------------------------------------------------------


def test_experiments_table_and_json(run):
    code, out, err = run("experiments")
    assert code == 0 and err == ""
    table_rows = rows(out)
    assert table_rows[0][:5] == ["EXPID", "OWNER", "STATUS", "HPC", "VERSION"]
    assert [r[0] for r in table_rows[1:]] == ["c000", "c001"]
    assert out.strip().endswith("2 experiment(s)")
    code, out, _ = run("experiments", "--json")
    assert code == 0
    found = json.loads(out)
    assert [e["name"] for e in found] == ["c000", "c001"]
    assert found[0]["user"] == "alice" and found[0]["description"] == "client experiment zero"


@pytest.mark.parametrize(
    "args,names",
    [
        (("--owner", "alice"), ["c000"]),
        (("--owner", "bob"), ["c001"]),
        (("--owner", "nobody"), []),
        (("--active",), ["c000"]),
        (("--query", "c001"), ["c001"]),
        (("--query", "experiment one"), ["c001"]),
    ],
)
def test_experiments_filters(run, args, names):
    code, out, _ = run("--json", "experiments", *args)
    assert code == 0
    assert [e["name"] for e in json.loads(out)] == names


# --- status and jobs ----------------------------------------------------------------------------


def test_status_counts_and_running_and_failed_jobs(run, server):
    jobs = api_get(server, "/v4/experiments/c000/jobs")["jobs"]
    expected = Counter(job["status"] for job in jobs)
    running = sorted(job["name"] for job in jobs if job["status"] == "RUNNING")
    assert expected["FAILED"] == 1 and running

    code, out, _ = run("status", "c000", "--json")
    assert code == 0
    body = json.loads(out)
    assert body["counts"] == dict(expected) and body["total"] == len(jobs)
    assert sorted(job["name"] for job in body["running"]) == running
    assert [job["name"] for job in body["failed"]] == [FAILED_JOB]
    assert body["description"] == "client experiment zero"

    code, out, _ = run("status", "c000")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "c000: client experiment zero"
    for status, count in expected.items():
        assert any(line.split() == [status, str(count)] for line in lines), status
    assert any(line.split() == ["TOTAL", str(len(jobs))] for line in lines)
    failed_at = lines.index("Failed jobs: 1")
    assert lines[failed_at + 2].split()[0] == FAILED_JOB
    assert f"Running jobs: {len(running)}" in lines


def test_jobs_table_json_and_filters(run, server):
    jobs = api_get(server, "/v4/experiments/c000/jobs")["jobs"]
    code, out, _ = run("jobs", "c000")
    assert code == 0
    table_rows = rows(out)
    assert table_rows[0] == ["NAME", "SECTION", "DATE", "MEMBER", "CHUNK", "STATUS"]
    assert sorted(r[0] for r in table_rows[1:]) == sorted(job["name"] for job in jobs)
    assert out.strip().endswith(f"{len(jobs)} job(s)")

    code, out, _ = run("jobs", "c000", "--status", "failed", "--json")
    assert code == 0 and [job["name"] for job in json.loads(out)] == [FAILED_JOB]
    code, out, _ = run("jobs", "c000", "--section", "SIM", "--json")
    sims = sorted(job["name"] for job in jobs if job["section"] == "SIM")
    assert code == 0 and sorted(job["name"] for job in json.loads(out)) == sims and len(sims) == 3
    code, out, _ = run("jobs", "c000", "--section", "SIM", "--status", "FAILED,COMPLETED", "--json")
    expected = sorted(
        job["name"] for job in jobs if job["section"] == "SIM" and job["status"] in ("FAILED", "COMPLETED")
    )
    assert code == 0 and sorted(job["name"] for job in json.loads(out)) == expected
    code, out, _ = run("jobs", "c000", "--section", "SIM", "--status", "FAILED")
    assert code == 0 and [r[0] for r in rows(out)[1:]] == [FAILED_JOB]


# --- logs ---------------------------------------------------------------------------------------


def test_logs_by_job_name_and_file_name(run):
    code, out, _ = run("logs", "c000", FAILED_JOB, "--tail", "3")
    assert code == 0 and out.splitlines() == LOG_LINES[-3:]
    code, out, _ = run("logs", "c000", f"{FAILED_JOB}.20240101120000.out", "--tail", "2")
    assert code == 0 and out.splitlines() == LOG_LINES[-2:]
    code, out, _ = run("logs", "c000", FAILED_JOB, "--err")
    assert code == 0 and out.splitlines() == ["Traceback: it failed"]
    code, out, _ = run("logs", "c000", FAILED_JOB, "--tail", "5", "--json")
    body = json.loads(out)
    assert code == 0 and body["lines"] == LOG_LINES[-5:] and body["logfile"].endswith(".out")


# --- runs and performance -----------------------------------------------------------------------


def test_runs_table_and_json(run, server):
    runs = api_get(server, "/runs/c000")["runs"]
    assert runs
    code, out, _ = run("runs", "c000", "--json")
    assert code == 0 and json.loads(out) == runs
    code, out, _ = run("runs", "c000")
    assert code == 0
    table_rows = rows(out)
    assert table_rows[0][:3] == ["RUN", "STARTED", "FINISHED"]
    assert [r[0] for r in table_rows[1:]] == [str(r["run_id"]) for r in runs]
    assert out.strip().endswith(f"{len(runs)} run(s)")


def test_performance_table_and_json(run, server):
    expected = api_get(server, "/performance/c000")
    code, out, _ = run("performance", "c000", "--json")
    body = json.loads(out)
    assert code == 0 and "error" not in body
    assert body["SYPD"] == expected["SYPD"] and body["considered"] == expected["considered"]
    code, out, _ = run("performance", "c000")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["METRIC", "VALUE"]
    sypd = next(line.split() for line in lines if line.startswith("SYPD "))
    assert float(sypd[1]) == pytest.approx(expected["SYPD"], rel=1e-3)
    assert f"Jobs considered: {len(expected['considered'])}" in lines
    for job in expected["considered"]:
        assert any(line.split()[:1] == [job["name"]] for line in lines)


# --- exit codes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("status", "zzzz"),
        ("jobs", "zzzz"),
        ("runs", "zzzz"),
        ("performance", "zzzz"),
        ("logs", "zzzz", "job"),
        ("logs", "c000", "c000_NO_SUCH_JOB"),
        ("logs", "c000", "missing.out"),
    ],
)
def test_unknown_experiment_job_or_log_exits_2(run, args):
    for extra in ((), ("--json",)):
        code, out, err = run(*args, *extra)
        assert code == client_api.NOT_FOUND == 2, err
        assert out == "" and err.startswith("autosubmit_api client: error:")


def test_a_bad_or_missing_token_exits_3(run, env):
    for token in ("not-a-token", issue_token("alice", "another-secret-key-0123456789abcdef", 3600)):
        code, out, err = run("experiments", env_=dict(env, AUTOSUBMIT_API_TOKEN=token))
        assert code == client_api.AUTH == 3 and out == ""
        assert "refused" in err and "401" in err and token not in err
    without = {k: v for k, v in env.items() if k != "AUTOSUBMIT_API_TOKEN"}
    code, _, err = run("status", "c000", env_=without)
    assert code == 3 and "AUTOSUBMIT_API_TOKEN" in err


def test_the_token_comes_from_the_config_file_and_the_environment_wins(run, env, tmp_path):
    good, bad = issue_token("alice", TEST_SECRET, 3600), "bad-token"
    config = tmp_path / "config" / "autosubmit_api" / "client.ini"
    config.parent.mkdir(parents=True)
    without = {k: v for k, v in env.items() if k != "AUTOSUBMIT_API_TOKEN"}

    config.write_text(f"[client]\ntoken = {good}\n")
    config.chmod(0o600)
    code, out, err = run("--json", "experiments", env_=without)
    assert code == 0 and err == "" and len(json.loads(out)) == 2
    code, _, _ = run("experiments", env_=dict(without, AUTOSUBMIT_API_TOKEN=bad))
    assert code == 3  # the environment's token is the one sent

    config.write_text(f"[client]\ntoken = {bad}\nurl = {env['AUTOSUBMIT_API_URL']}\n")
    code, _, _ = run("experiments", env_={k: v for k, v in without.items() if k != "AUTOSUBMIT_API_URL"})
    assert code == 3  # the file's url and token are used
    code, _, _ = run("experiments", env_=dict(without, AUTOSUBMIT_API_TOKEN=good))
    assert code == 0

    config.chmod(0o644)
    code, _, err = run("experiments", env_=without)
    assert code == 3 and "chmod 600" in err  # warned about a readable token file


def test_a_server_down_exits_4(run, env):
    down = f"http://127.0.0.1:{free_port()}"
    for args in (("experiments",), ("status", "c000", "--json"), ("--url", down, "runs", "c000")):
        code, out, err = run(*args, env_=dict(env, AUTOSUBMIT_API_URL=down))
        assert code == client_api.SERVER == 4 and out == ""
        assert f"cannot reach {down}" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("nosuchcommand",),
        ("status",),
        ("logs", "c000", "job", "--tail", "0"),
        ("logs", "c000", "job", "--tail", "x"),
        ("experiments", "--bogus"),
        ("--url", "ftp://example", "experiments"),
    ],
)
def test_usage_errors_exit_1(run, args):
    code, out, err = run(*args)
    assert code == client_api.USAGE == 1 and out == ""
    assert "error" in err


def test_a_missing_named_config_file_exits_1(run, env, tmp_path):
    code, _, err = run("--config", str(tmp_path / "nope.ini"), "experiments")
    assert code == 1 and "does not exist" in err


# --- the console script and --follow ------------------------------------------------------------


def _client(env, *args, **kwargs):
    full = dict(os.environ, **env)
    return subprocess.Popen(
        [sys.executable, "-m", "autosubmit_api.cli", "client", *args],
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def test_the_console_script_runs_the_client_and_keeps_stderr_clean(env):
    proc = _client(env, "experiments", "--json")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and err == ""  # no spinner when stderr is not a terminal
    assert [e["name"] for e in json.loads(out)] == ["c000", "c001"]
    top = subprocess.run([sys.executable, "-m", "autosubmit_api.cli", "--help"], capture_output=True, text=True)
    assert "client" in top.stdout
    help_ = subprocess.run(
        [sys.executable, "-m", "autosubmit_api.cli", "client", "--help"], capture_output=True, text=True
    )
    assert help_.returncode == 0 and "exit codes" in help_.stdout and "performance" in help_.stdout


def _read_lines(stream, into):
    for line in stream:
        into.append(line.rstrip("\n"))


def _wait_for(predicate, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_follow_prints_an_appended_line_and_ctrl_c_ends_it_cleanly(env, site):
    log = site.exp_dir("c000") / "tmp" / "LOG_c000" / f"{FAILED_JOB}.20240101120000.out"
    before = log.read_text()
    proc = _client(env, "logs", "c000", FAILED_JOB, "--tail", "2", "--follow", "--interval", "0.2", "--for", "120")
    seen = []
    reader = threading.Thread(target=_read_lines, args=(proc.stdout, seen), daemon=True)
    reader.start()
    try:
        assert _wait_for(lambda: len(seen) >= 2), seen
        assert seen[:2] == LOG_LINES[-2:]
        with log.open("a") as handle:
            handle.write("appended while following\n")
        assert _wait_for(lambda: "appended while following" in seen), seen
        with log.open("a") as handle:
            handle.write("second appended\nthird appended\n")
        assert _wait_for(lambda: "third appended" in seen), seen
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        reader.join(timeout=10)
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.write_text(before)
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert seen == LOG_LINES[-2:] + ["appended while following", "second appended", "third appended"]


def test_follow_is_bounded_by_for(env):
    start = time.monotonic()
    proc = _client(env, "logs", "c000", FAILED_JOB, "--tail", "1", "--follow", "--interval", "0.2", "--for", "1")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and out.splitlines() == LOG_LINES[-1:], err
    assert time.monotonic() - start >= 1


def test_jobs_follow_prints_the_jobs_the_factory_changes(env, site):
    # c001's pickle is rewritten as a running Autosubmit does, then put back. The server has two
    # workers: a poll may reach the one that never saw the cursor's base and answer the whole
    # list, which the client reduces to what changed.
    from tests.factory import Experiment, set_statuses

    made = Experiment(site=site, expid="c001", exp_id=0, jobs=workflow.standard_jobs("c001"))
    original = {job.name: job.status for job in made.jobs}
    target = made.jobs[2]
    assert target.status != -1
    proc = _client(env, "--json", "jobs", "c001", "--follow", "--interval", "0.2", "--for", "120")
    seen = []
    reader = threading.Thread(target=_read_lines, args=(proc.stdout, seen), daemon=True)
    reader.start()
    try:
        assert _wait_for(lambda: len(seen) >= len(made.jobs)), seen
        first = [json.loads(line) for line in seen[: len(made.jobs)]]
        assert {job["name"]: job["status"] for job in first} == {
            name: client_api_status(code) for name, code in original.items()
        }
        set_statuses(made, {target.name: -1})
        assert _wait_for(lambda: len(seen) > len(made.jobs), timeout=60), seen
        changed = json.loads(seen[len(made.jobs)])
        assert changed["name"] == target.name and changed["status"] == "FAILED"
        assert {"submit_time", "start_time", "finish_time"} <= changed.keys()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        reader.join(timeout=10)
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        set_statuses(made, original)
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert len(seen) == len(made.jobs) + 1, seen  # nothing printed for the jobs that did not change


def test_jobs_follow_prints_a_table_then_lines_and_is_bounded_by_for(env):
    proc = _client(env, "jobs", "c000", "--status", "FAILED", "--follow", "--interval", "0.2", "--for", "1")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "SECTION", "DATE", "MEMBER", "CHUNK", "STATUS"]
    assert FAILED_JOB in lines[1] and lines[2] == "1 job(s); following changes (Ctrl-C to stop)"


def client_api_status(code):
    from autosubmit_api.job_status import status_name

    return status_name(code)


# --- pieces -------------------------------------------------------------------------------------


def test_new_lines_finds_what_was_appended():
    assert new_lines(["a", "b", "c"], ["a", "b", "c", "d"], False) == (["d"], False)
    assert new_lines(["a", "b", "c"], ["b", "c", "d"], True) == (["d"], False)  # window shifted
    assert new_lines(["a", "b", "c"], ["a", "b", "c"], False) == ([], False)
    assert new_lines(["x", "x", "x"], ["x", "x", "x"], True) == (["x"], False)  # full window, repeated lines
    assert new_lines(["a", "b"], ["y", "z"], True) == (["y", "z"], True)  # more than a window appended
    assert new_lines([], ["a"], True) == (["a"], False)


def test_table_aligns_and_cuts():
    text = table([{"a": "x", "b": None}, {"a": "long value", "b": 1.5}], [("a", "A"), ("b", "B")], {"a": 5})
    assert text.splitlines() == ["A      B", "x      -", "long~  1.5"]


def test_the_spinner_draws_on_a_terminal_and_clears_its_line(capsys):
    with client_api.Spinner("working", enabled=True, delay=0.0, period=0.01) as spinner:
        assert _wait_for(lambda: spinner._shown, timeout=30)
    err = capsys.readouterr().err
    assert "| working" in err and err.endswith("\r\x1b[K")
    with client_api.Spinner("quick", enabled=False, delay=0.0):
        time.sleep(0.05)
    assert capsys.readouterr().err == ""
