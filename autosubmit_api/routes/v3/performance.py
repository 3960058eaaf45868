"""v3 `/performance/<expid>`: SYPD, ASYPD, RSYPD, CHSY, JPSY (docs/api.md 7.6)."""

from __future__ import annotations

from flask import Blueprint, Response

from autosubmit_api.auth import gate, settings
from autosubmit_api.routes.v3._legacy import legacy
from autosubmit_api.services import performance as service

bp = Blueprint("v3_performance", __name__)

# When the inputs cannot be gathered the reference answers this shape (Q31).
PERFORMANCE_DEFAULT = {key: value for key, value in service.ERROR_BODY.items() if key not in ("error", "error_message")}


@bp.get("/performance/<expid>")
@gate("ALL")
@legacy(PERFORMANCE_DEFAULT)
def performance(expid):
    return Response(service.performance_body(settings(), expid), mimetype="application/json")
