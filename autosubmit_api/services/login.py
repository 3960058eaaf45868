"""The login exchanges with CAS, GitHub and an OpenID Connect provider (docs/api.md 3.3, 3.4, 4.5
to 4.7; docs/gui.md 8 for OIDC), as plain functions.

Nothing here knows about Flask: the routes pass the request's values in and shape the
answer. Each exchange calls the remote server with `requests` and a timeout; a server
that cannot be reached, or answers something that is not what the protocol says, raises
`Unavailable` (the reference let these escape as a 500). A refusal raises `LoginRefused`
with the reference's message, which the routes answer as 401.

CAS answers are XML. They are parsed with xml.etree after refusing any document that
declares a DOCTYPE or an ENTITY, so an external or recursive entity is never expanded.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from typing import Any, Dict, Iterable, Optional
from urllib.parse import urlencode, urlsplit

import jwt
import requests

from autosubmit_api.config import Settings
from autosubmit_api.errors import Unauthorized, Unavailable

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
CAS_NS = "{http://www.yale.edu/tp/cas}"
# DOCTYPE and ENTITY declarations are the way in for XXE and "billion laughs"; a CAS
# server never sends them.
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)

CLIENT_NOT_AUTHORIZED = (
    "Your client is not authorized for this operation. The API admin needs to add your URL to "
    "the list of allowed clients."
)
SERVICE_NOT_AUTHORIZED = (
    "Your service is not authorized for this operation. The API admin needs to add your URL "
    "to the list of allowed clients."
)

CAS_NO_PUBLIC_URL = (
    "CAS login is not configured on this server: a login without a service needs the API's public URL (API_PUBLIC_URL)."
)


class LoginRefused(Unauthorized):
    """The user could not be authenticated; `message` is the reference's text."""


class UnsafeXML(ValueError):
    """The CAS answer declares a DOCTYPE or an entity."""


# --- allowed clients (docs/api.md 3.4) -----------------------------------------------------


def matching_client(clients: Iterable[str], referer: Optional[str]) -> Optional[str]:
    """The last allowed client the Referer contains (the v3 rule), or None.

    The reference loops over every entry and keeps the last one that matches.
    """
    found = None
    if referer:
        for client in clients:
            if client in referer:
                found = client
    return found


CAS_V2_PATH = "/v4/auth/cas/v2/login"


def cas_v2_own_url(settings: Settings) -> str:
    """The v4 CAS route's own URL: API_PUBLIC_URL, then AS_API_ROOT_PATH unless the public
    URL already ends with it, then the route; "" when API_PUBLIC_URL is not set.

    Never built from the request: its Host header is the client's to choose, and a service
    URL on the client's host would pass the allowed-clients check (issue 14, item 6).
    """
    if not settings.public_url:
        return ""
    base = settings.public_url
    if settings.root_path and not urlsplit(base).path.rstrip("/").endswith(settings.root_path):
        base += settings.root_path
    return base + CAS_V2_PATH


def service_allowed(clients: Iterable[str], service: str, own_url: str) -> bool:
    """The v4 CAS rule: this route's own URL (when configured), a service containing an
    entry, or `*`."""
    if own_url and service == own_url:
        return True
    return any(client == "*" or client in service for client in clients)


# --- CAS ------------------------------------------------------------------------------


def parse_cas_user(content: bytes) -> Optional[str]:
    """The user of a CAS 2/3 `serviceResponse`, or None for a failure or an unknown answer.

    Raises UnsafeXML when the document declares a DOCTYPE or an entity.
    """
    if isinstance(content, str):
        content = content.encode("utf-8")
    if _DECLARATION.search(content):
        raise UnsafeXML("CAS answer declares a DOCTYPE or an entity")
    try:
        root = ET.fromstring(content)
    except ET.ParseError:
        return None
    if root.tag != CAS_NS + "serviceResponse":
        return None
    user = root.find(f"{CAS_NS}authenticationSuccess/{CAS_NS}user")
    name = (user.text or "").strip() if user is not None else ""
    return name or None


def cas_base(server_url: str) -> str:
    """CAS_SERVER_URL with a trailing slash, so `login` and `serviceValidate` go below it.

    Empty stays empty: the reference then redirects to the relative URL `login?service=...`.
    """
    if server_url and not server_url.endswith("/"):
        return server_url + "/"
    return server_url


def cas_login_redirect(login_url: str, service: str) -> str:
    """Where to send the browser to log in; `service` URL-encoded (docs/decisions.md Q13)."""
    return f"{login_url}?{urlencode({'service': service})}"


def cas_validate(verify_url: str, service: str, ticket: str) -> str:
    """Check `ticket` for `service` at the CAS validation URL; the user name it names.

    LoginRefused when CAS does not vouch for the ticket, Unavailable when CAS cannot be
    reached or answers with unsafe XML.
    """
    if not verify_url:
        raise Unavailable("CAS is not configured on this server")
    try:
        response = requests.get(verify_url, params={"service": service, "ticket": ticket}, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        log.warning("CAS validation at %s failed: %s", verify_url, exc)
        raise Unavailable("The CAS server could not be reached") from None
    if not response.ok:
        # The reference reads no user from an HTTP error answer.
        return ""
    try:
        return parse_cas_user(response.content) or ""
    except UnsafeXML:
        log.warning("CAS answer from %s refused: it declares a DOCTYPE or an entity", verify_url)
        raise Unavailable("The CAS server sent an answer that was refused") from None


def cas_v3_login_user(settings: Settings, service: str, ticket: str) -> str:
    """The v3 `/login` ticket check (CAS_VERIFY_URL); LoginRefused "Can't verify user."."""
    user = cas_validate(settings.cas_verify_url, service, ticket)
    if not user:
        raise LoginRefused("Can't verify user.")
    log.info("CAS login (v3) of %s for %s", user, service)
    return user


def cas_v2_login_url(settings: Settings, service: str) -> str:
    return cas_login_redirect(cas_base(settings.cas_server_url) + "login", service)


def cas_v2_login_user(settings: Settings, service: str, ticket: str) -> str:
    """The v4 CAS 2.0 ticket check (CAS_SERVER_URL + serviceValidate)."""
    if not settings.cas_server_url:
        raise Unavailable("CAS is not configured on this server")
    user = cas_validate(cas_base(settings.cas_server_url) + "serviceValidate", service, ticket)
    if not user:
        raise LoginRefused("Can't verify user")
    log.info("CAS login (v4) of %s for %s", user, service)
    return user


# --- GitHub ---------------------------------------------------------------------------


def _json_object(response: requests.Response) -> Dict[str, Any]:
    """The JSON object of an answer, {} when it is not one."""
    try:
        body = response.json()
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {}


def github_login_user(settings: Settings, code: str) -> str:
    """Exchange an OAuth `code` for the GitHub login, applying the org/team whitelist.

    LoginRefused with the reference's messages; Unavailable when no GitHub OAuth app is
    configured (GITHUB_OAUTH_CLIENT_ID) or GitHub cannot be reached. Without a whitelist every
    GitHub account is admitted (docs/api.md Q14, kept).
    """
    if not code:
        raise LoginRefused("Can't verify user")
    if not settings.github_client_id:
        # 4.0.1 sent the code with client_id None and answered GitHub's refusal as a 401.
        raise Unavailable("GitHub login is not configured on this server")
    try:
        exchange = requests.post(
            f"{settings.github_oauth_url}/login/oauth/access_token",
            data={
                "client_id": settings.github_client_id,
                "client_secret": settings.github_client_secret,
                "code": code,
            },
            headers={"Accept": "application/json"},
            timeout=TIMEOUT_SECONDS,
        )
        access_token = _json_object(exchange).get("access_token")
        if not access_token:
            # A refused code; the reference then asks /user with no token and finds no login.
            raise LoginRefused("Couldn't find user on GitHub")
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/vnd.github+json"}
        user_answer = requests.get(f"{settings.github_api_url}/user", headers=headers, timeout=TIMEOUT_SECONDS)
        login = _json_object(user_answer).get("login")
        if not isinstance(login, str) or not login:
            raise LoginRefused("Couldn't find user on GitHub")
        if not _github_member(settings, login, headers):
            raise LoginRefused("User is not member of organization or team")
    except requests.RequestException as exc:
        log.warning("GitHub login exchange failed: %s", exc)
        raise Unavailable("GitHub could not be reached") from None
    log.info("GitHub login of %s", login)
    return login


def _github_member(settings: Settings, login: str, headers: Dict[str, Any]) -> bool:
    org = settings.github_whitelist_organization
    team = settings.github_whitelist_team
    if org and team:
        answer = requests.get(
            f"{settings.github_api_url}/orgs/{org}/teams/{team}/memberships/{login}",
            headers=headers,
            timeout=TIMEOUT_SECONDS,
        )
        return answer.status_code == 200 and _json_object(answer).get("state") == "active"
    if org:
        answer = requests.get(
            f"{settings.github_api_url}/orgs/{org}/members/{login}",
            headers=headers,
            timeout=TIMEOUT_SECONDS,
        )
        return answer.status_code == 204
    log.info("GitHub login of %s admitted without a whitelist (GITHUB_OAUTH_WHITELIST_* unset)", login)
    return True


# --- OpenID Connect -------------------------------------------------------------------


def oidc_login_user(settings: Settings, code: str, redirect_uri: str) -> str:
    """Exchange an authorization `code` at the provider's token endpoint (the client's id
    and secret, `grant_type=authorization_code`, the `redirect_uri` the browser was sent
    back to), then read the user name: the `OIDC_USERNAME_CLAIM` claim (default `sub`) of
    the userinfo endpoint's answer, called with the access token, or of the ID token the
    exchange returned (`OIDC_USERNAME_SOURCE`, see `oidc_id_token_user`).

    This is what the current GUI's `oidc` login calls; API 4.0.1 has no such route. Any
    provider following the OIDC core spec works (Keycloak, Google, Microsoft Entra...).
    LoginRefused when the provider refuses the code or names no user; Unavailable when OIDC
    is not configured or the provider cannot be reached.
    """
    if not code:
        raise LoginRefused("Can't verify user")
    from_userinfo = settings.oidc_username_source != "id_token"
    if not settings.oidc_token_url or (from_userinfo and not settings.oidc_userinfo_url):
        raise Unavailable("OpenID Connect is not configured on this server")
    claim = settings.oidc_username_claim or "sub"
    try:
        exchange = requests.post(
            settings.oidc_token_url,
            data={
                "client_id": settings.oidc_client_id,
                "client_secret": settings.oidc_client_secret,
                "code": code,
                "grant_type": "authorization_code",
                "redirect_uri": redirect_uri,
            },
            headers={"Accept": "application/json"},
            timeout=TIMEOUT_SECONDS,
        )
        tokens = _json_object(exchange) if exchange.ok else {}
        access_token = tokens.get("access_token")
        if from_userinfo:
            if not isinstance(access_token, str) or not access_token:
                raise LoginRefused("Couldn't find user on OpenID Connect provider")
            answer = requests.get(
                settings.oidc_userinfo_url,
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
                timeout=TIMEOUT_SECONDS,
            )
            user = _json_object(answer).get(claim) if answer.ok else None
        else:
            user = oidc_id_token_user(tokens.get("id_token"), settings.oidc_client_id, claim)
    except requests.RequestException as exc:
        log.warning("OpenID Connect login exchange failed: %s", exc)
        raise Unavailable("The OpenID Connect provider could not be reached") from None
    if not isinstance(user, str) or not user.strip():
        raise LoginRefused("Couldn't find user on OpenID Connect provider")
    log.info("OpenID Connect login of %s", user)
    return user.strip()


def oidc_id_token_user(id_token: object, client_id: str, claim: str) -> Optional[str]:
    """The `claim` of an ID token received from the token endpoint, or None.

    The token came straight from the provider over the back channel the client secret
    authenticates, which OIDC core 1.0 section 3.1.3.7 accepts in place of checking its
    signature (no key set to fetch). Still refused: a token that is not a JWT, that has
    expired, or whose `aud` does not name our client id.
    """
    if not isinstance(id_token, str) or not id_token:
        return None
    try:
        claims = jwt.decode(id_token, options={"verify_signature": False, "verify_exp": True, "verify_aud": False})
    except jwt.InvalidTokenError:
        return None
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
    if client_id and client_id not in audiences:
        log.warning("OpenID Connect ID token refused: its aud does not name OIDC_CLIENT_ID")
        return None
    user = claims.get(claim)
    return user if isinstance(user, str) else None


def login_answer(user: Optional[str] = None, token: Optional[str] = None, message: str = "") -> Dict[str, Any]:
    """The body every login route answers (docs/api.md 3.3)."""
    return {"authenticated": bool(user and token), "user": user, "token": token, "message": message}
