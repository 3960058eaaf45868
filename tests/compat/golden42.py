"""Replaying the upstream API 4.2.0's answers on Autosubmit 4.2 and PostgreSQL sites.

Three captures share one index format (the 4.0.1 golden index columns, plus `note` and
`server_error`) and one way of judging (tests/compat/judge42.py):

* `as42`: golden-as42/ over a copy of fixtures-as42/ (SQLite, job list in db/job_list.db);
* `pg4117`: golden-pg/as4117/ over fixtures-pg/as4117/ (Autosubmit 4.1.17 on PostgreSQL);
* `pg42`: golden-pg/as42/ over fixtures-pg/as42/ (Autosubmit 4.2.0 on PostgreSQL).

`copy_site` prepares the served copy of the experiment folders (file times pinned: the
shared copy has lost the capture's), `logs/`, `metadata/...`, and `write_rc` its
`.autosubmitrc`. For PostgreSQL, `restore_template` restores the site's `site.sql` with psql
once, and the rows are answered from a clone of that template which must still equal it
after every row (`fingerprint`; see Harness42). `Harness42.check(row)` sends one row and
returns None or the reason it fails. Used by tests/compat/test_golden_as42.py,
test_golden_pg.py and report42.py; docs/compatibility.md describes the whole.
"""

from __future__ import annotations

import calendar
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from autosubmit_api.app import create_app
from autosubmit_api.config import load_settings
from tests.factory import RC_TEMPLATE
from tests.factory.postgres import postgres_rc
from tests.compat import compare, judge42
from tests.compat.departures42 import departure_for
from tests.compat.golden import BASE_URL, HOST, REFERENCE_SECRET, index_rows, load_rows, split_route
from tests.fixture_site import writable_copy

# The shared copies have lost the capture's file times (2026-12-06 02:54-03:10 UTC). Every
# file gets the end of that range (fields derived from file times are volatile anyway),
# except Autosubmit's own logs, named `<YYYYMMDD>_<HHMMSS>_<command>.log` by their start
# time: they get that time, so that "the newest run log" (/v3/exprun) is the capture's.
SITE42_MTIME = 1796526600  # 2026-12-06 03:10:00 UTC
TIMED_LOG = re.compile(r"^(\d{8})_(\d{6})_")

PG_ADMIN_URL = os.environ.get("API_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass(frozen=True)
class SiteSpec:
    name: str  # as42, pg4117, pg42
    golden: str  # relative to the shared directory
    fixtures: str
    postgres: bool


SITES = {
    "as42": SiteSpec("as42", "golden-as42", "fixtures-as42", False),
    "pg4117": SiteSpec("pg4117", "golden-pg/as4117", "fixtures-pg/as4117", True),
    "pg42": SiteSpec("pg42", "golden-pg/as42", "fixtures-pg/as42", True),
}

# Rows where 4.2.0 failed although the data exists (docs/compatibility.md, rule 2): an
# error of ours does not pass there.
REQUIRE_DATA = {
    "as42": {
        # "An experiment without wrappers should list []"
        "v4__experiments__a9m1__wrappers.json",
        "v4__experiments__a9m2__wrappers.json",
    },
    "pg4117": {
        # a8p1's statistics: a TOTAL_STATS line 4.2.0 cannot parse, the jobs are there
        "v3__stats__a8p1__0__Any.json",
        "v3__stats__a8p1__0__SIM.json",
    },
    "pg42": {
        "v4__experiments__a9p1__wrappers.json",
        "v4__experiments__a9p2__wrappers.json",
        # the runs exist; a missing user_metrics table means no metrics, not a failure
        "v4__experiments__a9p1__runs__4__user-metrics.json",
        "v4__experiments__a9p2__runs__2__user-metrics.json",
    },
}


# `note` values of rows about something that does not exist, and the unknown experiment of
# every capture: our clean 404 may answer them where 4.2.0 says 200 with an empty body.
NOT_FOUND_NOTES = frozenset({"unknown experiment", "unknown job", "unknown run", "bad run id"})
UNKNOWN_EXPID = "zzzz"


@dataclass(frozen=True)
class Row42:
    method: str
    path: str
    status: int
    file: str
    volatile_fields: str
    unordered_lists: str
    content_type: str
    request_extra: str
    note: str
    server_error: str

    def describe(self) -> str:
        return f"{self.method} {self.path}"


def load_rows42(golden_dir: Path) -> List[Row42]:
    return index_rows(golden_dir / "index.tsv", Row42, optional=("note", "server_error"))


XPASS_HINT = (
    "pending ({reason}); XPASS means it passes now: refresh tests/compat/pending42.py "
    "(python -m tests.compat.report42 --write-pending)"
)


def row_params(site: str, rows: List[Row42]):
    """pytest params of a site's rows: pending ones (pending42.py) are strict xfails."""
    import pytest

    from tests.compat.pending42 import PENDING42

    pending = PENDING42.get(site, {})
    for row in rows:
        marks = []
        if row.file in pending:
            reason = XPASS_HINT.format(reason=pending[row.file])
            marks.append(pytest.mark.xfail(strict=True, reason=reason))
        yield pytest.param(row, id=row.file, marks=marks)


# ---------------------------------------------------------------------------------------
# Which keys 4.0.1 had, per route
# ---------------------------------------------------------------------------------------


def route_key(path: str) -> str:
    """The route a request path belongs to, with expids, jobs and run ids abstracted:
    `/v3/graph/a9m1/standard/none` -> `/v3/graph`, `/v4/experiments/a9m1/jobs/x/parents`
    -> `/v4/experiments/<e>/jobs/<j>/parents`; the query counts only for `view`."""
    query = path.partition("?")[2]
    version, segments = split_route(path)
    if not segments:
        return f"/{version}"
    if version == "v3":
        return f"/v3/{segments[0]}"
    if segments[0] != "experiments" or len(segments) == 1:
        return "/v4/" + "/".join(segments)
    out = ["/v4/experiments/<e>"]
    rest = segments[2:]
    if rest:
        out.append(rest[0])
        if len(rest) > 1:
            out.append({"jobs": "<j>", "runs": "<r>"}.get(rest[0], rest[1]))
            out.extend(rest[2:])
    key = "/".join(out)
    if "view=quick" in query:
        key += "?view=quick"
    return key


def keys_401(shared: Path) -> Dict[str, judge42.KeySet]:
    """route_key -> the key paths of 4.0.1's successful answers of that route."""
    golden = shared / "golden"
    shapes = json.loads((golden / "shapes.json").read_text(encoding="utf-8"))
    maps: Dict[str, set] = defaultdict(set)
    opaque: Dict[str, set] = defaultdict(set)
    for shape in shapes.values():
        route = route_key(shape["route"].replace("<e>", "e").replace("<x>", "x"))
        maps[route].update(shape.get("maps", ()))
        opaque[route].update(shape.get("opaque", ()))
    paths: Dict[str, set] = defaultdict(set)
    for row in load_rows(golden):
        if row.status != 200 or row.ref_defect or not row.file.endswith(".json"):
            continue
        body = json.loads((golden / row.file).read_text(encoding="utf-8"))
        if judge42.is_error_body(body):
            continue
        route = route_key(row.path)
        keys, _ = compare.key_paths(body, maps[route], opaque[route])
        paths[route].update(keys)
    return {route: judge42.KeySet(paths[route], maps[route], opaque[route]) for route in set(paths) | set(maps)}


# ---------------------------------------------------------------------------------------
# Serving a site
# ---------------------------------------------------------------------------------------


def copy_site(source: Path, root: Path, mtime: int = SITE42_MTIME) -> Path:
    """Copy a site's experiment folders into `root` as the capture served them: `logs/`,
    `metadata/{logs,structures,graph,data}` present, writable copies, every time `mtime`
    except the logs named by their start time (TIMED_LOG).
    The `.autosubmitrc` is written separately (write_rc)."""
    writable_copy(source, root, ("logs", "metadata/logs", "metadata/structures", "metadata/graph", "metadata/data"))
    (root / "README.md").unlink(missing_ok=True)
    (root / "site.sql").unlink(missing_ok=True)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            when = _named_time(name) if name in filenames else None
            when = mtime if when is None else when
            os.utime(os.path.join(dirpath, name), (when, when), follow_symlinks=False)
    os.utime(root, (mtime, mtime))
    return root


def _named_time(name: str) -> Optional[int]:
    """The UTC time a `<YYYYMMDD>_<HHMMSS>_...` log name carries, or None."""
    match = TIMED_LOG.match(name)
    if not match:
        return None
    try:
        return calendar.timegm(time.strptime(match.group(1) + match.group(2), "%Y%m%d%H%M%S"))
    except ValueError:
        return None


def write_rc(rc_path: Path, root: Path, connection_url: str = "") -> Path:
    rc = RC_TEMPLATE.format(root=root)
    rc_path.write_text(postgres_rc(rc, connection_url) if connection_url else rc, encoding="utf-8")
    return rc_path


def make_client(rc_path: Path, home: Path):
    env = {
        "AUTOSUBMIT_CONFIGURATION": str(rc_path),
        "HOME": str(home),
        "SECRET_KEY": REFERENCE_SECRET,
        "PROTECTION_LEVEL": "NONE",
        "DISABLE_BACKGROUND_TASKS": "true",
    }
    return create_app(load_settings(env, dotenv=False, testing=True)).test_client()


# ---------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------


def _pg(url: str, **kwargs):
    import psycopg

    return psycopg.connect(url, connect_timeout=3, **kwargs)


def pg_reachable(admin_url: str = PG_ADMIN_URL) -> bool:
    try:
        _pg(admin_url).close()
    except Exception:  # noqa: BLE001 - any failure means "no server to test against"
        return False
    return shutil.which("psql") is not None


def pg_url_of(admin_url: str, dbname: str) -> str:
    return admin_url.rsplit("/", 1)[0] + "/" + dbname


def _psql_args(admin_url: str) -> List[str]:
    from urllib.parse import urlparse

    parsed = urlparse(admin_url)
    return [
        "psql",
        "-q",
        "-X",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        parsed.hostname or "127.0.0.1",
        "-p",
        str(parsed.port or 5432),
        "-U",
        parsed.username or "postgres",
    ]


def restore_template(sql: Path, admin_url: str = PG_ADMIN_URL) -> str:
    """A new database restored from a pg_dump with psql; returns its name."""
    name = "g42tpl_" + uuid.uuid4().hex[:12]
    with _pg(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    with open(sql, "rb") as dump:
        subprocess.run(
            _psql_args(admin_url) + ["-d", name],
            stdin=dump,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=120,
        )
    return name


def clone_database(template: str, admin_url: str = PG_ADMIN_URL) -> str:
    name = "g42row_" + uuid.uuid4().hex[:12]
    with _pg(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name


def drop_database(name: str, admin_url: str = PG_ADMIN_URL) -> None:
    with _pg(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fingerprint(url: str) -> Dict[str, Tuple[int, str]]:
    """What a database holds outside the catalogs, to prove that nothing was written:
    every table -> (row count, md5 of its sorted rows), every sequence -> (-1, its state),
    every other relation (index, view...) -> (-1, its kind). Equal fingerprints mean no row,
    sequence or relation was written, created or dropped."""
    with _pg(url) as conn:
        relations = conn.execute(
            "SELECT n.nspname, c.relname, c.relkind FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1, 2"
        ).fetchall()
        result: Dict[str, Tuple[int, str]] = {}
        for schema, name, kind in relations:
            qualified = f'"{schema}"."{name}"'
            if kind in ("r", "p"):
                count, digest = conn.execute(
                    "SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '')"
                    f" FROM {qualified} AS t"
                ).fetchone()
                result[f"{schema}.{name}"] = (count, digest)
            elif kind == "S":
                last, called = conn.execute(f"SELECT last_value, is_called FROM {qualified}").fetchone()
                result[f"{schema}.{name}"] = (-1, f"sequence {last} {called}")
            else:
                result[f"{schema}.{name}"] = (-1, f"relkind {kind}")
        return result


def table_counts(url: str) -> Dict[str, int]:
    return {table: count for table, (count, _) in fingerprint(url).items() if count >= 0}


# ---------------------------------------------------------------------------------------
# The harness
# ---------------------------------------------------------------------------------------


class Harness42:
    """One site: its served copy, its app, and `check(row)`.

    PostgreSQL sites are restored once into a template database. By default the rows share
    one database cloned from it (and one app, as the capture's single 4.2.0 process served
    every row); after each row the database must still equal the template
    (`fingerprint`), else the row fails and the next row gets a fresh clone, so a write
    never reaches another row. With `fresh_db_per_row` (or GOLDEN42_FRESH_DB=1) every row
    gets its own clone and app, dropped afterwards (slower: a CREATE and a DROP DATABASE
    per row).
    """

    def __init__(
        self,
        shared: Path,
        spec: SiteSpec,
        new_dir: Callable[[str], Path],
        admin_url: str = PG_ADMIN_URL,
        fresh_db_per_row: Optional[bool] = None,
    ):
        self.spec = spec
        self.golden_dir = shared / spec.golden
        self.fixtures = shared / spec.fixtures
        self.new_dir = new_dir
        self.admin_url = admin_url
        if fresh_db_per_row is None:
            fresh_db_per_row = os.environ.get("GOLDEN42_FRESH_DB", "") not in ("", "0")
        self.fresh_db_per_row = fresh_db_per_row
        self.rows = {row.file: row for row in load_rows42(self.golden_dir)}
        self.keys = keys_401(shared)
        self.require_data = REQUIRE_DATA.get(spec.name, set())
        self.root = copy_site(self.fixtures, new_dir(spec.name) / "D")
        self.template: Optional[str] = None
        self.template_fingerprint: Dict[str, Tuple[int, str]] = {}
        self._client = None
        self._db: Optional[str] = None  # the PostgreSQL database the rows are answered from
        self.databases_used = 0
        self.last_rc: Optional[Path] = None
        if spec.postgres:
            self.template = restore_template(self.fixtures / "site.sql", admin_url)
            self.template_fingerprint = fingerprint(pg_url_of(admin_url, self.template))
        else:
            self._client = make_client(write_rc(self.root / ".autosubmitrc", self.root), self.root)

    def close(self) -> None:
        self._drop_row_database()
        if self.template:
            drop_database(self.template, self.admin_url)
            self.template = None

    def _row_database(self) -> str:
        """The database (and app) for the next row: a clone of the template."""
        if self._db is None:
            self._db = clone_database(self.template, self.admin_url)
            self.databases_used += 1
            home = self.new_dir("pgsite")
            url = pg_url_of(self.admin_url, self._db)
            self.last_rc = write_rc(home / ".autosubmitrc", self.root, url)
            self._client = make_client(self.last_rc, home)
        return self._db

    def _drop_row_database(self) -> None:
        if self._db is None:
            return
        from autosubmit_api.readers import backend

        backend.dispose_all()
        drop_database(self._db, self.admin_url)
        self._db, self._client = None, None

    def substitute(self, value, dbname: str = ""):
        value = compare.substitute(value, "{FIXTURE_DIR}", str(self.root))
        value = compare.substitute(value, "{HOST}", HOST)
        if dbname:
            value = compare.substitute(value, "{PG_DB}", dbname)
        return value

    def expected(self, row: Row42, dbname: str = "") -> judge42.Expected:
        """What the row expects, with its 4.0.1 departure (departures42.py) applied."""
        departure = departure_for(row.file)
        answer = self.rows[departure.answer_of] if departure and departure.answer_of else row
        body = compare.MISSING
        if answer.file.endswith(".json"):
            text = (self.golden_dir / answer.file).read_text(encoding="utf-8")
            body = self.substitute(json.loads(text), dbname)
        location = ""
        if answer.request_extra.startswith("location="):
            location = self.substitute(answer.request_extra[len("location=") :], dbname)
        status = answer.status
        whole = answer.volatile_fields.strip() == judge42.WHOLE_BODY
        volatile = () if whole else compare.parse_paths(answer.volatile_fields)
        if departure:
            whole = whole or judge42.WHOLE_BODY in departure.skip
            volatile += tuple(compare.parse_path(p) for p in departure.skip if p != judge42.WHOLE_BODY)
            if departure.status is not None:
                status, location, body = departure.status, departure.location, compare.MISSING
        return judge42.Expected(
            path=row.path,
            status=status,
            body=body,
            volatile=volatile,
            unordered=compare.parse_paths(answer.unordered_lists),
            whole_body_volatile=whole,
            location=location,
            note=row.note,
            not_found_ok=row.note in NOT_FOUND_NOTES or f"/{UNKNOWN_EXPID}" in row.path,
            data_ok=bool(departure and departure.data_ok),
            require_data=row.file in self.require_data,
            had_401=self.keys.get(route_key(row.path), judge42.KeySet()),
        )

    def send(self, client, row: Row42) -> judge42.Ours:
        response = client.open(row.path, method=row.method, base_url=BASE_URL)
        try:
            raw = response.get_data()
            try:
                body = json.loads(raw) if raw else compare.MISSING
            except ValueError:
                body = compare.MISSING
            return judge42.Ours(response.status_code, body, response.headers.get("Location", ""))
        finally:
            response.close()

    def check(self, row: Row42) -> Optional[str]:
        """None when our answer passes the row, else `<request> (<file>): <why>`."""
        if self.spec.postgres:
            problem = self._check_pg(row)
        else:
            problem = judge42.judge(self.expected(row), self.send(self._client, row))
        if problem is None:
            return None
        departure = departure_for(row.file)
        if departure:
            problem += f" (4.0.1's rule applies: {departure.why})"
        return f"{row.describe()} ({row.file}): {problem}"

    def _check_pg(self, row: Row42) -> Optional[str]:
        dbname = self._row_database()
        try:
            problem = judge42.judge(self.expected(row, dbname), self.send(self._client, row))
            after = fingerprint(pg_url_of(self.admin_url, dbname))
        except BaseException:
            self._drop_row_database()
            raise
        if after != self.template_fingerprint:
            changed = _changed_tables(self.template_fingerprint, after)
            wrote = f"the database changed while answering: {changed}"
            problem = wrote if problem is None else f"{problem}; {wrote}"
            self._drop_row_database()  # the next row starts from the template again
        elif self.fresh_db_per_row:
            self._drop_row_database()
        return problem


def _changed_tables(before: dict, after: dict) -> List[str]:
    names = sorted(set(before) | set(after))
    return [n for n in names if before.get(n) != after.get(n)]
