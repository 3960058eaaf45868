"""Two scheduler processes, and two API servers (`autosubmit_api start`), against one
PostgreSQL site: each job runs once per interval, and when the process (or the whole host)
running the jobs is killed the other one takes over."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import defaultdict

import pytest

from tests.factory import postgres as pgf
from tests.conftest import free_port

INTERVAL = 2
RAN = re.compile(r" (\d+) autosubmit_api\.workers INFO background job status ok in [\d.]+ s \(slot (\d+)\)")


class Scheduler:
    """`python -m autosubmit_api.workers` in its own process, its log lines collected."""

    def __init__(self, env):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "autosubmit_api.workers", "--log-level", "INFO"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


def _runs(schedulers):
    """slot -> [pid that ran it]"""
    slots = defaultdict(list)
    for scheduler in schedulers:
        for line in list(scheduler.lines):
            match = RAN.search(line)
            if match:
                slots[int(match.group(2))].append(int(match.group(1)))
    return slots


def _wait(predicate, schedulers, timeout=60):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            logs = "\n".join(line for s in schedulers for line in s.lines[-20:])
            pytest.fail(f"timed out; last log lines:\n{logs}")
        time.sleep(0.2)


@pytest.fixture
def pg_site(site, make_experiment, pg_url):
    make_experiment("a000")
    make_experiment("a001")
    pgf.copy_site(site, pg_url)
    pgf.write_pg_rc(site, pg_url)
    pgf.remove_sqlite_files(site, ["a000", "a001"])
    return site


@pytest.mark.slow
def test_each_interval_runs_once_and_a_survivor_takes_over(pg_site):
    env = dict(
        os.environ,
        **pg_site.env(),
        TZ="UTC",
        API_WORKER_INTERVAL=str(INTERVAL),
        API_DETAILS_WORKER_INTERVAL="3600",
        API_GRAPH_WORKER_INTERVAL="3600",
        PYTHONPATH=os.getcwd(),
    )
    env.pop("RUN_BACKGROUND_TASKS_ON_START", None)
    env.pop("DISABLE_BACKGROUND_TASKS", None)
    schedulers = [Scheduler(env), Scheduler(env)]
    try:
        _wait(lambda: len(_runs(schedulers)) >= 4, schedulers)
        slots = _runs(schedulers)
        assert all(len(pids) == 1 for pids in slots.values()), slots
        skipped = sum("background job status skipped" in line for s in schedulers for line in s.lines)
        assert skipped >= 3  # the other process fired too, and stood back
        # Kill whoever ran the latest interval, mid-life, without letting it clean up.
        latest = max(slots)
        holder = next(s for s in schedulers if s.proc.pid == slots[latest][0])
        survivor = next(s for s in schedulers if s is not holder)
        os.kill(holder.proc.pid, signal.SIGKILL)
        holder.proc.wait(10)
        _wait(
            lambda: any(slot > latest + 1 and survivor.proc.pid in pids for slot, pids in _runs(schedulers).items()),
            schedulers,
        )
        final = _runs(schedulers)
        assert all(len(pids) == 1 for pids in final.values()), final
    finally:
        for scheduler in schedulers:
            scheduler.stop()


GUNICORN_RAN = re.compile(r"\[(\d+)\] \[INFO\] background job (status|details) ok in [\d.]+ s \(slot (\d+)\)")


class Server(Scheduler):
    """`autosubmit_api start` (gunicorn, preload: the jobs run in its master) in its own session,
    so the whole host (master and workers) can be killed at once."""

    def __init__(self, env, port):
        self.port = port
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "autosubmit_api.cli",
                "start",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                "1",
                "--log-level",
                "info",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def health(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/v4/health", timeout=5) as answer:
            return json.load(answer)

    def kill_host(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)


def _server_runs(servers, job):
    """slot -> [master pid that ran `job` in it]"""
    slots = defaultdict(list)
    for server in servers:
        for line in list(server.lines):
            match = GUNICORN_RAN.search(line)
            if match and match.group(2) == job:
                slots[int(match.group(3))].append(int(match.group(1)))
    return slots


@pytest.mark.slow
def test_two_api_servers_share_the_jobs_and_a_survivor_takes_over(pg_site):
    env = dict(
        os.environ,
        **pg_site.env(),
        TZ="UTC",
        PROTECTION_LEVEL="NONE",
        SECRET_KEY="s" * 40,
        API_WORKER_INTERVAL=str(INTERVAL),
        API_DETAILS_WORKER_INTERVAL=str(INTERVAL),
        API_GRAPH_WORKER_INTERVAL="3600",
        PYTHONPATH=os.getcwd(),
    )
    for name in ("RUN_BACKGROUND_TASKS_ON_START", "DISABLE_BACKGROUND_TASKS", "GUNICORN_CMD_ARGS"):
        env.pop(name, None)
    servers = [Server(env, free_port()), Server(env, free_port())]
    try:
        _wait(lambda: len(_server_runs(servers, "status")) >= 4 and len(_server_runs(servers, "details")) >= 4, servers)
        for job in ("status", "details"):
            slots = _server_runs(servers, job)
            assert all(len(pids) == 1 for pids in slots.values()), (job, slots)
        masters = {s.proc.pid for s in servers}
        assert set(pid for pids in _server_runs(servers, "status").values() for pid in pids) <= masters
        # Either host's health route shows the cluster's last runs, wherever they ran.
        for server in servers:
            cluster = {row["job"]: row for row in server.health()["background_tasks"]["cluster"]}
            assert {"status", "details"} <= set(cluster)
        slots = _server_runs(servers, "status")
        latest = max(slots)
        holder = next(s for s in servers if s.proc.pid == slots[latest][0])
        survivor = next(s for s in servers if s is not holder)
        holder.kill_host()
        _wait(
            lambda: any(
                slot > latest + 1 and survivor.proc.pid in pids
                for slot, pids in _server_runs(servers, "status").items()
            ),
            servers,
        )
        for job in ("status", "details"):
            final = _server_runs(servers, job)
            assert all(len(pids) == 1 for pids in final.values()), (job, final)
        assert survivor.health()["status"] == "ok"
    finally:
        for server in servers:
            server.stop()
