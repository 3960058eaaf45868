"""`/metrics` under a real gunicorn started by `autosubmit_api start` (docs/metrics.md): in
prometheus_client's multiprocess mode a scrape counts the requests of every worker, whichever
worker answers it; `start` makes a fresh PROMETHEUS_MULTIPROC_DIR per server start and removes
it at the end, or uses the operator's (kept)."""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path

import pytest

from tests.factory import make_experiment, make_site
from tests.conftest import TEST_SECRET
from tests.metrics.scrape import parse, value
from tests.test_cli import clean_env, run_cli, serving

REQUESTS = "autosubmit_api_http_requests_total"
pytestmark = pytest.mark.slow  # real gunicorn servers


@pytest.fixture
def site(tmp_path):
    site = make_site(tmp_path / "site")
    make_experiment(site, "a000", details={"user": "alice"})
    return site


def _env(site, tmp_path, **extra):
    temp = tmp_path / "tmp"
    temp.mkdir(exist_ok=True)
    return clean_env(
        AUTOSUBMIT_CONFIGURATION=str(site.rc_path),
        HOME=str(tmp_path),
        PROTECTION_LEVEL="NONE",
        SECRET_KEY=TEST_SECRET,
        TMPDIR=str(temp),
        **extra,
    )


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        return response.read()


def _pids(directory: Path) -> set:
    """The processes that wrote request counters in a multiprocess directory."""
    return {p.stem.split("_", 1)[1] for p in directory.glob("counter_*.db")}


def test_two_workers_are_counted_in_one_scrape(site, tmp_path):
    env = _env(site, tmp_path)
    with serving(env, "--disable-bg-tasks", "-w", "2", "-k", "sync", cwd=tmp_path) as srv:
        # One sync worker takes this request and waits for the rest of its body: the requests
        # below are answered by the other worker meanwhile.
        body = b'{"expid": "a000", "description": "held"}'
        head = (
            "POST /v3/updatedesc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        held = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
        try:
            held.sendall(head + body[:4])
            for _ in range(5):
                _fetch(srv.base + "/")
            held.sendall(body[4:])
            answer = b""
            while chunk := held.recv(65536):
                answer += chunk
        finally:
            held.close()
        assert answer.startswith(b"HTTP/1.1 401")  # no token: the reference's answer
        directories = list((tmp_path / "tmp").glob("autosubmit_api-metrics-*"))
        assert len(directories) == 1
        assert len(_pids(directories[0])) == 2  # both workers counted requests

        samples = parse(_fetch(srv.base + "/metrics").decode())
        assert value(samples, REQUESTS, route="/", method="GET", status=200) == 5 + 1  # + serving()'s probe
        assert value(samples, REQUESTS, route="/v3/updatedesc", method="POST", status=401) == 1
        again = parse(_fetch(srv.base + "/metrics").decode())
        assert value(again, REQUESTS, route="/", method="GET", status=200) == 6
        assert value(again, REQUESTS, route="/metrics", method="GET", status=200) == 1
    out, _ = srv.stop()
    assert f"Prometheus multiprocess directory: {directories[0]}" in out
    assert not directories[0].exists()  # removed when the server stopped


def test_the_operators_directory_is_used_and_kept(site, tmp_path):
    mine = tmp_path / "prom"
    mine.mkdir()
    env = _env(site, tmp_path, PROMETHEUS_MULTIPROC_DIR=str(mine))
    with serving(env, "--disable-bg-tasks", "-w", "1", cwd=tmp_path) as srv:
        _fetch(srv.base + "/v4/experiments/a000")
        samples = parse(_fetch(srv.base + "/metrics").decode())
        assert value(samples, REQUESTS, route="/v4/experiments/<expid>", status=200) == 1
        assert _pids(mine)
    assert mine.is_dir() and any(mine.iterdir())
    assert not list((tmp_path / "tmp").glob("autosubmit_api-metrics-*"))


def test_a_missing_operator_directory_is_a_clear_error(site, tmp_path):
    result = run_cli("start", env=_env(site, tmp_path, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "nowhere")))
    assert result.returncode == 1
    assert "PROMETHEUS_MULTIPROC_DIR=" in result.stderr and "is not an existing directory" in result.stderr
