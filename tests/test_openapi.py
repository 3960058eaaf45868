"""openapi.json and the registered routes must describe the same API."""

import json
import re
from importlib import resources


def _doc():
    return json.loads(resources.files("autosubmit_api").joinpath("openapi.json").read_text())


def _flask_to_openapi(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([A-Za-z_]+)>", r"{\1}", rule)


def _registered(app):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        methods = sorted(m for m in rule.methods if m not in ("HEAD", "OPTIONS"))
        for method in methods:
            routes.add((method.lower(), _flask_to_openapi(rule.rule)))
    return routes


def _documented():
    return {
        (method, path)
        for path, ops in _doc()["paths"].items()
        for method in ops
        if method in ("get", "post", "put", "patch", "delete")
    }


def test_every_registered_route_is_documented(app):
    missing = _registered(app) - _documented()
    assert not missing, f"routes missing from openapi.json: {sorted(missing)}"


def test_every_documented_route_is_registered(app):
    extra = _documented() - _registered(app)
    assert not extra, f"openapi.json documents routes that do not exist: {sorted(extra)}"


def test_every_operation_has_a_summary_and_responses():
    for path, ops in _doc()["paths"].items():
        for method, op in ops.items():
            if method in ("get", "post"):
                assert op.get("summary"), f"{method} {path} has no summary"
                assert op.get("responses"), f"{method} {path} has no responses"


def test_v4_experiment_routes_document_their_error_statuses(client, make_experiment):
    """A v4 route under /v4/experiments/{expid} documents what a malformed or unknown id
    gives (400, 404), unreadable data (422) and a locked or missing database (503), and the
    statuses it really answers for the first two are among them. The run configuration keeps
    4.0.1's 200 with nulls for any run it cannot find (docs/api.md Q2, golden
    v4__experiments__zzzz__runs__1__config)."""
    make_experiment("a000")
    for path, ops in _doc()["paths"].items():
        if not path.startswith("/v4/experiments/{expid}") or path.endswith("/runs/{run_id}/config"):
            continue
        for method, op in ops.items():
            assert {"400", "404", "422", "503"} <= set(op["responses"]), f"{method} {path}"
            if method != "get":
                continue
            concrete = path.replace("{run_id}", "1")
            concrete = re.sub(r"\{(?!expid)[A-Za-z_]+\}", "x", concrete)
            for expid, status in (("bad-id!", 400), ("zzzz", 404)):
                answered = client.get(concrete.replace("{expid}", expid)).status_code
                assert answered == status, f"GET {path} with {expid}: {answered}"


def test_the_served_description_is_valid_openapi(client):
    from openapi_spec_validator import validate

    served = client.get("/openapi.json")
    assert served.status_code == 200
    validate(served.get_json())  # raises, naming the place, on an invalid document


def test_every_read_route_documents_conditional_requests():
    """ETag / If-None-Match / 304 on every GET but the login, shutdown and event-stream ones, through
    the shared components (autosubmit_api/http_cache.py)."""
    doc = _doc()
    assert {"IfNoneMatch", "AcceptEncoding"} <= set(doc["components"]["parameters"])
    assert "NotModified" in doc["components"]["responses"]
    missing = []
    for path, ops in doc["paths"].items():
        op = ops.get("get")
        if op is None or re.search(r"/(shutdown|login)\b|/auth/", path):
            continue
        if path == "/metrics":  # a live report, `Cache-Control: no-store` (tests/test_http_cache.py LIVE)
            continue
        if "text/event-stream" in op["responses"]["200"].get("content", {}):
            continue  # a stream is never cached: Cache-Control no-store, no ETag
        refs = [p.get("$ref") for p in op.get("parameters", [])]
        if "#/components/parameters/IfNoneMatch" not in refs or op["responses"].get("304") != {
            "$ref": "#/components/responses/NotModified"
        }:
            missing.append(path)
    assert not missing, f"GET routes without If-None-Match / 304: {missing}"
