"""v3 service routes: `/filestatus/` (no gate) and `/shutdown/<route>` (docs/api.md 7.13, 7.14)."""

from __future__ import annotations

from flask import Blueprint, Response

from autosubmit_api.auth import gate, open_route, settings
from autosubmit_api.services import file_status

bp = Blueprint("v3_service", __name__)


@bp.get("/filestatus/")
@open_route
def filestatus():
    return file_status.archive_status(settings())


@bp.get("/shutdown/<route>")
@gate("ALL")
def shutdown(route):
    # The reference SIGHUPs the gunicorn workers serving that user's tree/graph/summary
    # requests, whoever asks (Q36). We keep the answer and signal nothing: views here do
    # not hold per-user cancellable work, so there is nothing of the caller's to stop.
    return Response("", status=200, mimetype="text/html")
