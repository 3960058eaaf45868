"""`GET /v4/experiments/<expid>/jobs` and `GET /v4/experiments/<expid>/wrappers` (api.md 6.5,
6.6). Errors go through the one handler: an unknown experiment is 404 (decisions.md Q17)."""
from __future__ import annotations

from flask import Blueprint, Response, request

from autosubmit_api import auth
from autosubmit_api.services import job_pages

bp = Blueprint("jobs", __name__)


@bp.get("/experiments/<expid>/jobs")
@auth.gate("ALL")
def jobs(expid: str):
    view = request.args.get("view", "base")
    return Response(job_pages.v4_jobs(auth.settings(), expid, view), mimetype="application/json")


@bp.get("/experiments/<expid>/wrappers")
@auth.gate("ALL")
def wrappers(expid: str):
    return Response(job_pages.wrappers(auth.settings(), expid), mimetype="application/json")
