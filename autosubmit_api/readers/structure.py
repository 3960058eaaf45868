"""Dependency edges: table `experiment_structure` of `<structures_dir>/structure_<expid>.db`
(docs/data.md A.5), of the 4.2 `db/job_list.db` (A.13) or of the expid's PostgreSQL schema
(A.12), whichever readers/storage.py names for the experiment.

Each row (e_from, e_to) is one edge parent -> child. The file is opened read-only and
never created (the reference creates the table on read). Edges naming a job that is not in
the current job list are dropped: Autosubmit rewrites the table only when the workflow
changes, so stale names occur (aa6f still lists pre-split names). Children and parents are
sorted by name, so answers do not depend on set order (docs/decisions.md Q40).

Fallbacks when the table is missing: the edges an F3 pickle holds itself,
then the `children` column of the history DB's `last = 1` rows (v17+), else no edges.
"""

from __future__ import annotations

import itertools
import logging
import operator
import os
import weakref
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Collection,
    Dict,
    Hashable,
    Iterable,
    List,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
)

from autosubmit_api.config import Settings
from autosubmit_api.errors import DataError, NotFound, Unavailable
from autosubmit_api.models import Dependencies, JobList
from autosubmit_api.readers import cache, job_data, paths, storage, store
from autosubmit_api.readers.job_build import paused_gc
from autosubmit_api.readers.store import Store

if TYPE_CHECKING:  # typing.TypeGuard is Python 3.10+; annotations are not evaluated at run time
    from typing_extensions import TypeGuard

T = TypeVar("T")

log = logging.getLogger(__name__)

TABLE = "experiment_structure"


def build_dependencies(edges: Iterable[Tuple[str, str]], job_list: JobList, source: str) -> Dependencies:
    """Adjacency over the jobs of `job_list`; every job on an edge has an entry in both maps."""
    with paused_gc():
        return _build(edges, job_list, source)


def _strictly_sorted(edges: Iterable[Tuple[str, str]]) -> TypeGuard[Sequence[Tuple[str, str]]]:
    """True for a list/tuple of distinct edges in ascending (parent, child) order."""
    if not isinstance(edges, (list, tuple)):
        return False
    return all(map(operator.lt, edges, itertools.islice(edges, 1, None)))


def _build(edges: Iterable[Tuple[str, str]], job_list: JobList, source: str) -> Dependencies:
    if _strictly_sorted(edges):
        return _build_sorted(edges, job_list, source)
    known = job_list.by_name
    children: Dict[str, List[str]] = {}
    parents: Dict[str, List[str]] = {}
    for parent, child in set(edges):
        # A self-edge is no dependency and would loop the tree and graph walks.
        if parent == child or parent not in known or child not in known:
            continue
        if parent in children:
            children[parent].append(child)
        else:
            children[parent] = [child]
        if child in parents:
            parents[child].append(parent)
        else:
            parents[child] = [parent]
    empty: Tuple[str, ...] = ()
    nodes = sorted(children.keys() | parents.keys())
    return Dependencies(
        children={name: _sorted(children.get(name, empty)) for name in nodes},
        parents={name: _sorted(parents.get(name, empty)) for name in nodes},
        source=source,
    )


def _build_sorted(edges: Sequence[Tuple[str, str]], job_list: JobList, source: str) -> Dependencies:
    """`_build` for distinct edges already in (parent, child) order (the structure DB's,
    sorted by SQLite): every child list is then built in name order, and so is every
    parent list (parents come in ascending order), so no set and no per-list sort are
    needed (74,000 edges: 0.45 s -> 0.30 s CPU with the read)."""
    known = job_list.by_name
    children: Dict[str, List[str]] = {}
    parents: Dict[str, List[str]] = {}
    for parent, child in edges:
        if parent == child or parent not in known or child not in known:
            continue
        kids = children.get(parent)
        if kids is None:
            children[parent] = [child]
        else:
            kids.append(child)
        elders = parents.get(child)
        if elders is None:
            parents[child] = [parent]
        else:
            elders.append(parent)
    empty: Tuple[str, ...] = ()
    nodes = sorted(children.keys() | parents.keys())
    children_of, parents_of = children.get, parents.get
    return Dependencies(
        children={name: tuple(children_of(name, empty)) for name in nodes},
        parents={name: tuple(parents_of(name, empty)) for name in nodes},
        source=source,
    )


def _sorted(names: Collection[str]) -> Tuple[str, ...]:
    # Most jobs have one or two neighbours: skip the sort call for those.
    if len(names) < 2:
        return tuple(names)
    return tuple(sorted(names))


def read_edges(st: Store) -> Optional[Tuple[Tuple[str, str], ...]]:
    """The `experiment_structure` rows as (parent, child) names, or None without the table.

    Only text cells are names. Sorted by the database in code point order (as Python sorts
    str) so `_build` can take its sorted path; it checks the order itself, so another
    collation or duplicate rows only cost the general path.
    """
    if not st.has_table(TABLE):
        return None
    collate = " COLLATE BINARY" if st.kind == "sqlite" else ' COLLATE "C"'
    rows = st.rows(f"SELECT e_from, e_to FROM {st.table(TABLE)} ORDER BY e_from{collate}, e_to{collate}")
    return tuple((a, b) for a, b in rows if isinstance(a, str) and isinstance(b, str))


def edges_marker(st: Store) -> Optional[Tuple[Any, ...]]:
    """A change marker of `experiment_structure` that is cheaper than its rows, for tables
    that share their file with faster-changing ones (4.2 `job_list.db`, a PostgreSQL
    schema); None without the table."""
    if not st.has_table(TABLE):
        return None
    table = st.table(TABLE)
    if st.kind == "sqlite":
        # Row count, top rowid and a weighted sum of name lengths: a rewrite with other
        # edges changes at least one of them in practice.
        return st.one(
            f"SELECT COUNT(*), MAX(rowid), TOTAL(length(e_from) * 7 + length(e_to) * 13 + rowid * 31) FROM {table}"
        )
    # PostgreSQL stamps every written row version with a new xmin.
    return st.one(f"SELECT COUNT(*), MAX(xmin::text::bigint), SUM(xmin::text::bigint) FROM {table}")


def _for_job_list(key: Tuple[Hashable, ...], job_list: JobList, compute: Callable[[], T]) -> T:
    """compute() cached by `key` and this very job list object.

    The entry holds only a weak reference to the job list, so it does not keep an old
    parse alive; if the id was reused by another object, the result is computed afresh.
    """
    ref, value = cache.cached("dependencies", key + (id(job_list),), lambda: (weakref.ref(job_list), compute()))
    if ref() is job_list:
        return value
    return compute()


def load_dependencies(settings: Settings, expid: str, job_list: JobList) -> Dependencies:
    """Parent/child adjacency between the jobs of `job_list`, from the best source available:
    the layout's `experiment_structure` (readers/storage.py), the pickle's own edges, the
    history's `children` column, else none."""
    found = _from_structure(settings, storage.locate(settings, expid), job_list)
    if found is not None:
        return found
    if job_list.pkl_edges:
        found = _for_job_list(("pkl",), job_list, lambda: build_dependencies(job_list.pkl_edges, job_list, "pkl"))
        if found is not None:
            return found
    return _from_history(settings, expid, job_list)


def _from_structure(settings: Settings, where: storage.Storage, job_list: JobList) -> Optional[Dependencies]:
    path = storage.structure_path(settings, where)
    name = os.path.basename(path)

    def build(edges: Optional[Tuple[Tuple[str, str], ...]]) -> Optional[Dependencies]:
        return None if edges is None else build_dependencies(edges, job_list, "structure_db")

    try:
        if where.postgres:
            with store.open_schema(settings, where.expid, name) as st:
                marker = edges_marker(st)
                if marker is None:
                    return None
                key = ("structure", settings.db_connection_url, where.expid, marker)
                return _for_job_list(key, job_list, lambda: build(read_edges(st)))
        file_marker = cache.file_key(path)
        if file_marker is None:
            return None
        if where.job_db:
            # job_list.db changes with every save of a job: the edges' own marker is read
            # only when the file changed, and the edges only when that marker did.
            marker = cache.cached("edges_marker", file_marker, lambda: _file_edges_marker(settings, path))
            if marker is None:
                return None
        else:
            marker = file_marker
        return _for_job_list(("structure", path, marker), job_list, lambda: build(_file_edges(settings, path)))
    except NotFound:
        return None
    except (Unavailable, DataError) as exc:
        # Locked past the timeout by a running Autosubmit, or unreadable: the next best
        # source answers now; nothing is cached for it, so the next request retries.
        log.warning("edges of %s not read: %s", where.expid, exc.message)
        return None


def _file_edges_marker(settings: Settings, path: str) -> Optional[Tuple[Any, ...]]:
    with store.open_file(settings, path, os.path.basename(path)) as st:
        return edges_marker(st)


def _file_edges(settings: Settings, path: str) -> Optional[Tuple[Tuple[str, str], ...]]:
    with store.open_file(settings, path, os.path.basename(path)) as st:
        return read_edges(st)


def _from_history(settings: Settings, expid: str, job_list: JobList) -> Dependencies:
    children = job_data.children_map(settings, expid)
    if not children:
        return Dependencies(children={}, parents={}, source="none")
    history_key = cache.file_key(paths.job_data_db(settings, expid)) or ()

    def compute() -> Dependencies:
        edges = ((parent, child) for parent, kids in children.items() for child in kids)
        return build_dependencies(edges, job_list, "job_data")

    return _for_job_list(("job_data",) + tuple(history_key), job_list, compute)
