"""Under gunicorn (preload) the background jobs run once, in the master, and the health route
served by any worker process shows their runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import free_port


def _health(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v4/health", timeout=5) as response:
        return json.load(response)


@pytest.mark.slow
def test_the_scheduler_runs_in_the_master_only(site, make_experiment):
    make_experiment("a000")
    port = free_port()
    env = dict(
        os.environ,
        **site.env(),
        TZ="UTC",
        PROTECTION_LEVEL="NONE",
        SECRET_KEY="x",
        API_WORKER_INTERVAL="1",
        API_DETAILS_WORKER_INTERVAL="3600",
        API_GRAPH_WORKER_INTERVAL="3600",
        PYTHONPATH=os.getcwd(),
    )
    for name in ("RUN_BACKGROUND_TASKS_ON_START", "DISABLE_BACKGROUND_TASKS", "GUNICORN_CMD_ARGS"):
        env.pop(name, None)
    master = subprocess.Popen(
        [sys.executable, "-m", "autosubmit_api.cli", "start", "-b", f"127.0.0.1:{port}", "-w", "2", "--init-bg-tasks"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        seen = []
        while True:
            assert master.poll() is None, master.stderr.read()
            try:
                body = _health(port)
                jobs = body["background_tasks"]["jobs"]
                seen.append(jobs["status"])
                if jobs["status"]["runs"] >= 3:
                    break
            except OSError:
                pass  # not listening yet
            assert time.monotonic() < deadline, seen[-3:]
            time.sleep(0.3)
        assert body["background_tasks"]["enabled"] is True
        # Every run seen through any worker was made by the master process.
        assert {entry["pid"] for entry in seen} == {master.pid}
        assert jobs["details"]["runs"] == 1 and jobs["graph_layouts"]["runs"] == 1  # --init-bg-tasks
        assert jobs["status"]["errors"] == 0, jobs["status"]
    finally:
        master.terminate()
        try:
            master.wait(20)
        except subprocess.TimeoutExpired:
            master.kill()
            master.wait()
