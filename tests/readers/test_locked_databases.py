"""Every SQLite reader waits at most `API_SQLITE_TIMEOUT` for a writer's lock and then says
"locked, try again" (Unavailable, a 503), never "unreadable" (DataError, a 422); the structure
DB, which only refines the job list's edges, gives way to the next source instead."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from autosubmit_api.errors import Unavailable
from autosubmit_api.readers import job_data, job_list, packages, paths, structure, user_metrics
from tests.factory.metrics import write_user_metrics

TIMEOUT = 0.2
# A read waits at most the busy timeout; 2 s more is a generous margin for a loaded machine,
# and far below what a read hanging on the lock would take.
BOUND = TIMEOUT + 2.0


class Exclusive:
    """Another connection holding `BEGIN EXCLUSIVE` on a file (no reader may enter)."""

    def __init__(self, path):
        self.conn = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)

    def __enter__(self):
        self.conn.execute("BEGIN EXCLUSIVE")
        return self

    def __exit__(self, *exc):
        self.conn.execute("ROLLBACK")
        self.conn.close()


def timed(call):
    started = time.monotonic()
    result = {}
    worker = threading.Thread(target=lambda: result.update(_outcome(call)), daemon=True)
    worker.start()
    worker.join(BOUND + 1)
    assert not worker.is_alive(), "the read hung on the lock"
    return result, time.monotonic() - started


def _outcome(call):
    try:
        return {"value": call()}
    except Exception as exc:  # noqa: BLE001 - the test inspects the type
        return {"error": exc}


@pytest.fixture
def locked_site(make_experiment, site, env):
    made = make_experiment("a000")
    write_user_metrics(
        paths.user_metrics_db(site.settings(env), "a000"), [(1, "a000_SIM", "sypd", "3.5", "2024-01-01 00:00:00")]
    )
    return made, site.settings(env, sqlite_timeout=TIMEOUT)


@pytest.mark.parametrize("reader", ["job_data", "packages", "user_metrics"])
def test_a_locked_file_is_unavailable_after_the_timeout(locked_site, reader):
    _, settings = locked_site
    path, call = {
        "job_data": (paths.job_data_db(settings, "a000"), lambda: job_data.load_history(settings, "a000")),
        "packages": (paths.packages_db(settings, "a000"), lambda: packages.load_packages(settings, "a000")),
        "user_metrics": (paths.user_metrics_db(settings, "a000"), lambda: user_metrics.load_metrics(settings, "a000")),
    }[reader]
    with Exclusive(path):
        result, elapsed = timed(call)
    assert elapsed < BOUND, f"the read took {elapsed:.1f} s with a {TIMEOUT} s busy timeout"
    assert isinstance(result.get("error"), Unavailable), result
    assert "locked" in result["error"].message and str(path) not in result["error"].message
    # Once the writer is done the same call answers.
    assert "value" in _outcome(call)


def test_a_locked_structure_db_gives_way_to_the_next_source(locked_site):
    _, settings = locked_site
    jobs = job_list.load_job_list(settings, "a000")
    with Exclusive(paths.structure_db(settings, "a000")):
        result, elapsed = timed(lambda: structure.load_dependencies(settings, "a000", jobs))
    assert elapsed < BOUND
    assert result["value"].source != "structure_db"
    # Nothing was cached for the locked file: the next request reads it.
    after = structure.load_dependencies(settings, "a000", jobs)
    assert after.source == "structure_db" and after.children


def test_a_broken_file_is_a_data_error_not_a_lock(tmp_path):
    from autosubmit_api.errors import DataError
    from autosubmit_api.config import Settings
    from autosubmit_api.readers.sqlite import connect_ro

    site = Settings(local_root_dir=str(tmp_path))
    path = tmp_path / "job_data_a000.db"
    sqlite3.connect(path).close()
    with pytest.raises(DataError, match="no such table"):
        with connect_ro(site, str(path), TIMEOUT) as conn:
            conn.execute("SELECT * FROM job_data")  # an OperationalError that is not a lock
    path.write_bytes(b"this is not an SQLite database, " * 100)
    with pytest.raises(DataError):
        with connect_ro(site, str(path), TIMEOUT) as conn:
            conn.execute("SELECT 1 FROM sqlite_master")


def test_a_42_job_list_locked_past_the_timeout_is_unavailable(make_experiment, site, env):
    made = make_experiment("a042", job_list_layout="db")
    settings = site.settings(env, sqlite_timeout=TIMEOUT)
    call = lambda: job_list.load_job_list(settings, "a042")  # noqa: E731
    with Exclusive(made.job_db_path):  # a commit in progress: no reader may enter
        result, elapsed = timed(call)
    assert elapsed < BOUND
    assert isinstance(result.get("error"), Unavailable), result
    assert "locked" in result["error"].message and str(made.job_db_path) not in result["error"].message
    assert len(_outcome(call)["value"]) == len(made.jobs)
    # The edges of the same file give way to the next source while it is locked.
    jobs = _outcome(call)["value"]
    with Exclusive(made.job_db_path):
        result, _ = timed(lambda: structure.load_dependencies(settings, "a042", jobs))
    assert result["value"].source != "structure_db"
    assert structure.load_dependencies(settings, "a042", jobs).source == "structure_db"
