"""Two scheduler processes on one SQLite site (one machine): each interval runs once, a
failed run leaves its interval open, and a survivor takes over from a killed holder."""
from __future__ import annotations

import os
import signal

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


def test_two_schedulers_on_one_sqlite_site_share_the_intervals(site, make_experiment):
    make_experiment("a000")
    env = dict(os.environ, **site.env(), TZ="UTC", API_WORKER_INTERVAL=str(INTERVAL),
               API_DETAILS_WORKER_INTERVAL="3600", API_GRAPH_WORKER_INTERVAL="3600",
               PYTHONPATH=os.getcwd())
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
        _wait(lambda: any(slot > latest + 1 and survivor.proc.pid in pids
                          for slot, pids in _runs(schedulers).items()), schedulers)
        assert all(len(pids) == 1 for pids in _runs(schedulers).values())
    finally:
        for scheduler in schedulers:
            scheduler.stop()
