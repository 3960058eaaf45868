"""User metrics of an experiment's runs (`<exp>/tmp/metrics_<expid>.db`), as the
development GUI's user-metrics page reads them (docs/gui.md section 8)."""

from __future__ import annotations

from flask import Blueprint

from autosubmit_api import auth
from autosubmit_api.errors import BadRequest
from autosubmit_api.services import user_metrics

bp = Blueprint("user_metrics", __name__)


@bp.get("/experiments/<expid>/user-metrics-runs")
@auth.gate("ALL")
def metric_runs(expid: str):
    return user_metrics.metric_runs(auth.settings(), expid)


@bp.get("/experiments/<expid>/runs/<run_id>/user-metrics")
@auth.gate("ALL")
def run_metrics(expid: str, run_id: str):
    if not run_id.isdigit():
        raise BadRequest("run_id must be a whole number")
    return user_metrics.run_metrics(auth.settings(), expid, int(run_id))
