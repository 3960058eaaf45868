"""Changing an experiment's description: who may, and the write (docs/api.md 4.2, docs/decisions.md Q12).

The owner of an experiment is `details.user` of its central-DB row: Autosubmit (>= 4.1.15)
and the details worker both write there the name of the OS user owning `<local root>/<expid>`,
and it is what every listing shows as the owner. When the experiment has no `details` row
(older sites before the details worker ran), the OS owner of the experiment directory is used,
which is the same fact read at its source.

A user may change the description when they own the experiment, are listed in
`Settings.admin_users` (API_ADMIN_USERS), or the site turned the check off
(`Settings.owner_check`, API_OWNER_CHECK=false, the reference's behaviour).
"""

from __future__ import annotations

from dataclasses import replace
import time
from typing import Optional

from autosubmit_api.config import Settings
from autosubmit_api.errors import BadRequest, Forbidden, NotFound
from autosubmit_api.models import AuditOrigin
from autosubmit_api.readers import central_db, central_store, exp_files, paths
from autosubmit_api.services.timefmt import fmt_utc_iso


def directory_owner(settings: Settings, expid: str) -> Optional[str]:
    """The user name owning the experiment directory, or None when it is missing."""
    facts = exp_files.exp_dir_facts(settings, expid)
    return facts.owner if facts is not None else None


def experiment_owner(settings: Settings, expid: str) -> Optional[str]:
    """details.user, else the OS owner of `<exp>`; NotFound when the experiment is unknown."""
    row = central_db.get_experiment(settings, expid)
    if row is None:
        raise NotFound(f"Update on experiment {expid} failed.")
    return row.user or directory_owner(settings, expid)


def may_write(settings: Settings, user: str, owner: Optional[str]) -> bool:
    if not settings.owner_check or user in settings.admin_users:
        return True
    return owner is not None and owner == user


# Longest description stored (characters); 4.0.1 stored any length the body carried.
MAX_DESCRIPTION_CHARS = 4096


def update_description(
    settings: Settings, user: str, expid: object, description: str, origin: Optional[AuditOrigin] = None
) -> None:
    """Store `description` for `expid` on behalf of `user`, with its row in the audit trail
    (`origin`: the client address, request id and route; default: none known), in one
    transaction (docs/audit.md).

    BadRequest when the description is longer than MAX_DESCRIPTION_CHARS; NotFound (message
    "Update on experiment <expid> failed.", the reference's text) when no experiment has
    that name; Forbidden when `user` may not change it; Unavailable when the
    central DB or the audit trail cannot be written (then nothing changed).
    """
    failed = f"Update on experiment {expid} failed."
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise BadRequest(f"The description is longer than {MAX_DESCRIPTION_CHARS} characters.")
    if not paths.is_valid_expid(expid):
        raise NotFound(failed)
    if settings.owner_check and user not in settings.admin_users:
        owner = experiment_owner(settings, expid)
        if not may_write(settings, user, owner):
            raise Forbidden(f"User {user} is not the owner of experiment {expid}.")
    now = fmt_utc_iso(time.time())
    assert now is not None, "the current time is a positive time, which always formats"
    origin = replace(origin, user=user) if origin is not None else AuditOrigin(user)
    if not central_store.update_description(settings, expid, description, origin, now):
        raise NotFound(failed)
