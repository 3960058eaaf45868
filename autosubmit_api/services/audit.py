"""The audit trail's read side: `GET /v4/audit` (docs/audit.md).

Only members of `API_ADMIN_USERS` may read it. Rows come newest first, a page at a time,
optionally only one user's or only one experiment's description changes. The rows are
written by the writes themselves (readers.central_store), in the same transaction.
"""

from __future__ import annotations

import math
from typing import Any, Dict, Optional

from autosubmit_api.config import Settings
from autosubmit_api.errors import BadRequest, Forbidden
from autosubmit_api.readers import central_store, paths

DEFAULT_PAGE_SIZE = 50
# Pages past this are refused instead of asking the database for a huge OFFSET.
MAX_PAGE = 10**6


def _positive(name: str, raw: Optional[str], default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a positive integer") from None
    if value < 1:
        raise BadRequest(f"{name} must be a positive integer")
    return value


def read_trail(
    settings: Settings,
    reader: Optional[str],
    *,
    page: Optional[str] = None,
    page_size: Optional[str] = None,
    user: Optional[str] = None,
    expid: Optional[str] = None,
) -> Dict[str, Any]:
    """One page of the trail for `reader` (who must be an admin): {"entries", "pagination"}.

    Forbidden for a user outside API_ADMIN_USERS; BadRequest for a page or page size that is
    not a positive integer, or an expid that cannot be one. page_size is capped at
    API_MAX_PAGE_SIZE.
    """
    if reader is None or reader not in settings.admin_users:
        raise Forbidden("Only members of API_ADMIN_USERS may read the audit trail.")
    number = _positive("page", page, 1)
    if number > MAX_PAGE:
        raise BadRequest(f"page must be at most {MAX_PAGE}")
    size = min(_positive("page_size", page_size, DEFAULT_PAGE_SIZE), settings.max_page_size)
    if expid is not None and not paths.is_valid_expid(expid):
        raise BadRequest("expid is not a valid experiment id")
    rows, total = central_store.audit_rows(
        settings, user=user or None, expid=expid or None, limit=size, offset=(number - 1) * size
    )
    entries = [
        {
            "id": row.id,
            "time": row.time,
            "user": row.user,
            "action": row.action,
            "target": row.target,
            "old_value": row.old_value,
            "new_value": row.new_value,
            "client": row.client,
            "request_id": row.request_id,
            "route": row.route,
        }
        for row in rows
    ]
    return {
        "entries": entries,
        "pagination": {
            "page": number,
            "page_size": size,
            "total_pages": math.ceil(total / size),
            "page_items": len(entries),
            "total_items": total,
        },
    }
