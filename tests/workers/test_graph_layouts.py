"""Graph layout worker: layouts of running experiments are stored, then reused."""
from __future__ import annotations

import sqlite3

from autosubmit_api.factory import JobSpec
from autosubmit_api.readers import graph_layout
from autosubmit_api.workers import graph_layouts


def _rows(site, expid):
    with sqlite3.connect(site.graph_dir / f"graph_data_{expid}.db") as conn:
        return conn.execute("SELECT job_name, x, y FROM experiment_graph_draw ORDER BY id").fetchall()


def test_a_running_experiment_gets_its_layout_stored(site, settings, make_experiment):
    exp = make_experiment("a000", status="RUNNING")
    make_experiment("a001", status="NOT RUNNING")
    graph_layouts.run(settings)
    rows = _rows(site, "a000")
    assert {name for name, _, _ in rows} == {job.name for job in exp.jobs}
    assert all(isinstance(x, int) and isinstance(y, int) for _, x, y in rows)
    assert not (site.graph_dir / "graph_data_a001.db").exists()
    # Each job sits below the parent through which the layered layout first reached it.
    y = {name: yy for name, _, yy in rows}
    for job in exp.jobs:
        if job.parents:
            assert min(y[parent] for parent in job.parents) < y[job.name]


def test_a_layout_covering_every_job_is_reused(site, settings, make_experiment):
    exp = make_experiment("a000", status="RUNNING")
    saved = {job.name: (i, -i) for i, job in enumerate(exp.jobs)}
    graph_layout.write_layout(settings, "a000", saved)
    assert graph_layouts.refresh(settings, "a000") == "reused"
    assert _rows(site, "a000") == [(name, x, y) for name, (x, y) in saved.items()]


def test_a_layout_missing_a_new_job_is_recomputed(site, settings, make_experiment):
    jobs = [JobSpec("a000_LOCAL_SETUP", "LOCAL_SETUP"), JobSpec("a000_SIM", "SIM", parents=("a000_LOCAL_SETUP",))]
    make_experiment("a000", jobs=jobs, status="RUNNING")
    graph_layout.write_layout(settings, "a000", {"a000_LOCAL_SETUP": (1, 1)})
    assert graph_layouts.refresh(settings, "a000") == "stored"
    assert {name for name, _, _ in _rows(site, "a000")} == {"a000_LOCAL_SETUP", "a000_SIM"}


def test_an_unreadable_experiment_is_skipped_and_others_still_run(site, settings, make_experiment):
    broken = make_experiment("a000", status="RUNNING")
    broken.pkl_path.write_bytes(b"not a pickle")
    make_experiment("a001", status="RUNNING")
    graph_layouts.run(settings)
    assert not (site.graph_dir / "graph_data_a000.db").exists()
    assert _rows(site, "a001")
