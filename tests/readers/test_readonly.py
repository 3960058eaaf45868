"""Readers never change Autosubmit's files, never create any, and do not hang on locks."""

from __future__ import annotations

import collections
import os
import sqlite3
import threading
import time

import pytest

from autosubmit_api.app import create_app
from autosubmit_api.errors import DataError, NotFound, Unavailable
from autosubmit_api.readers import (
    cache,
    central_db,
    exp_config,
    file_status,
    graph_layout,
    job_data,
    job_list,
    list_facts,
    logs,
    packages,
    paths,
    recovery_logs,
    structure,
    user_metrics,
)
from tests.fixture_site import EXPIDS, copy_fixtures, settings_for, snapshot
from tests.readers import running_autosubmit

# What a running Autosubmit's open write transaction must not make a reader wait for: a read
# that waited for the lock would take this whole busy timeout (and then fail).
LOCK_WAIT = 10.0


@pytest.fixture
def fixture_root(tmp_path):
    return copy_fixtures(tmp_path)


def _add_file_status_db(root):
    """The archive probe's DB where the reference looks (`<root>/as_metadata/test/status.db`):
    the fixtures have none, so without it the file-status reader would open nothing."""
    os.makedirs(root / "as_metadata" / "test")
    with sqlite3.connect(root / "as_metadata" / "test" / "status.db") as conn:
        conn.executescript(
            "CREATE TABLE archive_status(status TEXT, avg_latency REAL, avg_bandwidth REAL,"
            " current_latency REAL, current_bandwidth REAL, response_time REAL, modified TEXT);"
            "INSERT INTO archive_status VALUES ('ONLINE', 0.1, 10.0, 0.2, 9.0, 0.3, '2024-01-01 00:00:00');"
        )
    conn.close()


def _read_everything(settings):
    """Every reader over every fixture experiment and the central databases.

    Returns how much each kind of reader found: a reader looking in the wrong place would
    change nothing either, so the tests check that the readers did read.
    """
    found = collections.Counter()
    found["experiments"] = central_db.list_experiments(settings, query="a", order_by="created")[1]
    found["searched"] = len(central_db.search(settings, text="a", only_active=False))
    central_db.running(settings)
    found["statuses"] = len(central_db.statuses(settings))
    found["named"] = len(central_db.experiment_names(settings, EXPIDS))
    found["db_version"] = central_db.db_version(settings)
    found["ping"] = central_db.ping(settings)[0]
    found["file_status"] = file_status.last_probe(settings) is not None
    for expid in EXPIDS:
        found["experiment rows"] += central_db.get_experiment(settings, expid) is not None
        job_data.load_history(settings, expid)
        job_data.load_history(settings, expid, last_only=True)
        job_data.children_map(settings, expid)
        found["latest runs"] += list_facts.latest_run_counters(settings, expid) is not None
        found["pkl mtimes"] += list_facts.pkl_mtime(settings, expid) is not None
        packages.load_packages(settings, expid)
        graph_layout.load_layout(settings, expid)
        exp_config.load_config(settings, expid)
        exp_config.load_metadata_config(settings, expid)
        jobs = job_list.load_job_list(settings, expid)
        found["jobs"] += len(jobs)
        structure.load_dependencies(settings, expid, jobs)
        names = [job.name for job in jobs.jobs]
        found["TOTAL_STATS lines"] += sum(map(len, logs.read_total_stats_of(settings, expid, names)))
        found["TOTAL_STATS files"] += len(logs.total_stats_snapshot(settings, expid))
        for name in names:
            logs.last_total_stats_line(settings, expid, name)
            logs.total_stats_key(settings, expid, name)
        for pattern, tmp_first in (("run.log", False), ("_run.log", True)):
            run_log = logs.newest_run_log(settings, expid, pattern, tmp_first=tmp_first)
            if run_log is not None:
                found["run log lines"] += len(logs.tail(settings, run_log.path).lines)
        try:
            outs, errs = logs.newest_job_logs(settings, expid)
        except NotFound:
            outs, errs = {}, {}
        for name in sorted({*outs.values(), *errs.values()}):
            found["job logs"] += len(logs.tail(settings, logs.find_experiment_log(settings, expid, name)).lines) > 0
        found["recovery logs"] += len(recovery_logs.newest_per_platform(settings, expid))
        found["user metrics"] += len(user_metrics.load_metrics(settings, expid))
    return found


def test_reading_every_fixture_changes_and_creates_nothing(fixture_root):
    _add_file_status_db(fixture_root)
    settings = settings_for(fixture_root)
    before = snapshot(fixture_root)
    found = _read_everything(settings)
    cache.clear()
    list_facts.clear()
    assert _read_everything(settings) == found
    after = snapshot(fixture_root)
    assert set(after) == set(before), set(after) ^ set(before)
    assert after == before
    # Every kind of reader read something (fixtures README: 9 experiments, 5 statuses, ...).
    assert found["experiments"] == found["named"] == found["experiment rows"] == 9
    assert found["statuses"] == 5 and found["db_version"] == 1 and found["ping"] and found["file_status"]
    assert found["latest runs"] == found["pkl mtimes"] == 9 and found["jobs"] > 9
    assert found["TOTAL_STATS files"] == 37 and found["TOTAL_STATS lines"] > 0  # 8 of a003, 29 of a3tb
    assert found["run log lines"] > 0
    assert found["job logs"] == 2  # a3tb: the newest .out and .err of its SIM job
    assert found["recovery logs"] == 2  # a1vx: the newest of local and of mn5
    assert found["user metrics"] == 3  # a6zj


def test_missing_optional_files_create_nothing(fixture_root):
    settings = settings_for(fixture_root)
    for path in (
        paths.packages_db(settings, "a003"),
        paths.graph_db(settings, "a003"),
        paths.job_data_db(settings, "a003"),
    ):
        os.remove(path)
    before = snapshot(fixture_root)
    assert not packages.load_packages(settings, "a003")
    assert graph_layout.load_layout(settings, "a003") == {}
    assert job_data.load_history(settings, "a003", optional=True) is None
    assert snapshot(fixture_root) == before


def _hold_exclusive(path, ready, release):
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    ready.set()
    release.wait(30)
    conn.execute("ROLLBACK")
    conn.close()


@pytest.mark.parametrize("reader", ["job_data", "packages", "graph_layout"])
def test_a_write_lock_gives_an_answer_or_a_typed_error(fixture_root, reader):
    timeout = 0.2
    # A read waits at most the busy timeout; 2 s more is a generous margin for a loaded machine,
    # and far below what a read hanging on the lock would take.
    bound = timeout + 2.0
    settings = settings_for(fixture_root, sqlite_timeout=timeout)
    path = {
        "job_data": paths.job_data_db(settings, "a003"),
        "packages": paths.packages_db(settings, "a003"),
        "graph_layout": paths.graph_db(settings, "a003"),
    }[reader]
    ready, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_exclusive, args=(path, ready, release), daemon=True)
    holder.start()
    assert ready.wait(10)
    outcome = {}

    def call():
        try:
            if reader == "job_data":
                outcome["value"] = job_data.load_history(settings, "a003")
            elif reader == "packages":
                outcome["value"] = packages.load_packages(settings, "a003")
            else:
                outcome["value"] = graph_layout.load_layout(settings, "a003")
        except (Unavailable, DataError) as exc:
            outcome["error"] = exc
        except BaseException as exc:  # anything else is a failure of the test
            outcome["unexpected"] = exc

    worker = threading.Thread(target=call, daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(bound)
    elapsed = time.monotonic() - started
    release.set()
    holder.join(10)
    assert not worker.is_alive(), "the read hung on the lock"
    assert elapsed < bound, f"the read took {elapsed:.1f} s with a {timeout} s busy timeout"
    assert "unexpected" not in outcome, outcome.get("unexpected")
    assert "value" in outcome or isinstance(outcome["error"], (Unavailable, DataError))
    if "error" in outcome:
        assert os.path.basename(path) in outcome["error"].message
    # Once the lock is gone, the read works.
    cache.clear()
    call_result = job_data.load_history(settings, "a003") if reader == "job_data" else None
    assert call_result is None or len(call_result.rows) == 16


def test_readers_see_the_committed_history_while_autosubmit_writes_it(fixture_root):
    settings = settings_for(fixture_root, sqlite_timeout=LOCK_WAIT)
    path = paths.job_data_db(settings, "a003")
    history = job_data.load_history(settings, "a003")
    last = job_data.load_history(settings, "a003", last_only=True)
    counters = list_facts.latest_run_counters(settings, "a003")
    children = job_data.children_map(settings, "a003")
    assert {row.status for row in history.rows} == {"COMPLETED"} and len(history.runs) == 3
    cache.clear()
    list_facts.clear()
    # What Autosubmit does while a run goes on: a new experiment_run row, job rows updated.
    with running_autosubmit.writing(
        path,
        "UPDATE job_data SET status = 'FAILED' WHERE last = 1",
        "INSERT INTO experiment_run(created, modified, start, finish, chunk_unit, chunk_size, completed,"
        " total, failed, queuing, running, submitted, suspended) SELECT created, modified, start + 1,"
        " finish, chunk_unit, chunk_size, 0, total, total, 0, 0, 0, 0 FROM experiment_run"
        " ORDER BY run_id DESC LIMIT 1",
    ) as writer:
        started = time.monotonic()
        assert job_data.load_history(settings, "a003") == history
        assert job_data.load_history(settings, "a003", last_only=True) == last
        assert list_facts.latest_run_counters(settings, "a003") == counters
        assert job_data.children_map(settings, "a003") == children
        elapsed = time.monotonic() - started
        writer["end"] = "COMMIT"
    assert writer["changed"] > 1
    assert elapsed < LOCK_WAIT, f"the reads took {elapsed:.1f} s: they waited for the writer's lock"
    # The writer's change was real: once committed, the readers see it.
    cache.clear()
    list_facts.clear()
    committed = job_data.load_history(settings, "a003")
    assert len(committed.runs) == 4 and "FAILED" in {row.status for row in committed.rows}
    assert list_facts.latest_run_counters(settings, "a003")["failed"] == counters["total"]


def _answers(client, urls):
    answers = {}
    for url in urls:
        response = client.get(url)
        body = response.get_json()
        if isinstance(body, dict):
            body.pop("pkl_timestamp", None)  # the tree's: the current time (docs/api.md Q19)
        answers[url] = (response.status_code, body)
    return answers


def test_the_api_answers_with_committed_data_while_autosubmit_writes_every_database(fixture_root):
    settings = settings_for(fixture_root, sqlite_timeout=LOCK_WAIT, protection_level="NONE")
    client = create_app(settings).test_client()
    urls = [
        "/v4/experiments",
        "/v4/experiments?only_active=true",
        "/v4/experiments/a003",
        "/v4/experiments/a003/runs",
        "/v4/experiments/a003/jobs",
        "/v3/search/a003",
        "/v3/running/",
        "/v3/tree/a003",
        "/v3/quick/a003",
        "/v3/runs/a003",
        "/v3/expcount/a003",
    ]
    before = _answers(client, urls)
    assert all(status == 200 for status, _ in before.values()), before
    cache.clear()
    list_facts.clear()
    with (
        running_autosubmit.writing(
            settings.db_path,
            "UPDATE experiment SET description = 'changed by the running Autosubmit'",
            "INSERT INTO experiment(name, description, autosubmit_version) VALUES ('a0zz', 'new', '4.1.12')",
        ),
        running_autosubmit.writing(
            settings.as_times_db_path,
            "UPDATE experiment_status SET status = 'RUNNING'",
        ),
        running_autosubmit.writing(
            paths.job_data_db(settings, "a003"),
            "UPDATE job_data SET status = 'FAILED'",
        ),
    ):
        started = time.monotonic()
        during = _answers(client, urls)
        elapsed = time.monotonic() - started
    assert during == before
    assert elapsed < LOCK_WAIT, f"the answers took {elapsed:.1f} s: a reader waited for a writer's lock"


@pytest.mark.parametrize("content", [b"", b"\x00garbage\xff" * 500])
def test_corrupt_or_empty_history_is_a_data_error(fixture_root, content):
    settings = settings_for(fixture_root)
    with open(paths.job_data_db(settings, "a007"), "wb") as handle:
        handle.write(content)
    with pytest.raises(DataError) as info:
        job_data.load_history(settings, "a007")
    assert "job_data_a007.db" in info.value.message


def test_corrupt_graph_db_is_a_data_error(fixture_root):
    settings = settings_for(fixture_root)
    with open(paths.graph_db(settings, "a003"), "wb") as handle:
        handle.write(b"\x00garbage\xff" * 500)
    with pytest.raises(DataError) as info:
        graph_layout.load_layout(settings, "a003")
    assert "graph_data_a003.db" in info.value.message
