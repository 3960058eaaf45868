"""v4 run routes: the run list and one run's saved configuration (docs/api.md 7.4, 7.5)."""

from __future__ import annotations

from flask import Blueprint

from autosubmit_api.auth import gate, settings
from autosubmit_api.services import runs as service

bp = Blueprint("v4_runs", __name__)


@bp.get("/experiments/<expid>/runs")
@gate("ALL")
def runs(expid):
    return service.v4_runs(settings(), expid)


@bp.get("/experiments/<expid>/runs/<run_id>/config")
@gate("ALL")
def run_config(expid, run_id):
    return service.run_config(settings(), expid, run_id)
