"""readers.central_db on factory-made central databases (autosubmit.db, as_times.db)."""

import sqlite3
import threading
import time

import pytest

from autosubmit_api.errors import Unavailable
from tests.factory import add_central_row
from autosubmit_api.readers import central_db
from tests.readers import running_autosubmit

INJECTION = "zzz') OR 1=1 OR (name LIKE '"


@pytest.fixture
def rows(site):
    """Six experiments: owners, types, versions, created dates and statuses to filter on."""
    add_central_row(
        site,
        "a000",
        description="coupled run",
        autosubmit_version="4.1.12",
        details={"user": "alice", "created": "2024-03-01 10:00:00", "hpc": "MN5"},
        status="RUNNING",
    )
    add_central_row(
        site,
        "a001",
        description="Ocean spin-up",
        autosubmit_version="4.0.95",
        details={"user": "bob", "created": "2024-01-01 10:00:00"},
        status="NOT RUNNING",
    )
    add_central_row(
        site,
        "t000",
        description="a test",
        autosubmit_version="4.1.12",
        details={"user": "alice", "created": "2024-02-01 10:00:00"},
    )
    add_central_row(
        site,
        "o000",
        description="operational forecast",
        autosubmit_version="3.13.0",
        details={"user": "ops", "created": "2024-01-01 10:00:00"},
        status="RUNNING",
    )
    add_central_row(site, "a002", description="no details row", autosubmit_version=None)
    add_central_row(site, "a_x9", description="underscore name", autosubmit_version="4.1.12")
    return site


def names(result):
    rows = result[0] if isinstance(result, tuple) else result
    return [row.name for row in rows]


def test_list_without_filters_is_in_id_order_with_the_total(rows, settings):
    found, total = central_db.list_experiments(settings)
    assert [r.name for r in found] == ["a000", "a001", "t000", "o000", "a002", "a_x9"]
    assert total == 6


def test_rows_carry_details_and_status_and_nulls_without_them(rows, settings):
    found, _ = central_db.list_experiments(settings)
    first, no_details = found[0], found[4]
    assert (first.user, first.created, first.hpc, first.status) == ("alice", "2024-03-01 10:00:00", "MN5", "RUNNING")
    assert first.is_running
    assert (no_details.user, no_details.created, no_details.status, no_details.autosubmit_version) == (
        None,
        None,
        None,
        None,
    )


def test_query_matches_name_prefix_description_or_owner_case_insensitively(rows, settings):
    assert names(central_db.list_experiments(settings, query="A00")) == ["a000", "a001", "a002"]
    assert names(central_db.list_experiments(settings, query="ocean")) == ["a001"]
    assert names(central_db.list_experiments(settings, query="lic")) == ["a000", "t000"]
    # a name matches only as a prefix
    assert names(central_db.list_experiments(settings, query="000")) == []


def test_like_wildcards_in_the_query_stay_wildcards(rows, settings):
    # Q41: "_" matches any one character, so "a_0" matches a000 a001 a002 (and a_x9 does not).
    assert names(central_db.list_experiments(settings, query="a_0")) == ["a000", "a001", "a002"]


def test_sql_metacharacters_are_matched_literally(rows, settings):
    assert names(central_db.list_experiments(settings, query=INJECTION)) == []
    assert names(central_db.search(settings, text=INJECTION)) == []
    assert names(central_db.search(settings, owner="x' OR '1'='1")) == []
    assert central_db.get_experiment(settings, "a000' OR '1'='1") is None


def test_owner_type_version_and_active_filters(rows, settings):
    assert names(central_db.list_experiments(settings, owner="alice")) == ["a000", "t000"]
    assert names(central_db.list_experiments(settings, exp_type="test")) == ["t000"]
    assert names(central_db.list_experiments(settings, exp_type="operational")) == ["o000"]
    assert names(central_db.list_experiments(settings, exp_type="experiment")) == ["a000", "a001", "a002", "a_x9"]
    assert len(names(central_db.list_experiments(settings, exp_type="bogus"))) == 6
    assert names(central_db.list_experiments(settings, autosubmit_version="4.1.12")) == ["a000", "t000", "a_x9"]
    assert names(central_db.list_experiments(settings, only_active=True)) == ["a000", "o000"]


def test_order_by_created_puts_nulls_first_ascending_and_last_descending(rows, settings):
    ascending = names(central_db.list_experiments(settings, order_by="created"))
    descending = names(central_db.list_experiments(settings, order_by="created", order_desc=True))
    assert ascending == ["a002", "a_x9", "a001", "o000", "t000", "a000"]
    # equal keys keep id order in both directions, as the reference's SQLite does
    assert descending == ["a000", "t000", "a001", "o000", "a002", "a_x9"]


def test_order_by_expid_and_description_compare_bytes(rows, settings):
    assert names(central_db.list_experiments(settings, order_by="expid", order_desc=True)) == [
        "t000",
        "o000",
        "a_x9",
        "a002",
        "a001",
        "a000",
    ]
    # upper case sorts before lower case in a binary comparison
    assert names(central_db.list_experiments(settings, order_by="description"))[0] == "a001"
    assert names(central_db.list_experiments(settings, order_by="bogus")) == names(
        central_db.list_experiments(settings)
    )


def test_limit_and_offset_page_through_and_keep_the_total(rows, settings):
    page, total = central_db.list_experiments(settings, limit=4, offset=4)
    assert [r.name for r in page] == ["a002", "a_x9"] and total == 6
    page, total = central_db.list_experiments(settings, limit=4, offset=40)
    assert page == [] and total == 6


def test_v3_search_orders_by_name_descending_and_knows_two_types(rows, settings):
    assert names(central_db.search(settings, text="a0")) == ["a002", "a001", "a000"]
    # "a test" (description of t000) matches "test"; the test type keeps only t names
    assert names(central_db.search(settings, text="test")) == ["t000"]
    assert names(central_db.search(settings, text="test", exp_type="experiment")) == []
    assert names(central_db.search(settings, text="e", exp_type="test")) == ["t000"]
    # v3 has no operational type: "experiment" only excludes test names
    assert "o000" in names(central_db.search(settings, text="o", exp_type="experiment"))
    assert names(central_db.search(settings, owner="alice")) == ["t000", "a000"]
    assert names(central_db.search(settings, owner="ali")) == []
    assert names(central_db.search(settings, owner="alice", only_active=True)) == ["a000"]


def test_running_lists_only_running_experiments(rows, settings):
    assert names(central_db.running(settings)) == ["o000", "a000"]


def test_get_experiment_and_db_version(rows, settings):
    row = central_db.get_experiment(settings, "a001")
    assert (row.id, row.description, row.autosubmit_version, row.user) == (2, "Ocean spin-up", "4.0.95", "bob")
    assert central_db.get_experiment(settings, "zzzz") is None
    assert central_db.db_version(settings) == 1
    assert central_db.experiment_names(settings, ["a000", "zzzz", "t000"]) == {"a000": 1, "t000": 3}


def test_a_central_db_without_details_table_reads_nulls(rows, settings):
    with sqlite3.connect(rows.central_db) as conn:
        conn.execute("DROP TABLE details")
    found, total = central_db.list_experiments(settings, query="alice")
    assert total == 0
    assert names(central_db.list_experiments(settings, owner="alice")) == []
    row = central_db.get_experiment(settings, "a000")
    assert row.user is None and row.hpc is None and row.status == "RUNNING"
    assert names(central_db.list_experiments(settings, order_by="created"))[0] == "a000"


def test_details_read_by_column_name_whatever_the_ddl(rows, settings):
    # Autosubmit >= 4.1.15 writes details without a primary key and in another column order.
    with sqlite3.connect(rows.central_db) as conn:
        conn.executescript(
            "DROP TABLE details;"
            "CREATE TABLE details(hpc text, exp_id INTEGER NOT NULL, created text, user text);"
            "INSERT INTO details(hpc, exp_id, created, user) VALUES ('LOCAL', 2, '2025-03-12T16:39:10+01:00', 'bob');"
        )
    row = central_db.get_experiment(settings, "a001")
    assert (row.user, row.created, row.hpc, row.model, row.branch) == (
        "bob",
        "2025-03-12T16:39:10+01:00",
        "LOCAL",
        None,
        None,
    )


def test_missing_as_times_means_nobody_is_running(rows, settings):
    rows.as_times_db.unlink()
    assert central_db.statuses(settings) == {}
    assert names(central_db.running(settings)) == []
    assert central_db.get_experiment(settings, "a000").status is None


def test_missing_central_db_is_unavailable_with_a_clear_message(rows, settings):
    rows.central_db.unlink()
    with pytest.raises(Unavailable, match="autosubmit.db does not exist"):
        central_db.list_experiments(settings)
    ok, message = central_db.ping(settings)
    assert not ok and "does not exist" in message
    assert not rows.central_db.exists()  # never created by a read


def test_reads_never_write_the_central_db(rows, settings):
    before = rows.central_db.read_bytes()
    central_db.list_experiments(settings, query="a", order_by="created")
    central_db.search(settings, text="a")
    central_db.get_experiment(settings, "a000")
    assert rows.central_db.read_bytes() == before


def test_a_locked_central_db_is_unavailable_after_the_timeout(rows, site):
    settings = site.settings({"API_SQLITE_TIMEOUT": "0.2"})
    # The read gives up after the 0.2 s busy timeout; 2 s more is a generous margin for a loaded
    # machine, and far below what a read hanging on the lock would take.
    bound = settings.sqlite_timeout + 2.0
    locker = sqlite3.connect(rows.central_db, isolation_level=None, check_same_thread=False)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        outcome = {}

        def read():
            try:
                central_db.list_experiments(settings)
                outcome["result"] = "read"
            except Unavailable as exc:
                outcome["result"] = exc.message

        worker = threading.Thread(target=read, daemon=True)
        started = time.monotonic()
        worker.start()
        worker.join(bound)
        elapsed = time.monotonic() - started
        assert not worker.is_alive(), "the read hung on the lock"
        assert elapsed < bound, f"the read took {elapsed:.1f} s with a 0.2 s busy timeout"
        assert "locked" in outcome["result"]
        assert "/" not in outcome["result"]  # no server path in the message
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    ok, _ = central_db.ping(settings)
    assert ok


# What a running Autosubmit's open write transaction must not make a reader wait for: a read
# that waited for the lock would take this whole busy timeout (and then fail).
LOCK_WAIT = 10.0


def _everything(settings):
    return (
        central_db.list_experiments(settings),
        central_db.list_experiments(settings, only_active=True),
        central_db.search(settings, text="a"),
        central_db.running(settings),
        central_db.get_experiment(settings, "a000"),
        central_db.get_experiment(settings, "a999"),
        central_db.experiment_names(settings, ["a000", "a999"]),
        central_db.db_version(settings),
        central_db.statuses(settings),
        central_db.ping(settings),
    )


def _read_while_writing(settings, path, *statements):
    """(rows the writer changed, every reader's answer) while another process holds `statements`
    uncommitted on `path`; the writer then commits. The reads must not wait for its lock."""
    with running_autosubmit.writing(path, *statements) as writer:
        started = time.monotonic()
        during = _everything(settings)
        elapsed = time.monotonic() - started
        writer["end"] = "COMMIT"
    assert elapsed < LOCK_WAIT, f"the reads took {elapsed:.1f} s: they waited for the writer's lock"
    return writer["changed"], during


def test_readers_see_the_committed_central_db_while_autosubmit_writes_it(rows, site):
    settings = site.settings({"API_SQLITE_TIMEOUT": str(LOCK_WAIT)})
    before = _everything(settings)
    # What `autosubmit expid` and the details update do: a new experiment, rows changed.
    changed, during = _read_while_writing(
        settings,
        rows.central_db,
        "INSERT INTO experiment(name, description, autosubmit_version) VALUES ('a999', 'new', '4.1.16')",
        "UPDATE experiment SET description = 'uncommitted' WHERE name = 'a000'",
        "UPDATE details SET user = 'mallory'",
    )
    assert changed == 1 + 1 + 4
    assert during == before
    # The change was real: once committed, the readers see it.
    assert central_db.get_experiment(settings, "a999").description == "new"
    assert central_db.get_experiment(settings, "a000").user == "mallory"


def test_statuses_are_the_committed_ones_while_autosubmit_writes_as_times(rows, site):
    settings = site.settings({"API_SQLITE_TIMEOUT": str(LOCK_WAIT)})
    before = _everything(settings)
    assert names(central_db.running(settings)) == ["o000", "a000"]
    # What the status updates do while experiments start and stop.
    changed, during = _read_while_writing(
        settings,
        rows.as_times_db,
        "UPDATE experiment_status SET status = 'NOT RUNNING' WHERE name = 'o000'",
        "INSERT OR REPLACE INTO experiment_status(exp_id, name, status, seconds_diff, modified)"
        " VALUES (2, 'a001', 'RUNNING', 0, '2024-06-01-00:00:00')",
    )
    assert changed == 2
    assert during == before
    assert names(central_db.running(settings)) == ["a001", "a000"]


def test_an_as_times_without_experiment_status_means_nobody_is_running(rows, settings):
    with sqlite3.connect(rows.as_times_db) as conn:
        conn.executescript("DROP TABLE experiment_status; CREATE TABLE experiment_times(name TEXT);")
    assert central_db.statuses(settings) == {}
    assert names(central_db.list_experiments(settings, only_active=True)) == []


def test_an_autosubmit_3_beta_central_db_without_version_column_reads_null(site, settings):
    site.central_db.unlink()
    with sqlite3.connect(site.central_db) as conn:
        conn.executescript(
            "CREATE TABLE experiment(id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR NOT NULL,"
            " description VARCHAR NOT NULL);"
            "INSERT INTO experiment(name, description) VALUES ('a0b1', 'old one');"
        )
    found, total = central_db.list_experiments(settings, autosubmit_version="3.0.0")
    assert (found, total) == ([], 0)
    row = central_db.get_experiment(settings, "a0b1")
    assert (row.description, row.autosubmit_version, row.user) == ("old one", None, None)
    assert central_db.db_version(settings) is None


def test_has_experiment_sees_each_write_of_the_central_db(rows, settings):
    assert central_db.has_experiment(settings, "a000")
    assert central_db.has_experiment(settings, "a000")  # the second from the cached names
    assert not central_db.has_experiment(settings, "b123")
    add_central_row(rows, "b123")  # in the same moment as the read: the name is asked again
    assert central_db.has_experiment(settings, "b123")
    assert not central_db.lacks_experiment(settings, "b123")
    with sqlite3.connect(rows.central_db) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("INSERT INTO experiment(name, description) VALUES ('b124', 'in the wal')")
        assert not central_db.has_experiment(settings, "b124")  # not committed yet
        conn.commit()
        assert rows.central_db.with_name("autosubmit.db-wal").exists()
        assert central_db.has_experiment(settings, "b124")
        conn.execute("DELETE FROM experiment WHERE name = 'a001'")
        conn.commit()
        assert not central_db.has_experiment(settings, "a001")  # the -wal changed: names read again
    rows.central_db.unlink()
    with pytest.raises(Unavailable):
        central_db.has_experiment(settings, "a000")
    assert not central_db.lacks_experiment(settings, "a000")  # an outage decides nothing
