"""readers/structure.py: the sorted fast path (structure DB edges sorted by SQLite) builds
exactly the adjacency of the general path, and the DB read returns its edges sorted."""

from __future__ import annotations

import random
import sqlite3

from autosubmit_api.config import Settings
from autosubmit_api.models import JobList
from autosubmit_api.readers import store, structure


def _job_list(names):
    return JobList(
        expid="a000",
        jobs=(),
        pkl_format="F4",
        pkl_mtime=0,
        pkl_path="",
        pkl_edges=(),
        by_name={name: None for name in names},
    )


def _as_lists(deps):
    return list(deps.children.items()), list(deps.parents.items())


def test_sorted_and_general_paths_build_the_same_adjacency():
    rng = random.Random(7)
    names = [f"a000_{rng.choice('ABCxyz')}{i}_SIM" for i in range(300)] + ["a000_é_POST", "a000_Z"]
    edges = {(rng.choice(names), rng.choice(names)) for _ in range(900)}
    edges.add((names[0], names[0]))  # a self-edge: dropped by both
    edges.add(("a000_gone", names[1]))  # a job not in the pkl: dropped by both
    jobs = _job_list(names)
    ordered = tuple(sorted(edges))
    assert structure._strictly_sorted(ordered)
    shuffled = list(edges) + [ordered[0]]  # unsorted, with a duplicate: the general path
    assert not structure._strictly_sorted(shuffled)
    fast = structure.build_dependencies(ordered, jobs, "structure_db")
    general = structure.build_dependencies(shuffled, jobs, "structure_db")
    assert _as_lists(fast) == _as_lists(general)
    assert all(list(kids) == sorted(kids) for kids in fast.children.values())
    assert all(list(elders) == sorted(elders) for elders in fast.parents.values())
    assert names[0] not in fast.children.get(names[0], ())


def test_the_structure_db_edges_come_back_sorted_and_text_only(tmp_path):
    path = tmp_path / "structure_a000.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE experiment_structure (e_from text NOT NULL, e_to text NOT NULL, UNIQUE(e_from, e_to))"
        )
        conn.executemany(
            "INSERT INTO experiment_structure VALUES (?, ?)",
            [("b", "a"), ("a", "c"), ("a", "b"), ("é", "a"), ("Z", "a"), ("x", b"blob")],
        )
    with store.open_file(Settings(local_root_dir=str(path.parent)), str(path)) as st:
        edges = structure.read_edges(st)
    assert edges == (("Z", "a"), ("a", "b"), ("a", "c"), ("b", "a"), ("é", "a"))
    assert structure._strictly_sorted(edges)
