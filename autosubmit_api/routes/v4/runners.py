"""The current GUI's runner routes under /v4/runners (docs/runners.md).

This API never runs Autosubmit. Of the runner features the GUI knows, it serves only the
description write, which is the same owner-checked write as `/v3/updatedesc`
(services.description); run, stop, set-job-status and create are not served and
`configuration/endpoints` says so with `{"ENABLED": false}`, the only value the GUI reads as
"hide this control".

* `GET configuration/endpoints`: one entry per feature key the GUI reads.
* `GET configuration/profiles`: upstream's shape (profile name -> settings). The GUI's
  description form cannot be submitted before a profile is chosen, so one profile is listed:
  `description-only`, which runs nothing.
* `GET configuration/ssh-public-keys`: upstream's shape (a list of keys); empty, the API
  opens no SSH connection.
* `POST command/update-experiment-description`: `{"expid", "description", "profile_name",
  "profile_params"}` as the GUI sends it (the profile is not used).
"""

from __future__ import annotations

from flask import Blueprint, g, request

from autosubmit_api import auth, request_log
from autosubmit_api.errors import BadRequest, Unauthorized
from autosubmit_api.services import description as description_service

bp = Blueprint("runners", __name__)

# The GUI's keys: RUNNER_RUN (run/stop buttons and the run-status poll), SET_JOB_STATUS
# (change-status form), CREATE_EXPERIMENT (create page), UPDATE_EXPERIMENT_DETAILS
# (edit-description form).
ENDPOINTS = {
    "RUNNER_RUN": {"ENABLED": False},
    "SET_JOB_STATUS": {"ENABLED": False},
    "CREATE_EXPERIMENT": {"ENABLED": False},
    "UPDATE_EXPERIMENT_DETAILS": {"ENABLED": True},
}
DESCRIPTION_PROFILE = "description-only"
PROFILES = {DESCRIPTION_PROFILE: {"RUNNER_TYPE": "NO_RUNNER", "MODULE_LOADER_TYPE": "NO_MODULE"}}


@bp.get("/runners/configuration/endpoints")
@auth.gate("ALL")
def endpoints():
    return {feature: dict(value) for feature, value in ENDPOINTS.items()}


@bp.get("/runners/configuration/profiles")
@auth.gate("ALL")
def profiles():
    return {name: dict(value) for name, value in PROFILES.items()}


@bp.get("/runners/configuration/ssh-public-keys")
@auth.gate("ALL")
def ssh_public_keys():
    return []


@bp.post("/runners/command/update-experiment-description")
@auth.gate("WRITEONLY")
def update_experiment_description():
    if not g.user:
        raise Unauthorized()
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object with expid and description")
    expid, new = body.get("expid"), body.get("description")
    if not isinstance(expid, str) or not expid:
        raise BadRequest("expid must be a non-empty string")
    if not isinstance(new, str) or not new:
        raise BadRequest("description must be a non-empty string")
    description_service.update_description(auth.settings(), g.user, expid, new, request_log.audit_origin(g.user))
    return {"message": f"Description for experiment {expid} updated successfully."}
