"""v3 authentication routes: `/login` (CAS), `/tokentest` and `/updatedesc` (docs/api.md 4.2 to 4.5).

Registered at the root and under /v3. `/login` has no gate; `/tokentest` has the NONE
threshold (it answers 401 itself without a valid user); `/updatedesc`, the API's only write,
has the WRITEONLY threshold and checks that the user may change the experiment
(services.description).
"""

from __future__ import annotations

from flask import Blueprint, g, redirect, request
from werkzeug.exceptions import RequestEntityTooLarge

from autosubmit_api import auth, request_log
from autosubmit_api.errors import APIError, NotFound, TooLarge, too_large_message
from autosubmit_api.services import description as description_service
from autosubmit_api.services import login as login_service

bp = Blueprint("auth", __name__)

SESSION_EXPIRED = "It seems that your session has expired, please log in again."
NO_USER_NO_DESCRIPTION = "Not a valid user and no description provided"


@bp.get("/login")
@auth.open_route
def login():
    conf = auth.settings()
    client = login_service.matching_client(conf.authorized_clients, request.referrer)
    if client is None:
        return login_service.login_answer(message=login_service.CLIENT_NOT_AUTHORIZED), 401
    # The reference pastes `env` even when absent ("None/login"); an absent env adds nothing.
    service = f"{client}{request.args.get('env') or ''}/login"
    ticket = request.args.get("ticket")
    if not ticket:
        return redirect(login_service.cas_login_redirect(conf.cas_login_url, service))
    try:
        user = login_service.cas_v3_login_user(conf, service, ticket)
    except APIError as exc:
        return login_service.login_answer(message=exc.message), exc.status
    return login_service.login_answer(user, auth.issue_login_token(conf, user), "Token generated.")


@bp.route("/tokentest", methods=["GET", "POST"])
@auth.gate("NONE")
def tokentest():
    if g.user:
        return {"isValid": True, "message": None}
    return {"isValid": False, "message": "Unauthorized"}, 401


def _answer(message, *, error=True, description=None):
    return {"error": error, "auth": not error, "description": description, "message": message}


@bp.errorhandler(TooLarge)
@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc):
    """413 for a body over API_MAX_BODY_BYTES, in the body shape of the route asked."""
    message = too_large_message()
    endpoint = (request.endpoint or "").rsplit(".", 1)[-1]
    if endpoint == "updatedesc":
        return _answer(message), 413
    if endpoint == "tokentest":
        return {"isValid": False, "message": message}, 413
    return login_service.login_answer(message=message), 413


@bp.route("/updatedesc", methods=["GET", "POST"])
@auth.gate("WRITEONLY")
def updatedesc():
    body = request.get_json(silent=True) if request.is_json else None
    body = body if isinstance(body, dict) else {}
    expid = body.get("expid")
    new = body.get("description")
    new = new if isinstance(new, str) and new else None
    if not g.user:
        return _answer(SESSION_EXPIRED if new else NO_USER_NO_DESCRIPTION), 401
    if new is None:
        return _answer("No description provided.")
    try:
        description_service.update_description(auth.settings(), g.user, expid, new, request_log.audit_origin(g.user))
    except NotFound as exc:
        # The reference answers an unknown expid with 200 and error: true.
        return _answer(exc.message)
    except APIError as exc:
        return _answer(exc.message), exc.status
    return _answer("Description Updated.", error=False, description=new)
