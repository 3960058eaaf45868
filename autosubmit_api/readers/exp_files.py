"""Facts about an experiment's directory that services and workers need without reading a
file: whether the directory and its `tmp/` exist, the directory's owner
and times, and which configuration layout it has. Only `stat` calls; nothing is opened.

Services and workers ask here instead of calling `os` themselves, so `readers/` stays the
only code that touches Autosubmit's files (tests/test_layering.py keeps it so).
"""

from __future__ import annotations

import os
import pwd
from typing import Optional

from autosubmit_api.config import Settings
from autosubmit_api.models import DirFacts
from autosubmit_api.readers import paths


def user_name(uid: int) -> str:
    """The user name of a uid (the reference runs `id -nu`); the number as text when the uid
    has no passwd entry (a container, a deleted account)."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def exp_dir_facts(settings: Settings, expid: str) -> Optional[DirFacts]:
    """Owner and times of `<local root>/<expid>`, None when it cannot be stat'ed."""
    try:
        st = os.stat(paths.exp_dir(settings, expid))
    except OSError:
        return None
    return DirFacts(st.st_uid, user_name(st.st_uid), st.st_atime, st.st_mtime, st.st_ctime)


def has_exp_dir(settings: Settings, expid: str) -> bool:
    return os.path.isdir(paths.exp_dir(settings, expid))


def has_tmp_dir(settings: Settings, expid: str) -> bool:
    return os.path.isdir(paths.tmp_dir(settings, expid))


def is_as3_layout(settings: Settings, expid: str) -> bool:
    """The reference's Autosubmit 3 rule: `conf/expdef_<expid>.conf` exists (docs/data.md A.8)."""
    return os.path.isfile(paths.as3_expdef(settings, expid))
