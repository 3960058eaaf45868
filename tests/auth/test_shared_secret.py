"""Without SECRET_KEY, the random secret is made once in the gunicorn master and shared by its
workers (docs/decisions.md Q6): a token minted by one worker is accepted by every other.

Starts the real CLI (`autosubmit_api start -w 2`) on a free loopback port, logs in through the
CAS stand-in, then checks the token from many parallel connections; gunicorn's access log
(worker pid per request, through GUNICORN_CMD_ARGS) shows that both workers answered.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from tests.conftest import free_port

STARTUP_DEADLINE = 60.0


@pytest.fixture
def server(site, cas, tmp_path):
    port = free_port()
    access_log = tmp_path / "access.log"
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "PROTECTION_LEVEL")}
    env.update(
        site.env(
            CAS_SERVER_URL=cas.base,
            PROTECTION_LEVEL="ALL",
            API_PUBLIC_URL=f"http://127.0.0.1:{port}",
            GUNICORN_CMD_ARGS=f"--access-logfile {access_log} --access-logformat '%(p)s %(s)s'",
        )
    )
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "autosubmit_api.cli",
            "start",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "2",
            "--disable-bg-tasks",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=str(tmp_path),
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_DEADLINE
    while True:
        try:
            if requests.get(base + "/", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            pytest.fail("server did not start:\n" + (tmp_path / "server.log").read_text())
        time.sleep(0.2)
    yield base, access_log
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


@pytest.mark.slow
def test_random_secret_is_shared_by_all_gunicorn_workers(server, cas, tmp_path):
    base, access_log = server
    service = base + "/v4/auth/cas/v2/login"
    cas.tickets["ST-GUNICORN"] = (service, "alice")
    login = requests.get(service, params={"ticket": "ST-GUNICORN"}, timeout=10)
    assert login.status_code == 200, login.text
    token = login.json()["token"]

    def check(_):
        return requests.get(base + "/v4/auth/verify-token", headers={"Authorization": token}, timeout=10).status_code

    def worker_pids():
        return {line.split()[0] for line in access_log.read_text().splitlines() if line.strip()}

    # Which worker accepts a connection is the kernel's choice: on a loaded machine one worker
    # can take a whole batch. Send batches until both have answered (bounded), every answer 200.
    statuses = []
    deadline = time.monotonic() + 60
    with ThreadPoolExecutor(max_workers=8) as pool:
        while True:
            statuses += pool.map(check, range(48))
            if len(worker_pids()) == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert statuses == [200] * len(statuses)
    # The warning of app.py, and both workers in the access log.
    assert "SECRET_KEY is not set" in (tmp_path / "server.log").read_text()
    pids = worker_pids()
    assert len(pids) == 2, f"only worker(s) {pids} answered"
