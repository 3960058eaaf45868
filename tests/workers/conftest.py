"""Fixtures of the worker tests, and the `backend` fixture that runs one test body on both
central-database backends.

`backend` is parametrized "sqlite" / "postgres". A test builds its experiments with the
factory (`make_experiment`) as usual, then asks `backend.settings()` for the settings of
that site on the backend under test: on SQLite the site as the factory wrote it; on
PostgreSQL the same site copied into a fresh database the way Autosubmit 4.1.16+ keeps it
(docs/data.md A.12: central tables in `public`, each experiment's pickle in `public.job_pkl` keyed by expid
with its `modified` stamp, history and edges in the `<expid>` schema), its SQLite files and
pickles removed, logs and configuration left on disk. The PostgreSQL tests skip, saying
why, when no server answers at $API_TEST_POSTGRES (tests/postgres/fixtures.py).

What changes a site after that (Autosubmit rewriting a pickle, an experiment deleted, a
job added, a table dropped) goes through the `backend` object's helpers, which write to
whichever store holds it. `snapshot()` and `location()` let a test say "this run changed
only that table" on either backend.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Dict, Hashable, Iterable, List, Mapping, Optional, Set, Tuple

import pytest
from sqlalchemy import text

from autosubmit_api.config import Settings
from tests.factory import Experiment, JobSpec, Site, set_statuses
from tests.factory import postgres as pgf
from tests.factory.structure import write_structure
from autosubmit_api.readers import backend as engines
from tests.postgres.fixtures import pg_url  # noqa: F401 - fixture

# Where each central table lives: (SQLite file, PostgreSQL table).
_TABLE_HOMES = {
    "experiment": ("autosubmit.db", "public.experiment"),
    "details": ("autosubmit.db", "public.details"),
    "db_version": ("autosubmit.db", "public.db_version"),
    "experiment_status": ("as_times.db", "public.experiment_status"),
}
# Schemas that are not Autosubmit's: the catalogs and the API's own worker_runs.
_NOT_AUTOSUBMIT = ("pg_catalog", "information_schema", "pg_toast", "autosubmit_api")


@pytest.fixture(autouse=True)
def _fresh_engines():
    # Engines are cached per URL/path; each test builds its own site.
    engines.dispose_all()
    yield
    engines.dispose_all()


@pytest.fixture(autouse=True)
def _private_tempdir(tmp_path, monkeypatch):
    # The scheduler publishes its metrics in the temp dir (readers/worker_state.py `state_file`): keep each
    # test's file in its own tmp_path, for this process and the processes it starts.
    directory = tmp_path / "tmp"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    monkeypatch.setenv("TMPDIR", str(directory))


class BackendSite:
    """A factory-made site served from SQLite files or from a PostgreSQL database."""

    def __init__(self, name: str, site: Site, env: Mapping[str, str], url: Optional[str] = None):
        self.name = name
        self.site = site
        self.env = dict(env)
        self.url = url
        self._settings: Optional[Settings] = None

    @property
    def is_postgres(self) -> bool:
        return self.name == "postgres"

    @property
    def _moved(self) -> bool:
        """True once the site lives in PostgreSQL (after the first `settings()`)."""
        return self.is_postgres and self._settings is not None

    def settings(self) -> Settings:
        """The site as built so far, on this backend; the first call moves it to PostgreSQL."""
        if self._settings is None:
            if self.is_postgres:
                expids = pgf.copy_site(self.site, self.url)
                pgf.write_pg_rc(self.site, self.url)
                pgf.remove_sqlite_files(self.site, expids)
            self._settings = self.site.settings(self.env)
        return self._settings

    # --- changes after setup, as Autosubmit or an administrator makes them ---------------

    def _pg(self, sql: str, params: Optional[Mapping] = None) -> List[tuple]:
        engine = pgf.engine_for(self.url)
        try:
            with engine.begin() as conn:
                result = conn.execute(text(sql), dict(params or {}))
                return [tuple(r) for r in result] if result.returns_rows else []
        finally:
            engine.dispose()

    def age_pkl(self, exp: Experiment, seconds: float) -> None:
        """Make the pickle `seconds` old: its file mtime, or `job_pkl.modified`."""
        then = time.time() - seconds
        if self._moved:
            self._pg(
                "UPDATE public.job_pkl SET modified = :m WHERE expid = :e",
                {"m": str(datetime.fromtimestamp(then)), "e": exp.expid},
            )
        else:
            os.utime(exp.pkl_path, (then, then))

    def rewrite_pkl(self, exp: Experiment, statuses: Mapping[str, int]) -> None:
        """Autosubmit writes the job list with some statuses changed (a fresh pickle)."""
        set_statuses(exp, statuses)
        self._push_job_list(exp, structure=False)

    def add_job(self, exp: Experiment, job: JobSpec) -> None:
        """Autosubmit adds a job: the pickle and the edges are rewritten with it."""
        exp.jobs.append(job)
        set_statuses(exp, {})
        write_structure(self._structure_path(exp), exp.jobs)
        self._push_job_list(exp, structure=True)

    def remove_pkl(self, exp: Experiment) -> None:
        """The experiment has no job list (file or job_pkl row)."""
        if self._moved:
            self._pg("DELETE FROM public.job_pkl WHERE expid = :e", {"e": exp.expid})
        else:
            exp.pkl_path.unlink()

    def delete_experiment(self, exp: Experiment) -> None:
        """`autosubmit delete`: the experiment's row leaves the experiment table."""
        if self._moved:
            self._pg("DELETE FROM public.experiment WHERE id = :i", {"i": exp.exp_id})
        else:
            with sqlite3.connect(self.site.central_db) as conn:
                conn.execute("DELETE FROM experiment WHERE id = ?", (exp.exp_id,))
            conn.close()

    def drop_central_table(self, table: str) -> None:
        """A site whose central database lacks `table` (e.g. details before Autosubmit 4.1.15)."""
        if self._moved:
            self._pg(f"DROP TABLE public.{table}")
        else:
            with sqlite3.connect(self.site.root / _TABLE_HOMES[table][0]) as conn:
                conn.execute(f"DROP TABLE {table}")
            conn.close()

    def central_tables(self) -> Set[str]:
        """Names of the tables of autosubmit.db and as_times.db, or of the public schema."""
        if self._moved:
            return {
                r[0] for r in self._pg("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
            }
        names = set()
        for filename in ("autosubmit.db", "as_times.db"):
            with sqlite3.connect(f"file:{self.site.root / filename}?mode=ro", uri=True) as conn:
                names |= {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            conn.close()
        return names

    def fail_status_writes_of(self, expid: str, message: str = "disk full") -> None:
        """A trigger that makes the database refuse any write of `expid`'s status row."""
        if self._moved:
            self._pg(
                "CREATE FUNCTION fail_status() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.name = '{expid}' THEN RAISE EXCEPTION '{message}'; END IF; RETURN NEW; "
                "END $$ LANGUAGE plpgsql"
            )
            self._pg(
                "CREATE TRIGGER fail_status BEFORE INSERT OR UPDATE ON public.experiment_status "
                "FOR EACH ROW EXECUTE FUNCTION fail_status()"
            )
            return
        with sqlite3.connect(self.site.as_times_db) as conn:
            for event in ("INSERT", "UPDATE"):
                conn.execute(
                    f"CREATE TRIGGER fail_{event.lower()} BEFORE {event} ON experiment_status "
                    f"WHEN NEW.name = '{expid}' BEGIN SELECT RAISE(ABORT, '{message}'); END"
                )
        conn.close()

    def _structure_path(self, exp: Experiment) -> Path:
        return self.site.structures_dir / f"structure_{exp.expid}.db"

    def _push_job_list(self, exp: Experiment, structure: bool) -> None:
        # On PostgreSQL Autosubmit writes job_pkl (and experiment_structure), not the files:
        # move what the factory just wrote into the database and remove the files again.
        if not self._moved:
            return
        engine = pgf.engine_for(self.url)
        try:
            with engine.begin() as conn:
                pgf.write_job_pkl(conn, exp.expid, exp.pkl_path.read_bytes())
                if structure:
                    pgf.copy_sqlite_tables(conn, exp.expid, self._structure_path(exp), only=["experiment_structure"])
        finally:
            engine.dispose()
        exp.pkl_path.unlink()
        if structure:
            self._structure_path(exp).unlink()

    # --- what a run changed ---------------------------------------------------------------

    def location(self, *tables: str) -> Set[Tuple[str, str]]:
        """The snapshot keys that hold the given central tables on this backend."""
        column = 1 if self._moved else 0
        kind = "table" if self._moved else "file"
        return {(kind, _TABLE_HOMES[t][column]) for t in tables}

    def snapshot(self) -> Dict[Tuple[str, str], Hashable]:
        """Everything Autosubmit owns, to compare before and after a run.

        Every file of the site (bytes and mtime) except the API's own graph layouts; on
        PostgreSQL also every row of every Autosubmit table (public and experiment schemas).
        """
        state: Dict[Tuple[str, str], Hashable] = {}
        graph_dir = self.site.graph_dir
        for path in sorted(self.site.root.rglob("*")):
            if path.is_file() and graph_dir not in path.parents:
                rel = str(path.relative_to(self.site.root))
                state[("file", rel)] = (path.stat().st_mtime_ns, path.read_bytes())
        if self._moved:
            for schema, table in self._pg(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_type = 'BASE TABLE' AND table_schema <> ALL(:skip)",
                {"skip": list(_NOT_AUTOSUBMIT)},
            ):
                rows = self._pg(f'SELECT * FROM "{schema}"."{table}"')
                state[("table", f"{schema}.{table}")] = tuple(sorted(rows, key=repr))
        return state


def changed(before: Mapping, after: Mapping) -> Set:
    """Keys of two snapshots whose content differs (or that appeared or vanished)."""
    return {key for key in set(before) | set(after) if before.get(key) != after.get(key)}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request, site, env) -> Iterable[BackendSite]:
    """The site of this test on SQLite files or in a fresh PostgreSQL database (skipped when
    PostgreSQL is unreachable). Call `backend.settings()` once the experiments are built."""
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    yield BackendSite(request.param, site, env, url)
