"""readers/job_data.py over history DBs written by the factory in every schema version."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import pytest

from autosubmit_api.errors import DataError, NotFound
from tests.factory import JobDataSpec, JobSpec, RunSpec, history
from autosubmit_api.readers import job_data

D = datetime(2000, 1, 1)


def _jobs(expid="a000"):
    return [
        JobSpec(name=f"{expid}_LOCAL_SETUP", section="LOCAL_SETUP", status=5),
        JobSpec(
            name=f"{expid}_20000101_fc0_INI",
            section="INI",
            status=5,
            date=D,
            member="fc0",
            parents=(f"{expid}_LOCAL_SETUP",),
        ),
        JobSpec(
            name=f"{expid}_20000101_fc0_1_SIM",
            section="SIM",
            status=5,
            date=D,
            member="fc0",
            chunk=1,
            processors="48",
            parents=(f"{expid}_20000101_fc0_INI",),
        ),
        JobSpec(
            name=f"{expid}_20000101_fc0_2_SIM",
            section="SIM",
            status=-1,
            date=D,
            member="fc0",
            chunk=2,
            parents=(f"{expid}_20000101_fc0_1_SIM",),
        ),
        JobSpec(
            name=f"{expid}_20000101_fc0_3_SIM",
            section="SIM",
            status=4,
            date=D,
            member="fc0",
            chunk=3,
            split=1,
            splits=2,
        ),
        JobSpec(name=f"{expid}_POST", section="POST", status=0),
    ]


def _write(site, expid, runs, rows, version, **kwargs):
    history.write_job_data(site.jobdata_dir / f"job_data_{expid}.db", runs, rows, version=version, **kwargs)


@pytest.mark.parametrize("version", [11, 12, 14, 15, 16, 17, 18, 19, 21])
def test_every_schema_version_reads_all_runs_and_rows(site, settings, version):
    runs, rows = history.default_history(_jobs())
    _write(site, "a000", runs, rows, version)
    h = job_data.load_history(settings, "a000")
    assert h.user_version == version
    assert len(h.runs) == len(runs) == 2
    assert [r.job_name for r in h.rows] == [r.job_name for r in rows]
    assert [r.id for r in h.rows] == list(range(1, len(rows) + 1))
    sim = h.last_rows["a000_20000101_fc0_1_SIM"]
    assert sim.status == "COMPLETED" and sim.ncpus == 48 and sim.section == "SIM"
    assert sim.run_time > 0 and sim.queue_time > 0
    if version >= 12:
        assert {r.run_id for r in h.rows} == {1, 2}
    else:
        assert {r.run_id for r in h.rows} == {None}
    if version >= 17:
        assert h.last_rows["a000_LOCAL_SETUP"].children_names == ("a000_20000101_fc0_INI",)
    else:
        assert h.last_rows["a000_LOCAL_SETUP"].children is None
    third = h.last_rows["a000_20000101_fc0_3_SIM"]
    assert (third.split, third.splits) == ((1, 2) if version >= 21 else (None, None))


def test_default_history_has_retrials_and_consistent_times(site, settings):
    runs, rows = history.default_history(_jobs())
    _write(site, "a000", runs, rows, 18)
    h = job_data.load_history(settings, "a000")
    attempts = h.rows_of("a000_20000101_fc0_INI")
    assert [r.status for r in attempts] == ["FAILED", "COMPLETED"]
    assert [r.last for r in attempts] == [0, 1]
    assert [r.counter for r in attempts] == [1, 2]
    assert attempts[0].run_id == 1 and attempts[1].run_id == 2
    running = h.last_rows["a000_20000101_fc0_3_SIM"]
    assert running.status == "RUNNING" and running.start > 0 and running.finish == 0
    assert h.run(2).finish == 0 and h.run(1).finish > 0
    assert "a000_POST" not in h.rows_by_name  # never ran
    for row in h.rows:
        assert row.submit <= row.start or row.start == 0
        assert row.finish == 0 or row.finish >= row.start


def test_v17_upgraded_file_has_modified_last_and_is_read_by_name(site, settings):
    runs = [
        RunSpec(
            run_id=1,
            start=1_600_000_000,
            finish=1_600_000_600,
            modified="2020-09-13-12:36:40",
            chunk_unit="month",
            chunk_size=1,
            completed=1,
            total=1,
        )
    ]
    rows = [JobDataSpec(job_name="a000_LOCAL_SETUP", section="LOCAL_SETUP", run_id=1, submit=1, start=2, finish=3)]
    _write(site, "a000", runs, rows, 17)
    conn = sqlite3.connect(site.jobdata_dir / "job_data_a000.db")
    cols = [r[1] for r in conn.execute("PRAGMA table_info(experiment_run)")]
    conn.close()
    assert cols[-1] == "modified" and cols[2] == "start"
    run = job_data.load_history(settings, "a000").runs[0]
    assert (run.start, run.finish, run.modified, run.chunk_unit) == (
        1_600_000_000,
        1_600_000_600,
        "2020-09-13-12:36:40",
        "month",
    )


def test_swapped_legacy_rows_are_corrected_per_row_and_raw_values_kept(site, settings):
    rows = [
        JobDataSpec(job_name="a000_LOCAL_SETUP", section="LOCAL_SETUP", member="", run_id=1),
        JobDataSpec(job_name="a000_19930101_fc01_1_SIM", section="SIM", member="fc01", chunk=1, run_id=1),
        JobDataSpec(job_name="a000_19930101_fc01_2_SIM", section="SIM", member="fc01", chunk=2, run_id=1),
    ]
    _write(site, "a000", [RunSpec(run_id=1, start=1)], rows, 17, swapped={0, 1})
    h = job_data.load_history(settings, "a000")
    first, second, third = h.rows
    assert (first.raw_section, first.raw_member, first.swapped) == ("", "LOCAL_SETUP", True)
    assert (first.section, first.member) == ("LOCAL_SETUP", "")
    assert (second.raw_section, second.raw_member) == ("fc01", "SIM")
    assert (second.section, second.member, second.swapped) == ("SIM", "fc01", True)
    assert (third.section, third.member, third.swapped) == ("SIM", "fc01", False)


def test_missing_history_is_a_distinct_not_found_or_none_when_optional(settings):
    with pytest.raises(job_data.HistoryNotFound) as info:
        job_data.load_history(settings, "a000")
    assert isinstance(info.value, NotFound)
    assert job_data.load_history(settings, "a000", optional=True) is None
    assert job_data.children_map(settings, "a000") == {}


def test_children_map_comes_from_last_rows(site, settings):
    runs, rows = history.default_history(_jobs())
    _write(site, "a000", runs, rows, 18)
    children = job_data.children_map(settings, "a000")
    assert children["a000_20000101_fc0_INI"] == ("a000_20000101_fc0_1_SIM",)
    assert children["a000_20000101_fc0_3_SIM"] == ()
    _write(site, "a001", runs, rows, 16)
    assert job_data.children_map(settings, "a001") == {}


def test_last_only_reads_current_rows(site, settings):
    runs, rows = history.default_history(_jobs())
    _write(site, "a000", runs, rows, 18)
    full = job_data.load_history(settings, "a000")
    last = job_data.load_history(settings, "a000", last_only=True)
    assert last.last_only and not full.last_only
    assert all(r.last == 1 for r in last.rows)
    assert last.last_rows == full.last_rows
    assert len(last.rows) < len(full.rows)


def test_cache_follows_the_file(site, settings):
    runs, rows = history.default_history(_jobs())
    _write(site, "a000", runs, rows, 18)
    first = job_data.load_history(settings, "a000")
    assert job_data.load_history(settings, "a000") is first
    _write(site, "a000", runs[:1], [r for r in rows if r.run_id == 1], 18)
    second = job_data.load_history(settings, "a000")
    assert len(second.runs) == 1 and second is not first


def test_last_rows_ignore_packed_4117_rows(site, settings):
    rows = [
        JobDataSpec(job_name="a000_SIM", section="SIM", rowtype=1, last=1, run_id=1),
        JobDataSpec(job_name="a000_POST", section="POST", rowtype=17128472368642, last=1, run_id=1),
    ]
    _write(site, "a000", [RunSpec(run_id=1, start=1)], rows, 21)
    h = job_data.load_history(settings, "a000")
    assert set(h.last_rows) == {"a000_POST"}
    assert h.latest_rows["a000_SIM"].rowtype == 1


@pytest.mark.parametrize("content", [b"", b"this is not a database at all" * 100])
def test_empty_or_corrupt_file_is_a_data_error_naming_the_file(site, settings, content):
    (site.jobdata_dir / "job_data_a000.db").write_bytes(content)
    with pytest.raises(DataError) as info:
        job_data.load_history(settings, "a000")
    assert "job_data_a000.db" in info.value.message
    assert str(site.root) not in info.value.message


@pytest.mark.slow
def test_large_history_is_read_completely(site, settings):
    rows = [
        JobDataSpec(
            job_name=f"a000_{i % 997}_SIM",
            counter=i,
            section="SIM",
            submit=i + 1,
            start=i + 2,
            finish=i + 3,
            last=1 if i >= 200_000 - 997 else 0,
            run_id=1,
        )
        for i in range(200_000)
    ]
    _write(site, "a000", [RunSpec(run_id=1, start=1)], rows, 21)
    h = job_data.load_history(settings, "a000")
    assert len(h.rows) == 200_000
    assert h.rows[-1].counter == 199_999
    assert len(h.last_rows) == 997


def test_sqlalchemy_ddl_file_reads_the_same(site, settings):
    runs, rows = history.default_history(_jobs())
    _write(site, "a000", runs, rows, 18, style="sqlalchemy")
    _write(site, "a001", runs, rows, 18)
    conn = sqlite3.connect(site.jobdata_dir / "job_data_a000.db")
    ddl = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'job_data'").fetchone()[0]
    conn.close()
    assert "unique_counter_and_job_name" in ddl and "AUTOINCREMENT" not in ddl
    a, b = job_data.load_history(settings, "a000"), job_data.load_history(settings, "a001")
    assert a.rows == b.rows and a.runs == b.runs


def test_wrapped_jobs_carry_the_package_code(site, settings):
    jobs = _jobs()
    package = "a000_ASThread_17128472368642_1_2"
    runs, rows = history.default_history(jobs, packages={package: [jobs[2].name, jobs[3].name]})
    _write(site, "a000", runs, rows, 18)
    h = job_data.load_history(settings, "a000")
    assert {r.rowtype for r in h.rows_of(jobs[2].name)} == {17128472368642}
    assert {r.rowtype for r in h.rows_of(jobs[0].name)} == {2}
