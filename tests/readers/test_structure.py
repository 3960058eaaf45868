"""readers/structure.py: edges from structure_<expid>.db, stale names, fallbacks and the cache."""

from __future__ import annotations

import os
import sqlite3

from tests.factory import JobDataSpec, set_statuses, structure, workflow
from autosubmit_api.readers import paths
from autosubmit_api.readers.job_list import load_job_list
from autosubmit_api.readers.structure import load_dependencies


def _edges(jobs):
    return {(parent, job.name) for job in jobs for parent in job.parents}


def _deps(settings, expid="a000"):
    return load_dependencies(settings, expid, load_job_list(settings, expid))


def test_edges_come_from_the_structure_db(make_experiment, settings):
    experiment = make_experiment("a000", workflow.standard_jobs("a000", chunks=3), pkl_format="F4")

    deps = _deps(settings)

    assert deps.source == "structure_db"
    assert set(deps.edges()) == _edges(experiment.jobs)
    sim2 = "a000_20000101_fc0_2_SIM"
    assert deps.parents[sim2] == ("a000_20000101_fc0_1_SIM", "a000_20000101_fc0_INI")
    assert deps.children["a000_20000101_fc0_1_SIM"] == ("a000_20000101_fc0_1_POST", sim2)


def test_children_and_parents_are_sorted_and_every_edge_end_has_an_entry(make_experiment, settings):
    make_experiment("a000", workflow.standard_jobs("a000", members=("fc1", "fc0"), chunks=2))

    deps = _deps(settings)

    for mapping in (deps.children, deps.parents):
        assert list(mapping) == sorted(mapping)
        assert all(list(names) == sorted(names) for names in mapping.values())
    for parent, child in deps.edges():
        assert child in deps.children and parent in deps.parents
    assert deps.children["a000_20000101_fc0_CLEAN"] == ()
    assert deps.parents["a000_LOCAL_SETUP"] == ()


def test_stale_edges_naming_absent_jobs_are_dropped(make_experiment, settings, site):
    experiment = make_experiment("a000", workflow.standard_jobs("a000"), pkl_format="F4")
    stale = [("a000_20000101_fc0_1_1_SIM", "a000_POST"), ("a000_LOCAL_SETUP", "a000_GONE"), ("a000_GONE", "a000_OTHER")]
    structure.write_structure(site.structures_dir / "structure_a000.db", experiment.jobs, extra_edges=stale)

    deps = _deps(settings)

    assert set(deps.edges()) == _edges(experiment.jobs)
    for name in ("a000_GONE", "a000_OTHER", "a000_20000101_fc0_1_1_SIM", "a000_POST"):
        assert name not in deps.children and name not in deps.parents


def test_the_4_1_16_primary_key_layout_reads_the_same(make_experiment, settings, site):
    experiment = make_experiment("a000", workflow.standard_jobs("a000"))
    structure.write_structure(site.structures_dir / "structure_a000.db", experiment.jobs, layout="sqlalchemy")
    assert set(_deps(settings).edges()) == _edges(experiment.jobs)


def test_an_empty_table_means_no_edges(make_experiment, settings, site):
    make_experiment("a000", workflow.standard_jobs("a000"), pkl_format="F3")
    structure.write_structure(site.structures_dir / "structure_a000.db", [])

    deps = _deps(settings)

    assert deps.source == "structure_db" and deps.edges() == ()


def test_missing_structure_db_falls_back_to_the_f3_pickle_edges(make_experiment, settings):
    experiment = make_experiment("a000", workflow.standard_jobs("a000"), pkl_format="F3", structure=False)
    assert not os.path.exists(paths.structure_db(settings, "a000"))

    deps = _deps(settings)

    assert deps.source == "pkl"
    assert set(deps.edges()) == _edges(experiment.jobs)
    assert not os.path.exists(paths.structure_db(settings, "a000"))


def test_a_structure_db_without_the_table_is_not_changed_and_falls_back(make_experiment, settings):
    experiment = make_experiment("a000", workflow.standard_jobs("a000"), pkl_format="F3", structure=False)
    path = paths.structure_db(settings, "a000")
    sqlite3.connect(path).close()  # an empty database file
    before = (os.path.getsize(path), os.stat(path).st_mtime_ns)

    deps = _deps(settings)

    assert deps.source == "pkl" and set(deps.edges()) == _edges(experiment.jobs)
    assert (os.path.getsize(path), os.stat(path).st_mtime_ns) == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0


def test_missing_structure_db_falls_back_to_the_history_children(make_experiment, settings):
    jobs = workflow.standard_jobs("a000")
    rows = [
        JobDataSpec(
            job_name=job.name,
            section=job.section,
            children=",".join(child.name for child in jobs if job.name in child.parents),
        )
        for job in jobs
    ]
    make_experiment("a000", jobs, pkl_format="F4", structure=False, job_data=rows, job_data_version=18)

    deps = _deps(settings)

    assert deps.source == "job_data"
    assert set(deps.edges()) == _edges(jobs)


def test_no_source_at_all_means_no_edges(make_experiment, settings):
    make_experiment("a000", workflow.standard_jobs("a000"), pkl_format="F4", structure=False, job_data_version=0)
    deps = _deps(settings)
    assert deps.source == "none" and deps.edges() == () and deps.children == {}


def test_cached_while_db_and_job_list_are_unchanged(make_experiment, settings, site):
    experiment = make_experiment("a000", workflow.standard_jobs("a000"), pkl_format="F4")
    first = _deps(settings)
    assert _deps(settings) is first

    # A new job list (the pickle changed) gives a new adjacency over its jobs.
    set_statuses(experiment, {experiment.jobs[-1].name: 5})
    assert _deps(settings) is not first

    # A rewritten structure DB is read again.
    current = _deps(settings)
    jobs = experiment.jobs
    structure.write_structure(site.structures_dir / "structure_a000.db", jobs[:3])
    path = paths.structure_db(settings, "a000")
    stamp = os.stat(path).st_mtime_ns + 5_000_000_000
    os.utime(path, ns=(stamp, stamp))
    changed = _deps(settings)
    assert changed is not current
    assert set(changed.edges()) == _edges(jobs[:3])
