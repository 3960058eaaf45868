"""Every registered view carries the gate (api.md 3.2, 11), so a new route cannot escape it.

Generic: it walks `app.url_map`, so routes added by any module are checked. The only views
allowed without a gate are the ones api.md 3.2 lists as ungated, plus our own open routes
listed in OUR_OPEN (adding one there is a deliberate, reviewed decision); a route of the route index must carry exactly
the index's threshold, and any other route must carry some gate.
"""
from __future__ import annotations

import pytest

from autosubmit_api.app import create_app
from autosubmit_api.auth import LEVELS
from tests.conftest import TEST_SECRET

# Ours, not the reference's: the published contract and the load balancer's health probe.
OUR_OPEN = {"/openapi.json", "/v4/health"}
UNGATED = OUR_OPEN | {"/", "/login", "/filestatus/", "/v4/auth/cas/v2/login",
           "/v4/auth/oauth2/github/login", "/static/<path:filename>"}

# api.md section 11: rule (v3 rules also exist under /v3) -> threshold
V3_INDEX = {
    "/tokentest": "NONE", "/updatedesc": "WRITEONLY",
    "/cconfig/<expid>": "ALL", "/expinfo/<expid>": "ALL", "/expcount/<expid>": "ALL",
    "/searchowner/<owner>/<exptype>/<onlyactive>": "ALL", "/searchowner/<owner>": "ALL",
    "/search/<expid>/<exptype>/<onlyactive>": "ALL", "/search/<expid>": "ALL",
    "/running/": "ALL", "/runs/<expid>": "ALL", "/ifrun/<expid>": "ALL", "/logrun/<expid>": "ALL",
    "/summary/<expid>": "ALL", "/shutdown/<route>": "ALL", "/performance/<expid>": "ALL",
    "/graph/<expid>/<layout>/<grouped>": "ALL", "/tree/<expid>": "ALL", "/quick/<expid>": "ALL",
    "/exprun/<expid>": "ALL", "/joblog/<logfile>": "ALL", "/pklinfo/<expid>/<timeStamp>": "ALL",
    "/pkltreeinfo/<expid>/<timeStamp>": "ALL",
    "/stats/<expid>/<filter_period>/<filter_type>": "ALL", "/history/<expid>/<jobname>": "ALL",
    "/rundetail/<expid>/<runid>": "ALL",
}
V4_INDEX = {
    "/v4/auth/verify-token": "NONE", "/v4/experiments": "ALL", "/v4/experiments/<expid>": "ALL",
    "/v4/experiments/<expid>/jobs": "ALL", "/v4/experiments/<expid>/wrappers": "ALL",
    "/v4/experiments/<expid>/filesystem-config": "ALL", "/v4/experiments/<expid>/runs": "ALL",
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
                problems.append(f"{rule.endpoint} ({rule.rule}) is ungated in api.md 3.2 but has gate {threshold}")
            continue
        if threshold == "missing":
            problems.append(f"{rule.endpoint} ({rule.rule}) has no @gate(...): add @gate(\"ALL\") "
                            "under the route decorator")
        elif threshold is None:
            problems.append(f"{rule.endpoint} ({rule.rule}) is marked open_route but api.md 3.2 "
                            "does not list it as ungated")
        elif threshold not in LEVELS:
            problems.append(f"{rule.endpoint} ({rule.rule}) has an unknown gate threshold {threshold!r}")
        elif rule.rule in INDEX and threshold != INDEX[rule.rule]:
            problems.append(f"{rule.endpoint} ({rule.rule}) has gate {threshold}, the route index says "
                            f"{INDEX[rule.rule]}")
    assert not problems, "\n".join(problems)


def test_the_auth_routes_are_registered_with_their_thresholds(protected_app):
    by_rule = {rule.rule: protected_app.view_functions[rule.endpoint] for rule in _rules(protected_app)}
    for rule, level in (("/tokentest", "NONE"), ("/v3/tokentest", "NONE"), ("/updatedesc", "WRITEONLY"),
                        ("/v3/updatedesc", "WRITEONLY"), ("/v4/auth/verify-token", "NONE")):
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
            if response.status_code != 401 or response.get_json() != {"error": True,
                                                                      "error_message": "Unauthorized"}:
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
    refused = [f"{endpoint} GET {url}" for endpoint, url in _gated_get_urls(protected_app)
               if _gate_refusal(client.get(url, headers={"Authorization": token()}))]
    assert not refused, "refused with a valid token:\n" + "\n".join(refused)


@pytest.mark.parametrize("level", ["WRITEONLY", "NONE"])
def test_data_routes_are_open_without_token_below_all(site, level):
    app = create_app(site.settings({"PROTECTION_LEVEL": level, "SECRET_KEY": TEST_SECRET}))
    client = app.test_client()
    refused = [f"{endpoint} GET {url}" for endpoint, url in _gated_get_urls(app)
               if _gate_refusal(client.get(url, headers={"Authorization": "null"}))]
    assert not refused, f"refused under {level} without a token:\n" + "\n".join(refused)
