"""v3 searches and the running list (docs/api.md 5.2-5.4): `/search/...`, `/searchowner/...`, `/running/`.

Registered at the root and under /v3. Errors answer 200 `{"experiment": [], "error": true, ...}`
(the v3 habit, docs/api.md 1.6).
"""

from __future__ import annotations

from typing import Dict, List

from flask import Blueprint

from autosubmit_api import auth
from autosubmit_api.routes.v3._legacy import legacy
from autosubmit_api.services import experiments as service

bp = Blueprint("search", __name__)

DEFAULT_BODY: Dict[str, List[object]] = {"experiment": []}


@bp.get("/search/<expid>")
@auth.gate("ALL")
@legacy(DEFAULT_BODY)
def search(expid: str):
    return service.search(auth.settings(), expid)


@bp.get("/search/<expid>/<exptype>/<onlyactive>")
@auth.gate("ALL")
@legacy(DEFAULT_BODY)
def search_filtered(expid: str, exptype: str, onlyactive: str):
    return service.search(auth.settings(), expid, exptype, onlyactive)


@bp.get("/searchowner/<owner>")
@auth.gate("ALL")
@legacy(DEFAULT_BODY)
def search_owner(owner: str):
    return service.search_owner(auth.settings(), owner)


@bp.get("/searchowner/<owner>/<exptype>/<onlyactive>")
@auth.gate("ALL")
@legacy(DEFAULT_BODY)
def search_owner_filtered(owner: str, exptype: str, onlyactive: str):
    return service.search_owner(auth.settings(), owner, exptype, onlyactive)


@bp.get("/running/")
@auth.gate("ALL")
@legacy(DEFAULT_BODY)
def running():
    return service.running(auth.settings())
