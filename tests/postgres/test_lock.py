"""The advisory lock that lets one host at a time run each background job (workers/lock.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from autosubmit_api.readers.worker_state import cluster_runs
from autosubmit_api.workers import lock


def _settings(site, url):
    return site.settings({}, db_backend="postgres", db_connection_url=url)


def test_a_second_claim_while_the_first_runs_is_refused(site, pg_url):
    settings = _settings(site, pg_url)
    inside, release = threading.Event(), threading.Event()
    outcomes = []

    def holder():
        with lock.claim(settings, "status", 60) as claim:
            outcomes.append(claim.acquired)
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    assert inside.wait(10)
    with lock.claim(settings, "status", 60, force=True) as second:
        assert not second.acquired
        assert second.reason == "another process holds the lock"
    with lock.claim(settings, "details", 60) as other_job:
        assert other_job.acquired  # one lock per job
    release.set()
    thread.join()
    assert outcomes == [True]


def test_a_slot_runs_once_and_the_next_slot_runs_again(site, pg_url):
    settings = _settings(site, pg_url)
    now = 1_000_000.0
    with lock.claim(settings, "status", 60, now=now) as first:
        assert first.acquired and first.slot == lock.slot_of(now, 60)
    with lock.claim(settings, "status", 60, now=now + 5) as again:
        assert not again.acquired
        assert again.reason == "already run in this interval"
    with lock.claim(settings, "status", 60, now=now + 5, force=True) as forced:
        assert forced.acquired
    with lock.claim(settings, "status", 60, now=now + 60) as next_slot:
        assert next_slot.acquired
    runs = {row["job"]: row for row in cluster_runs(settings)}
    assert runs["status"]["slot"] == lock.slot_of(now + 60, 60)
    assert runs["status"]["ok"] is True


def test_the_lock_is_taken_over_when_its_holder_is_killed(site, pg_url):
    settings = _settings(site, pg_url)
    key = lock.lock_key("status")
    code = (
        "import psycopg, sys, time\n"
        f"c = psycopg.connect({pg_url!r}, autocommit=True)\n"
        f"assert c.execute('SELECT pg_try_advisory_lock({key})').fetchone()[0]\n"
        "print('locked', flush=True)\n"
        "time.sleep(120)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with lock.claim(settings, "status", 60) as claim:
            assert not claim.acquired
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        deadline = time.monotonic() + 20
        while True:
            with lock.claim(settings, "status", 60) as claim:
                if claim.acquired:
                    break
            assert time.monotonic() < deadline, "the lock was not released after its holder died"
            time.sleep(0.2)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_lock_keys_are_stable_and_distinct():
    assert lock.lock_key("status") == lock.lock_key("status")
    assert len({lock.lock_key(n) for n in ("status", "details", "graph_layouts")}) == 3


def test_fire_times_are_aligned_after_the_slot_start():
    assert lock.first_fire(1000.0, 300) == 1200.0 + lock.fire_offset(300)
    assert lock.fire_offset(300) == 10.0 and lock.fire_offset(20) == 2.0
    assert lock.first_fire(1201.0, 300) == 1210.0
    assert lock.first_fire(1211.0, 300) == 1510.0


def test_without_create_privilege_runs_are_still_never_concurrent(site, pg_url):
    import psycopg

    from tests.postgres.fixtures import url_of

    # A database user that may connect but not create schemas (a locked-down site).
    dbname = pg_url.rsplit("/", 1)[1]
    role = "limited_" + dbname[-8:]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'REVOKE CREATE ON DATABASE "{dbname}" FROM PUBLIC')
    try:
        limited = url_of(dbname).replace("//root@", f"//{role}@").replace("//postgres@", f"//{role}@")
        settings = _settings(site, limited)
        with lock.claim(settings, "status", 60, now=1000.0) as first:
            assert first.acquired
            with lock.claim(settings, "status", 60, now=1000.0, force=True) as second:
                assert not second.acquired
        with lock.claim(settings, "status", 60, now=1001.0) as again:
            assert again.acquired  # not counted per interval, but never concurrent
        assert cluster_runs(settings) == []
    finally:
        from autosubmit_api.readers import backend

        backend.dispose_all()
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


def test_a_failed_run_leaves_its_interval_open(site, pg_url):
    settings = _settings(site, pg_url)
    with lock.claim(settings, "status", 60, now=1000.0) as first:
        assert first.acquired
        first.ok, first.error = False, "Unavailable: locked"
    runs = {row["job"]: row for row in cluster_runs(settings)}
    assert runs["status"]["ok"] is False and runs["status"]["error"] == "Unavailable: locked"
    with lock.claim(settings, "status", 60, now=1001.0) as retry:
        assert retry.acquired
    with lock.claim(settings, "status", 60, now=1002.0) as after_success:
        assert not after_success.acquired
