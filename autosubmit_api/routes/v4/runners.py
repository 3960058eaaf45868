"""`GET /v4/runners/configuration/endpoints`: which runner features this server offers.

The development GUI shows run/stop buttons (and polls a runner status every 10 s) unless
this answer says `RUNNER_RUN.ENABLED: false`. This API only reads experiments; it never
runs Autosubmit on anyone's behalf, so every runner feature is off (gui-contract.md 8).
"""
from __future__ import annotations

from flask import Blueprint

from autosubmit_api import auth

bp = Blueprint("runners", __name__)

RUNNER_FEATURES = ("RUNNER_RUN", "RUNNER_STOP", "RUNNER_SET_JOB_STATUS", "RUNNER_CREATE_EXPERIMENT",
                   "RUNNER_UPDATE_DESCRIPTION")


@bp.get("/runners/configuration/endpoints")
@auth.gate("ALL")
def endpoints():
    return {feature: {"ENABLED": False} for feature in RUNNER_FEATURES}
