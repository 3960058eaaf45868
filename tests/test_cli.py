"""The `autosubmit_api` console script: options, errors, and a real gunicorn server on loopback."""

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from autosubmit_api import cli, examples
from tests.factory import make_experiment, make_site
from tests.conftest import free_port

PYTHON = sys.executable


def run_cli(*args, env=None, timeout=60):
    return subprocess.run(
        [PYTHON, "-m", "autosubmit_api.cli", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def print_config(env, *args):
    """The gunicorn settings `start --print-config` prints, by name (values as text)."""
    result = run_cli("start", "--disable-bg-tasks", "--print-config", *args, env=env)
    assert result.returncode == 0, result.stderr
    values = {}
    for line in result.stdout.splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip().isidentifier():
            values[name.strip()] = value.strip()
    return values


def clean_env(**extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "AUTOSUBMIT_CONFIGURATION",
            "PROTECTION_LEVEL",
            "DISABLE_BACKGROUND_TASKS",
            "RUN_BACKGROUND_TASKS_ON_START",
            "SECRET_KEY",
            "XDG_DATA_HOME",
        )
    }
    env.update(extra)
    return env


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


class Server:
    """`autosubmit_api start -b 127.0.0.1:PORT ...` in a subprocess, stopped at the end."""

    def __init__(self, env, *args, cwd=None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "autosubmit_api.cli", "start", "-b", f"127.0.0.1:{self.port}", *args],
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait(self, deadline=90):
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.proc.communicate()}")
            try:
                return get(self.base + "/")
            except OSError:
                time.sleep(0.2)
        raise AssertionError("server did not answer")

    def stop(self):
        self.proc.terminate()
        try:
            return self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.communicate()


@contextlib.contextmanager
def serving(env, *args, cwd=None):
    """A `Server` that answers when the block starts and is stopped when it ends."""
    srv = Server(env, *args, cwd=cwd)
    try:
        srv.wait()
        yield srv
    finally:
        srv.stop()


def test_version_prints_the_reference_string():
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == "Autosubmit API v4.0.1"
    assert run_cli("-v").stdout.strip() == "Autosubmit API v4.0.1"


def test_no_subcommand_prints_the_help_and_exits_0():
    result = run_cli()
    assert result.returncode == 0
    assert result.stdout.startswith("Starting autosubmit_api with args:")
    assert "usage: Autosubmit API" in result.stdout and "start" in result.stdout


def test_a_bad_option_value_is_an_argparse_error_with_exit_2():
    # An unknown option of `start` is ignored with a warning (tests/test_cli_gunicorn.py); a bad
    # value of a known one, or an unknown option without `start`, is still refused.
    result = run_cli("start", "--workers", "many")
    assert result.returncode == 2
    assert result.stderr.startswith("error: argument -w/--workers: invalid int value: 'many'")
    assert "usage:" in result.stderr
    result = run_cli("--no-such-option")
    assert result.returncode == 2
    assert result.stderr.startswith("error: unrecognized arguments: --no-such-option")


def test_start_options_map_to_gunicorn_settings_as_the_reference():
    args = cli.build_parser().parse_args(["start"])
    assert cli.gunicorn_options(args) == {"preload_app": True, "capture_output": True, "timeout": 600}
    args = cli.build_parser().parse_args(
        [
            "start",
            "-b",
            "0.0.0.0:8000",
            "--bind",
            "unix:/tmp/s",
            "-w",
            "4",
            "--log-level",
            "debug",
            "--log-file",
            "/tmp/api.log",
            "-D",
            "--threads",
            "2",
            "--worker-connections",
            "0",
            "--max-requests",
            "100",
            "--max-requests-jitter",
            "-3",
            "--timeout",
            "30",
            "--graceful-timeout",
            "5",
            "--keepalive",
            "7",
        ]
    )
    assert cli.gunicorn_options(args) == {
        "preload_app": True,
        "capture_output": True,
        "bind": ["0.0.0.0:8000", "unix:/tmp/s"],
        "workers": 4,
        "loglevel": "debug",
        "errorlog": "/tmp/api.log",
        "daemon": True,
        "threads": 2,
        "max_requests": 100,
        "timeout": 30,
        "graceful_timeout": 5,
        "keepalive": 7,
    }


def test_bg_task_flags_set_the_environment_only_when_unset():
    args = cli.build_parser().parse_args(["start", "--init-bg-tasks", "--disable-bg-tasks"])
    env = {"DISABLE_BACKGROUND_TASKS": "false"}
    cli._set_bg_env(args, env)
    assert env == {"RUN_BACKGROUND_TASKS_ON_START": "True", "DISABLE_BACKGROUND_TASKS": "false"}
    env = {}
    cli._set_bg_env(cli.build_parser().parse_args(["start"]), env)
    assert env == {}


def test_a_broken_rc_is_one_line_and_exit_1(tmp_path):
    rc = tmp_path / "broken.rc"
    rc.write_text("[database\npath = x\n")
    result = run_cli("start", env=clean_env(AUTOSUBMIT_CONFIGURATION=str(rc), HOME=str(tmp_path)))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("autosubmit_api: ") and "cannot parse" in lines[0]
    assert "Traceback" not in result.stderr


def test_an_rc_naming_a_missing_directory_is_one_line_and_exit_1(tmp_path):
    rc = tmp_path / "site.rc"
    rc.write_text(f"[database]\npath = {tmp_path / 'nowhere'}\n[local]\npath = {tmp_path}\n")
    result = run_cli("start", env=clean_env(AUTOSUBMIT_CONFIGURATION=str(rc), HOME=str(tmp_path)))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"autosubmit_api: {rc}: [database] path = {tmp_path / 'nowhere'} is not an existing directory"
    ]


def test_a_bad_number_in_the_environment_is_one_line_and_exit_1(tmp_path):
    site = make_site(tmp_path / "site")
    result = run_cli(
        "start", env=clean_env(AUTOSUBMIT_CONFIGURATION=str(site.rc_path), HOME=str(tmp_path), API_MAX_PAGE_SIZE="lots")
    )
    assert result.returncode == 1
    assert (
        result.stderr.strip() == "autosubmit_api: environment variable API_MAX_PAGE_SIZE='lots' is not a whole number"
    )


def test_start_serves_a_site_over_http(tmp_path):
    site = make_site(tmp_path / "site")
    make_experiment(site, "a000", details={"user": "alice"}, status="RUNNING")
    make_experiment(site, "a001")
    env = clean_env(
        AUTOSUBMIT_CONFIGURATION=str(site.rc_path), HOME=str(tmp_path), PROTECTION_LEVEL="NONE", SECRET_KEY="cli-test"
    )
    server = Server(env, "--disable-bg-tasks", "-w", "2", cwd=tmp_path)
    try:
        assert server.wait() == (200, {"name": "Autosubmit API", "version": "4.0.1"})
        status, body = get(server.base + "/v4/experiments?only_active=true")
        assert status == 200
        assert [e["name"] for e in body["experiments"]] == ["a000"]
        status, body = get(server.base + "/v4/experiments/a001")
        assert status == 200 and body["name"] == "a001"
        status, body = get(server.base + "/v4/health")
        assert status == 200 and body["central_db"]["reachable"] is True and body["examples"] is False
        site.central_db.unlink()
        status, body = get(server.base + "/v4/health")
        assert status == 503 and body["central_db"]["reachable"] is False
    finally:
        out, err = server.stop()
    assert out.splitlines()[0].startswith("Starting autosubmit_api with args:")
    assert "Starting with gunicorn options:" in out and "'preload_app': True" in out
    # No gunicorn control socket (a directory in the user's home) unless asked for.
    assert not (tmp_path / ".gunicorn").exists() and "Control socket" not in err


def test_a_control_socket_is_opened_only_when_gunicorn_cmd_args_asks(tmp_path):
    gunicorn = pytest.importorskip("gunicorn.config")
    if not hasattr(gunicorn, "ControlSocket"):
        pytest.skip("this gunicorn has no control socket")
    site = make_site(tmp_path / "site")
    make_experiment(site, "a000")
    socket_path = tmp_path / "ctl" / "api.ctl"
    env = clean_env(
        AUTOSUBMIT_CONFIGURATION=str(site.rc_path),
        HOME=str(tmp_path),
        PROTECTION_LEVEL="NONE",
        SECRET_KEY="cli-test",
        GUNICORN_CMD_ARGS=f"--control-socket {socket_path}",
    )
    server = Server(env, "--disable-bg-tasks", "-w", "1", cwd=tmp_path)
    try:
        server.wait()
        # gunicorn's arbiter opens the socket on its own schedule, after the workers may already
        # answer: wait for it (bounded), then assert.
        end = time.monotonic() + 30
        while not socket_path.exists() and time.monotonic() < end and server.proc.poll() is None:
            time.sleep(0.1)
        assert socket_path.exists()
    finally:
        server.stop()


def test_start_without_any_rc_serves_the_examples(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(HOME=str(home), XDG_DATA_HOME=str(tmp_path / "data"))
    server = Server(env, cwd=home)
    try:
        server.wait()
        status, body = get(server.base + "/v4/experiments?page_size=-1")
        assert status == 200  # no token needed: the examples default to PROTECTION_LEVEL=NONE
        names = [e["name"] for e in body["experiments"]]
        assert names == ["a000", "a001", "a002", "a003", "a004", "a005", "t000"]
        running = [e["name"] for e in body["experiments"] if e["status"] == "RUNNING"]
        assert running == ["a000"]
        # The Autosubmit 4.2 example: its job list is read from db/job_list.db.
        status, jobs = get(server.base + "/v4/experiments/a005/jobs")
        assert status == 200 and len(jobs["jobs"]) == 14
        assert get(server.base + "/v4/health")[1]["examples"] is True
    finally:
        _, err = server.stop()
    assert "serving the bundled example experiments" in err
    assert (tmp_path / "data" / "autosubmit_api" / "examples" / examples.MARKER).is_file()


def test_examples_are_written_once_and_rewritten_for_another_version(tmp_path):
    root = tmp_path / "examples"
    examples.ensure_examples(root)
    db = root / "autosubmit.db"
    first = db.stat().st_mtime_ns
    examples.ensure_examples(root)
    assert db.stat().st_mtime_ns == first
    (root / examples.MARKER).write_text("autosubmit_api 0.0.1 examples layout 0\n")
    (root / "stale-file").write_text("x")
    examples.ensure_examples(root)
    assert examples.is_current(root) and not (root / "stale-file").exists()


def test_examples_never_remove_a_directory_they_did_not_write(tmp_path):
    from autosubmit_api.config import ConfigError

    root = tmp_path / "examples"
    root.mkdir()
    (root / "precious.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="not written by autosubmit_api"):
        examples.ensure_examples(root)
    assert (root / "precious.txt").read_text() == "keep me"


def test_example_settings_honour_an_explicit_protection_level(tmp_path):
    env = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"), "PROTECTION_LEVEL": "ALL"}
    settings = examples.example_settings(env)
    assert settings.protection_level == "ALL" and settings.examples
    assert Path(settings.db_dir) == tmp_path / "data" / "autosubmit_api" / "examples"
    assert examples.examples_dir({"HOME": "/home/u"}) == Path("/home/u/.local/share/autosubmit_api/examples")


def test_an_unwritable_examples_directory_is_one_line_and_exit_1(tmp_path):
    if os.geteuid() == 0:
        blocker = tmp_path / "data"
        blocker.write_text("a file where the data directory should be")
    else:
        blocker = tmp_path / "data"
        blocker.mkdir(mode=0o500)
    home = tmp_path / "home"
    home.mkdir()
    result = run_cli("start", env=clean_env(HOME=str(home), XDG_DATA_HOME=str(blocker)))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("autosubmit_api: ") and "Traceback" not in result.stderr


def test_a_missing_autosubmit_configuration_falls_back_and_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    site = make_site(tmp_path / "home")
    (tmp_path / "home" / ".autosubmitrc").write_text(site.rc_path.read_text())
    env = {"HOME": str(tmp_path / "home"), "AUTOSUBMIT_CONFIGURATION": str(tmp_path / "missing.rc")}
    settings = cli.prepare_settings(env)
    assert settings.rc_path == str(tmp_path / "home" / ".autosubmitrc") and not settings.examples
    err = capsys.readouterr().err
    assert "missing.rc does not exist; using" in err and ".autosubmitrc" in err
