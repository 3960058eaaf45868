"""Every registered view carries the gate (docs/api.md 3.2, 11), so a new route cannot escape it.

Generic: it walks `app.url_map`, so routes added by any module are checked. The only views
allowed without a gate are the ones docs/api.md 3.2 lists as ungated, plus our own open routes
listed in OUR_OPEN (adding one there is a deliberate, reviewed decision); a route of the route index must carry exactly
the index's threshold, and any other route must carry some gate. Then every route, with every
method it answers, is sent every kind of bad token under each PROTECTION_LEVEL.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import time
import warnings

import jwt
import pytest

from autosubmit_api.app import create_app
from autosubmit_api.auth import LEVELS
from tests.factory import make_experiment, make_site, workflow
from tests.conftest import TEST_SECRET

# Ours, not the reference's: the published contract, its interactive reference (the page and
# Swagger UI's files) and the load balancer's health probe.
OUR_OPEN = {"/openapi.json", "/docs", "/docs/<path:filename>", "/v4/health"}
UNGATED = OUR_OPEN | {
    "/",
    "/login",
    "/filestatus/",
    "/v4/auth/cas/v2/login",
    "/v4/auth/oauth2/github/login",
    "/static/<path:filename>",
    # The current GUI's OpenID Connect login (docs/authentication.md: open at every level).
    "/v4/auth/oidc/login",
}

# docs/api.md section 11: rule (v3 rules also exist under /v3) -> threshold
V3_INDEX = {
    "/tokentest": "NONE",
    "/updatedesc": "WRITEONLY",
    "/cconfig/<expid>": "ALL",
    "/expinfo/<expid>": "ALL",
    "/expcount/<expid>": "ALL",
    "/searchowner/<owner>/<exptype>/<onlyactive>": "ALL",
    "/searchowner/<owner>": "ALL",
    "/search/<expid>/<exptype>/<onlyactive>": "ALL",
    "/search/<expid>": "ALL",
    "/running/": "ALL",
    "/runs/<expid>": "ALL",
    "/ifrun/<expid>": "ALL",
    "/logrun/<expid>": "ALL",
    "/summary/<expid>": "ALL",
    "/shutdown/<route>": "ALL",
    "/performance/<expid>": "ALL",
    "/graph/<expid>/<layout>/<grouped>": "ALL",
    "/tree/<expid>": "ALL",
    "/quick/<expid>": "ALL",
    "/exprun/<expid>": "ALL",
    "/joblog/<logfile>": "ALL",
    "/pklinfo/<expid>/<timeStamp>": "ALL",
    "/pkltreeinfo/<expid>/<timeStamp>": "ALL",
    "/stats/<expid>/<filter_period>/<filter_type>": "ALL",
    "/history/<expid>/<jobname>": "ALL",
    "/rundetail/<expid>/<runid>": "ALL",
}
V4_INDEX = {
    "/v4/auth/verify-token": "NONE",
    "/v4/experiments": "ALL",
    "/v4/experiments/<expid>": "ALL",
    "/v4/experiments/<expid>/jobs": "ALL",
    "/v4/experiments/<expid>/wrappers": "ALL",
    "/v4/experiments/<expid>/filesystem-config": "ALL",
    "/v4/experiments/<expid>/runs": "ALL",
    "/v4/experiments/<expid>/runs/<run_id>/config": "ALL",
}
INDEX = {**V4_INDEX, **V3_INDEX, **{"/v3" + rule: level for rule, level in V3_INDEX.items()}}
UNGATED |= {"/v3" + rule for rule in ("/login", "/filestatus/")}


@pytest.fixture
def protected_app(site):
    return create_app(site.settings({"PROTECTION_LEVEL": "ALL", "SECRET_KEY": TEST_SECRET}))


def _rules(app):
    return [rule for rule in app.url_map.iter_rules()]


def test_every_view_carries_a_gate_or_is_listed_as_ungated(protected_app):
    problems = []
    for rule in _rules(protected_app):
        view = protected_app.view_functions[rule.endpoint]
        threshold = getattr(view, "gate_threshold", "missing")
        if rule.rule in UNGATED:
            if threshold not in (None, "missing"):
                problems.append(f"{rule.endpoint} ({rule.rule}) is ungated in docs/api.md 3.2 but has gate {threshold}")
            continue
        if threshold == "missing":
            problems.append(
                f'{rule.endpoint} ({rule.rule}) has no @gate(...): add @gate("ALL") under the route decorator'
            )
        elif threshold is None:
            problems.append(
                f"{rule.endpoint} ({rule.rule}) is marked open_route but docs/api.md 3.2 does not list it as ungated"
            )
        elif threshold not in LEVELS:
            problems.append(f"{rule.endpoint} ({rule.rule}) has an unknown gate threshold {threshold!r}")
        elif rule.rule in INDEX and threshold != INDEX[rule.rule]:
            problems.append(
                f"{rule.endpoint} ({rule.rule}) has gate {threshold}, the route index says {INDEX[rule.rule]}"
            )
    assert not problems, "\n".join(problems)


def test_the_auth_routes_are_registered_with_their_thresholds(protected_app):
    by_rule = {rule.rule: protected_app.view_functions[rule.endpoint] for rule in _rules(protected_app)}
    for rule, level in (
        ("/tokentest", "NONE"),
        ("/v3/tokentest", "NONE"),
        ("/updatedesc", "WRITEONLY"),
        ("/v3/updatedesc", "WRITEONLY"),
        ("/v4/auth/verify-token", "NONE"),
    ):
        assert by_rule[rule].gate_threshold == level
    for rule in ("/login", "/v3/login", "/v4/auth/cas/v2/login", "/v4/auth/oauth2/github/login"):
        assert by_rule[rule].gate_threshold is None


def _dummy(converter) -> object:
    name = type(converter).__name__
    if name == "IntegerConverter":
        return 1
    if name == "FloatConverter":
        return 1.0
    return "a000"


def test_every_gated_data_route_refuses_a_get_without_token_under_all(protected_app):
    client = protected_app.test_client()
    adapter = protected_app.url_map.bind("localhost")
    checked, problems = 0, []
    for rule in _rules(protected_app):
        view = protected_app.view_functions[rule.endpoint]
        if "GET" not in rule.methods or getattr(view, "gate_threshold", None) not in ("ALL", "WRITEONLY"):
            continue
        values = {name: _dummy(conv) for name, conv in rule._converters.items()}
        url = adapter.build(rule.endpoint, values)
        for header in ({}, {"Authorization": "null"}):
            response = client.get(url, headers=header)
            if response.status_code != 401 or response.get_json() != {"error": True, "error_message": "Unauthorized"}:
                problems.append(f"{rule.endpoint} GET {url} {header} answered {response.status_code}")
        checked += 1
    assert checked >= 2, "expected at least /updatedesc under both prefixes"
    assert not problems, "\n".join(problems)


def _gated_get_urls(app):
    adapter = app.url_map.bind("localhost")
    for rule in _rules(app):
        view = app.view_functions[rule.endpoint]
        if "GET" in rule.methods and getattr(view, "gate_threshold", None) == "ALL":
            values = {name: _dummy(conv) for name, conv in rule._converters.items()}
            yield rule.endpoint, adapter.build(rule.endpoint, values)


def _gate_refusal(response):
    return response.status_code == 401 and response.get_json() == {"error": True, "error_message": "Unauthorized"}


def test_a_valid_token_passes_the_gate_of_every_data_route_under_all(protected_app, token):
    client = protected_app.test_client()
    refused = [
        f"{endpoint} GET {url}"
        for endpoint, url in _gated_get_urls(protected_app)
        if _gate_refusal(client.get(url, headers={"Authorization": token()}))
    ]
    assert not refused, "refused with a valid token:\n" + "\n".join(refused)


@pytest.mark.parametrize("level", ["WRITEONLY", "NONE"])
def test_data_routes_are_open_without_token_below_all(site, level):
    app = create_app(site.settings({"PROTECTION_LEVEL": level, "SECRET_KEY": TEST_SECRET}))
    client = app.test_client()
    refused = [
        f"{endpoint} GET {url}"
        for endpoint, url in _gated_get_urls(app)
        if _gate_refusal(client.get(url, headers={"Authorization": "null"}))
    ]
    assert not refused, f"refused under {level} without a token:\n" + "\n".join(refused)


# --- every route x every bad token x every level ---------------------------------------------
#
# The probe routes of tests/auth/test_gate_levels.py show what the gate does with each kind of
# bad token; this walk shows that every registered route (every method it answers) goes through
# it: where the route is gated the answer is the gate's 401, elsewhere the bad token changes
# nothing (the answer is the one without a token, never a 500). The tokens name OWNER, who owns
# the experiment, so a bad token taken for its user would be allowed to change the description.

OWNER = "tester"
WALK_LEVELS = ("ALL", "WRITEONLY", "NONE")
POST_BODY = {"expid": "a000", "description": "written with a bad token"}
BAD_KINDS_EXPIRED = ("expired", "bearer_expired")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _bad_tokens() -> dict:
    """Authorization header values by kind, none of which may name a user."""
    now = int(time.time())
    user = {"user_id": OWNER, "sub": OWNER}
    live = {"iat": now, "exp": now + 3600}

    def signed(claims, key=TEST_SECRET, algorithm="HS256"):
        return jwt.encode(claims, key, algorithm=algorithm)

    expired = signed({**user, "iat": now - 7200, "exp": now - 3600})
    wrongkey = signed({**user, **live}, key="another-secret-key-of-enough-length")
    with warnings.catch_warnings():  # the right key, shorter than SHA-512 asks for: on purpose
        warnings.simplefilter("ignore")
        hs512 = signed({**user, **live}, algorithm="HS512")
    return {
        "expired": expired,
        "bearer_expired": f"Bearer {expired}",
        "wrongkey": wrongkey,
        "bearer_wrongkey": f"Bearer {wrongkey}",
        "alg_none": jwt.encode({**user, **live}, None, algorithm="none"),
        "hs512": hs512,
        "nouser": signed(live),
        "empty_user": signed({"user_id": "", "sub": "", **live}),
        "user_not_a_string": signed({"user_id": [OWNER], **live}),
        "future_iat": signed({**user, "iat": now + 86400, "exp": now + 90000}),
        "future_nbf": signed({**user, "nbf": now + 86400, "exp": now + 90000}),
        "audience": signed({**user, "aud": "elsewhere", **live}),
        "exp_not_a_number": signed({**user, "exp": "tomorrow"}),
        "bearer_only": "Bearer",
        "bearer_a_b": "Bearer a.b",
        "four_segments": "a.b.c.d",
        "header_not_json": f"{_b64(b'not json')}.{_b64(json.dumps(user).encode())}.c2ln",
        "garbage": "#!%\u00e9\u00ff garbage \t ;,",
        "empty": "",
        "bearer_null": "Bearer null",
    }


BAD_TOKENS = _bad_tokens()


@pytest.fixture(scope="module")
def walk_site(tmp_path_factory):
    """One factory-made experiment, a000, owned by OWNER, shared by every walk below.

    The walk compares whole answers, so no job is RUNNING or QUEUING: their times grow with
    the clock (the tree's `minutes`). The running one failed, the queuing one waits again.
    """
    site = make_site(tmp_path_factory.mktemp("gate_walk") / "site")
    jobs = workflow.standard_jobs("a000")
    for job in jobs:
        if job.status == workflow.RUNNING:
            job.status, job.fail_count = workflow.FAILED, 1
        elif job.status == workflow.QUEUING:
            job.status, job.id, job.prev_status = workflow.WAITING, 0, workflow.WAITING
    make_experiment(site, "a000", jobs, details={"user": OWNER})
    return site


@pytest.fixture(scope="module")
def walk_apps(walk_site):
    """level -> (app, {(method, url, body) -> (status, data) without a token})."""
    apps = {}
    for level in WALK_LEVELS:
        app = create_app(walk_site.settings({"PROTECTION_LEVEL": level, "SECRET_KEY": TEST_SECRET}))
        client = app.test_client()
        apps[level] = (app, {request[1:4]: _answer(client, request, {}) for request in _walk_requests(app)})
    return apps


def _threshold(rule, view):
    """The rule's threshold by docs/api.md 3.2 (route index, ungated list); for a rule in neither, the
    view's own gate (test_every_view_carries_a_gate_or_is_listed_as_ungated judges that one)."""
    if rule.rule in INDEX:
        return INDEX[rule.rule]
    if rule.rule in UNGATED:
        return None
    return getattr(view, "gate_threshold", None)


def _walk_requests(app):
    """(threshold, method, url, json body or None) for every rule and method; POST without and
    with a body."""
    adapter = app.url_map.bind("localhost")
    for rule in _rules(app):
        url = adapter.build(rule.endpoint, {name: _dummy(conv) for name, conv in rule._converters.items()})
        threshold = _threshold(rule, app.view_functions[rule.endpoint])
        for method in sorted(rule.methods):
            yield threshold, method, url, None
            if method == "POST":
                yield threshold, method, url, json.dumps(POST_BODY)


def _answer(client, request, headers):
    """(status, body) of one request, without the tree's `pkl_timestamp` (the current time, docs/api.md Q19)
    and, of `/metrics`, only the metric families (its values count the requests themselves), nor
    the health's `caches` (the process's cache counters, which every request moves)."""
    _threshold, method, url, body = request
    if body is not None:
        headers = {**headers, "Content-Type": "application/json"}
    response = client.open(url, method=method, headers=headers, data=body)
    if response.mimetype == "text/event-stream":  # an open event stream never ends: its status is the answer
        response.close()
        return response.status_code, b""
    data = response.get_data()
    if url == "/metrics" and response.status_code == 200:
        # The counters count this walk's own requests: compare the metric families only.
        data = b"\n".join(line for line in data.splitlines() if line.startswith(b"# TYPE "))
    moving = "pkl_timestamp" if b'"pkl_timestamp"' in data else "caches" if url == "/v4/health" else None
    if response.is_json and moving and data:
        parsed = response.get_json()
        if isinstance(parsed, dict):
            parsed.pop(moving, None)
            data = json.dumps(parsed, sort_keys=True).encode()
    return response.status_code, data


def _gated(threshold, method, level) -> bool:
    """Whether the gate answers at this level (docs/api.md 3.2).

    OPTIONS is Flask's automatic answer (CORS preflight) and never reaches a view.
    """
    return method != "OPTIONS" and threshold in ("ALL", "WRITEONLY") and LEVELS[threshold] <= LEVELS[level]


def _description(site, expid="a000"):
    with sqlite3.connect(site.central_db) as conn:
        return conn.execute("SELECT description FROM experiment WHERE name = ?", (expid,)).fetchone()[0]


@pytest.mark.parametrize("level", WALK_LEVELS)
@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_every_route_answers_a_bad_token_as_the_gate_must(walk_site, walk_apps, level, kind):
    app, without_token = walk_apps[level]
    client = app.test_client()
    header = {"Authorization": BAD_TOKENS[kind]}
    refusal = {"error": True, "error_message": "Expired token" if kind in BAD_KINDS_EXPIRED else "Unauthorized"}
    description = _description(walk_site)
    gated, problems = 0, []
    for request in _walk_requests(app):
        threshold, method, url, body = request
        where = f"{method} {url}{' with a JSON body' if body else ''}"
        status, data = _answer(client, request, header)
        if status == 500:
            problems.append(f"{where}: {status} {data[:200]!r}")
        elif _gated(threshold, method, level):
            gated += 1
            expected_body = b"" if method == "HEAD" else refusal
            got = data if method == "HEAD" else json.loads(data or b"null")
            if (status, got) != (401, expected_body):
                problems.append(f"{where}: expected the gate's 401 {expected_body}, got {status} {data[:200]!r}")
        elif (status, data) != without_token[(method, url, body)]:
            plain_status, plain_data = without_token[(method, url, body)]
            problems.append(
                f"{where}: answered {status} {data[:200]!r}, without a token "
                f"{plain_status} {plain_data[:200]!r}: the bad token changed the answer"
            )
    # The walk reached the gated routes: every data route under ALL, /updatedesc under WRITEONLY.
    assert gated >= {"ALL": 60, "WRITEONLY": 4, "NONE": 0}[level]
    assert not problems, f"{kind} under {level}:\n" + "\n".join(problems)
    assert _description(walk_site) == description, "a bad token changed the description"


@pytest.mark.parametrize("level", WALK_LEVELS)
def test_updatedesc_refuses_every_bad_token_and_the_owner_token_writes(walk_site, walk_apps, level):
    """Control for the walk: the owner's valid token does write, so a bad token taken for the
    owner would have been seen; every bad token is refused by the gate or by the route."""
    client = walk_apps[level][0].test_client()
    before = _description(walk_site)
    for kind, value in BAD_TOKENS.items():
        for path in ("/updatedesc", "/v3/updatedesc"):
            response = client.post(path, json=POST_BODY, headers={"Authorization": value})
            assert response.status_code == 401, (kind, path, response.get_json())
            if level == "NONE":
                assert response.get_json() == {
                    "error": True,
                    "auth": False,
                    "description": None,
                    "message": "It seems that your session has expired, please log in again.",
                }, kind
            assert _description(walk_site) == before, (kind, path)
    valid = jwt.encode({"user_id": OWNER, "sub": OWNER, "exp": int(time.time()) + 3600}, TEST_SECRET, algorithm="HS256")
    try:
        response = client.post("/v3/updatedesc", json=POST_BODY, headers={"Authorization": f"Bearer {valid}"})
        assert (response.status_code, response.get_json()["message"]) == (200, "Description Updated.")
        assert _description(walk_site) == POST_BODY["description"]
    finally:
        with sqlite3.connect(walk_site.central_db) as conn:
            conn.execute("UPDATE experiment SET description = ? WHERE name = 'a000'", (before,))
