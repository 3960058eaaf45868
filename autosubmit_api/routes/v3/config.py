"""v3 `/cconfig/<expid>`: configuration of the last run against the files on disk (docs/api.md 7.11)."""

from __future__ import annotations

from flask import Blueprint

from autosubmit_api.auth import gate, settings
from autosubmit_api.routes.v3._legacy import legacy
from autosubmit_api.services import configuration as service

bp = Blueprint("v3_config", __name__)

CCONFIG_DEFAULT = {
    "warning": False,
    "warning_message": "",
    "configuration_current_run": {"contains_nones": True},
    "configuration_filesystem": {"contains_nones": True},
    "are_equal": True,
    "differences": [],
}


@bp.get("/cconfig/<expid>")
@gate("ALL")
@legacy(CCONFIG_DEFAULT)
def cconfig(expid):
    return service.current_config(settings(), expid)
