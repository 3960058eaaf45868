"""v4 `/experiments/<expid>/filesystem-config`: the configuration on disk now (docs/api.md 7.12)."""

from __future__ import annotations

from flask import Blueprint

from autosubmit_api.auth import gate, settings
from autosubmit_api.services import configuration as service

bp = Blueprint("v4_config", __name__)


@bp.get("/experiments/<expid>/filesystem-config")
@gate("ALL")
def filesystem_config(expid):
    return service.filesystem_config(settings(), expid)
