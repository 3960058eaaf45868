"""Per-user settings of the current GUI's Settings page (docs/runners.md): the preferred
user name, stored in the API's own table (readers.central_store), never in Autosubmit's.

The GUI suggests the preferred name as the SSH user of a runner form; it is kept as the user
typed it after checking it is a plausible login name (it may end up in a command line).
"""

from __future__ import annotations

from dataclasses import replace
import re
import time
from typing import Mapping, Optional

from autosubmit_api.config import Settings
from autosubmit_api.errors import BadRequest
from autosubmit_api.models import AuditOrigin
from autosubmit_api.readers import central_store
from autosubmit_api.services.timefmt import fmt_utc_iso

MAX_LENGTH = 128  # the GUI's input limit
# POSIX portable user names, plus the upper case some sites use; never a leading '-'.
_NAME = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.-]*")


def get_preferred_username(settings: Settings, user: str) -> Mapping[str, Optional[str]]:
    """The stored preference of `user`; `preferred_username` is "" when none is stored.

    (Upstream answers 404 then, which the GUI shows as a red "not available" on the Settings
    page; an empty name shows an empty field, which is the truth.)
    """
    stored = central_store.preferred_username(settings, user)
    if stored is None:
        return {"user_id": user, "preferred_username": "", "created": None, "modified": None}
    return stored


def set_preferred_username(
    settings: Settings, user: str, name: object, origin: Optional[AuditOrigin] = None
) -> Mapping[str, Optional[str]]:
    """Store `name` for `user`, with its row in the audit trail (`origin`: from where; default:
    none known); BadRequest when it is not a plausible login name (nothing written)."""
    if not isinstance(name, str):
        raise BadRequest("preferred_username must be a string")
    name = name.strip()
    if not name:
        raise BadRequest("preferred_username must not be empty")
    if len(name) > MAX_LENGTH:
        raise BadRequest(f"preferred_username is longer than {MAX_LENGTH} characters")
    if not _NAME.fullmatch(name):
        raise BadRequest("preferred_username may contain only letters, digits, '_', '.' and '-' (not first)")
    now = fmt_utc_iso(time.time())
    assert now is not None, "the current time is a positive time, which always formats"
    origin = replace(origin, user=user) if origin is not None else AuditOrigin(user)
    return central_store.set_preferred_username(settings, user, name, now, origin)
