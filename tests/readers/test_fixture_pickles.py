"""Every fixture pickle (../shared/fixtures, the reference's test data) parses completely.

Counts, statuses and names were read by hand from the files (pickletools); they match the
fixture README. The tree is copied to tmp_path first: reading must not change a byte or an
mtime of the copy.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest

from autosubmit_api.readers import cache
from autosubmit_api.readers.job_list import load_job_list
from autosubmit_api.readers.structure import load_dependencies
from tests.fixture_site import copy_fixture_tree, settings_for, snapshot

WAITING, READY, QUEUING, RUNNING, COMPLETED, SUSPENDED = 0, 1, 3, 4, 5, -3

# expid -> (format, number of jobs, {status: count})
EXPECTED = {
    "a003": ("F2", 8, {WAITING: 7, READY: 1}),
    "a007": ("F2", 8, {COMPLETED: 8}),
    "a3tb": ("F1", 55, {COMPLETED: 24, WAITING: 24, QUEUING: 4, SUSPENDED: 2, RUNNING: 1}),
    "a6zj": ("F2", 10, {WAITING: 9, READY: 1}),
    "a8qc": ("F3", 79, {COMPLETED: 79}),
    "a1ve": ("F3", 8, {COMPLETED: 8}),
    "a1vj": ("F4", 8, {WAITING: 7, READY: 1}),
    "a1vx": ("F4", 8, {COMPLETED: 8}),
    "aa6f": ("F4", 10, {COMPLETED: 10}),
}


@pytest.fixture(scope="module")
def fixture_copy(tmp_path_factory):
    return copy_fixture_tree(tmp_path_factory.mktemp("fixtures") / "site")


@pytest.fixture
def fixture_settings(fixture_copy):
    return settings_for(fixture_copy)


@pytest.mark.parametrize("expid", sorted(EXPECTED))
def test_fixture_pickle_parses_completely(fixture_settings, expid):
    fmt, count, statuses = EXPECTED[expid]

    parsed = load_job_list(fixture_settings, expid)

    assert parsed.pkl_format == fmt
    assert len(parsed) == count and len(parsed.by_name) == count
    assert dict(Counter(job.status for job in parsed.jobs)) == statuses
    assert all(job.name.startswith(expid + "_") and job.section for job in parsed.jobs)


def test_a003_f2_details(fixture_settings):
    jobs = load_job_list(fixture_settings, "a003").jobs
    assert [job.name for job in jobs[:3]] == ["a003_LOCAL_SETUP", "a003_REMOTE_SETUP", "a003_20220401_fc0_INI"]
    assert jobs[0].status == READY and jobs[0].wrapper_type == "none"
    sim = jobs[3]
    assert (sim.name, sim.section, sim.date, sim.member, sim.chunk) == (
        "a003_20220401_fc0_1_SIM",
        "SIM",
        datetime(2022, 4, 1),
        "fc0",
        1,
    )
    assert jobs[-1].name == "a003_20220401_fc0_TRANSFER" and jobs[-1].priority == 6


def test_a3tb_python2_f1_details(fixture_settings):
    parsed = load_job_list(fixture_settings, "a3tb")
    setup = parsed.get("a3tb_LOCAL_SETUP")
    assert (setup.id, setup.status, setup.out_path_local) == (24411, COMPLETED, "a3tb_LOCAL_SETUP.20220315133355.out")
    assert setup.out_path_remote == setup.out_path_local
    # Job ids are ints or strings in the same file.
    assert parsed.get("a3tb_REMOTE_SETUP").id == "21128294"
    ini = parsed.get("a3tb_19930501_fc01_INI")
    assert (ini.date, ini.member, ini.chunk) == (datetime(1993, 5, 1), "fc01", None)
    assert parsed.get("a3tb_19930101_fc01_2_CMOROCE").status == RUNNING
    assert {j.name for j in parsed.jobs if j.status == SUSPENDED} == {
        "a3tb_19930101_fc01_1_POST",
        "a3tb_19930501_fc01_1_POST",
    }
    assert Counter(j.section for j in parsed.jobs)["SIM"] == 6


def test_a8qc_f3_edges_equal_the_structure_db(fixture_settings):
    parsed = load_job_list(fixture_settings, "a8qc")
    deps = load_dependencies(fixture_settings, "a8qc", parsed)
    assert len(parsed.pkl_edges) == 116
    assert deps.source == "structure_db" and set(deps.edges()) == set(parsed.pkl_edges)
    first = parsed.jobs[1]
    assert (first.name, first.platform, first.date, first.member) == (
        "a8qc_20220630_000_1_LOCAL_SEND_INITIAL",
        "MARENOSTRUM_ARCHIVE",
        datetime(2022, 6, 30),
        "000",
    )
    assert Counter(j.section for j in parsed.jobs)["SIM"] == 7


def test_a1ve_f3_without_structure_db_uses_the_pickle_edges(fixture_settings):
    parsed = load_job_list(fixture_settings, "a1ve")
    deps = load_dependencies(fixture_settings, "a1ve", parsed)
    assert deps.source == "pkl" and len(deps.edges()) == 11
    assert deps.children["a1ve_SIM"] == ("a1ve_1_ASIM", "a1ve_2_ASIM", "a1ve_3_ASIM")
    asim = parsed.get("a1ve_3_ASIM")
    assert (asim.section, asim.split, asim.splits, asim.platform) == ("ASIM", 3, 3, "LOCAL")
    assert parsed.get("a1ve_INI").out_path_local == "a1ve_INI.20241212151521.out"


def test_a1vj_and_a1vx_f4_details(fixture_settings):
    a1vj = load_job_list(fixture_settings, "a1vj")
    assert a1vj.get("a1vj_LOCAL_SETUP").status == READY
    assert a1vj.get("a1vj_20000101_fc0_2_SIM").chunk == 2
    a1vx = load_job_list(fixture_settings, "a1vx")
    transfer = a1vx.get("a1vx_20000101_fc0_TRANSFER")
    assert (transfer.id, transfer.prev_status, transfer.platform) == ("1955593", 2, "LOCAL")
    assert transfer.start_time == pytest.approx(1743687116.0176291)
    assert transfer.finish_time == 1743687128.0  # from end_time_timestamp
    assert transfer.out_path_remote is None  # _remote_logs is None in 4.1.13: no remote log


def test_aa6f_f4_with_template_enum_and_stale_structure(fixture_settings):
    parsed = load_job_list(fixture_settings, "aa6f")
    sims = [job for job in parsed.jobs if job.section == "SIM"]
    assert [job.name for job in sims[:2]] == ["aa6f_20000101_fc0_1_1_SIM", "aa6f_20000101_fc0_1_2_SIM"]
    assert [(job.chunk, job.split, job.splits) for job in sims[:5]] == [
        (1, 1, 4),
        (1, 2, 4),
        (1, 3, 4),
        (1, 4, 4),
        (2, 1, 4),
    ]
    assert {job.wrapper_type for job in sims} == {"vertical"}
    assert parsed.get("aa6f_POST").wrapper_type == "Simple"
    # Its 3 structure rows use the pre-split names: all dropped, no phantom jobs.
    deps = load_dependencies(fixture_settings, "aa6f", parsed)
    assert deps.source == "structure_db" and deps.edges() == ()


def test_fixture_structure_edges(fixture_settings):
    counts = {}
    for expid in ("a003", "a007", "a3tb", "a6zj", "a1vj", "a1vx"):
        deps = load_dependencies(fixture_settings, expid, load_job_list(fixture_settings, expid))
        counts[expid] = len(deps.edges())
    assert counts == {"a003": 7, "a007": 7, "a3tb": 0, "a6zj": 9, "a1vj": 7, "a1vx": 7}


def test_reading_changes_no_file(fixture_copy, fixture_settings):
    before = snapshot(fixture_copy)
    for expid in sorted(EXPECTED):
        cache.clear()
        parsed = load_job_list(fixture_settings, expid)
        load_dependencies(fixture_settings, expid, parsed)
    assert snapshot(fixture_copy) == before
