"""A private copy of the shared fixture tree (../shared/fixtures), laid out as the fixtures
README says: `logs/` and `metadata/logs/` created, an `.autosubmitrc` pointing into the copy
(the factory's own template), permissions normalised. Tests that need it skip cleanly when
the shared directory is absent.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Optional

import pytest

from autosubmit_api.config import Settings, load_settings
from tests.factory import RC_TEMPLATE
from tests.conftest import shared_dir

EXPIDS = ("a003", "a007", "a1ve", "a1vj", "a1vx", "a3tb", "a6zj", "a8qc", "aa6f")
# Every file's time in the golden capture (fixtures README). A checkout or a copy of shared/
# gives fresh times, which would make every experiment look just written (RUNNING).
FIXTURE_MTIME = 1784634124


def fixtures_available() -> bool:
    return (shared_dir() / "fixtures" / "autosubmit.db").is_file()


def writable_copy(source: Path, root: Path, subdirs=()) -> None:
    """Copy `source` into `root` (created or merged into; links stay links), create `subdirs`
    in it, and make every directory 0755 and file 0644, whatever the source's modes (the
    shared tree is read-only)."""
    shutil.copytree(source, root, symlinks=True, dirs_exist_ok=True)
    for sub in subdirs:
        os.makedirs(root / sub, exist_ok=True)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            os.chmod(os.path.join(dirpath, name), 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)


def copy_fixture_tree(root: Path, *, source: Optional[Path] = None, mtime: int = FIXTURE_MTIME) -> Path:
    """Copy the fixtures into `root` (created or merged into) and write its `.autosubmitrc`.

    Skips the calling test when the fixtures are not available. Every file's and directory's
    times are set to `mtime`, the capture's by default, whatever times the source tree has.
    """
    if source is None:
        source = shared_dir() / "fixtures"
        if not fixtures_available():
            pytest.skip(f"shared fixtures are not available at {source}")
    writable_copy(source, root, ("logs", "metadata/logs"))
    (root / ".autosubmitrc").write_text(RC_TEMPLATE.format(root=root), encoding="utf-8")
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            os.utime(os.path.join(dirpath, name), (mtime, mtime), follow_symlinks=False)
    os.utime(root, (mtime, mtime))
    return root


def copy_fixtures(target: Path) -> Path:
    """Copy the fixtures to `target/site` (skips the test when they are not available)."""
    return copy_fixture_tree(target / "site")


def settings_for(root: Path, **overrides) -> Settings:
    env = {"AUTOSUBMIT_CONFIGURATION": str(root / ".autosubmitrc"), "HOME": str(root)}
    overrides.setdefault("testing", True)
    return load_settings(env, dotenv=False, **overrides)


def snapshot(root: Path) -> dict:
    """path -> (mtime_ns, size, sha1) of every file, plus every directory (mtime_ns)."""
    state = {}
    for dirpath, _dirnames, filenames in os.walk(root):
        state[dirpath] = (os.stat(dirpath).st_mtime_ns,)
        for name in filenames:
            path = os.path.join(dirpath, name)
            st = os.stat(path)
            with open(path, "rb") as handle:
                digest = hashlib.sha1(handle.read()).hexdigest()
            state[path] = (st.st_mtime_ns, st.st_size, digest)
    return state
