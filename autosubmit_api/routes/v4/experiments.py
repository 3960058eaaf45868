"""`GET /v4/experiments` (list, filter, sort, paginate) and `GET /v4/experiments/<expid>` (docs/api.md 5.1, 5.9)."""

from __future__ import annotations

from typing import Optional

from flask import Blueprint, request

from autosubmit_api import auth
from autosubmit_api.services import experiments as service

bp = Blueprint("experiments", __name__)


def _int_arg(name: str, default: int) -> int:
    # Werkzeug `type=int` semantics, as the reference: a value that is not an integer
    # falls back to the default (golden v4__experiments__page_size-abc.json answers 200).
    raw: Optional[str] = request.args.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        return default


@bp.get("/experiments")
@auth.gate("ALL")
def list_experiments():
    args = request.args
    params = service.ListQuery(
        query=args.get("query") or None,
        only_active=args.get("only_active") == "true",
        owner=args.get("owner") or None,
        exp_type=args.get("exp_type") or None,
        autosubmit_version=args.get("autosubmit_version") or None,
        hpc=args.get("hpc") or None,
        order_by=args.get("order_by") or None,
        order_desc=args.get("order_desc") == "true",
        page=_int_arg("page", 1),
        page_size=_int_arg("page_size", service.DEFAULT_PAGE_SIZE),
    )
    return service.list_experiments(auth.settings(), params)


@bp.get("/experiments/<expid>")
@auth.gate("ALL")
def get_experiment(expid: str):
    return service.get_experiment(auth.settings(), expid)
