"""Where an experiment's job list, edges and packages come from, decided once per experiment
from what exists (docs/storage.md):

| site       | job list                          | edges                     | packages                 |
|------------|-----------------------------------|---------------------------|--------------------------|
| SQLite 4.2 | `db/job_list.db` table `jobs`     | its `experiment_structure`| its `wrappers_*` tables  |
| SQLite 4.1 | `pkl/job_list_<expid>.pkl`        | `structure_<expid>.db`    | `job_packages_<expid>.db`|
| PG 4.2     | schema `<expid>`, table `jobs`    | schema's `experiment_structure` | schema's wrapper tables |
| PG 4.1.16+ | `public.job_pkl` row of the expid | schema's `experiment_structure` | schema's wrapper tables |

`db/job_list.db` wins over a pickle an upgrade left behind; on PostgreSQL the `jobs` table
wins over `job_pkl`. Older PostgreSQL sites that kept `job_pkl` inside the expid schema are
still read. History and user metrics do not depend on the layout: `job_data_<expid>.db` /
`metrics_<expid>.db` on SQLite, the expid schema on PostgreSQL (readers/store.py).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional, Tuple

from autosubmit_api.config import Settings
from autosubmit_api.errors import NotFound
from autosubmit_api.readers import backend, cache, paths, sqlite, store

JOB_DB = "db"  # the 4.2 `jobs` table (SQLite job_list.db or the expid schema)
PICKLE = "pkl"  # the pickle (a file, or a `job_pkl` row on PostgreSQL)


@dataclass(frozen=True)
class Storage:
    expid: str
    postgres: bool
    job_list: Optional[str]  # JOB_DB, PICKLE, or None: the experiment has no job list
    pkl_schema: Optional[str] = None  # PostgreSQL: the schema whose job_pkl holds the row

    @property
    def job_db(self) -> bool:
        return self.job_list == JOB_DB


def locate(settings: Settings, expid: str) -> Storage:
    """The experiment's layout, from what exists now (a few stats, or one or two queries)."""
    paths.check_expid(expid)
    if backend.is_postgres(settings):
        return _locate_postgres(settings, expid)
    db = paths.job_list_db(settings, expid)
    try:
        # A 0-byte file is a path some tool opened, not a database Autosubmit wrote.
        if os.path.isfile(db) and os.path.getsize(db) > 0:
            return Storage(expid, False, JOB_DB)
    except OSError:
        pass
    if os.path.isfile(paths.job_list_pkl(settings, expid)):
        return Storage(expid, False, PICKLE)
    return Storage(expid, False, None)


def _locate_postgres(settings: Settings, expid: str) -> Storage:
    with store.open_schema(settings, expid, "the job list tables") as st:
        return locate_in(st, expid)


def locate_in(st: store.Store, expid: str) -> Storage:
    """`locate` on a PostgreSQL site, with a store already open (one connection for the
    layout and the reads that follow it)."""
    schema = sqlite.quote_ident(expid)
    # to_regclass: catalog lookups, no error for a missing schema or table.
    jobs, default_pkl, schema_pkl = st.one(
        "SELECT to_regclass(:jobs), to_regclass('job_pkl'), to_regclass(:pkl)",
        {"jobs": f"{schema}.jobs", "pkl": f"{schema}.job_pkl"},
    )
    if jobs is not None:
        return Storage(expid, True, JOB_DB)
    # Autosubmit 4.1.16/4.1.17 keep job_pkl in the default schema keyed by expid (docs/data.md
    # A.12); an earlier reading of that layout put it in the expid schema: both are read.
    for table, holder in ((default_pkl, None), (schema_pkl, expid)):
        if table is None:
            continue
        if st.first(f"SELECT 1 FROM {table} WHERE expid = :e AND pkl IS NOT NULL", {"e": expid}):
            if holder is None:
                holder = str(
                    st.one(
                        "SELECT n.nspname FROM pg_catalog.pg_class c JOIN pg_catalog."
                        "pg_namespace n ON c.relnamespace = n.oid WHERE c.oid = "
                        "CAST(:t AS regclass)",
                        {"t": table},
                    )[0]
                )
            return Storage(expid, True, PICKLE, pkl_schema=holder)
    return Storage(expid, True, None)


def open_job_db(settings: Settings, where: Storage) -> contextlib.AbstractContextManager[store.Store]:
    """The store holding the 4.2 tables (`jobs`, `experiment_structure`, `sections`,
    wrappers): `db/job_list.db`, or the expid schema."""
    label = f"the job list of {where.expid}" if where.postgres else "job_list.db"
    return store.open_experiment(settings, where.expid, paths.job_list_db(settings, where.expid), label)


def job_db_file(settings: Settings, expid: str) -> Optional[Tuple[Any, ...]]:
    """The identity of `db/job_list.db` on an SQLite site: (path, mtime_ns, size) of the file
    and of its `-wal` file if any (a commit changes one of them); None on PostgreSQL."""
    if backend.is_postgres(settings):
        return None
    return cache.sqlite_key(paths.job_list_db(settings, expid))


def structure_path(settings: Settings, where: Storage) -> str:
    """The SQLite file holding the edges (`experiment_structure`) of this layout."""
    if where.job_db:
        return paths.job_list_db(settings, where.expid)
    return paths.structure_db(settings, where.expid)


def packages_path(settings: Settings, where: Storage) -> str:
    """The SQLite file holding the wrapper tables of this layout."""
    if where.job_db:
        return paths.job_list_db(settings, where.expid)
    return paths.packages_db(settings, where.expid)


def pkl_row_identity(settings: Settings, where: Storage) -> Optional[Tuple[str, int]]:
    """(modified, byte length) of a PostgreSQL `job_pkl` row, without its bytes."""
    with store.open_schema(settings, "public", "job_pkl") as st:
        row = st.first(
            f"SELECT modified, octet_length(pkl) FROM {_pkl_table(where)} WHERE expid = :e", {"e": where.expid}
        )
    if row is None or row[1] is None:
        return None
    return (str(row[0]), int(row[1]))


def pkl_bytes(settings: Settings, where: Storage) -> Tuple[bytes, Optional[str]]:
    """(pickle bytes, `modified` text) of a PostgreSQL `job_pkl` row; NotFound without one."""
    with store.open_schema(settings, "public", "job_pkl") as st:
        row = st.first(f"SELECT pkl, modified FROM {_pkl_table(where)} WHERE expid = :e", {"e": where.expid})
    if row is None or row[0] is None:
        raise no_job_list(where.expid, postgres=True)
    return bytes(row[0]), row[1]


def no_job_list(expid: str, *, postgres: bool) -> NotFound:
    """The NotFound of an experiment with no job list in any layout, naming where we looked."""
    if postgres:
        return NotFound(f"{expid} has no job list (no row in public.job_pkl, no {expid}.jobs table)")
    return NotFound(f"{expid} has no job list (neither pkl/job_list_{expid}.pkl nor db/job_list.db)")


def _pkl_table(where: Storage) -> str:
    return f"{sqlite.quote_ident(where.pkl_schema or 'public')}.job_pkl"


def parse_pkl_modified(value: Any) -> int:
    """`job_pkl.modified` as epoch seconds: `str(datetime.now())`, server local time, or
    after a migration `%Y-%m-%d %H:%M:%S%z`; 0 when absent or unreadable."""
    if not value:
        return 0
    try:
        return int(datetime.fromisoformat(str(value).strip()).timestamp())
    except ValueError:
        return 0
