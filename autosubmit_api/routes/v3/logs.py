"""v3 log routes: `/exprun/<expid>`, `/joblog/<logfile>`, `/logrun/<expid>` (docs/api.md 5.8, 7.9, 7.10)."""

from __future__ import annotations

import functools

from flask import Blueprint, jsonify

from autosubmit_api.auth import gate, settings
from autosubmit_api.errors import BadRequest
from autosubmit_api.routes.v3._legacy import legacy, legacy_body
from autosubmit_api.services import logs as service

bp = Blueprint("v3_logs", __name__)

LOG_DEFAULT = {
    "logfile": "",
    "found": False,
    "lastModified": "",
    "timeStamp": "",
    "logcontent": [],
    "error_message": "",
}
LOGRUN_DEFAULT = {"is_running": False, "timediff": 300, "log_path": None}


def _refuse_bad_names(view):
    """A log name that could leave the directory is a 400 with the legacy body; nothing is read."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except BadRequest as exc:
            return jsonify(legacy_body(LOG_DEFAULT, exc.message)), 400

    return wrapper


@bp.get("/exprun/<expid>")
@gate("ALL")
@legacy(LOG_DEFAULT)
def exprun(expid):
    return service.experiment_run_log(settings(), expid)


@bp.get("/joblog/")
@gate("ALL")
def joblog_without_name():
    """The tree links the bare folder for a job whose history row has no log name yet."""
    return service.no_job_log()


@bp.get("/joblog/<logfile>")
@gate("ALL")
@legacy(LOG_DEFAULT)
@_refuse_bad_names
def joblog(logfile):
    return service.job_log(settings(), logfile)


@bp.get("/logrun/<expid>")
@gate("ALL")
@legacy(LOGRUN_DEFAULT)
def logrun(expid):
    return service.experiment_log_running(settings(), expid)
