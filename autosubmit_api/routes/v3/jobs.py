"""v3 job status views (docs/api.md 5.5-5.7, 6.1-6.4, 7.8): `/expinfo`, `/expcount`, `/ifrun`,
`/summary`, `/quick`, `/tree`, `/graph`, `/pklinfo`, `/pkltreeinfo`.

Errors become each route's legacy 200 body (docs/api.md 1.6) through `@legacy`.
"""

from __future__ import annotations

from typing import Union

from flask import Blueprint, Response, jsonify

from autosubmit_api import auth
from autosubmit_api.errors import APIError
from autosubmit_api.routes.v3._legacy import legacy, legacy_body
from autosubmit_api.services import experiment_info
from autosubmit_api.services.jobs import bodies
from autosubmit_api.services.graph import GRAPH_ERROR
from autosubmit_api.services.rendered import Version
from autosubmit_api.job_status import ALL_STATUS_NAMES
from autosubmit_api.services.summary import SUMMARY_ERROR
from autosubmit_api.services.tree import PKLTREEINFO_ERROR, TREE_ERROR

bp = Blueprint("jobs", __name__)

EXPCOUNT_ERROR = {
    "expid": "",
    "total": 0,
    "counters": {name: 0 for name in ALL_STATUS_NAMES},
    "error": True,
    "error_message": "",
}
QUICK_ERROR = {
    "error": True,
    "error_message": "",
    "total": 0,
    "completed": 0,
    "failed": 0,
    "running": 0,
    "queuing": 0,
    "view_data": [],
    "tree_view": [],
}
PKLINFO_ERROR = {
    k: v for k, v in PKLTREEINFO_ERROR.items() if k not in ("source_tag", "target_tag", "sync_tag", "check_mark")
}
IFRUN_ERROR = {"running": False, "error": True, "error_message": ""}
QUICK_PREFIX = (
    "Exception: Autosubmit API couldn't open pkl file. If you are sure that your "
    "experiment is running correctly, try again: "
)


def _json(body: Union[bytes, Version]) -> Response:
    """A ready body, or a body Version (joined only if the answer is not a 304)."""
    return Response(body, mimetype="application/json")


def _failed(default: dict, message: str, **fields) -> Response:
    """The legacy error body with request-specific fields (expid, pkl path)."""
    body = legacy_body(default, message)
    body.update(fields)
    return jsonify(body)


@bp.get("/expinfo/<expid>")
@auth.gate("ALL")
@legacy(experiment_info.EXPINFO_ERROR)
def expinfo(expid: str):
    return experiment_info.expinfo(auth.settings(), expid)


@bp.get("/expcount/<expid>")
@auth.gate("ALL")
@legacy(EXPCOUNT_ERROR)
def expcount(expid: str):
    try:
        return _json(bodies.expcount(auth.settings(), expid))
    except APIError as exc:
        return _failed(EXPCOUNT_ERROR, exc.message, expid=expid)


@bp.get("/ifrun/<expid>")
@auth.gate("ALL")
@legacy(IFRUN_ERROR)
def ifrun(expid: str):
    return experiment_info.ifrun(auth.settings(), expid)


@bp.get("/summary/<expid>")
@auth.gate("ALL")
@legacy(SUMMARY_ERROR)
def summary(expid: str):
    return bodies.summary(auth.settings(), expid)


@bp.get("/quick/<expid>")
@auth.gate("ALL")
@legacy(QUICK_ERROR)
def quick(expid: str):
    try:
        return _json(bodies.quick(auth.settings(), expid))
    except APIError as exc:
        return _failed(QUICK_ERROR, QUICK_PREFIX + exc.message)


@bp.get("/tree/<expid>")
@auth.gate("ALL")
@legacy(TREE_ERROR)
def tree(expid: str):
    return _json(bodies.tree(auth.settings(), expid))


@bp.get("/graph/<expid>/<layout>/<grouped>")
@auth.gate("ALL")
@legacy(GRAPH_ERROR)
def graph(expid: str, layout: str, grouped: str):
    return _json(bodies.graph(auth.settings(), expid, layout, grouped))


@bp.get("/pklinfo/<expid>/<timeStamp>")
@auth.gate("ALL")
@legacy(PKLINFO_ERROR)
def pklinfo(expid: str, timeStamp: str):  # noqa: N803 - the reference's parameter name
    return _pkl_info(expid, timeStamp, False)


@bp.get("/pkltreeinfo/<expid>/<timeStamp>")
@auth.gate("ALL")
@legacy(PKLTREEINFO_ERROR)
def pkltreeinfo(expid: str, timeStamp: str):  # noqa: N803
    return _pkl_info(expid, timeStamp, True)


def _pkl_info(expid: str, timestamp: str, tree_flavour: bool) -> Response:
    settings = auth.settings()
    try:
        return _json(bodies.pkl_info(settings, expid, timestamp, tree_flavour))
    except APIError as exc:
        default = PKLTREEINFO_ERROR if tree_flavour else PKLINFO_ERROR
        return _failed(default, exc.message, pkl_file_name=bodies.pkl_file_name(settings, expid))
