"""Every row of golden/index.tsv of the compatibility data, replayed against our app (issue 3).

Rows listed in tests/compat/pending.py are strict xfails: they must fail until their route
exists, and fail the suite once they pass (then remove them from PENDING).
"""

from __future__ import annotations

import json

import pytest

from tests.compat import compare
from tests.compat.pending import PENDING, PENDING_V42
from tests.conftest import shared_dir

pytestmark = [pytest.mark.compat, pytest.mark.slow]

GOLDEN = shared_dir() / "golden"
if not (GOLDEN / "index.tsv").is_file():
    pytest.skip(
        f"compatibility suite skipped: {GOLDEN}/index.tsv not found (the shared golden answers "
        "are absent; set AUTOSUBMIT_API_SHARED to their parent directory)",
        allow_module_level=True,
    )

from tests.compat.golden import load_rows  # noqa: E402  (needs the golden dir to exist)

ROWS = load_rows(GOLDEN)
XPASS_HINT = "pending; XPASS means it passes now: remove it from tests/compat/pending.py"
SHAPES = json.loads((GOLDEN / "shapes.json").read_text(encoding="utf-8"))


def _params():
    for row in ROWS:
        marks = [pytest.mark.xfail(strict=True, reason=XPASS_HINT)] if row.file in PENDING else []
        yield pytest.param(row, id=row.file, marks=marks)


@pytest.mark.parametrize("row", list(_params()))
def test_golden_row(harness, row):
    problem = harness.check(row)
    if problem is not None:
        pytest.fail(problem, pytrace=False)


def _v42_params():
    if not (GOLDEN / "v42" / "index.tsv").is_file():
        return
    for row in ROWS:
        marks = []
        if row.file in PENDING_V42:
            reason = f"{PENDING_V42[row.file]}; XPASS: remove it from PENDING_V42"
            marks = [pytest.mark.xfail(strict=True, reason=reason)]
        yield pytest.param(row, id=row.file, marks=marks)


@pytest.mark.parametrize("row", list(_v42_params()))
def test_keys_4_2_added(harness, row):
    """golden/v42/README.md "How to judge": where 4.2.0 answered with data, our answer has
    every key it sends, with its values on the keys 4.0.1 did not send (docs/decisions.md Q46)."""
    if not harness.v42_judged(row):
        pytest.skip("4.2.0 answered no data to this request")
    problem = harness.check_v42(row)
    if problem is not None:
        pytest.fail(problem, pytrace=False)


def test_pending_v42_names_only_golden_rows():
    assert set(PENDING_V42) <= {row.file for row in ROWS}
    assert all(reason.strip() for reason in PENDING_V42.values())


def test_row_files_are_unique_and_exist():
    files = [row.file for row in ROWS]
    assert len(files) == len(set(files)) == 434
    assert all((GOLDEN / name).is_file() for name in files)


def test_pending_names_only_golden_rows():
    assert PENDING <= {row.file for row in ROWS}, sorted(PENDING - {row.file for row in ROWS})


def test_every_successful_reference_answer_fits_its_own_shape():
    # Checks our reading of the "Shape" rules against the data the shapes were built from.
    for name, shape in SHAPES.items():
        for source in shape["from"]:
            answer = json.loads((GOLDEN / source).read_text(encoding="utf-8"))
            assert compare.diff_shape(answer, shape) is None, (name, source)


def test_every_oracle_matches_itself_after_skips():
    for row in ROWS:
        if row.oracle:
            oracle = json.loads((GOLDEN / row.oracle).read_text(encoding="utf-8"))
            skip = compare.parse_paths(row.oracle_skip)
            assert compare.diff_oracle(oracle, oracle, skip) is None, row.file


def test_served_copy_is_prepared_like_the_capture(harness):
    from tests.compat.golden import FIXTURE_MTIME

    site, _ = harness.shared_client("NONE")
    rc = (site / ".autosubmitrc").read_text(encoding="utf-8")
    assert f"path = {site}/metadata/structures" in rc
    assert (site / "logs").is_dir() and (site / "metadata" / "logs").is_dir()
    assert (site / "a003" / "pkl" / "job_list_a003.pkl").stat().st_mtime == FIXTURE_MTIME
    assert (site / "metadata" / "logs").stat().st_mtime == FIXTURE_MTIME


def test_departures_point_at_rows_of_the_index():
    from tests.compat.departures import DEPARTURES

    files = {row.file for row in ROWS}
    for name, (decision, other) in DEPARTURES.items():
        assert name in files and other in files and decision.startswith("Q"), name


def test_a_changed_golden_value_is_caught_on_a_real_answer(harness):
    # Guards against a vacuous comparison: the same answer fails once the expectation moves.
    row = harness.rows["v4__nonexistent-route.json"]
    site, response = harness.send(row)
    actual = response.get_json()
    expected = harness.load(row.file, site)
    assert compare.diff_exact(expected, actual) is None
    diff = compare.diff_exact(dict(expected, error_message="Gone"), actual)
    assert diff is not None and diff.path == "error_message" and diff.expected == "Gone"

    row = harness.rows["v4__experiments__zzzz.json"]
    site, response = harness.send(row)
    oracle = harness.load(row.oracle, site)
    skip = compare.parse_paths(row.oracle_skip)
    assert compare.diff_oracle(response.get_json(), oracle, skip) is None
    assert compare.diff_oracle(response.get_json(), dict(oracle, error=False), skip).path == "error"
