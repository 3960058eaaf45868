"""Every row of golden-as42/index.tsv (upstream 4.2.0 on a site written by Autosubmit 4.2.0,
job lists in db/job_list.db), replayed against our app and judged by the capture's
rules (tests/compat/judge42.py; docs/compatibility.md).

Rows listed in tests/compat/pending42.py ("as42") are strict xfails with their reason: they
must fail until the product reads them, and fail the suite once they pass (then refresh the
list: `python -m tests.compat.report42 --write-pending`).
"""

from __future__ import annotations

import pytest

from tests.compat.golden42 import SITES, Harness42, load_rows42, row_params
from tests.compat.pending42 import PENDING42
from tests.conftest import shared_dir
from tests.fixture_site import snapshot

pytestmark = [pytest.mark.compat, pytest.mark.slow]

SPEC = SITES["as42"]
GOLDEN = shared_dir() / SPEC.golden
if not (GOLDEN / "index.tsv").is_file() or not (shared_dir() / SPEC.fixtures).is_dir():
    pytest.skip(
        f"4.2 SQLite compatibility rows skipped: {GOLDEN}/index.tsv or the fixtures-as42 site "
        "is absent (set AUTOSUBMIT_API_SHARED to their parent directory)",
        allow_module_level=True,
    )

ROWS = load_rows42(GOLDEN)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    harness = Harness42(shared_dir(), SPEC, lambda name: tmp_path_factory.mktemp(name))
    harness.before = snapshot(harness.root)
    yield harness
    harness.close()


@pytest.mark.parametrize("row", list(row_params("as42", ROWS)))
def test_as42_row(site, row):
    problem = site.check(row)
    if problem is not None:
        pytest.fail(problem, pytrace=False)


def test_rows_are_the_capture():
    files = [row.file for row in ROWS]
    assert len(files) == len(set(files)) == 231
    assert all((GOLDEN / name).is_file() for name in files)
    assert set(PENDING42["as42"]) <= set(files), sorted(set(PENDING42["as42"]) - set(files))


def test_served_copy_is_prepared_like_the_capture(site):
    from tests.compat.golden42 import SITE42_MTIME

    rc = (site.root / ".autosubmitrc").read_text(encoding="utf-8")
    assert f"path = {site.root}/metadata/graph" in rc and "backend = sqlite" in rc
    for sub in ("logs", "metadata/logs", "metadata/structures", "metadata/graph"):
        assert (site.root / sub).is_dir(), sub
    assert (site.root / "a9m1" / "db" / "job_list.db").stat().st_mtime == SITE42_MTIME
    assert not (site.root / "a9m1" / "pkl").exists()


def test_no_row_wrote_into_the_served_copy(site):
    # Runs after the rows (file order): our API reads, it never writes an experiment's files.
    for row in ROWS:
        site.check(row)
    after = snapshot(site.root)
    changed = sorted(p for p in set(site.before) | set(after) if site.before.get(p) != after.get(p))
    assert changed == [], changed


def test_require_data_and_departures_name_rows_of_the_captures():
    # A misspelt name would silently switch a rule off.
    from fnmatch import fnmatchcase

    from tests.compat.departures42 import DEPARTURES42
    from tests.compat.golden42 import REQUIRE_DATA

    captures = {
        name: {row.file for row in load_rows42(shared_dir() / spec.golden)}
        for name, spec in SITES.items()
        if (shared_dir() / spec.golden / "index.tsv").is_file()
    }
    for site, names in REQUIRE_DATA.items():
        if site in captures:
            assert names <= captures[site], (site, sorted(names - captures[site]))
    every = set().union(*captures.values())
    for pattern, departure in DEPARTURES42.items():
        matched = {f for f in every if fnmatchcase(f, pattern)}
        assert matched, pattern
        if departure.answer_of:
            for files in captures.values():
                if matched & files:
                    assert departure.answer_of in files, (pattern, departure.answer_of)
