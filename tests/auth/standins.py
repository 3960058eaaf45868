"""Stand-ins for a CAS server, GitHub and an OpenID Connect provider, as real HTTP servers
on 127.0.0.1.

Each runs `http.server` in a thread; the API under test reaches them with `requests`, exactly
as it reaches the real services. Their state (tickets, codes, users, memberships) is plain
data the tests set, and every request they receive is recorded in `requests` for assertions.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import warnings
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Set, Tuple
from urllib.parse import parse_qs, urlsplit

import jwt

CAS_SUCCESS = """<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
  <cas:authenticationSuccess>
    <cas:user>{user}</cas:user>
    <cas:attributes><cas:email>{user}@example.org</cas:email></cas:attributes>
  </cas:authenticationSuccess>
</cas:serviceResponse>
"""

CAS_FAILURE = """<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
  <cas:authenticationFailure code="INVALID_TICKET">Ticket {ticket} not recognized</cas:authenticationFailure>
</cas:serviceResponse>
"""

# An XXE attempt: if the parser expanded the entity, the user would be the file's content.
CAS_HOSTILE = """<?xml version="1.0"?>
<!DOCTYPE cas:serviceResponse [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>
<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
  <cas:authenticationSuccess><cas:user>&xxe;</cas:user></cas:authenticationSuccess>
</cas:serviceResponse>
"""


@dataclass
class Recorded:
    method: str
    path: str
    query: Dict[str, List[str]]
    headers: Dict[str, str]
    body: bytes = b""


class _Server:
    """A ThreadingHTTPServer on a free loopback port that calls `self.handle(request)`."""

    def __init__(self):
        owner = self
        self.requests: List[Recorded] = []

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                url = urlsplit(self.path)
                rec = Recorded(self.command, url.path, parse_qs(url.query), dict(self.headers), body)
                owner.requests.append(rec)
                # A held server answers once released (bounded): a slow provider, on cue.
                owner._release.wait(timeout=30)
                status, ctype, payload = owner.handle(rec)
                data = payload.encode("utf-8") if isinstance(payload, str) else payload
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _serve
            do_POST = _serve

            def log_message(self, *args):  # keep the test output clean
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.stopped = False
        self._release = threading.Event()
        self._release.set()

    @contextlib.contextmanager
    def held(self):
        """Within the block, requests wait for `release()` (or the block's end) before they
        are answered: a test decides when the provider's answer reaches our API."""
        self._release.clear()
        try:
            yield self
        finally:
            self._release.set()

    def release(self):
        self._release.set()

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        if self.stopped:
            return
        self.stopped = True
        self.httpd.shutdown()
        self.httpd.server_close()

    JSON_TYPE = "application/json"

    def _json(self, status: int, body) -> Tuple[int, str, str]:
        """An answer of `body` as JSON, with this server's content type."""
        return status, self.JSON_TYPE, json.dumps(body)

    def handle(self, rec: Recorded) -> Tuple[int, str, str]:  # pragma: no cover - overridden
        raise NotImplementedError


class CASStandIn(_Server):
    """A CAS server under `<url>/cas/`: `login` (a page) and `serviceValidate` (CAS 2.0 XML).

    `tickets` maps a ticket to (service it was issued for, user). The ticket "ST-HOSTILE"
    answers an XML document with an external entity, "ST-BROKEN" an HTTP 500.
    """

    def __init__(self):
        super().__init__()
        self.tickets: Dict[str, Tuple[str, str]] = {}

    @property
    def base(self) -> str:
        return self.url + "/cas/"

    def handle(self, rec):
        if rec.path == "/cas/login":
            return 200, "text/html", "<html><body>CAS login form</body></html>"
        if rec.path in ("/cas/serviceValidate", "/cas/p3/serviceValidate"):
            ticket = (rec.query.get("ticket") or [""])[0]
            service = (rec.query.get("service") or [""])[0]
            if ticket == "ST-HOSTILE":
                return 200, "application/xml", CAS_HOSTILE
            if ticket == "ST-BROKEN":
                return 500, "text/plain", "internal error"
            issued = self.tickets.get(ticket)
            if issued and issued[0] == service:
                return 200, "application/xml", CAS_SUCCESS.format(user=issued[1])
            return 200, "application/xml", CAS_FAILURE.format(ticket=ticket)
        return 404, "text/plain", "not found"


@dataclass
class GitHubState:
    client_id: str = "gh-client"
    client_secret: str = "gh-secret"
    codes: Dict[str, str] = field(default_factory=dict)  # code -> login
    org_members: Dict[str, Set[str]] = field(default_factory=dict)  # org -> logins
    team_members: Dict[Tuple[str, str], Dict[str, str]] = field(default_factory=dict)  # -> {login: state}


class GitHubStandIn(_Server):
    """GitHub's OAuth token exchange (`/login/oauth/access_token`) and the REST calls used.

    Answers as GitHub documents: a bad code is a 200 with an `error` field; a bad token on
    `/user` is 401; org membership is 204 or 404; team membership is 200 with `state`, or 404.
    """

    def __init__(self):
        super().__init__()
        self.state = GitHubState()
        self.tokens: Dict[str, str] = {}  # access token -> login

    JSON_TYPE = "application/json; charset=utf-8"  # as GitHub labels its answers

    def _login(self, rec):
        auth = rec.headers.get("Authorization", "")
        return self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None

    def handle(self, rec):
        st = self.state
        parts = [p for p in rec.path.split("/") if p]
        if rec.method == "POST" and rec.path == "/login/oauth/access_token":
            form = {k: v[0] for k, v in parse_qs(rec.body.decode()).items()}
            login = st.codes.pop(form.get("code", ""), None)
            if form.get("client_id") != st.client_id or form.get("client_secret") != st.client_secret:
                return self._json(200, {"error": "incorrect_client_credentials"})
            if login is None:
                return self._json(200, {"error": "bad_verification_code"})
            token = f"gho_{login}_{len(self.tokens)}"
            self.tokens[token] = login
            return self._json(200, {"access_token": token, "token_type": "bearer", "scope": "read:user"})
        viewer = self._login(rec)
        if viewer is None:
            return self._json(401, {"message": "Bad credentials"})
        if parts == ["user"]:
            return self._json(200, {"login": viewer, "id": 1})
        if len(parts) == 4 and parts[0] == "orgs" and parts[2] == "members":
            return (
                (204, "", "")
                if parts[3] in st.org_members.get(parts[1], set())
                else self._json(404, {"message": "Not Found"})
            )
        if len(parts) == 6 and parts[0] == "orgs" and parts[2] == "teams" and parts[4] == "memberships":
            state = st.team_members.get((parts[1], parts[3]), {}).get(parts[5])
            if state is None:
                return self._json(404, {"message": "Not Found"})
            return self._json(200, {"state": state, "role": "member"})
        return self._json(404, {"message": "Not Found"})


@dataclass
class OIDCState:
    client_id: str = "oidc-client"
    client_secret: str = "oidc-secret"
    codes: Dict[str, Tuple[str, str]] = field(default_factory=dict)  # code -> (redirect_uri, sub)
    userinfo_without_sub: bool = False
    # The ID token the token endpoint returns: HS256 signed with the client secret (OIDC core
    # 10.1), `aud` the client id unless `id_token_audience` says otherwise.
    id_token_audience: object = None
    id_token_lifetime: int = 300
    id_token_extra: Dict[str, object] = field(default_factory=dict)


class OIDCStandIn(_Server):
    """An OpenID Connect provider's token endpoint (`/token`) and `/userinfo`, answering as
    the OAuth 2.0 and OIDC core specs say: a refused code or client is a 400/401 with an
    `error`; `/userinfo` without a valid Bearer token is 401. A code is single use and bound
    to the redirect URI it was issued for."""

    def __init__(self):
        super().__init__()
        self.state = OIDCState()
        self.tokens: Dict[str, str] = {}  # access token -> sub

    def id_token(self, sub: str) -> str:
        st = self.state
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": sub,
            "aud": st.id_token_audience or st.client_id,
            "iat": now,
            "exp": now + st.id_token_lifetime,
            "preferred_username": f"{sub}-preferred",
            "email": f"{sub}@example.org",
            **st.id_token_extra,
        }
        with warnings.catch_warnings():  # the stand-in's short client secret is on purpose
            warnings.simplefilter("ignore")
            return jwt.encode(claims, st.client_secret, algorithm="HS256")

    def handle(self, rec):
        st = self.state
        if rec.method == "POST" and rec.path == "/token":
            form = {k: v[0] for k, v in parse_qs(rec.body.decode()).items()}
            if form.get("client_id") != st.client_id or form.get("client_secret") != st.client_secret:
                return self._json(401, {"error": "invalid_client"})
            if form.get("grant_type") != "authorization_code":
                return self._json(400, {"error": "unsupported_grant_type"})
            issued = st.codes.pop(form.get("code", ""), None)
            if issued is None or issued[0] != form.get("redirect_uri"):
                return self._json(400, {"error": "invalid_grant"})
            token = f"at_{issued[1]}_{len(self.tokens)}"
            self.tokens[token] = issued[1]
            return self._json(
                200,
                {
                    "access_token": token,
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": self.id_token(issued[1]),
                },
            )
        if rec.method == "GET" and rec.path == "/userinfo":
            auth = rec.headers.get("Authorization", "")
            sub = self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
            if sub is None:
                return self._json(401, {"error": "invalid_token"})
            if st.userinfo_without_sub:
                return self._json(200, {"preferred_username": sub})
            return self._json(200, {"sub": sub, "preferred_username": sub, "email": f"{sub}@example.org"})
        return self._json(404, {"error": "not_found"})
