"""Every row of golden-pg/as4117/ and golden-pg/as42/ (upstream 4.2.0 on PostgreSQL sites
written by Autosubmit 4.1.17 and 4.2.0), replayed against our app and judged by the
capture's rules (tests/compat/judge42.py; docs/compatibility.md).

Each site's `site.sql` is restored once with psql into a template database; the rows are
answered from a clone of it, which must still equal the template after every row (our API
never writes): a row that changed it fails and the next row gets a fresh clone, so no
row's write reaches another (GOLDEN42_FRESH_DB=1: a fresh clone for every row). Rows listed in tests/compat/pending42.py
("pg4117", "pg42") are strict xfails with their reason. Skips without the shared captures,
without psql or without a PostgreSQL server.
"""

from __future__ import annotations

import re

import pytest

from tests.compat.golden42 import (
    PG_ADMIN_URL,
    SITES,
    Harness42,
    load_rows42,
    pg_reachable,
    pg_url_of,
    row_params,
    table_counts,
)
from tests.compat.pending42 import PENDING42
from tests.conftest import shared_dir
from tests.fixture_site import snapshot

pytestmark = [pytest.mark.compat, pytest.mark.postgres, pytest.mark.slow]

SHARED = shared_dir()
ROWS = {}
for _name in ("pg4117", "pg42"):
    _golden = SHARED / SITES[_name].golden
    _dump = SHARED / SITES[_name].fixtures / "site.sql"
    if (_golden / "index.tsv").is_file() and _dump.is_file():
        ROWS[_name] = load_rows42(_golden)
if not ROWS:
    pytest.skip(
        f"PostgreSQL compatibility rows skipped: no golden-pg capture or fixtures-pg site under "
        f"{SHARED} (set AUTOSUBMIT_API_SHARED to their parent directory)",
        allow_module_level=True,
    )

COPY = re.compile(r"^COPY (\S+) \(")


def dump_counts(sql_text: str) -> dict:
    """schema.table -> rows, read from the COPY blocks of a plain pg_dump."""
    counts, table = {}, None
    for line in sql_text.splitlines():
        if table is None:
            match = COPY.match(line)
            if match:
                table = match.group(1).replace('"', "")
                counts[table] = 0
        elif line == "\\.":
            table = None
        else:
            counts[table] += 1
    return counts


def _site(name, tmp_path_factory):
    if name not in ROWS:
        pytest.skip(f"golden-pg capture of {name} absent under {SHARED}")
    if not pg_reachable():
        pytest.skip(f"no PostgreSQL reachable at {PG_ADMIN_URL} with psql (set API_TEST_POSTGRES)")
    harness = Harness42(SHARED, SITES[name], lambda label: tmp_path_factory.mktemp(label))
    harness.before = snapshot(harness.root)
    return harness


@pytest.fixture(scope="module")
def pg4117(tmp_path_factory):
    harness = _site("pg4117", tmp_path_factory)
    yield harness
    harness.close()


@pytest.fixture(scope="module")
def pg42(tmp_path_factory):
    harness = _site("pg42", tmp_path_factory)
    yield harness
    harness.close()


@pytest.mark.parametrize("row", list(row_params("pg4117", ROWS.get("pg4117", []))))
def test_pg4117_row(pg4117, row):
    problem = pg4117.check(row)
    if problem is not None:
        pytest.fail(problem, pytrace=False)


@pytest.mark.parametrize("row", list(row_params("pg42", ROWS.get("pg42", []))))
def test_pg42_row(pg42, row):
    problem = pg42.check(row)
    if problem is not None:
        pytest.fail(problem, pytrace=False)


@pytest.mark.parametrize("name,count", [("pg4117", 170), ("pg42", 174)])
def test_rows_are_the_capture(name, count):
    if name not in ROWS:
        pytest.skip(f"golden-pg capture of {name} absent")
    files = [row.file for row in ROWS[name]]
    assert len(files) == len(set(files)) == count
    golden = SHARED / SITES[name].golden
    assert all((golden / f).is_file() for f in files)
    assert set(PENDING42[name]) <= set(files), sorted(set(PENDING42[name]) - set(files))


@pytest.mark.parametrize("name", ["pg4117", "pg42"])
def test_site_served_as_the_capture_and_never_written(name, request):
    # Runs after the rows (file order). The template holds exactly the dump's rows (the
    # restore worked and no row's clone leaked back), and no experiment file changed.
    harness = request.getfixturevalue(name)
    sql = (SHARED / SITES[name].fixtures / "site.sql").read_text(encoding="utf-8")
    expected = dump_counts(sql)
    assert expected and sum(expected.values()) > 0
    counts = table_counts(pg_url_of(harness.admin_url, harness.template))
    assert {t: counts.get(t) for t in expected} == expected
    if harness.last_rc is not None:
        rc = harness.last_rc.read_text(encoding="utf-8")
        assert "backend = postgres" in rc and "connection_url = postgresql://" in rc
        assert f"path = {harness.root}/metadata/data" in rc
    after = snapshot(harness.root)
    paths = set(harness.before) | set(after)
    changed = sorted(p for p in paths if harness.before.get(p) != after.get(p))
    assert changed == [], changed


def test_a_write_fails_its_row_and_never_reaches_the_next(pg42):
    from tests.compat.golden42 import _pg

    row = pg42.rows["root.json"]
    assert pg42.check(row) is None
    dbname = pg42._row_database()
    used = pg42.databases_used
    with _pg(pg_url_of(pg42.admin_url, dbname), autocommit=True) as conn:
        conn.execute("DELETE FROM a9p1.jobs WHERE name = 'a9p1_LOCAL_SETUP'")
    problem = pg42.check(row)
    assert problem is not None and "the database changed while answering: ['a9p1.jobs']" in problem
    assert pg42.check(row) is None
    assert pg42.databases_used == used + 1
    assert pg42._db != dbname


def test_a_write_to_a_row_database_is_caught(pg42):
    # The per-row "never a write" check is not vacuous: one changed value shows up.
    from tests.compat.golden42 import _pg, clone_database, drop_database, fingerprint

    name = clone_database(pg42.template, pg42.admin_url)
    try:
        url = pg_url_of(pg42.admin_url, name)
        assert fingerprint(url) == pg42.template_fingerprint
        with _pg(url, autocommit=True) as conn:
            conn.execute("UPDATE a9p1.jobs SET status = 'FAILED' WHERE name = 'a9p1_LOCAL_SETUP'")
        changed = fingerprint(url)
        assert changed != pg42.template_fingerprint
        assert changed["a9p1.jobs"][0] == pg42.template_fingerprint["a9p1.jobs"][0]
        assert changed["a9p1.jobs"][1] != pg42.template_fingerprint["a9p1.jobs"][1]
    finally:
        drop_database(name, pg42.admin_url)
