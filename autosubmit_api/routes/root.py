"""`GET /`: the service name and version (docs/api.md 4.1) and `GET /openapi.json`."""

from __future__ import annotations

import json
from importlib import resources

from flask import Blueprint, Response

from autosubmit_api import __version__

bp = Blueprint("service", __name__)


@bp.get("/")
def home():
    return {"name": "Autosubmit API", "version": __version__}


@bp.get("/openapi.json")
def openapi():
    text = resources.files("autosubmit_api").joinpath("openapi.json").read_text(encoding="utf-8")
    return Response(json.dumps(json.loads(text), sort_keys=True), mimetype="application/json")
