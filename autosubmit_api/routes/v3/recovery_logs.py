"""v3 `/exp-recovery-logs/<expid>` (API 4.1; the development GUI's "Log Recoveries" tab)."""

from __future__ import annotations

from typing import Dict, List

from flask import Blueprint

from autosubmit_api.auth import gate, settings
from autosubmit_api.routes.v3._legacy import legacy
from autosubmit_api.services import recovery_logs as service

bp = Blueprint("v3_recovery_logs", __name__)

DEFAULT: Dict[str, List[object]] = {"platform_recovery_logs": []}


@bp.get("/exp-recovery-logs/<expid>")
@gate("ALL")
@legacy(DEFAULT)
def exp_recovery_logs(expid):
    return service.experiment_recovery_logs(settings(), expid)
