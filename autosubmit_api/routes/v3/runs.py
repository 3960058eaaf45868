"""v3 run routes: `/runs/<expid>` and `/rundetail/<expid>/<runid>` (docs/api.md 7.1, 7.2)."""

from __future__ import annotations

from typing import Dict, List

from flask import Blueprint

from autosubmit_api.auth import gate, settings
from autosubmit_api.routes.v3._legacy import legacy
from autosubmit_api.services import rundetail as rundetail_service
from autosubmit_api.services import runs as service

bp = Blueprint("v3_runs", __name__)

RUNS_DEFAULT: Dict[str, List[object]] = {"runs": []}
# The error shape has `reference: []` (a list) and `pkl_timestamp: 0` (Q25).
RUNDETAIL_DEFAULT = {"tree": [], "jobs": [], "total": 0, "reference": [], "pkl_timestamp": 0}


@bp.get("/runs/<expid>")
@gate("ALL")
@legacy(RUNS_DEFAULT)
def runs(expid):
    return service.v3_runs(settings(), expid)


@bp.get("/rundetail/<expid>/<runid>")
@gate("ALL")
@legacy(RUNDETAIL_DEFAULT)
def rundetail(expid, runid):
    return rundetail_service.run_detail(settings(), expid, runid)
