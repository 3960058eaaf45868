"""v3 run routes: `/runs/<expid>` (api.md 7.1)."""
from __future__ import annotations

from flask import Blueprint

from autosubmit_api.auth import gate, settings
from autosubmit_api.routes.v3._legacy import legacy
from autosubmit_api.services import runs as service

bp = Blueprint("v3_runs", __name__)

RUNS_DEFAULT = {"runs": []}


@bp.get("/runs/<expid>")
@gate("ALL")
@legacy(RUNS_DEFAULT)
def runs(expid):
    return service.v3_runs(settings(), expid)
