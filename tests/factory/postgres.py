"""Writes a factory-made site into PostgreSQL the way Autosubmit 4.1.16+ does (docs/data.md A.12).

With `[database] backend = postgres`, Autosubmit keeps in the database at `connection_url`:

* in the default (`public`) schema: `experiment`, `db_version`, `details`, `experiment_status`
  and `job_pkl(expid PK, pkl BYTEA, modified TEXT)`, one row per experiment holding the
  pickle bytes;
* per experiment, in a schema named after the expid: `experiment_run` and `job_data` (the
  history), `experiment_structure` (the edges), the wrapper tables and `user_metrics`, with
  the column names of the SQLite versions; with Autosubmit 4.2 also `jobs` and `sections`
  (the job list, no pickle: copied from a factory `db/job_list.db`, docs/storage.md).

`copy_site(site, url)` takes a site the SQLite factory wrote (`make_site`/`make_experiment`)
and writes the same content there, so one experiment can be served from either backend and
the answers compared. `remove_sqlite_files(site)` then deletes the SQLite copies (and the
pickles), leaving a PostgreSQL-only site whose logs and configuration stay on disk.
`pg_settings(site, url)` rewrites the site's `.autosubmitrc` for `backend = postgres`.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from tests.factory.specs import Site

CENTRAL_DDL = (
    "CREATE TABLE IF NOT EXISTS public.experiment(id SERIAL PRIMARY KEY, name VARCHAR NOT NULL, "
    "description VARCHAR NOT NULL, autosubmit_version VARCHAR)",
    "CREATE TABLE IF NOT EXISTS public.db_version(version INTEGER NOT NULL PRIMARY KEY)",
    'CREATE TABLE IF NOT EXISTS public.details(exp_id INTEGER PRIMARY KEY, "user" TEXT NOT NULL, '
    "created TEXT NOT NULL, model TEXT NOT NULL, branch TEXT NOT NULL, hpc TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS public.experiment_status(exp_id INTEGER PRIMARY KEY, "
    "name TEXT NOT NULL, status TEXT NOT NULL, seconds_diff INTEGER NOT NULL, modified TEXT NOT NULL)",
)

# Autosubmit's own SQLAlchemy types for the per-experiment tables, by SQLite declared type.
_TYPES = {
    "INTEGER": "BIGINT",
    "INT": "BIGINT",
    "REAL": "DOUBLE PRECISION",
    "FLOAT": "DOUBLE PRECISION",
    "BLOB": "BYTEA",
    "TEXT": "TEXT",
    "VARCHAR": "TEXT",
    "": "TEXT",
}


def _sa_url(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def engine_for(url: str) -> Engine:
    return create_engine(_sa_url(url), poolclass=NullPool)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def create_central_tables(conn: Connection) -> None:
    for ddl in CENTRAL_DDL:
        conn.execute(text(ddl))
    if conn.execute(text("SELECT COUNT(*) FROM public.db_version")).scalar() == 0:
        conn.execute(text("INSERT INTO public.db_version(version) VALUES (1)"))


def _sqlite_tables(path: Path) -> List[Tuple[str, List[Tuple[str, str]]]]:
    """[(table, [(column, declared type)])] of a SQLite file, in creation order."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
            )
        ]
        return [
            (name, [(r[1], (r[2] or "").upper()) for r in conn.execute(f"PRAGMA table_info({_ident(name)})")])
            for name in names
        ]


def _pg_type(declared: str) -> str:
    base = declared.split("(")[0].strip()
    return _TYPES.get(base, "TEXT")


def copy_sqlite_tables(conn: Connection, schema: str, path: Path, only: Optional[Sequence[str]] = None) -> List[str]:
    """Copy every table (or `only` those) of a SQLite file into `schema`, columns by name."""
    copied = []
    if not path.is_file():
        return copied
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as src:
        for table, columns in _sqlite_tables(path):
            if only is not None and table not in only:
                continue
            cols = ", ".join(f"{_ident(c)} {_pg_type(t)}" for c, t in columns)
            target = f"{_ident(schema)}.{_ident(table)}"
            conn.execute(text(f"DROP TABLE IF EXISTS {target}"))
            conn.execute(text(f"CREATE TABLE {target}({cols})"))
            rows = src.execute(f"SELECT {', '.join(_ident(c) for c, _ in columns)} FROM {_ident(table)}").fetchall()
            if rows:
                names = [c for c, _ in columns]
                params = ", ".join(f":p{i}" for i in range(len(names)))
                statement = text(f"INSERT INTO {target}({', '.join(_ident(n) for n in names)}) VALUES ({params})")
                conn.execute(
                    statement,
                    [{f"p{i}": _value(v, t) for i, (v, (_, t)) in enumerate(zip(row, columns))} for row in rows],
                )
            copied.append(table)
    return copied


def _value(value, declared: str):
    # Untyped SQLite columns can hold numbers; the PostgreSQL copy declares them TEXT.
    if _pg_type(declared) == "TEXT" and value is not None and not isinstance(value, str):
        return str(value)
    return value


def job_pkl_table(expid: str, in_schema: bool = False) -> str:
    """Where the job_pkl row of `expid` lives: `public.job_pkl` keyed by expid, as Autosubmit
    4.1.16/4.1.17 write it, or (`in_schema`) the expid schema's own `job_pkl`, the layout
    earlier versions of this factory wrote, still read by the API."""
    return f"{_ident(expid)}.job_pkl" if in_schema else "public.job_pkl"


def write_job_pkl(
    conn: Connection, expid: str, data: bytes, modified: Optional[datetime] = None, *, in_schema: bool = False
) -> None:
    """The job_pkl row as Autosubmit writes it: the pickle bytes and `str(datetime.now())`."""
    table = job_pkl_table(expid, in_schema)
    conn.execute(text(f"CREATE TABLE IF NOT EXISTS {table}(expid TEXT PRIMARY KEY, pkl BYTEA, modified TEXT)"))
    stamp = str(modified or datetime.now())
    conn.execute(text(f"DELETE FROM {table} WHERE expid = :e"), {"e": expid})
    conn.execute(
        text(f"INSERT INTO {table}(expid, pkl, modified) VALUES (:e, :p, :m)"), {"e": expid, "p": data, "m": stamp}
    )


def set_job_pkl(
    url: str, expid: str, data: bytes, modified: Optional[datetime] = None, *, in_schema: bool = False
) -> None:
    """Rewrite one experiment's pickle in PostgreSQL, as a running Autosubmit does."""
    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            write_job_pkl(conn, expid, data, modified, in_schema=in_schema)
    finally:
        engine.dispose()


def user_metrics_db(site: Site, expid: str) -> Path:
    """`<exp>/tmp/metrics_<expid>.db`, where Autosubmit on SQLite keeps the user metrics."""
    return site.exp_dir(expid) / "tmp" / f"metrics_{expid}.db"


def copy_experiment(conn: Connection, site: Site, expid: str) -> None:
    """The experiment's schema: job_pkl, history, structure, wrappers and user metrics
    (whatever exists on disk); a 4.2 experiment's `db/job_list.db` tables (jobs, edges,
    sections, wrappers) as Autosubmit 4.2 writes them in PostgreSQL."""
    conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {_ident(expid)}"))
    pkl = site.exp_dir(expid) / "pkl" / f"job_list_{expid}.pkl"
    if pkl.is_file():
        write_job_pkl(conn, expid, pkl.read_bytes(), datetime.fromtimestamp(pkl.stat().st_mtime))
    copy_sqlite_tables(conn, expid, site.exp_dir(expid) / "db" / "job_list.db")
    copy_sqlite_tables(conn, expid, site.jobdata_dir / f"job_data_{expid}.db")
    copy_sqlite_tables(conn, expid, site.structures_dir / f"structure_{expid}.db", only=["experiment_structure"])
    copy_sqlite_tables(conn, expid, site.exp_dir(expid) / "pkl" / f"job_packages_{expid}.db")
    copy_sqlite_tables(conn, expid, user_metrics_db(site, expid), only=["user_metrics"])


def copy_central(conn: Connection, site: Site) -> List[Tuple[int, str]]:
    """experiment, details (and experiment_status) rows into public; returns [(id, name)]."""
    create_central_tables(conn)
    with sqlite3.connect(f"file:{site.central_db}?mode=ro", uri=True) as src:
        experiments = src.execute("SELECT id, name, description, autosubmit_version FROM experiment").fetchall()
        details = src.execute('SELECT exp_id, "user", created, model, branch, hpc FROM details').fetchall()
    for row in experiments:
        conn.execute(
            text("INSERT INTO public.experiment(id, name, description, autosubmit_version) VALUES (:i, :n, :d, :v)"),
            dict(zip("indv", row)),
        )
    if experiments:
        conn.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('public.experiment', 'id'), "
                "(SELECT MAX(id) FROM public.experiment))"
            )
        )
    for row in details:
        conn.execute(
            text(
                'INSERT INTO public.details(exp_id, "user", created, model, branch, hpc) '
                "VALUES (:e, :u, :c, :m, :b, :h)"
            ),
            dict(zip("eucmbh", row)),
        )
    if site.as_times_db.is_file():
        with sqlite3.connect(f"file:{site.as_times_db}?mode=ro", uri=True) as src:
            statuses = src.execute(
                "SELECT exp_id, name, status, seconds_diff, modified FROM experiment_status"
            ).fetchall()
        for row in statuses:
            conn.execute(
                text(
                    "INSERT INTO public.experiment_status(exp_id, name, status, seconds_diff, modified) "
                    "VALUES (:e, :n, :s, :d, :m)"
                ),
                dict(zip("ensdm", row)),
            )
    return [(int(r[0]), r[1]) for r in experiments]


def copy_site(site: Site, url: str, expids: Optional[Iterable[str]] = None) -> List[str]:
    """Write the whole site (or `expids`) into the PostgreSQL database at `url`; returns expids."""
    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            experiments = copy_central(conn, site)
            wanted = set(expids) if expids is not None else None
            names = [name for _, name in experiments if wanted is None or name in wanted]
            for name in names:
                copy_experiment(conn, site, name)
    finally:
        engine.dispose()
    return names


def remove_sqlite_files(site: Site, expids: Iterable[str]) -> None:
    """Delete what Autosubmit would not write in PostgreSQL mode (docs/data.md A.12)."""
    for path in [site.central_db, site.as_times_db]:
        if path.exists():
            path.unlink()
    for expid in expids:
        for path in (
            site.exp_dir(expid) / "pkl" / f"job_list_{expid}.pkl",
            site.exp_dir(expid) / "db" / "job_list.db",
            site.jobdata_dir / f"job_data_{expid}.db",
            site.structures_dir / f"structure_{expid}.db",
            site.exp_dir(expid) / "pkl" / f"job_packages_{expid}.db",
            user_metrics_db(site, expid),
        ):
            if path.exists():
                path.unlink()


def postgres_rc(rc: str, url: str) -> str:
    """An .autosubmitrc text of the SQLite backend pointed at the PostgreSQL database at `url`,
    as an Autosubmit 4.1.16+ site has it."""
    return rc.replace("backend = sqlite\n", f"backend = postgres\nconnection_url = {url}\n")


def write_pg_rc(site: Site, url: str) -> None:
    """Point the site's .autosubmitrc at PostgreSQL."""
    site.rc_path.write_text(postgres_rc(site.rc_path.read_text(), url))


def drop_schemas(url: str, schemas: Iterable[str]) -> None:
    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            for schema in schemas:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {_ident(schema)} CASCADE"))
    finally:
        engine.dispose()


def table_counts(url: str, schema: str) -> Dict[str, int]:
    """{table: row count} of one schema (for tests)."""
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            tables = [
                r[0]
                for r in conn.execute(
                    text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"), {"s": schema}
                )
            ]
            return {
                t: conn.execute(text(f"SELECT COUNT(*) FROM {_ident(schema)}.{_ident(t)}")).scalar() for t in tables
            }
    finally:
        engine.dispose()
