"""Graph layout worker: layouts of running experiments are stored, then reused, on a SQLite
site and on the same site copied into PostgreSQL (the `backend` fixture). The layouts are
the API's own `graph_data_<expid>.db` files in `[graph] path` on both backends."""

from __future__ import annotations

import sqlite3

from tests.factory import JobSpec
from autosubmit_api.readers import central_store, graph_layout
from autosubmit_api.workers import graph_layouts, status


def _rows(site, expid):
    with sqlite3.connect(site.graph_dir / f"graph_data_{expid}.db") as conn:
        return conn.execute("SELECT job_name, x, y FROM experiment_graph_draw ORDER BY id").fetchall()


def _below_a_parent(rows, jobs):
    """Each job sits below the parent through which the layered layout first reached it."""
    y = {name: yy for name, _, yy in rows}
    return all(min(y[parent] for parent in job.parents) < y[job.name] for job in jobs if job.parents)


def test_a_running_experiment_gets_its_layout_stored(backend, site, make_experiment):
    exp = make_experiment("a000", status="RUNNING")
    make_experiment("a001", status="NOT RUNNING")
    settings = backend.settings()
    graph_layouts.run(settings)
    rows = _rows(site, "a000")
    assert {name for name, _, _ in rows} == {job.name for job in exp.jobs}
    assert all(isinstance(x, int) and isinstance(y, int) for _, x, y in rows)
    assert not (site.graph_dir / "graph_data_a001.db").exists()
    assert _below_a_parent(rows, exp.jobs)


def test_a_layout_covering_every_job_is_reused(backend, site, make_experiment):
    exp = make_experiment("a000", status="RUNNING")
    settings = backend.settings()
    saved = {job.name: (i, -i) for i, job in enumerate(exp.jobs)}
    graph_layout.write_layout(settings, "a000", saved)
    assert graph_layouts.refresh(settings, "a000") == "reused"
    assert _rows(site, "a000") == [(name, x, y) for name, (x, y) in saved.items()]


def test_a_layout_missing_a_new_job_is_recomputed(backend, site, make_experiment):
    jobs = [JobSpec("a000_LOCAL_SETUP", "LOCAL_SETUP"), JobSpec("a000_SIM", "SIM", parents=("a000_LOCAL_SETUP",))]
    make_experiment("a000", jobs=jobs, status="RUNNING")
    settings = backend.settings()
    graph_layout.write_layout(settings, "a000", {"a000_LOCAL_SETUP": (1, 1)})
    assert graph_layouts.refresh(settings, "a000") == "stored"
    assert {name for name, _, _ in _rows(site, "a000")} == {"a000_LOCAL_SETUP", "a000_SIM"}


def test_a_job_added_after_the_layout_was_stored_forces_a_recompute(backend, site, make_experiment):
    exp = make_experiment("a000", status="RUNNING")
    settings = backend.settings()
    assert graph_layouts.refresh(settings, "a000") == "stored"
    assert graph_layouts.refresh(settings, "a000") == "reused"
    last = exp.jobs[-1].name
    backend.add_job(exp, JobSpec("a000_EXTRA", "EXTRA", parents=(last,)))
    assert graph_layouts.refresh(settings, "a000") == "stored"
    rows = _rows(site, "a000")
    assert {name for name, _, _ in rows} == {job.name for job in exp.jobs}
    assert "a000_EXTRA" in {name for name, _, _ in rows}
    assert _below_a_parent(rows, exp.jobs)
    assert graph_layouts.refresh(settings, "a000") == "reused"


def test_the_status_worker_decides_which_layouts_are_stored_and_a_second_run_reuses_them(
    backend, site, make_experiment
):
    exp = make_experiment("a000")
    idle = make_experiment("a001")
    settings = backend.settings()
    backend.age_pkl(idle, 7200)
    status.run(settings)  # a000 RUNNING (fresh pickle), a001 NOT RUNNING
    assert {r["name"]: r["status"] for r in central_store.status_rows(settings)} == {"a000": "RUNNING"}
    graph_layouts.run(settings)
    stored = site.graph_dir / "graph_data_a000.db"
    assert {name for name, _, _ in _rows(site, "a000")} == {job.name for job in exp.jobs}
    assert not (site.graph_dir / "graph_data_a001.db").exists()
    written = (stored.stat().st_mtime_ns, stored.stat().st_ino)
    graph_layouts.run(settings)
    assert (stored.stat().st_mtime_ns, stored.stat().st_ino) == written  # reused, not rewritten


def test_an_unreadable_experiment_is_skipped_and_others_still_run(backend, site, make_experiment):
    broken = make_experiment("a000", status="RUNNING")
    broken.pkl_path.write_bytes(b"not a pickle")
    make_experiment("a001", status="RUNNING")
    settings = backend.settings()
    graph_layouts.run(settings)
    assert not (site.graph_dir / "graph_data_a000.db").exists()
    assert _rows(site, "a001")
