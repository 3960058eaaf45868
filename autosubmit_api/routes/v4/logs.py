"""v4 log tail: `GET /v4/experiments/<expid>/logs/<logfile>?tail=N` (our addition).

Serves files of `<exp>/tmp/LOG_<expid>/` (job logs) and `<exp>/tmp/ASLOGS/` (command logs)
only, read from the end; compressed logs are decompressed.
"""

from __future__ import annotations

from flask import Blueprint, request

from autosubmit_api.auth import gate, settings
from autosubmit_api.services import logs as service

bp = Blueprint("v4_logs", __name__)


@bp.get("/experiments/<expid>/logs/<logfile>")
@gate("ALL")
def log_tail(expid, logfile):
    n = service.parse_tail(request.args.get("tail"))
    return service.experiment_log_tail(settings(), expid, logfile, n)
