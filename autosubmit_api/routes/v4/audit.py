"""`GET /v4/audit` (docs/audit.md): the audit trail, for members of API_ADMIN_USERS.

Threshold NONE, like the user settings: the trail is never public, so the route answers 401
itself without a valid token at every protection level, and 403 to a user who is not an admin.
Query: `page`, `page_size` (positive integers), `user`, `expid` (optional filters).
"""

from __future__ import annotations

from flask import Blueprint, g, request

from autosubmit_api import auth
from autosubmit_api.errors import Unauthorized
from autosubmit_api.services import audit as service

bp = Blueprint("audit", __name__)


@bp.get("/audit")
@auth.gate("NONE")
def read_trail():
    if not g.user:
        raise Unauthorized()
    args = request.args
    return service.read_trail(
        auth.settings(),
        g.user,
        page=args.get("page"),
        page_size=args.get("page_size"),
        user=args.get("user"),
        expid=args.get("expid"),
    )
