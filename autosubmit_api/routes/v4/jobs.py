"""`GET /v4/experiments/<expid>/jobs` and `GET /v4/experiments/<expid>/wrappers` (docs/api.md 6.5,
6.6), the change feed `jobs?since=<cursor>` and its live stream `GET /v4/experiments/<expid>/events`
(docs/api.md 12, docs/api-usage.md "Following changes"). Errors go through the one handler: an
unknown experiment is 404 (docs/decisions.md Q17)."""

from __future__ import annotations

from typing import Optional

from flask import Blueprint, Response, request

from autosubmit_api import auth
from autosubmit_api.errors import BadRequest
from autosubmit_api.services import job_events, job_feed
from autosubmit_api.services.jobs import bodies

bp = Blueprint("jobs", __name__)


@bp.get("/experiments/<expid>/jobs")
@auth.gate("ALL")
def jobs(expid: str):
    view = request.args.get("view", "base")
    since = request.args.get("since")
    if since is not None:
        if "page" in request.args or "page_size" in request.args:
            raise BadRequest("since cannot be combined with page or page_size")
        return Response(job_feed.jobs_since(auth.settings(), expid, since, view), mimetype="application/json")
    page = _positive("page") or 1
    body = bodies.v4_jobs(auth.settings(), expid, view, page, _positive("page_size"))
    return Response(body, mimetype="application/json")


def _positive(name: str) -> Optional[int]:
    """A page parameter as upstream 4.2.0 takes it: absent, or an integer >= 1."""
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1 or value > 10**9:
        raise BadRequest(f"{name} must be an integer of at least 1")
    return value


@bp.get("/experiments/<expid>/wrappers")
@auth.gate("ALL")
def wrappers(expid: str):
    return Response(bodies.wrappers(auth.settings(), expid), mimetype="application/json")


@bp.get("/experiments/<expid>/events")
@auth.gate("ALL")
def events(expid: str):
    # An EventSource resends the last event id after a reconnection; a first connection may
    # name its starting cursor with `since`.
    since = request.headers.get("Last-Event-ID") or request.args.get("since")
    stream = job_events.subscribe(auth.settings(), expid, request.args.get("view", "base"), since)
    response = Response(stream, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response
