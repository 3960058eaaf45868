"""A private copy of the shared fixture tree with its `.autosubmitrc` (fixtures README)."""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from autosubmit_api.config import Settings, load_settings
from tests.conftest import shared_dir

EXPIDS = ("a003", "a007", "a1ve", "a1vj", "a1vx", "a3tb", "a6zj", "a8qc", "aa6f")

RC = """[database]
path = {d}
filename = autosubmit.db
backend = sqlite
[local]
path = {d}
[globallogs]
path = {d}/logs
[historicdb]
path = {d}/metadata/data
[structures]
path = {d}/metadata/structures
[historiclog]
path = {d}/metadata/logs
[graph]
path = {d}/metadata/graph
"""


def copy_fixtures(target: Path) -> Path:
    """Copy the fixtures to `target/site` (skips the test when they are not available)."""
    source = shared_dir() / "fixtures"
    if not (source / "a003" / "conf").is_dir():
        pytest.skip("shared fixtures are not available")
    root = target / "site"
    shutil.copytree(source, root)
    for sub in ("logs", "metadata/logs"):
        os.makedirs(root / sub, exist_ok=True)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            os.chmod(os.path.join(dirpath, name), 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)
    (root / ".autosubmitrc").write_text(RC.format(d=root))
    return root


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
