"""Writes `structure_<expid>.db` (table experiment_structure, docs/data.md A.5) from JobSpec.parents.

One row per edge parent -> child, with the DDL of Autosubmit <= 4.1.15 (or, with
`layout="sqlalchemy"`, the 4.1.16+ primary-key DDL). Parents that name no job are written
as they are: stale edges occur in real files and the reader must drop them.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Iterable, Sequence, Tuple, Union

from tests.factory.specs import JobSpec

DDL = {
    "classic": "CREATE TABLE experiment_structure(e_from text NOT NULL, e_to text NOT NULL, UNIQUE(e_from, e_to))",
    "sqlalchemy": "CREATE TABLE experiment_structure(e_from TEXT NOT NULL, e_to TEXT NOT NULL,"
    " PRIMARY KEY (e_from, e_to))",
}


def edges_of(jobs: Sequence[JobSpec]) -> Iterable[Tuple[str, str]]:
    for job in jobs:
        for parent in job.parents:
            yield (parent, job.name)


def write_structure(
    path: Union[str, Path],
    jobs: Sequence[JobSpec],
    *,
    layout: str = "classic",
    extra_edges: Sequence[Tuple[str, str]] = (),
) -> None:
    """Replace `path` with a structure DB holding the jobs' edges (plus `extra_edges`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if tmp.exists():
        tmp.unlink()
    with sqlite3.connect(tmp) as conn:
        conn.execute(DDL[layout])
        conn.executemany(
            "INSERT OR IGNORE INTO experiment_structure(e_from, e_to) VALUES (?, ?)",
            list(edges_of(jobs)) + list(extra_edges),
        )
    conn.close()
    os.replace(tmp, path)
