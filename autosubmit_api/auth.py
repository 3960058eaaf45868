"""JWT tokens and the PROTECTION_LEVEL gate (docs/api.md section 3, docs/decisions.md Q6-Q10).

`gate(threshold)` decorates every view: it reads the token from the `Authorization`
header (raw, as the GUI sends it, or `Bearer <token>`), puts the user name on
`flask.g.user` (None when there is no valid token) and answers 401 when the configured
level demands a token for that threshold. A site's static AS_API_SECRET_TOKEN, when set, is
accepted in place of a JWT and stands for AS_API_SECRET_TOKEN_USER.
"""

from __future__ import annotations

import functools
import hmac
import time
from typing import Callable, List, Optional, Tuple

import jwt
from flask import current_app, g, jsonify, request

from autosubmit_api.config import Settings

LEVELS = {"ALL": 100, "WRITEONLY": 20, "NONE": 0}
ALGORITHM = "HS256"
# What the GUI sends after logout, and other non-tokens that count as "no token".
NO_TOKEN_VALUES = ("", "null", "undefined", "None")


class TokenError(Exception):
    def __init__(self, message: str, expired: bool = False):
        super().__init__(message)
        self.expired = expired


def settings() -> Settings:
    return current_app.extensions["autosubmit_api"]["settings"]


def issue_token(user: str, secret: str, lifetime: int, now: Optional[float] = None) -> str:
    """An HS256 token with the reference's claims; `exp` counted in UTC (Q8)."""
    issued = int(now if now is not None else time.time())
    claims = {"user_id": user, "sub": user, "iat": issued, "exp": issued + lifetime}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def issue_login_token(conf: Settings, user: str) -> str:
    """The token a login route hands out: the site's secret and lifetime (docs/api.md 3.3)."""
    return issue_token(user, conf.secret_key, conf.jwt_lifetime_seconds)


def token_from_header(header: Optional[str]) -> Optional[str]:
    """The JWT of an `Authorization` header, raw or `Bearer <jwt>` (Q9); None for no token.

    The GUI sends the string "null" after a logout; that, and other empty values, is no token.
    """
    if header is None:
        return None
    value = header.strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    if value in NO_TOKEN_VALUES:
        return None
    return value


def decode_token(token: str, secret: str) -> str:
    """The user the token names; TokenError when it is invalid, expired or names nobody (Q10)."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM])
    except jwt.ExpiredSignatureError:
        raise TokenError("Expired token", expired=True) from None
    except jwt.InvalidTokenError:
        raise TokenError("Unauthorized") from None
    user = claims.get("user_id") or claims.get("sub")
    if not isinstance(user, str) or not user:
        raise TokenError("Unauthorized")
    return user


def is_secret_token(token: str, secret_token: str) -> bool:
    """Whether `token` is the site's static AS_API_SECRET_TOKEN (never when that is unset).

    Compared in constant time, on bytes, so the answer's timing says nothing about how much of
    a guess was right.
    """
    if not secret_token or not isinstance(token, str):
        return False
    return hmac.compare_digest(token.encode("utf-8"), secret_token.encode("utf-8"))


def current_user(
    header: Optional[str], secret: str, secret_token: str = "", secret_token_user: str = ""
) -> Tuple[Optional[str], Optional[TokenError]]:
    """(user, None) for a valid token, else (None, the reason).

    The static `secret_token` (AS_API_SECRET_TOKEN, the GUI's `secret-token` login sends
    `Bearer <it>`) stands for `secret_token_user`.
    """
    token = token_from_header(header)
    if token is None:
        return None, TokenError("Unauthorized")
    if secret_token_user and is_secret_token(token, secret_token):
        return secret_token_user, None
    try:
        return decode_token(token, secret), None
    except TokenError as exc:
        return None, exc


def gate(threshold: str) -> Callable:
    """Require a token when LEVELS[threshold] <= the configured protection level.

    threshold "NONE" never answers 401 itself: the view decides (tokentest, verify-token).
    """
    needed = LEVELS[threshold]

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            conf = settings()
            user, problem = current_user(
                request.headers.get("Authorization"), conf.secret_key, conf.secret_token, conf.secret_token_user
            )
            g.user = user
            g.token_problem = problem
            if problem is not None and threshold != "NONE" and needed <= LEVELS[conf.protection_level]:
                return jsonify({"error": True, "error_message": str(problem)}), 401
            return view(*args, **kwargs)

        # Read back with getattr (tests/test_gate.py walks every rule's gate).
        setattr(wrapper, "gate_threshold", threshold)
        return wrapper

    return decorator


def startup_warnings(conf: Settings) -> List[str]:
    """What an operator should hear about at start: weak or risky authentication settings."""
    found = []
    if conf.secret_key_blank:
        found.append("SECRET_KEY is blank (only whitespace): ignored, as if it were not set.")
    if conf.secret_key_generated and conf.protection_level != "NONE":
        found.append(
            "SECRET_KEY is not set: tokens are signed with a random key made at start; they "
            "stop working at restart and are not accepted by other hosts. Set SECRET_KEY."
        )
    elif not conf.secret_key_generated and len(conf.secret_key.encode("utf-8")) < 32:
        found.append("SECRET_KEY is shorter than 32 bytes: tokens signed with it are easier to forge.")
    if conf.github_client_id and not conf.github_whitelist_organization:
        found.append(
            "GitHub login is configured without GITHUB_OAUTH_WHITELIST_ORGANIZATION: every GitHub account can log in."
        )
    if conf.github_whitelist_team and not conf.github_whitelist_organization:
        found.append("GITHUB_OAUTH_WHITELIST_TEAM is ignored without GITHUB_OAUTH_WHITELIST_ORGANIZATION.")
    if conf.secret_token and len(conf.secret_token.encode("utf-8")) < 32:
        found.append("AS_API_SECRET_TOKEN is shorter than 32 bytes: it is easier to guess.")
    if conf.secret_token and conf.secret_token_user in conf.admin_users:
        found.append(
            f"AS_API_SECRET_TOKEN stands for {conf.secret_token_user}, a member of API_ADMIN_USERS: "
            "whoever holds it may change any experiment's description."
        )
    if not conf.owner_check:
        found.append("API_OWNER_CHECK=false: any logged-in user can change any experiment's description.")
    return found


def open_route(view: Callable) -> Callable:
    """Mark a view that has no gate at all (/, /login, /filestatus/, the login flows)."""
    setattr(view, "gate_threshold", None)
    return view
