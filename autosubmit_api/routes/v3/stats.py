"""v3 `/stats/<expid>/<filter_period>/<filter_type>`: job statistics (docs/api.md 7.7)."""

from __future__ import annotations

from flask import Blueprint, Response

from autosubmit_api.auth import gate, settings
from autosubmit_api.routes.v3._legacy import legacy
from autosubmit_api.services import statistics as service

bp = Blueprint("v3_stats", __name__)

STATS_DEFAULT = {"Statistics": None, "summary": None}


@bp.get("/stats/<expid>/<filter_period>/<filter_type>")
@gate("ALL")
@legacy(STATS_DEFAULT)
def stats(expid, filter_period, filter_type):
    body = service.statistics_body(settings(), expid, filter_period, filter_type)
    return Response(body, mimetype="application/json")
