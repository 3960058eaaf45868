"""Two scheduler processes on one SQLite site (one machine): each interval runs once, a
failed run leaves its interval open, and a survivor takes over from a killed holder."""

from __future__ import annotations

import os
import signal

import pytest

from autosubmit_api.workers import lock
from tests.postgres.test_several_hosts import INTERVAL, Scheduler, _runs, _wait


def test_a_failed_run_leaves_its_interval_open(settings):
    with lock.claim(settings, "status", 60, now=1000.0) as first:
        assert first.acquired
        first.ok, first.error = False, "Unavailable: locked"
    with lock.claim(settings, "status", 60, now=1001.0) as retry:
        assert retry.acquired
    with lock.claim(settings, "status", 60, now=1002.0) as after_success:
        assert not after_success.acquired
        assert after_success.reason == "already run in this interval"


def test_a_claim_held_elsewhere_is_refused(settings):
    with lock.claim(settings, "status", 60, now=1000.0) as first:
        assert first.acquired
        with lock.claim(settings, "status", 60, now=1000.0, force=True) as second:
            assert not second.acquired and second.reason == "another process holds the lock"


@pytest.mark.slow
def test_two_schedulers_on_one_sqlite_site_share_the_intervals(site, make_experiment):
    make_experiment("a000")
    env = dict(
        os.environ,
        **site.env(),
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
        latest = max(slots)
        holder = next(s for s in schedulers if s.proc.pid == slots[latest][0])
        survivor = next(s for s in schedulers if s is not holder)
        os.kill(holder.proc.pid, signal.SIGKILL)
        holder.proc.wait(10)
        _wait(
            lambda: any(slot > latest + 1 and survivor.proc.pid in pids for slot, pids in _runs(schedulers).items()),
            schedulers,
        )
        assert all(len(pids) == 1 for pids in _runs(schedulers).values())
    finally:
        for scheduler in schedulers:
            scheduler.stop()


@pytest.mark.slow
def test_a_process_forked_during_a_run_does_not_keep_the_lock(site, settings, tmp_path):
    import subprocess
    import sys
    import time

    probe = (
        "import sys\n"
        "from autosubmit_api.config import load_settings\n"
        "from autosubmit_api.workers import lock\n"
        "s = load_settings(dotenv=False, testing=True)\n"
        "with lock.claim(s, 'status', 60, force=True) as c:\n"
        "    sys.exit(0 if c.acquired else 3)\n"
    )
    env = dict(os.environ, **site.env(), PYTHONPATH=os.getcwd())
    with lock.claim(settings, "status", 60) as held:
        assert held.acquired
        child = os.fork()
        if child == 0:  # like a gunicorn worker forked while the master runs a job
            time.sleep(5)
            os._exit(0)
        assert subprocess.run([sys.executable, "-c", probe], env=env, timeout=60).returncode == 3
    try:
        # The run is over; the forked child is still alive and must not hold the lock.
        assert subprocess.run([sys.executable, "-c", probe], env=env, timeout=60).returncode == 0
    finally:
        os.waitpid(child, 0)
