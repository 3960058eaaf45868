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
    return {(method, path) for path, ops in _doc()["paths"].items() for method in ops
            if method in ("get", "post", "put", "patch", "delete")}


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
