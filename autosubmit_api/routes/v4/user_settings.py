"""`GET/POST /v4/user-settings/preferred-username` (docs/runners.md): the current GUI's
Settings page. Threshold NONE, like `verify-token`: a setting belongs to a user, so the
route answers 401 itself without a valid token, at every protection level.

Errors carry `detail` besides the usual `error_message`: the GUI shows `detail` of a failed
save (upstream's error field).
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from autosubmit_api import auth, request_log
from autosubmit_api.errors import APIError, BadRequest, Unauthorized, error_body
from autosubmit_api.services import user_settings as service

bp = Blueprint("user_settings", __name__)


def _failure(exc: APIError):
    return jsonify({**error_body(exc.message), "detail": exc.message}), exc.status


def _user() -> str:
    if not g.user:
        raise Unauthorized()
    return g.user


@bp.get("/user-settings/preferred-username")
@auth.gate("NONE")
def get_preferred_username():
    try:
        return service.get_preferred_username(auth.settings(), _user())
    except APIError as exc:
        return _failure(exc)


@bp.post("/user-settings/preferred-username")
@auth.gate("NONE")
def set_preferred_username():
    try:
        user = _user()
        body = request.get_json(silent=True) if request.is_json else None
        if not isinstance(body, dict) or "preferred_username" not in body:
            raise BadRequest("The body must be a JSON object with preferred_username")
        return service.set_preferred_username(
            auth.settings(), user, body["preferred_username"], request_log.audit_origin(user)
        )
    except APIError as exc:
        return _failure(exc)
