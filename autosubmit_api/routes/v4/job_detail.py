"""One job of an experiment, its parents and children, and a section's ETA: the v4 routes the
development GUI calls for its job panel and monitor (docs/gui.md section 8)."""

from __future__ import annotations

from flask import Blueprint, request

from autosubmit_api import auth
from autosubmit_api.errors import BadRequest
from autosubmit_api.services import job_detail

bp = Blueprint("job_detail", __name__)


def _flag(name: str) -> bool:
    raw = request.args.get(name, "false").lower()
    if raw not in ("true", "false", "1", "0"):
        raise BadRequest(f"{name} must be true or false")
    return raw in ("true", "1")


@bp.get("/experiments/<expid>/jobs/<job_name>")
@auth.gate("ALL")
def job(expid: str, job_name: str):
    return job_detail.job_detail(auth.settings(), expid, job_name)


@bp.get("/experiments/<expid>/jobs/<job_name>/parents")
@auth.gate("ALL")
def parents(expid: str, job_name: str):
    found = job_detail.neighbours(auth.settings(), expid, job_name, "parents", _flag("include_status"))
    return {"job_name": job_name, "parents": found}


@bp.get("/experiments/<expid>/jobs/<job_name>/children")
@auth.gate("ALL")
def children(expid: str, job_name: str):
    found = job_detail.neighbours(auth.settings(), expid, job_name, "children", _flag("include_status"))
    return {"job_name": job_name, "children": found}


@bp.get("/experiments/<expid>/eta")
@auth.gate("ALL")
def eta(expid: str):
    return job_detail.eta(auth.settings(), expid, request.args.get("section") or None)
