"""v3 `/history/<expid>/<jobname>`: one job across runs (docs/api.md 7.3)."""

from __future__ import annotations

from flask import Blueprint

from autosubmit_api.auth import gate, settings
from autosubmit_api.routes.v3._legacy import legacy
from autosubmit_api.services import history as service

bp = Blueprint("v3_history", __name__)

HISTORY_DEFAULT = {"history": None, "path_to_logs": ""}


@bp.get("/history/<expid>/<jobname>")
@gate("ALL")
@legacy(HISTORY_DEFAULT)
def job_history(expid, jobname):
    return service.job_history(settings(), expid, jobname)
