"""Another process in the middle of a write to an SQLite file, as a running Autosubmit is.

Autosubmit writes its databases (job_data_<expid>.db, autosubmit.db, as_times.db) in the
files' default rollback-journal mode: `BEGIN IMMEDIATE` takes the RESERVED lock, the
INSERT/UPDATE statements create `<file>-journal`, and nothing reaches the file itself until
COMMIT. Readers may still take SHARED locks meanwhile and see the last committed data.
A separate process (not another thread of the test) holds the transaction, so the locks are
real POSIX locks between processes.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from typing import Dict, Iterator

HOLDER = r"""
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
changed = 0
for statement in sys.argv[2:]:
    changed += conn.execute(statement).rowcount
print("held", changed, flush=True)
end = sys.stdin.readline().strip()
conn.execute("COMMIT" if end == "COMMIT" else "ROLLBACK")
conn.close()
print("done", flush=True)
"""


@contextlib.contextmanager
def writing(path, *statements: str) -> Iterator[Dict[str, object]]:
    """While inside, another process holds `BEGIN IMMEDIATE` on `path` with `statements`
    executed and not committed. Leaving rolls them back, or commits them when the test sets
    the yielded dict's "end" to "COMMIT". The dict's "changed" is the number of rows written.
    """
    path = os.fspath(path)
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, path, *statements],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    control: Dict[str, object] = {"end": "ROLLBACK"}
    try:
        first = proc.stdout.readline().split()
        if first[:1] != ["held"]:
            proc.kill()
            raise AssertionError(f"the writer did not start: {proc.stderr.read()}")
        control["changed"] = int(first[1])
        # The transaction really is in progress: its journal exists and a second writer is refused.
        assert os.path.exists(path + "-journal"), "no rollback journal: not in rollback-journal mode?"
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            try:
                other.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                assert "locked" in str(exc)
            else:
                raise AssertionError("the writer does not hold the RESERVED lock")
        finally:
            other.close()
        yield control
    finally:
        if proc.poll() is None:
            try:
                out, err = proc.communicate(f"{control['end']}\n", timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
            assert proc.returncode == 0 and out.split() == ["done"], err
