"""`autosubmit_api start` takes every gunicorn setting, as upstream 4.2.0's CLI does (its
options generated from gunicorn.config's settings), keeps 4.0.1's spellings, and ignores an
unknown option with a warning. Real servers on loopback, as tests/test_cli.py."""

from __future__ import annotations

import json
import ssl
import subprocess
import time
import urllib.request

import pytest

from autosubmit_api import cli
from tests.factory import make_experiment, make_site
from tests.conftest import free_port
from tests.test_cli import Server, clean_env, get, print_config, run_cli


@pytest.fixture
def site_env(tmp_path):
    site = make_site(tmp_path / "site")
    make_experiment(site, "a000", details={"user": "alice"})
    return clean_env(
        AUTOSUBMIT_CONFIGURATION=str(site.rc_path),
        HOME=str(tmp_path),
        PROTECTION_LEVEL="NONE",
        SECRET_KEY="cli-gunicorn-test",
    )


def _gunicorn_flags():
    from gunicorn.config import Config

    return {setting.name: setting.cli for setting in Config().settings.values() if setting.cli}


def test_every_gunicorn_flag_is_an_option_of_start():
    start = cli.build_parser()._subparsers._group_actions[0].choices["start"]
    known = set(start._option_string_actions)
    missing = [
        f"{name}: {flag}"
        for name, flags in _gunicorn_flags().items()
        for flag in flags
        if flag not in known and name not in cli.FIXED_SETTINGS
    ]
    assert not missing, missing
    assert len(_gunicorn_flags()) > 60


def test_gunicorn_options_map_to_their_settings_and_4_0_1_spellings_keep_theirs():
    args = cli.build_parser().parse_args(
        [
            "start",
            "-c",
            "site.conf.py",
            "--access-logfile",
            "-",
            "--error-logfile",
            "/tmp/e.log",
            "-t",
            "45",
            "--keep-alive",
            "3",
            "--backlog",
            "64",
            "--reuse-port",
            "--forwarded-allow-ips",
            "10.0.0.1,10.0.0.2",
            "--certfile",
            "c.pem",
            "--keyfile",
            "k.pem",
            "-k",
            "gthread",
            "--no-sendfile",
            "-e",
            "A=1",
            "-e",
            "B=2",
        ]
    )
    assert cli.gunicorn_options(args) == {
        "preload_app": True,
        "capture_output": True,
        "config": "site.conf.py",
        "accesslog": "-",
        "errorlog": "/tmp/e.log",
        "timeout": 45,
        "keepalive": 3,
        "backlog": 64,
        "reuse_port": True,
        "forwarded_allow_ips": "10.0.0.1,10.0.0.2",
        "certfile": "c.pem",
        "keyfile": "k.pem",
        "worker_class": "gthread",
        "sendfile": False,
        "raw_env": ["A=1", "B=2"],
    }
    # 4.0.1's spellings of the same settings, and its rule that a value <= 0 is ignored.
    old = cli.build_parser().parse_args(["start", "--log-file", "/tmp/e.log", "--timeout", "45", "--keepalive", "0"])
    assert cli.gunicorn_options(old) == {
        "preload_app": True,
        "capture_output": True,
        "errorlog": "/tmp/e.log",
        "timeout": 45,
    }


def test_a_value_gunicorn_refuses_is_an_error_before_starting(site_env):
    result = run_cli("start", "--disable-bg-tasks", "--limit-request-line", "-5", env=site_env)
    assert result.returncode == 2
    assert result.stderr.startswith("error: invalid value for limit_request_line")


@pytest.mark.slow
def test_the_config_file_the_environment_and_the_command_line_in_gunicorns_order(site_env, tmp_path):
    conf = tmp_path / "gunicorn.site.py"
    conf.write_text("timeout = 31\nproc_name = 'from-config-file'\npreload_app = False\nbacklog = 77\n")
    values = print_config(site_env)
    assert values["timeout"] == "600" and values["preload_app"] == "True"
    values = print_config(site_env, "-c", str(conf))
    assert (values["timeout"], values["proc_name"], values["backlog"]) == ("31", "from-config-file", "77")
    assert values["preload_app"] == "True"  # always: the scheduler runs once per host
    env = {**site_env, "GUNICORN_CMD_ARGS": "--timeout 32 --backlog 78"}
    values = print_config(env, "-c", str(conf))
    assert (values["timeout"], values["backlog"]) == ("32", "78")
    values = print_config(env, "-c", str(conf), "-t", "33")
    assert (values["timeout"], values["backlog"]) == ("33", "78")


def test_a_missing_config_file_stops_start(site_env, tmp_path):
    result = run_cli("start", "--disable-bg-tasks", "-c", str(tmp_path / "absent.py"), env=site_env)
    assert result.returncode == 1
    assert "doesn't exist" in result.stderr


@pytest.mark.slow
def test_an_unknown_option_is_ignored_with_a_warning_and_the_server_starts(site_env, tmp_path):
    server = Server(site_env, "--disable-bg-tasks", "--some-future-option", "--legacy-flag=3", cwd=tmp_path)
    try:
        assert server.wait()[0] == 200
        status, body = get(server.base + "/v4/experiments")
        assert status == 200 and [e["name"] for e in body["experiments"]] == ["a000"]
    finally:
        _, err = server.stop()
    assert "warning: ignoring unknown option(s) of start: --some-future-option --legacy-flag=3" in err


@pytest.mark.slow
def test_logs_timeout_backlog_and_forwarded_ips_reach_a_real_server(site_env, tmp_path):
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    server = Server(
        site_env,
        "--disable-bg-tasks",
        "--access-logfile",
        str(access),
        "--error-logfile",
        str(errors),
        "-t",
        "45",
        "--backlog",
        "16",
        "--reuse-port",
        "--forwarded-allow-ips",
        "127.0.0.1",
        "--keep-alive",
        "3",
        "--log-level",
        "info",
        cwd=tmp_path,
    )
    try:
        server.wait()
        req = urllib.request.Request(server.base + "/v4/experiments/a000", headers={"User-Agent": "cli-test-agent"})
        with urllib.request.urlopen(req, timeout=10) as response:
            assert json.loads(response.read())["name"] == "a000"
        deadline = time.monotonic() + 20
        while "cli-test-agent" not in (access.read_text() if access.exists() else "") and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        out, _ = server.stop()
    assert "GET /v4/experiments/a000" in access.read_text() and "cli-test-agent" in access.read_text()
    assert "Starting gunicorn" in errors.read_text() and "Booting worker" in errors.read_text()
    assert "'timeout': 45" in out and "'backlog': 16" in out and "'reuse_port': True" in out


@pytest.mark.slow
def test_certfile_and_keyfile_serve_https(site_env, tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    made = subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
        ],
        capture_output=True,
    )
    if made.returncode != 0:
        pytest.skip(f"openssl could not make a test certificate: {made.stderr[-200:]!r}")
    port = free_port()
    proc = subprocess.Popen(
        [
            cli.sys.executable,
            "-m",
            "autosubmit_api.cli",
            "start",
            "-b",
            f"127.0.0.1:{port}",
            "--disable-bg-tasks",
            "--certfile",
            str(cert),
            "--keyfile",
            str(key),
        ],
        env=site_env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    try:
        deadline, answer = time.monotonic() + 90, None
        while answer is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(
                    f"https://127.0.0.1:{port}/v4/experiments/a000", timeout=5, context=context
                ) as response:
                    answer = json.loads(response.read())
            except OSError:
                time.sleep(0.2)
        assert answer is not None and answer["name"] == "a000", proc.poll()
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


@pytest.mark.slow
def test_env_settings_reach_the_apis_own_settings(site_env, tmp_path):
    # gunicorn's `-e NAME=VALUE` sets the environment the app is built in, as under upstream.
    server = Server(
        site_env, "--disable-bg-tasks", "-e", "PROTECTION_LEVEL=ALL", "--chdir", str(tmp_path), cwd=tmp_path
    )
    try:
        server.wait()
        status, body = get(server.base + "/v4/experiments")
        assert (status, body) == (401, {"error": True, "error_message": "Unauthorized"})
    finally:
        server.stop()


@pytest.mark.slow
def test_a_control_socket_named_on_the_command_line_or_in_the_config_file_is_kept(site_env, tmp_path):
    if not hasattr(pytest.importorskip("gunicorn.config"), "ControlSocket"):
        pytest.skip("this gunicorn has no control socket")
    assert print_config(site_env)["control_socket_disable"] == "True"
    named = print_config(site_env, "--control-socket", str(tmp_path / "api.ctl"))
    assert named["control_socket_disable"] == "False" and named["control_socket"] == str(tmp_path / "api.ctl")
    conf = tmp_path / "ctl.conf.py"
    conf.write_text(f"control_socket = {str(tmp_path / 'file.ctl')!r}\n")
    assert print_config(site_env, "-c", str(conf))["control_socket_disable"] == "False"
