"""The bundled examples: the copy shipped in the package is what the factory builds now, and
`ensure_examples` turns it into the same site the factory writes (docs/cli.md#the-bundled-examples).

The wheel itself, installed in a fresh virtual environment and started, is tests/test_wheel.py.
"""

from __future__ import annotations

import ast
import sqlite3
from pathlib import Path

from autosubmit_api import examples
from autosubmit_api.readers.job_list import parse_job_list
from tests.factory.examples import SHIPPED, build_shipped, directories, write_examples

PACKAGE = Path(examples.__file__).resolve().parent
REGENERATE = "the shipped examples differ from the factory's: run `python -m tests.factory.examples`"


def _files(root: Path) -> list:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def _sqlite_content(path: Path) -> tuple:
    # Read-only, so checking the shipped copy writes nothing next to it. The bytes themselves
    # depend on the SQLite library that wrote them (its version is in the header): compare what
    # a reader sees, every row of every table, and the pragmas the readers look at.
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        pragmas = tuple(conn.execute(f"PRAGMA {name}").fetchone()[0] for name in ("user_version", "journal_mode"))
        return pragmas, list(conn.iterdump())
    finally:
        conn.close()


def _same_file(shipped: Path, built: Path, name: str) -> None:
    if name.endswith(".db"):
        assert _sqlite_content(shipped) == _sqlite_content(built), f"{name}: {REGENERATE}"
    elif name.endswith(".pkl"):
        # Pickles: the job list the API reads from them (the bytes may differ between Python
        # versions, e.g. how pathlib reduces a path).
        expid = name.split("/", 1)[0]
        shipped_jobs = parse_job_list(shipped.read_bytes(), expid)
        built_jobs = parse_job_list(built.read_bytes(), expid)
        assert shipped_jobs == built_jobs, f"{name}: {REGENERATE}"
        assert len(shipped_jobs) > 0
    else:
        assert shipped.read_bytes() == built.read_bytes(), f"{name}: {REGENERATE}"


def test_the_shipped_examples_are_what_the_factory_builds(tmp_path):
    built = tmp_path / "built"
    build_shipped(built)
    names = _files(SHIPPED)
    assert names == _files(built), REGENERATE
    assert "a000/pkl/job_list_a000.pkl" in names and "a005/db/job_list.db" in names
    for name in names:
        _same_file(SHIPPED / name, built / name, name)


def test_the_copy_is_the_site_the_factory_writes(tmp_path):
    served = tmp_path / "served"
    rc = examples.ensure_examples(served)
    written = tmp_path / "written"
    write_examples(written)
    assert rc == served / ".autosubmitrc"
    assert rc.read_text() == examples.RC_TEMPLATE.format(root=served)
    assert (written / ".autosubmitrc").read_text() == examples.RC_TEMPLATE.format(root=written)
    # Every file (the marker aside) and every directory, the empty ones included (metadata/graph,
    # <expid>/tmp/LOG_<expid>...), which package data cannot hold.
    assert [name for name in _files(served) if name != examples.MARKER] == _files(written)
    assert directories(served) == directories(written)
    assert "metadata/graph" in directories(served) and "a000/tmp/LOG_a000" in directories(served)
    assert not (served / examples.DIRECTORIES).exists()


def test_the_runtime_package_holds_no_test_support_code():
    # issue 16: the factory serves the tests and builds the shipped examples; the installed
    # package copies the examples and imports nothing of tests/.
    assert not (PACKAGE / "factory").exists()
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.relative_to(PACKAGE)}: {n}" for n in names if n.split(".")[0] == "tests"]
    assert offenders == []
