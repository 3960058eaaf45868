"""v4 authentication routes under /v4/auth (docs/api.md 4.4, 4.6, 4.7).

`cas/v2/login`, `oauth2/github/login` and `oidc/login` have no gate (they are how a token
is obtained); `verify-token` has the NONE threshold and answers 401 itself without a valid user.
"""

from __future__ import annotations

from typing import Callable

from flask import Blueprint, g, redirect, request

from autosubmit_api import auth
from autosubmit_api.errors import APIError
from autosubmit_api.services import login as login_service

bp = Blueprint("auth", __name__)


def _token_for(conf, exchange: Callable[[], str]):
    """Run a login exchange: a token for the user it names, or its refusal as the answer."""
    try:
        user = exchange()
    except APIError as exc:
        return login_service.login_answer(message=exc.message), exc.status
    return login_service.login_answer(user, auth.issue_login_token(conf, user), "Token generated")


@bp.get("/auth/cas/v2/login")
@auth.open_route
def cas_v2_login():
    conf = auth.settings()
    own_url = login_service.cas_v2_own_url(conf)
    # The GUI always names its own login page as `service`; without one, the service is
    # this route, whose URL comes from API_PUBLIC_URL (never from the request's Host).
    service = request.args.get("service") or own_url
    if not service:
        return login_service.login_answer(message=login_service.CAS_NO_PUBLIC_URL), 503
    if not login_service.service_allowed(conf.authorized_clients, service, own_url):
        return login_service.login_answer(message=login_service.SERVICE_NOT_AUTHORIZED), 401
    ticket = request.args.get("ticket")
    if not ticket:
        return redirect(login_service.cas_v2_login_url(conf, service))
    return _token_for(conf, lambda: login_service.cas_v2_login_user(conf, service, ticket))


@bp.get("/auth/oauth2/github/login")
@auth.open_route
def github_login():
    conf = auth.settings()
    return _token_for(conf, lambda: login_service.github_login_user(conf, request.args.get("code") or ""))


@bp.get("/auth/oidc/login")
@auth.open_route
def oidc_login():
    conf = auth.settings()
    return _token_for(
        conf,
        lambda: login_service.oidc_login_user(
            conf, request.args.get("code") or "", request.args.get("redirect_uri") or ""
        ),
    )


@bp.get("/auth/verify-token")
@auth.gate("NONE")
def verify_token():
    if g.user:
        return {"authenticated": True, "user": g.user}
    return {"authenticated": False, "user": None}, 401
